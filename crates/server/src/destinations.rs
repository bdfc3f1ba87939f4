//! Members' payout destinations (rule D4, issue 9): the private table behind the log's
//! commitments.
//!
//! A member hands the exchange their destination (bank account, USDC address or card reference)
//! and the salt of the commitment they registered with, signed by their key
//! (`assay_rails::destination_request_message`). The server checks the signature and that the
//! destination and salt hash to the commitment the log holds for the member, then seals both
//! with XChaCha20-Poly1305 under a key kept in `DATA/destinations.key` (created 0600 on first
//! start, also for PostgreSQL deployments) and stores only the sealed bytes, in the store's
//! `payout_destinations` table. The associated data binds each sealed row to its member, so a
//! row moved to another member does not open.
//!
//! Invariant: destinations never enter the log, any event or any public route. The only reader
//! is the monthly run, which writes the rails' files into the data directory (`crate::payouts`).

use anyhow::{bail, ensure, Context};
use assay_core::MemberId;
use assay_rails::{Destination, Salt};
use assay_store::{AnyStore, DESTINATIONS_READ_MAX};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use std::collections::{BTreeSet, HashMap};
use std::io::Write as _;
use std::path::Path;

/// The sealing key's file in the data directory.
pub const KEY_FILE_NAME: &str = "destinations.key";
/// Longest destination text accepted (the longest valid one, an ACH account, is under 60).
pub const DESTINATION_TEXT_BYTES_MAX: usize = 256;

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const SALT_BYTES: usize = 32;
/// Associated data of every sealed row, followed by the member id (u64, big-endian).
const SEAL_DOMAIN: &[u8] = b"assay/sealed-destination/v1\0";

/// The key destinations are sealed under.
pub struct SealingKey(Key);

impl SealingKey {
    /// Reads `DATA/destinations.key`, or creates it (32 random bytes, mode 0600) if missing.
    /// Refuses a key file of the wrong length, or one that others may read.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<SealingKey> {
        let path = data_dir.join(KEY_FILE_NAME);
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        match std::fs::read(&path) {
            Ok(bytes) => SealingKey::from_file(&path, &bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                SealingKey::create(data_dir, &path)
            }
            Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
        }
    }

    fn from_file(path: &Path, bytes: &[u8]) -> anyhow::Result<SealingKey> {
        ensure!(
            bytes.len() == KEY_BYTES,
            "{} holds {} bytes, expected {KEY_BYTES}",
            path.display(),
            bytes.len()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)?.permissions().mode();
            ensure!(
                mode & 0o077 == 0,
                "{} is readable by others (mode {:o}); it must be 0600",
                path.display(),
                mode & 0o777
            );
        }
        Ok(SealingKey(*Key::from_slice(bytes)))
    }

    /// Writes a fresh key to a temporary file and links it into place, so the key file is
    /// either absent or whole: two processes starting on one data directory at once end up
    /// with the one key that was linked first, never a half-written or a second one.
    fn create(data_dir: &Path, path: &Path) -> anyhow::Result<SealingKey> {
        let mut bytes = [0u8; KEY_BYTES];
        getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("drawing a key: {error}"))?;
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(|error| anyhow::anyhow!("drawing a name: {error}"))?;
        let temporary = data_dir.join(format!("{KEY_FILE_NAME}.{}", hex::encode(suffix)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let written = options
            .open(&temporary)
            .and_then(|mut file| {
                file.write_all(&bytes)?;
                file.sync_all()
            })
            .and_then(|()| std::fs::hard_link(&temporary, path));
        let _ = std::fs::remove_file(&temporary);
        match written {
            Ok(()) => Ok(SealingKey(*Key::from_slice(&bytes))),
            // Another process linked its key first: use that one.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                let bytes =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                SealingKey::from_file(path, &bytes)
            }
            Err(error) => Err(error).with_context(|| format!("creating {}", path.display())),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0)
    }

    fn associated_data(member: MemberId) -> Vec<u8> {
        let mut aad = SEAL_DOMAIN.to_vec();
        aad.extend_from_slice(&member.0.to_be_bytes());
        aad
    }

    /// `nonce ‖ ciphertext` of `salt ‖ destination text`, bound to `member`.
    pub fn seal(
        &self,
        member: MemberId,
        salt: &Salt,
        destination: &Destination,
    ) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|error| anyhow::anyhow!("drawing a nonce: {error}"))?;
        let mut plain = salt.0.to_vec();
        plain.extend_from_slice(destination.to_text().as_bytes());
        let aad = SealingKey::associated_data(member);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing a destination failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a row sealed by [`seal`](Self::seal) for `member`.
    pub fn open(&self, member: MemberId, sealed: &[u8]) -> anyhow::Result<(Salt, Destination)> {
        ensure!(
            sealed.len() > NONCE_BYTES,
            "sealed destination of member {member} is too short"
        );
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let aad = SealingKey::associated_data(member);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "sealed destination of member {member} does not open under this key"
                )
            })?;
        if plain.len() < SALT_BYTES {
            bail!("sealed destination of member {member} is too short");
        }
        let (salt, text) = plain.split_at(SALT_BYTES);
        let salt = Salt(salt.try_into().expect("split at SALT_BYTES"));
        let text = std::str::from_utf8(text)
            .with_context(|| format!("sealed destination of member {member} is not text"))?;
        let destination = Destination::parse(text)
            .map_err(|error| anyhow::anyhow!("sealed destination of member {member}: {error}"))?;
        Ok((salt, destination))
    }
}

/// The private table: a store connection of its own and the sealing key.
pub struct Destinations {
    store: AnyStore,
    key: SealingKey,
}

impl Destinations {
    pub fn new(store: AnyStore, key: SealingKey) -> Destinations {
        Destinations { store, key }
    }

    /// Seals and stores `member`'s destination, replacing an earlier one.
    pub async fn put(
        &self,
        member: MemberId,
        salt: &Salt,
        destination: &Destination,
    ) -> anyhow::Result<()> {
        let sealed = self.key.seal(member, salt, destination)?;
        self.store
            .put_destination(member.0, &sealed)
            .await
            .context("storing a sealed destination")
    }

    /// The stored destinations (with their salts) of `wanted` members, read page by page in
    /// member order; a member without a row is absent from the answer.
    pub async fn load(
        &self,
        wanted: &BTreeSet<MemberId>,
    ) -> anyhow::Result<HashMap<MemberId, (Salt, Destination)>> {
        let mut found = HashMap::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .destinations(after, DESTINATIONS_READ_MAX)
                .await
                .context("reading sealed destinations")?;
            let Some(&(last, _)) = page.last() else {
                break;
            };
            for (member, sealed) in &page {
                let member = MemberId(*member);
                if wanted.contains(&member) {
                    found.insert(member, self.key.open(member, sealed)?);
                }
            }
            if (page.len() as u64) < DESTINATIONS_READ_MAX {
                break;
            }
            after = Some(last);
        }
        Ok(found)
    }

    pub async fn close(&self) {
        self.store.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_starting_together_share_one_whole_key() {
        let dir = std::env::temp_dir().join(format!("assay-seal-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let keys: Vec<[u8; KEY_BYTES]> = std::thread::scope(|scope| {
            let starts: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| SealingKey::load_or_create(&dir).unwrap().0.into()))
                .collect();
            starts
                .into_iter()
                .map(|start| start.join().unwrap())
                .collect()
        });
        assert!(keys.windows(2).all(|pair| pair[0] == pair[1]));
        // Only the key file is left: no temporary files.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, [KEY_FILE_NAME]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_sealed_row_opens_only_for_its_member_and_key() {
        let dir = std::env::temp_dir().join(format!("assay-seal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let key = SealingKey::load_or_create(&dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join(KEY_FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = SealingKey::load_or_create(&dir).unwrap();
        let destination = Destination::parse("ach:021000021:12345678:checking:A B").unwrap();
        let salt = Salt([9; 32]);
        let sealed = key.seal(MemberId(3), &salt, &destination).unwrap();
        assert!(!sealed.windows(b"12345678".len()).any(|w| w == b"12345678"));
        let (opened_salt, opened) = again.open(MemberId(3), &sealed).unwrap();
        assert_eq!((opened_salt, opened), (salt, destination));
        assert!(key.open(MemberId(4), &sealed).is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(key.open(MemberId(3), &flipped).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
        let other = SealingKey::load_or_create(&dir).unwrap();
        assert!(other.open(MemberId(3), &sealed).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
