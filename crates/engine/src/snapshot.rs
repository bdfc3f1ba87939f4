//! Snapshots of the engine state (issue 7): the server stores one every so many entries, and a
//! restart decodes it and replays only the log's tail instead of the whole log (rule L3 still
//! holds: the snapshot is a cache of `replay(log[..log_size])`, checked before it is used).
//!
//! Bytes in, bytes out; where the bytes live is the shell's business. Layout, integers
//! little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `ASSAYSNP` |
//! | 2 | format version, [`SNAPSHOT_VERSION`] |
//! | 8 | log size: entries applied to reach this state |
//! | 32 | rules hash in force (zeros before genesis) |
//! | 32 | [`State::hash`] of the state |
//! | 8 | payload length |
//! | 32 | SHA-256 of the payload |
//! | rest | payload: the state, postcard (key indexes left out, rebuilt on decode) |
//!
//! Decoding parses, it never trusts: a wrong magic or version, a length that disagrees, a wrong
//! checksum, an undecodable payload, a state that contradicts itself or the header, or a state
//! whose recomputed hash differs from the header's is an error with a stable code.

use crate::command::Digest;
use crate::State;
use sha2::{Digest as _, Sha256};

/// Bump whenever `State` or any type inside it changes shape: an old snapshot must then be
/// refused (and the log replayed), never decoded into the new layout.
/// `engine/tests/snapshot.rs` pins the bytes of a snapshot, so a shape change fails there first.
/// Version 4: `State::log_size`, and each deposit reference with what it credited (buyer,
/// amount, entry index and stamp) instead of the reference alone. A version 3 snapshot cannot
/// say what its references credited, so it is refused (`snapshot_version`) and the log replayed.
pub const SNAPSHOT_VERSION: u16 = 4;
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"ASSAYSNP";
pub const SNAPSHOT_HEADER_BYTES: usize = 8 + 2 + 8 + 32 + 32 + 8 + 32;
/// Largest payload decoded (a state of a few million members fits well within it).
pub const SNAPSHOT_PAYLOAD_BYTES_MAX: u64 = 4 << 30;

/// What a snapshot claims about itself; [`decode_snapshot`] checks every claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotHeader {
    pub version: u16,
    pub log_size: u64,
    pub rules_hash: Digest,
    pub state_hash: Digest,
    pub payload_bytes: u64,
    pub payload_sha256: Digest,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot is truncated: {needed} bytes needed, {have} present")]
    Truncated { needed: u64, have: u64 },
    #[error("not a snapshot (wrong magic bytes)")]
    Magic,
    #[error("snapshot format version {version}; this build reads {SNAPSHOT_VERSION}")]
    Version { version: u16 },
    #[error("snapshot payload of {bytes} bytes exceeds the limit of {SNAPSHOT_PAYLOAD_BYTES_MAX}")]
    TooLarge { bytes: u64 },
    #[error("snapshot has {extra} bytes after its payload")]
    TrailingBytes { extra: u64 },
    #[error("snapshot payload checksum differs from its header")]
    Checksum,
    #[error("snapshot payload does not decode as a state: {reason}")]
    Payload { reason: String },
    #[error("snapshot state is inconsistent: {what}")]
    Inconsistent { what: &'static str },
    #[error("snapshot rules hash differs from the rules in its state")]
    RulesHash,
    #[error("snapshot state hash differs from its header")]
    StateHash,
}

impl SnapshotError {
    pub fn code(&self) -> &'static str {
        match self {
            SnapshotError::Truncated { .. } => "snapshot_truncated",
            SnapshotError::Magic => "snapshot_magic",
            SnapshotError::Version { .. } => "snapshot_version",
            SnapshotError::TooLarge { .. } => "snapshot_too_large",
            SnapshotError::TrailingBytes { .. } => "snapshot_trailing_bytes",
            SnapshotError::Checksum => "snapshot_checksum",
            SnapshotError::Payload { .. } => "snapshot_payload",
            SnapshotError::Inconsistent { .. } => "snapshot_inconsistent",
            SnapshotError::RulesHash => "snapshot_rules_hash",
            SnapshotError::StateHash => "snapshot_state_hash",
        }
    }
}

/// The rules hash a state records, zeros before genesis.
fn rules_hash_of(state: &State) -> Digest {
    state
        .exchange
        .as_ref()
        .map_or([0; 32], |exchange| exchange.rules_hash)
}

/// Entries applied to reach `state`: every accepted input advances its signer's sequence by one.
fn inputs_applied(state: &State) -> Option<u64> {
    state
        .sequences
        .values()
        .try_fold(0u64, |sum, &next| sum.checked_add(next))
}

/// Encodes `state`, which must be the result of applying the log's first `log_size` entries.
/// Costs O(state): the state hash and the payload checksum are both computed here.
pub fn encode_snapshot(state: &State, log_size: u64) -> Vec<u8> {
    debug_assert_eq!(inputs_applied(state), Some(log_size));
    debug_assert_eq!(state.log_size, log_size);
    // State holds no floats or unsized maps, so postcard encoding cannot fail.
    let payload = postcard::to_allocvec(state).expect("state encodes with postcard");
    let header = SnapshotHeader {
        version: SNAPSHOT_VERSION,
        log_size,
        rules_hash: rules_hash_of(state),
        state_hash: state.hash(),
        payload_bytes: payload.len() as u64,
        payload_sha256: Sha256::digest(&payload).into(),
    };
    let mut bytes = Vec::with_capacity(SNAPSHOT_HEADER_BYTES + payload.len());
    bytes.extend_from_slice(&SNAPSHOT_MAGIC);
    bytes.extend_from_slice(&header.version.to_le_bytes());
    bytes.extend_from_slice(&header.log_size.to_le_bytes());
    bytes.extend_from_slice(&header.rules_hash);
    bytes.extend_from_slice(&header.state_hash);
    bytes.extend_from_slice(&header.payload_bytes.to_le_bytes());
    bytes.extend_from_slice(&header.payload_sha256);
    debug_assert_eq!(bytes.len(), SNAPSHOT_HEADER_BYTES);
    bytes.extend_from_slice(&payload);
    bytes
}

/// Reads a header alone (cheap: for choosing among snapshots before decoding one). Checks the
/// magic, the version and the payload limit, nothing else.
pub fn read_snapshot_header(bytes: &[u8]) -> Result<SnapshotHeader, SnapshotError> {
    let Some(header) = bytes.get(..SNAPSHOT_HEADER_BYTES) else {
        return Err(SnapshotError::Truncated {
            needed: SNAPSHOT_HEADER_BYTES as u64,
            have: bytes.len() as u64,
        });
    };
    let (magic, rest) = header.split_at(8);
    if magic != SNAPSHOT_MAGIC {
        return Err(SnapshotError::Magic);
    }
    let (version, rest) = rest.split_at(2);
    let version = u16::from_le_bytes(version.try_into().expect("2 bytes"));
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotError::Version { version });
    }
    let (log_size, rest) = rest.split_at(8);
    let (rules_hash, rest) = rest.split_at(32);
    let (state_hash, rest) = rest.split_at(32);
    let (payload_bytes, payload_sha256) = rest.split_at(8);
    let payload_bytes = u64::from_le_bytes(payload_bytes.try_into().expect("8 bytes"));
    if payload_bytes > SNAPSHOT_PAYLOAD_BYTES_MAX {
        return Err(SnapshotError::TooLarge {
            bytes: payload_bytes,
        });
    }
    Ok(SnapshotHeader {
        version,
        log_size: u64::from_le_bytes(log_size.try_into().expect("8 bytes")),
        rules_hash: rules_hash.try_into().expect("32 bytes"),
        state_hash: state_hash.try_into().expect("32 bytes"),
        payload_bytes,
        payload_sha256: payload_sha256.try_into().expect("32 bytes"),
    })
}

/// Decodes and checks a snapshot: the state it returns hashes to the header's state hash,
/// records the header's rules hash and counts exactly the header's log size of inputs.
pub fn decode_snapshot(bytes: &[u8]) -> Result<(SnapshotHeader, State), SnapshotError> {
    let header = read_snapshot_header(bytes)?;
    let payload = &bytes[SNAPSHOT_HEADER_BYTES..];
    let have = payload.len() as u64;
    if have < header.payload_bytes {
        return Err(SnapshotError::Truncated {
            needed: SNAPSHOT_HEADER_BYTES as u64 + header.payload_bytes,
            have: bytes.len() as u64,
        });
    }
    if have > header.payload_bytes {
        return Err(SnapshotError::TrailingBytes {
            extra: have - header.payload_bytes,
        });
    }
    if <[u8; 32]>::from(Sha256::digest(payload)) != header.payload_sha256 {
        return Err(SnapshotError::Checksum);
    }
    let mut state = match postcard::take_from_bytes::<State>(payload) {
        Ok((state, [])) => state,
        Ok((_, rest)) => {
            return Err(SnapshotError::Payload {
                reason: format!("{} bytes left after the state", rest.len()),
            })
        }
        Err(error) => {
            return Err(SnapshotError::Payload {
                reason: error.to_string(),
            })
        }
    };
    state
        .rebuild_indexes()
        .map_err(|what| SnapshotError::Inconsistent { what })?;
    check_consistent(&state, &header)?;
    if state.hash() != header.state_hash {
        return Err(SnapshotError::StateHash);
    }
    Ok((header, state))
}

/// What can be checked of a decoded state short of replaying the log.
fn check_consistent(state: &State, header: &SnapshotHeader) -> Result<(), SnapshotError> {
    let inconsistent = |what| Err(SnapshotError::Inconsistent { what });
    if inputs_applied(state) != Some(header.log_size) {
        return inconsistent("its signers' sequences do not add up to its log size");
    }
    if state.log_size != header.log_size {
        return inconsistent("its entry count differs from its log size");
    }
    if state
        .deposit_references
        .values()
        .any(|deposit| deposit.index >= state.log_size)
    {
        return inconsistent("a deposit was credited by an entry beyond its log size");
    }
    if rules_hash_of(state) != header.rules_hash {
        return Err(SnapshotError::RulesHash);
    }
    if let Some(exchange) = &state.exchange {
        if exchange.rules.hash() != exchange.rules_hash {
            return Err(SnapshotError::RulesHash);
        }
        if exchange.rules.validate().is_err() {
            return inconsistent("its rules do not validate");
        }
        if state.markets.len() != assay_core::Category::ALL.len() {
            return inconsistent("it does not hold one market per category");
        }
    } else if state.now.is_some() || !state.members.is_empty() || !state.buyers.is_empty() {
        return inconsistent("it has parties or a clock but no genesis");
    }
    Ok(())
}
