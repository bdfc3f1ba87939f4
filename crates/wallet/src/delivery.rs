//! Sealed delivery (M15): HPKE (RFC 9180), base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! ChaCha20-Poly1305, to the buyer's delivery key.
//!
//! The engine knows buyers by their Ed25519 keys only, so a buyer publishes an X25519 delivery
//! key signed by its Ed25519 key ([`DeliveryKey`]); the wallet seals only to a delivery key that
//! carries the grant's buyer's signature. The grant id is bound into HPKE's `info` and the
//! AEAD's associated data, so a payload cannot be replayed under another grant. The receipt
//! hash is SHA-256 over the encapsulated key and the ciphertext.

use crate::Error;
use assay_core::PublicKey;
use ed25519_dalek::{Signer, SigningKey, Verifier};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const DELIVERY_KEY_DOMAIN: &[u8] = b"assay/delivery-key/v1\n";
const INFO_DOMAIN: &[u8] = b"assay/delivery/v1\n";
const HASH_DOMAIN: &[u8] = b"assay/delivery-hash/v1\n";
/// Sealed payloads opened at most (a buyer's bound on what it decrypts in one go).
pub const SEALED_BYTES_MAX: usize = 256 << 20;

type Kem = X25519HkdfSha256;

/// A buyer's X25519 delivery key and its Ed25519 signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryKey {
    pub public: [u8; 32],
    #[serde(with = "serde_bytes_64")]
    pub signature: [u8; 64],
}

mod serde_bytes_64 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 64], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 64], D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = hex::decode(text).map_err(D::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| D::Error::custom("expected 64 bytes"))
    }
}

impl DeliveryKey {
    fn message(public: &[u8; 32]) -> Vec<u8> {
        let mut message = DELIVERY_KEY_DOMAIN.to_vec();
        message.extend_from_slice(public);
        message
    }

    /// Checks that `buyer` signed this delivery key.
    pub fn verify(&self, buyer: &PublicKey) -> Result<(), Error> {
        buyer
            .verifying_key()
            .verify(
                &DeliveryKey::message(&self.public),
                &ed25519_dalek::Signature::from_bytes(&self.signature),
            )
            .map_err(|_| Error::DeliveryKeyUnsigned)
    }
}

/// The buyer's side: the X25519 secret behind a delivery key.
pub struct DeliverySecret {
    secret: <Kem as hpke::Kem>::PrivateKey,
    public: [u8; 32],
}

impl DeliverySecret {
    /// Derives the key pair from 32 bytes of secret input keying material (RFC 9180 §7.1.3).
    pub fn from_ikm(ikm: &[u8; 32]) -> DeliverySecret {
        let (secret, public) = Kem::derive_keypair(ikm);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&public.to_bytes());
        DeliverySecret {
            secret,
            public: bytes,
        }
    }

    pub fn generate() -> Result<DeliverySecret, Error> {
        Ok(DeliverySecret::from_ikm(&crate::keystore::random_bytes::<
            32,
        >()?))
    }

    /// The delivery key to publish, signed by the buyer's Ed25519 key.
    pub fn delivery_key(&self, buyer: &SigningKey) -> DeliveryKey {
        DeliveryKey {
            public: self.public,
            signature: buyer.sign(&DeliveryKey::message(&self.public)).to_bytes(),
        }
    }

    /// Opens a sealed delivery for `grant`.
    pub fn open(&self, grant: u64, sealed: &SealedDelivery) -> Result<Vec<u8>, Error> {
        if sealed.ciphertext.len() > SEALED_BYTES_MAX {
            return Err(Error::DeliveryOpen);
        }
        let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed.encapsulated_key)
            .map_err(|_| Error::DeliveryOpen)?;
        let (info, aad) = context(grant);
        hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            &self.secret,
            &encapped,
            &info,
            &sealed.ciphertext,
            &aad,
        )
        .map_err(|_| Error::DeliveryOpen)
    }
}

/// What travels from the wallet to the buyer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedDelivery {
    pub grant: u64,
    pub encapsulated_key: [u8; 32],
    pub ciphertext: Vec<u8>,
}

impl SealedDelivery {
    /// The hash the buyer's receipt names (M15).
    pub fn hash(&self) -> [u8; 32] {
        Sha256::new()
            .chain_update(HASH_DOMAIN)
            .chain_update(self.grant.to_be_bytes())
            .chain_update(self.encapsulated_key)
            .chain_update(&self.ciphertext)
            .finalize()
            .into()
    }
}

fn context(grant: u64) -> (Vec<u8>, Vec<u8>) {
    let mut info = INFO_DOMAIN.to_vec();
    info.extend_from_slice(&grant.to_be_bytes());
    (info, grant.to_be_bytes().to_vec())
}

/// Seals `plaintext` for `grant` to `key` (the caller checked the key's signature).
pub fn seal(key: &DeliveryKey, grant: u64, plaintext: &[u8]) -> Result<SealedDelivery, Error> {
    let public = <Kem as hpke::Kem>::PublicKey::from_bytes(&key.public)
        .map_err(|_| Error::DeliveryKeyUnsigned)?;
    let (info, aad) = context(grant);
    let (encapped, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, _>(
        &OpModeS::Base,
        &public,
        &info,
        plaintext,
        &aad,
        &mut rand_core::OsRng,
    )
    .map_err(|_| Error::Randomness)?;
    let mut encapsulated_key = [0u8; 32];
    encapsulated_key.copy_from_slice(&encapped.to_bytes());
    Ok(SealedDelivery {
        grant,
        encapsulated_key,
        ciphertext,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_buyer_opens_and_only_for_its_grant() {
        // rule M15
        let buyer = SigningKey::from_bytes(&[3; 32]);
        let secret = DeliverySecret::from_ikm(&[9; 32]);
        let key = secret.delivery_key(&buyer);
        key.verify(&PublicKey::from(buyer.verifying_key())).unwrap();
        let other = SigningKey::from_bytes(&[4; 32]);
        assert_eq!(
            key.verify(&PublicKey::from(other.verifying_key()))
                .unwrap_err()
                .code(),
            "delivery_key_unsigned"
        );
        let sealed = seal(&key, 7, b"member data").unwrap();
        assert_eq!(secret.open(7, &sealed).unwrap(), b"member data");
        assert_eq!(secret.open(8, &sealed).unwrap_err().code(), "delivery_open");
        let stranger = DeliverySecret::from_ikm(&[10; 32]);
        assert_eq!(
            stranger.open(7, &sealed).unwrap_err().code(),
            "delivery_open"
        );
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(
            secret.open(7, &tampered).unwrap_err().code(),
            "delivery_open"
        );
    }
}
