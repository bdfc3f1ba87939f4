//! Log entries and replay (rule L3): the state is a pure function of the log.
//!
//! An entry is one accepted input (the signed envelope as received and the sequencer's time)
//! plus the SHA-256 of the events it produced, encoded with postcard behind a version number.
//! Replay decodes each entry, re-checks its signature, re-applies it and compares the events'
//! digest, so an auditor learns the first entry where the exchange's story and the rules part.

use crate::command::{Digest, Input};
use crate::{apply, Event, Refusal, State};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Encoding version of [`LogEntry`]; golden tests pin its bytes.
pub const ENTRY_VERSION: u16 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub version: u16,
    pub input: Input,
    pub events_digest: Digest,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("entry {index} cannot be decoded")]
    Decode { index: u64 },
    #[error("entry {index} has encoding version {version}; this build reads {ENTRY_VERSION}")]
    Version { index: u64, version: u16 },
    #[error("entry {index} is refused on replay: {refusal}")]
    Refused { index: u64, refusal: Refusal },
    #[error("entry {index} produces different events on replay")]
    EventsDiffer { index: u64 },
}

impl ReplayError {
    pub fn code(&self) -> &'static str {
        match self {
            ReplayError::Decode { .. } => "entry_decode",
            ReplayError::Version { .. } => "entry_version",
            ReplayError::Refused { .. } => "entry_refused",
            ReplayError::EventsDiffer { .. } => "events_differ",
        }
    }
}

pub fn events_digest(events: &[Event]) -> Digest {
    let bytes = postcard::to_allocvec(events).expect("events encode with postcard");
    Sha256::digest(bytes).into()
}

impl LogEntry {
    pub fn new(input: Input, events: &[Event]) -> LogEntry {
        LogEntry {
            version: ENTRY_VERSION,
            input,
            events_digest: events_digest(events),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("entries encode with postcard")
    }

    /// Parses an entry from untrusted bytes; trailing bytes are refused.
    pub fn decode(bytes: &[u8]) -> Option<LogEntry> {
        match postcard::take_from_bytes::<LogEntry>(bytes) {
            Ok((entry, [])) => Some(entry),
            _ => None,
        }
    }
}

/// Applies an input and, if accepted, returns its events and the entry to append to the log.
pub fn execute(state: &mut State, input: Input) -> Result<(Vec<Event>, LogEntry), Refusal> {
    let events = apply(state, &input)?;
    let entry = LogEntry::new(input, &events);
    Ok((events, entry))
}

/// Rebuilds the state from encoded entries, checking every signature and event digest.
pub fn replay<'a, I>(entries: I) -> Result<State, ReplayError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut state = State::new();
    for (index, bytes) in entries.into_iter().enumerate() {
        replay_one(&mut state, index as u64, bytes)?;
    }
    Ok(state)
}

/// Applies one encoded entry to `state` (for replaying incrementally, from a snapshot on).
pub fn replay_one(state: &mut State, index: u64, bytes: &[u8]) -> Result<Vec<Event>, ReplayError> {
    debug_assert_eq!(state.log_size, index, "entry {index} replayed out of place");
    let entry = LogEntry::decode(bytes).ok_or(ReplayError::Decode { index })?;
    if entry.version != ENTRY_VERSION {
        return Err(ReplayError::Version {
            index,
            version: entry.version,
        });
    }
    let events =
        apply(state, &entry.input).map_err(|refusal| ReplayError::Refused { index, refusal })?;
    if events_digest(&events) != entry.events_digest {
        return Err(ReplayError::EventsDiffer { index });
    }
    Ok(events)
}
