//! Keys for simulated members at simulation speed, and their offers' device attestations.
//!
//! Members need distinct, valid Ed25519 public keys (the engine indexes members by key).
//! Deriving a million keys with `SigningKey::from_bytes` would cost a base-point multiplication
//! each (~15 µs); instead secret scalars are consecutive (`base + i`), so public keys are
//! consecutive multiples of the base point: one point addition per member. A member's device key
//! is its member key: the engine allows it, and it saves a second key.
//!
//! Attestations are placeholders, like the envelopes' signatures (`exchange`): the engine checks
//! every Ed25519 signature, attestations included, in its stateless `verify_signatures` stage,
//! which the simulator does not run, and `apply_verified` only checks that an attestation names
//! the member's registered device key. Signing 27 million offers for real took a fifth of a
//! 1,000,000-member month and was never checked. A placeholder is 64 bytes drawn from the seed,
//! the basket and the member, so every offer's bytes differ as real signatures would, and the
//! selection lottery's seed (M13, a hash over a basket's attestations) stays a function of them.

use assay_core::{BasketId, PublicKey};
use assay_engine::Signature;
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256, Sha512};

/// Derives simulation keys and attestations from a seed.
pub struct KeyRing {
    base: Scalar,
    attestation_key: u64,
}

/// A simulated member's public key.
#[derive(Clone, Copy)]
pub struct SimKey {
    pub public: PublicKey,
}

fn scalar_from(seed: u64, label: &[u8]) -> Scalar {
    let mut hasher = Sha512::new();
    hasher.update(b"assay/sim/keys/v1\n");
    hasher.update(label);
    hasher.update(seed.to_be_bytes());
    Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
}

/// SplitMix64's output function: a bijection of `u64` that mixes every input bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl KeyRing {
    pub fn new(seed: u64) -> KeyRing {
        let digest: [u8; 32] = Sha256::digest(
            [
                b"assay/sim/attestations/v1\n".as_slice(),
                &seed.to_be_bytes(),
            ]
            .concat(),
        )
        .into();
        KeyRing {
            base: scalar_from(seed, b"base"),
            attestation_key: u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")),
        }
    }

    /// Keys `first .. first + count`, each the previous one plus the base point.
    pub fn keys(&self, first: u64, count: usize) -> Vec<SimKey> {
        let secret = self.base + Scalar::from(first);
        let mut point = EdwardsPoint::mul_base(&secret);
        let mut keys = Vec::with_capacity(count);
        for _ in 0..count {
            keys.push(SimKey {
                public: PublicKey::from(VerifyingKey::from(point)),
            });
            point += ED25519_BASEPOINT_POINT;
        }
        keys
    }

    /// The placeholder attestation of member `member`'s offer for `basket` (see the module docs).
    pub fn attestation(&self, basket: BasketId, member: u32) -> Signature {
        let mut state = mix(self.attestation_key ^ basket.0) ^ u64::from(member);
        let mut bytes = [0u8; 64];
        for chunk in bytes.chunks_exact_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            chunk.copy_from_slice(&mix(state).to_le_bytes());
        }
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
    use std::collections::BTreeSet;

    #[test]
    fn keys_are_valid_distinct_and_a_function_of_seed_and_index() {
        let ring = KeyRing::new(3);
        let keys = ring.keys(10, 4);
        let distinct: BTreeSet<PublicKey> = keys.iter().map(|k| k.public).collect();
        assert_eq!(distinct.len(), 4);
        // Secret base + 10 + i: the standard derivation of that scalar gives the same key.
        let secret = scalar_from(3, b"base") + Scalar::from(12u64);
        let expected = PublicKey::from(VerifyingKey::from(EdwardsPoint::mul_base(&secret)));
        assert_eq!(keys[2].public, expected);
        // A later batch starting mid-way agrees.
        assert_eq!(ring.keys(12, 1)[0].public, keys[2].public);
        assert_ne!(KeyRing::new(4).keys(10, 1)[0].public, keys[0].public);
    }

    #[test]
    fn attestations_differ_per_basket_member_and_seed() {
        let ring = KeyRing::new(3);
        let mut seen = BTreeSet::new();
        for basket in 0..50 {
            for member in 0..50 {
                assert!(seen.insert(ring.attestation(BasketId(basket), member).0));
            }
        }
        assert_eq!(
            ring.attestation(BasketId(7), 9).0,
            KeyRing::new(3).attestation(BasketId(7), 9).0
        );
        assert_ne!(
            ring.attestation(BasketId(7), 9).0,
            KeyRing::new(4).attestation(BasketId(7), 9).0
        );
    }
}
