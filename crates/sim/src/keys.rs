//! Keys for simulated members at simulation speed.
//!
//! Members need distinct, valid Ed25519 public keys (the engine indexes members by key), and their
//! offers carry device attestations that the engine really verifies (rule M11). Deriving a million
//! keys with `SigningKey::from_bytes` and signing every offer the standard way would cost a
//! base-point multiplication each (~15 µs). Two shortcuts, both producing signatures that the
//! engine's unmodified Ed25519 check accepts:
//!
//! - Secret scalars are consecutive (`base + i`), so public keys are consecutive multiples of the
//!   base point: one point addition per member instead of a multiplication.
//! - Signatures reuse one nonce `r` for every message: `S = r + H(R ‖ A ‖ M)·a`. Reusing a nonce
//!   reveals the secret to anyone who sees two signatures; that is harmless for throwaway
//!   simulation keys and never acceptable for a real wallet, which is why this lives in the
//!   simulator only.
//!
//! A member's device key is its member key: the engine allows it, and it saves a second key.

use assay_core::PublicKey;
use assay_engine::Signature;
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256, Sha512};

/// Derives simulation keys from a seed.
pub struct KeyRing {
    base: Scalar,
    nonce: Scalar,
    nonce_point: [u8; 32],
}

/// A simulated member's key: its secret scalar and public key.
#[derive(Clone, Copy)]
pub struct SimKey {
    secret: Scalar,
    pub public: PublicKey,
}

fn scalar_from(seed: u64, label: &[u8]) -> Scalar {
    let mut hasher = Sha512::new();
    hasher.update(b"assay/sim/keys/v1\n");
    hasher.update(label);
    hasher.update(seed.to_be_bytes());
    Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
}

impl KeyRing {
    pub fn new(seed: u64) -> KeyRing {
        let nonce = scalar_from(seed, b"nonce");
        KeyRing {
            base: scalar_from(seed, b"base"),
            nonce,
            nonce_point: EdwardsPoint::mul_base(&nonce).compress().to_bytes(),
        }
    }

    /// Keys `first .. first + count`, each the previous one plus the base point.
    pub fn keys(&self, first: u64, count: usize) -> Vec<SimKey> {
        let mut secret = self.base + Scalar::from(first);
        let mut point = EdwardsPoint::mul_base(&secret);
        let mut keys = Vec::with_capacity(count);
        for _ in 0..count {
            keys.push(SimKey {
                secret,
                public: PublicKey::from(VerifyingKey::from(point)),
            });
            secret += Scalar::ONE;
            point += ED25519_BASEPOINT_POINT;
        }
        keys
    }

    /// An Ed25519 signature by `key` over `message` (with the shared nonce, see the module docs).
    pub fn sign(&self, key: &SimKey, message: &[u8]) -> Signature {
        let mut hasher = Sha512::new();
        hasher.update(self.nonce_point);
        hasher.update(key.public.as_bytes());
        hasher.update(message);
        let challenge = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
        let s = self.nonce + challenge * key.secret;
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(&self.nonce_point);
        bytes[32..].copy_from_slice(s.as_bytes());
        Signature(bytes)
    }
}

/// A valid public key for an actor that never signs in the simulation (buyers, the exchange):
/// their envelopes go through `apply_verified` with placeholder signatures.
pub fn unsigned_actor_key(seed: u64, label: &str) -> PublicKey {
    let digest: [u8; 32] = Sha256::digest([label.as_bytes(), &seed.to_be_bytes()].concat()).into();
    let secret = Scalar::from_bytes_mod_order(digest);
    PublicKey::from(VerifyingKey::from(EdwardsPoint::mul_base(&secret)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Verifier;

    #[test]
    fn signatures_verify_with_the_standard_check_and_keys_are_distinct() {
        let ring = KeyRing::new(3);
        let keys = ring.keys(10, 4);
        for key in &keys {
            let signature = ring.sign(key, b"an eligibility message");
            let dalek = ed25519_dalek::Signature::from_bytes(&signature.0);
            let verifying = key.public.verifying_key();
            assert!(verifying.verify(b"an eligibility message", &dalek).is_ok());
            assert!(verifying.verify(b"another message", &dalek).is_err());
        }
        assert_ne!(keys[0].public, keys[1].public);
        // Keys are a function of (seed, index): a later batch starting mid-way agrees.
        assert_eq!(ring.keys(12, 1)[0].public, keys[2].public);
    }
}
