//! C2SP tlog-cosignature, Ed25519 `cosignature/v1`: a witness's timestamped signature over
//! `cosignature/v1\ntime <secs>\n<checkpoint body>`, carried as a note signature whose bytes are
//! the 8-byte big-endian timestamp followed by the 64-byte Ed25519 signature (rule L4).

use ed25519_dalek::Signer as _;

use crate::note::NamedSigningKey;
use crate::{Checkpoint, Error, NoteSignature, SignatureType, VerifierKey};

/// First line of every cosigned message, for domain separation.
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1\n";
/// Largest timestamp a cosignature may carry (2^63 − 1).
pub const COSIGNATURE_TIMESTAMP_MAX: u64 = i64::MAX as u64;

const TIMESTAMPED_SIGNATURE_BYTES: usize = 8 + 64;

/// The exact bytes a cosigner signs for a checkpoint `body` (note text) at `timestamp_secs`.
pub fn cosigned_message(timestamp_secs: u64, body: &[u8]) -> Vec<u8> {
    let time_line = format!("time {timestamp_secs}\n");
    let mut message =
        Vec::with_capacity(COSIGNATURE_V1_HEADER.len() + time_line.len() + body.len());
    message.extend_from_slice(COSIGNATURE_V1_HEADER.as_bytes());
    message.extend_from_slice(time_line.as_bytes());
    message.extend_from_slice(body);
    message
}

/// Splits a `timestamped_signature`; None when it is not 72 bytes or the time is out of range.
pub(crate) fn split_timestamped(bytes: &[u8]) -> Option<(u64, ed25519_dalek::Signature)> {
    if bytes.len() != TIMESTAMPED_SIGNATURE_BYTES {
        return None;
    }
    let (time, signature) = bytes.split_at(8);
    let timestamp = u64::from_be_bytes(time.try_into().ok()?);
    if timestamp > COSIGNATURE_TIMESTAMP_MAX {
        return None;
    }
    Some((
        timestamp,
        ed25519_dalek::Signature::from_slice(signature).ok()?,
    ))
}

/// A witness's cosigning key (signature type 0x04).
#[derive(Clone)]
pub struct Cosigner(NamedSigningKey);

impl Cosigner {
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<Cosigner, Error> {
        NamedSigningKey::new(name, SignatureType::CosignatureV1, seed).map(Cosigner)
    }

    pub fn verifier_key(&self) -> &VerifierKey {
        &self.0.verifier
    }

    /// Cosigns `checkpoint` as of `timestamp_secs` (injected: this crate reads no clock). The
    /// caller must first have checked the checkpoint is consistent with what it saw before.
    pub fn cosign(
        &self,
        checkpoint: &Checkpoint,
        timestamp_secs: u64,
    ) -> Result<NoteSignature, Error> {
        if timestamp_secs > COSIGNATURE_TIMESTAMP_MAX {
            return Err(Error::CosignatureTimestamp);
        }
        let message = cosigned_message(timestamp_secs, checkpoint.body().as_bytes());
        let mut bytes = Vec::with_capacity(TIMESTAMPED_SIGNATURE_BYTES);
        bytes.extend_from_slice(&timestamp_secs.to_be_bytes());
        bytes.extend_from_slice(&self.0.key.sign(&message).to_bytes());
        Ok(self.0.signature(bytes))
    }
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        write!(f, "Cosigner({})", self.0.verifier.to_vkey())
    }
}
