//! Identifiers. Every actor is an Ed25519 keypair (SPEC §1); the engine also numbers members,
//! buyers and baskets in the order the log admits them, so ids are dense and replay-stable.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! sequence_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

sequence_id!(
    /// A member, numbered in registration order. Pseudonymous: it names no person.
    MemberId,
    "m"
);
sequence_id!(
    /// A buyer, numbered in registration order.
    BuyerId,
    "b"
);
sequence_id!(
    /// A basket, numbered in posting order.
    BasketId,
    "k"
);

/// An Ed25519 public key, checked to be a valid curve point when parsed.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("public key must be 32 bytes (64 hex digits), got {0} bytes")]
    Length(usize),
    #[error("public key is not valid hex")]
    Hex,
    #[error("public key is not a valid Ed25519 point")]
    Point,
}

impl KeyError {
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::Length(_) => "key_length",
            KeyError::Hex => "key_hex",
            KeyError::Point => "key_point",
        }
    }
}

impl PublicKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Length(bytes.len()))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::Point)?;
        Ok(PublicKey(bytes))
    }

    pub fn from_hex(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = hex::decode(text).map_err(|_| KeyError::Hex)?;
        PublicKey::from_bytes(&bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key for signature checks. Cannot fail: the bytes were checked when parsed.
    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        ed25519_dalek::VerifyingKey::from_bytes(&self.0)
            .expect("PublicKey holds only bytes that passed VerifyingKey::from_bytes")
    }
}

impl From<ed25519_dalek::VerifyingKey> for PublicKey {
    fn from(key: ed25519_dalek::VerifyingKey) -> PublicKey {
        PublicKey(key.to_bytes())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.0))
    }
}

/// Hex in human-readable formats (JSON), the 32 raw bytes in binary ones (log entries).
impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&hex::encode(self.0))
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PublicKey, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            PublicKey::from_hex(&text).map_err(serde::de::Error::custom)
        } else {
            let bytes = <&[u8]>::deserialize(deserializer)?;
            PublicKey::from_bytes(bytes).map_err(serde::de::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8032 test 1 public key.
    const RFC8032_KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn parses_a_valid_key_and_round_trips_through_json() {
        let key = PublicKey::from_hex(RFC8032_KEY).unwrap();
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{RFC8032_KEY}\""));
        assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), key);
    }

    #[test]
    fn refuses_bad_keys_with_codes() {
        assert_eq!(PublicKey::from_hex("zz").unwrap_err().code(), "key_hex");
        assert_eq!(
            PublicKey::from_bytes(&[0; 31]).unwrap_err().code(),
            "key_length"
        );
        // y = 2 is not the encoding of a point on the curve.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert_eq!(
            PublicKey::from_bytes(&not_a_point).unwrap_err().code(),
            "key_point"
        );
    }

    #[test]
    fn ids_display_with_prefixes() {
        assert_eq!(MemberId(7).to_string(), "m7");
        assert_eq!(BuyerId(7).to_string(), "b7");
        assert_eq!(BasketId(7).to_string(), "k7");
    }
}
