//! Rule W1: keys and records live behind one interface, [`KeyStore`].
//!
//! The software store ([`SoftwareStore`]) is the default: one file holding the member's three
//! Ed25519 seeds and the vault's records, encrypted with XChaCha20-Poly1305 under a key derived
//! from the passphrase with Argon2id. Hardware stores are adapters of the same trait for the
//! mobile builds and are not in this crate (nothing here pretends to be one):
//!
//! * **Android Keystore / StrongBox (Samsung Knox Vault)**: StrongBox elements hold AES, HMAC,
//!   RSA and P-256 keys, not Ed25519, so the adapter keeps the three Ed25519 seeds wrapped by a
//!   StrongBox AES-GCM key (`KeyGenParameterSpec` with `setIsStrongBoxBacked(true)` and user
//!   authentication), unwraps a seed only inside `sign`, and seals records with the same key.
//! * **Apple Secure Enclave**: the enclave holds only P-256 keys, so the adapter keeps the
//!   Ed25519 seeds wrapped by an enclave key (`SecKeyCreateEncryptedData` with ECIES) and
//!   unwraps them per signature, and records are sealed the same way.
//!
//! In both, the trait's contract is the same: the private keys never leave the store, callers
//! get public keys and signatures, and records round-trip as opaque bytes.
//!
//! Neither adapter exists yet: they need the mobile builds. Until then the seeds are exposed to
//! the wallet process in memory, which is exactly what the hardware stores are meant to end.
//!
//! # File format (version 1)
//!
//! `MAGIC (16) ‖ m_cost_kib u32 ‖ t_cost u32 ‖ p_cost u32 ‖ salt (16) ‖ key check (16) ‖ nonce
//! (24) ‖ ciphertext`, integers big-endian. The whole header is the AEAD's associated data, so
//! no byte of it can change unnoticed. The key check (SHA-256 of a domain and the derived key,
//! first 16 bytes) tells a wrong passphrase from a tampered body.

use crate::Error;
use argon2::{Algorithm, Argon2, Params, Version};
use assay_core::PublicKey;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 16] = b"assay-wallet/v1\n";
const SALT_BYTES: usize = 16;
const CHECK_BYTES: usize = 16;
const NONCE_BYTES: usize = 24;
const HEADER_BYTES: usize = MAGIC.len() + 12 + SALT_BYTES + CHECK_BYTES + NONCE_BYTES;
const KEY_CHECK_DOMAIN: &[u8] = b"assay/wallet/key-check/v1\n";

/// A tampered header must not make opening the file allocate unbounded memory or spin:
/// Argon2 parameters past these are refused before any work.
pub const KDF_MEMORY_KIB_MAX: u32 = 1 << 20;
pub const KDF_PASSES_MAX: u32 = 16;
pub const KDF_LANES_MAX: u32 = 8;
/// Largest wallet file read (keys, records, receipts).
pub const STORE_BYTES_MAX: u64 = 512 << 20;

/// Which of the member's keys (each an Ed25519 key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// The member's identity: signs commands (envelopes).
    Member,
    /// The enrolled device: signs eligibility attestations (M11).
    Device,
    /// Cosigns the exchange's checkpoints as a witness (L4, W5).
    Witness,
}

/// Rule W1's one interface. Private keys never leave an implementation.
pub trait KeyStore {
    fn public_key(&self, role: KeyRole) -> PublicKey;
    fn sign(&self, role: KeyRole, message: &[u8]) -> Result<[u8; 64], Error>;
    /// The records last saved (empty for a new store), decrypted.
    fn records(&self) -> &[u8];
    /// Replaces the records, durably: on error the previous records are still in place.
    fn save_records(&mut self, records: Vec<u8>) -> Result<(), Error>;
}

/// Argon2id cost parameters, stored in the file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

impl KdfParams {
    /// For members' files: 64 MiB, 3 passes (above OWASP's 19 MiB / 2 passes minimum).
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        passes: 3,
        lanes: 1,
    };
    /// For tests only: cheap to derive, so worthless against guessing.
    pub const FAST_INSECURE: KdfParams = KdfParams {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };

    fn check(&self) -> Result<Params, Error> {
        if self.memory_kib > KDF_MEMORY_KIB_MAX
            || self.passes > KDF_PASSES_MAX
            || self.lanes > KDF_LANES_MAX
        {
            return Err(Error::StoreCorrupt);
        }
        Params::new(self.memory_kib, self.passes, self.lanes, Some(32))
            .map_err(|_| Error::StoreCorrupt)
    }
}

/// What the file's ciphertext holds.
#[derive(Serialize, Deserialize)]
struct Secrets {
    member_seed: [u8; 32],
    device_seed: [u8; 32],
    witness_seed: [u8; 32],
    records: Vec<u8>,
}

/// The default key store: an encrypted file (W1).
pub struct SoftwareStore {
    path: PathBuf,
    params: KdfParams,
    salt: [u8; SALT_BYTES],
    key: [u8; 32],
    member: SigningKey,
    device: SigningKey,
    witness: SigningKey,
    records: Vec<u8>,
}

impl std::fmt::Debug for SoftwareStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print keys.
        write!(f, "SoftwareStore({})", self.path.display())
    }
}

impl Drop for SoftwareStore {
    fn drop(&mut self) {
        // Best effort: the derived key is the one secret not held by a zeroizing type.
        self.key = [0; 32];
    }
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| Error::Randomness)?;
    Ok(bytes)
}

fn derive_key(
    passphrase: &[u8],
    salt: &[u8; SALT_BYTES],
    params: KdfParams,
) -> Result<[u8; 32], Error> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.check()?);
    let mut key = [0u8; 32];
    argon
        .hash_password_into(passphrase, salt, &mut key)
        .map_err(|_| Error::StoreCorrupt)?;
    Ok(key)
}

fn key_check(key: &[u8; 32]) -> [u8; CHECK_BYTES] {
    let digest = Sha256::new()
        .chain_update(KEY_CHECK_DOMAIN)
        .chain_update(key)
        .finalize();
    let mut check = [0u8; CHECK_BYTES];
    check.copy_from_slice(&digest[..CHECK_BYTES]);
    check
}

impl SoftwareStore {
    /// Creates a new store with fresh keys at `path`. Refuses if the file exists: a wallet is
    /// never overwritten by accident.
    pub fn create(path: &Path, passphrase: &str, params: KdfParams) -> Result<Self, Error> {
        if path.exists() {
            return Err(Error::StoreExists);
        }
        let salt = random_bytes::<SALT_BYTES>()?;
        let key = derive_key(passphrase.as_bytes(), &salt, params)?;
        let store = SoftwareStore {
            path: path.to_path_buf(),
            params,
            salt,
            key,
            member: SigningKey::from_bytes(&random_bytes::<32>()?),
            device: SigningKey::from_bytes(&random_bytes::<32>()?),
            witness: SigningKey::from_bytes(&random_bytes::<32>()?),
            records: Vec::new(),
        };
        store.write()?;
        Ok(store)
    }

    /// Opens and decrypts the store at `path`. Reads only: a failure leaves the file as it was.
    pub fn open(path: &Path, passphrase: &str) -> Result<Self, Error> {
        let length = std::fs::metadata(path).map_err(Error::io(path))?.len();
        if length > STORE_BYTES_MAX {
            return Err(Error::StoreCorrupt);
        }
        let bytes = std::fs::read(path).map_err(Error::io(path))?;
        if bytes.len() < HEADER_BYTES || &bytes[..MAGIC.len()] != MAGIC {
            return Err(Error::StoreCorrupt);
        }
        let (header, ciphertext) = bytes.split_at(HEADER_BYTES);
        let mut at = MAGIC.len();
        let mut take = |n: usize| {
            let part = &header[at..at + n];
            at += n;
            part
        };
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let params = KdfParams {
            memory_kib: be(take(4)),
            passes: be(take(4)),
            lanes: be(take(4)),
        };
        let salt: [u8; SALT_BYTES] = take(SALT_BYTES).try_into().expect("fixed-size slice");
        let check: [u8; CHECK_BYTES] = take(CHECK_BYTES).try_into().expect("fixed-size slice");
        let nonce = XNonce::clone_from_slice(take(NONCE_BYTES));
        let key = derive_key(passphrase.as_bytes(), &salt, params)?;
        if key_check(&key) != check {
            return Err(Error::WrongPassphrase);
        }
        let plaintext = XChaCha20Poly1305::new((&key).into())
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: header,
                },
            )
            .map_err(|_| Error::StoreTampered)?;
        let secrets: Secrets = postcard::from_bytes(&plaintext).map_err(|_| Error::StoreCorrupt)?;
        Ok(SoftwareStore {
            path: path.to_path_buf(),
            params,
            salt,
            key,
            member: SigningKey::from_bytes(&secrets.member_seed),
            device: SigningKey::from_bytes(&secrets.device_seed),
            witness: SigningKey::from_bytes(&secrets.witness_seed),
            records: secrets.records,
        })
    }

    /// Encrypts everything under a fresh nonce and replaces the file atomically: a temporary
    /// file beside it, synced, then renamed over it. A crash leaves the old file or the new.
    fn write(&self) -> Result<(), Error> {
        let nonce_bytes = random_bytes::<NONCE_BYTES>()?;
        let mut header = Vec::with_capacity(HEADER_BYTES);
        header.extend_from_slice(MAGIC);
        for value in [
            self.params.memory_kib,
            self.params.passes,
            self.params.lanes,
        ] {
            header.extend_from_slice(&value.to_be_bytes());
        }
        header.extend_from_slice(&self.salt);
        header.extend_from_slice(&key_check(&self.key));
        header.extend_from_slice(&nonce_bytes);
        debug_assert_eq!(header.len(), HEADER_BYTES);
        let secrets = Secrets {
            member_seed: self.member.to_bytes(),
            device_seed: self.device.to_bytes(),
            witness_seed: self.witness.to_bytes(),
            records: self.records.clone(),
        };
        let plaintext = postcard::to_allocvec(&secrets).map_err(|_| Error::StoreCorrupt)?;
        let ciphertext = XChaCha20Poly1305::new((&self.key).into())
            .encrypt(
                XNonce::from_slice(&nonce_bytes),
                Payload {
                    msg: &plaintext,
                    aad: &header,
                },
            )
            .map_err(|_| Error::StoreCorrupt)?;
        header.extend_from_slice(&ciphertext);
        write_atomically(&self.path, &header)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn key(&self, role: KeyRole) -> &SigningKey {
        match role {
            KeyRole::Member => &self.member,
            KeyRole::Device => &self.device,
            KeyRole::Witness => &self.witness,
        }
    }
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Syncing the directory makes the rename itself durable (POSIX).
            std::fs::File::open(parent)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        // The old file is untouched; the partial temporary file is of no use to anyone.
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(Error::io(path))
}

impl KeyStore for SoftwareStore {
    fn public_key(&self, role: KeyRole) -> PublicKey {
        PublicKey::from(self.key(role).verifying_key())
    }

    fn sign(&self, role: KeyRole, message: &[u8]) -> Result<[u8; 64], Error> {
        Ok(self.key(role).sign(message).to_bytes())
    }

    fn records(&self) -> &[u8] {
        &self.records
    }

    fn save_records(&mut self, records: Vec<u8>) -> Result<(), Error> {
        let previous = std::mem::replace(&mut self.records, records);
        if let Err(error) = self.write() {
            self.records = previous;
            return Err(error);
        }
        Ok(())
    }
}

/// A store that lives only in memory: for tests, simulations and the buyer-side examples.
pub struct MemoryStore {
    member: SigningKey,
    device: SigningKey,
    witness: SigningKey,
    records: Vec<u8>,
}

impl MemoryStore {
    /// Keys derived from `seed` (deterministic, for tests and simulations).
    pub fn from_seed(seed: u64) -> MemoryStore {
        let key = |role: u8| {
            let digest = Sha256::new()
                .chain_update(b"assay/wallet/memory-store/v1\n")
                .chain_update(seed.to_be_bytes())
                .chain_update([role])
                .finalize();
            SigningKey::from_bytes(&digest.into())
        };
        MemoryStore {
            member: key(0),
            device: key(1),
            witness: key(2),
            records: Vec::new(),
        }
    }

    /// The member's signing key, for tests that drive the engine directly.
    pub fn member_signing_key(&self) -> &SigningKey {
        &self.member
    }
}

impl KeyStore for MemoryStore {
    fn public_key(&self, role: KeyRole) -> PublicKey {
        let key = match role {
            KeyRole::Member => &self.member,
            KeyRole::Device => &self.device,
            KeyRole::Witness => &self.witness,
        };
        PublicKey::from(key.verifying_key())
    }

    fn sign(&self, role: KeyRole, message: &[u8]) -> Result<[u8; 64], Error> {
        let key = match role {
            KeyRole::Member => &self.member,
            KeyRole::Device => &self.device,
            KeyRole::Witness => &self.witness,
        };
        Ok(key.sign(message).to_bytes())
    }

    fn records(&self) -> &[u8] {
        &self.records
    }

    fn save_records(&mut self, records: Vec<u8>) -> Result<(), Error> {
        self.records = records;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("assay-wallet-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn round_trips_keys_and_records() {
        // rule W1
        let path = temp_dir("roundtrip").join("wallet");
        let mut store = SoftwareStore::create(&path, "correct horse", KdfParams::FAST_INSECURE)
            .expect("created");
        store.save_records(b"records v1".to_vec()).unwrap();
        let member = store.public_key(KeyRole::Member);
        let reopened = SoftwareStore::open(&path, "correct horse").unwrap();
        assert_eq!(reopened.public_key(KeyRole::Member), member);
        assert_eq!(reopened.records(), b"records v1");
        assert_ne!(
            reopened.public_key(KeyRole::Device),
            reopened.public_key(KeyRole::Witness)
        );
    }

    #[test]
    fn wrong_passphrase_and_tampering_are_clear_errors_and_change_nothing() {
        let path = temp_dir("tamper").join("wallet");
        let mut store =
            SoftwareStore::create(&path, "right", KdfParams::FAST_INSECURE).expect("created");
        store.save_records(b"precious".to_vec()).unwrap();
        let original = std::fs::read(&path).unwrap();

        let error = SoftwareStore::open(&path, "wrong").unwrap_err();
        assert_eq!(error.code(), "wrong_passphrase");
        assert_eq!(std::fs::read(&path).unwrap(), original);

        // Flip one byte of the ciphertext, then one of the header's nonce.
        for index in [original.len() - 1, HEADER_BYTES - 1] {
            let mut tampered = original.clone();
            tampered[index] ^= 1;
            std::fs::write(&path, &tampered).unwrap();
            let error = SoftwareStore::open(&path, "right").unwrap_err();
            assert_eq!(error.code(), "store_tampered", "byte {index}");
            assert_eq!(std::fs::read(&path).unwrap(), tampered, "nothing written");
        }
        std::fs::write(&path, &original[..20]).unwrap();
        assert_eq!(
            SoftwareStore::open(&path, "right").unwrap_err().code(),
            "store_corrupt"
        );
        // A header asking for absurd Argon2 memory is refused before any work.
        let mut greedy = original.clone();
        greedy[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        std::fs::write(&path, &greedy).unwrap();
        assert_eq!(
            SoftwareStore::open(&path, "right").unwrap_err().code(),
            "store_corrupt"
        );
    }

    #[test]
    fn create_never_overwrites() {
        let path = temp_dir("exists").join("wallet");
        SoftwareStore::create(&path, "a", KdfParams::FAST_INSECURE).unwrap();
        let before = std::fs::read(&path).unwrap();
        let error = SoftwareStore::create(&path, "b", KdfParams::FAST_INSECURE).unwrap_err();
        assert_eq!(error.code(), "store_exists");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn a_failed_save_keeps_the_old_records() {
        let dir = temp_dir("failsave");
        let path = dir.join("wallet");
        let mut store = SoftwareStore::create(&path, "p", KdfParams::FAST_INSECURE).unwrap();
        store.save_records(b"old".to_vec()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            store.save_records(b"new".to_vec()).unwrap_err().code(),
            "io"
        );
        assert_eq!(store.records(), b"old");
    }
}
