//! What the sequencer rebuilds from the log before it takes requests: the engine state, the
//! outcomes it answers resubmissions with, and the runs the public view lists. It starts empty
//! (a full replay) or from a snapshot (`crate::snapshot`), and replays the entries after that.

use crate::sequencer::{Accepted, IDEMPOTENT_OUTCOMES_MAX};
use crate::view::RunView;
use assay_core::{PublicKey, Timestamp};
use assay_engine::{replay_one, Envelope, Event, LogEntry, ReplayError, State};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// The events of one log entry, by index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntryEvents {
    pub index: u64,
    pub events: Vec<Event>,
}

pub struct Resume {
    pub state: State,
    /// Entries applied to `state`.
    pub log_size: u64,
    /// The last entry's stamp (`i64::MIN` before any).
    pub last_stamp: Timestamp,
    pub outcomes: HashMap<(PublicKey, u64), (Envelope, Arc<Accepted>)>,
    /// Keys of `outcomes`, oldest first: entries `log_size - outcome_order.len()..log_size`.
    pub outcome_order: VecDeque<(PublicKey, u64)>,
    pub runs: Vec<RunView>,
    /// The entries the runs came from, so a snapshot can carry them checkably.
    pub run_entries: Vec<EntryEvents>,
    /// The snapshot's log size when this started from one.
    pub snapshot_size: Option<u64>,
}

impl Resume {
    /// Nothing applied yet: what a full replay starts from.
    pub fn empty() -> Resume {
        Resume::from_state(State::new(), 0, None)
    }

    pub fn from_state(state: State, log_size: u64, snapshot_size: Option<u64>) -> Resume {
        Resume {
            last_stamp: state.now.unwrap_or(Timestamp(i64::MIN)),
            state,
            log_size,
            outcomes: HashMap::new(),
            outcome_order: VecDeque::new(),
            runs: Vec::new(),
            run_entries: Vec::new(),
            snapshot_size,
        }
    }

    /// Records entry `log_size` (already applied to the state) with its events.
    pub fn record(&mut self, envelope: Envelope, timestamp: Timestamp, events: Vec<Event>) {
        let index = self.log_size;
        self.log_size += 1;
        self.last_stamp = timestamp;
        if events
            .iter()
            .any(|event| RunView::from_event(event).is_some())
        {
            self.runs
                .extend(events.iter().filter_map(RunView::from_event));
            self.run_entries.push(EntryEvents {
                index,
                events: events.clone(),
            });
        }
        let key = (envelope.signer, envelope.sequence);
        let accepted = Arc::new(Accepted {
            index,
            timestamp: timestamp.0,
            events,
        });
        self.outcomes.insert(key, (envelope, accepted));
        self.outcome_order.push_back(key);
        while self.outcome_order.len() > IDEMPOTENT_OUTCOMES_MAX {
            if let Some(key) = self.outcome_order.pop_front() {
                self.outcomes.remove(&key);
            }
        }
    }

    /// Applies `entries`, which continue the log at `log_size`, checking every signature and
    /// event digest (rule L3).
    pub fn replay(&mut self, entries: &[Vec<u8>]) -> Result<(), ReplayError> {
        for bytes in entries {
            let events = replay_one(&mut self.state, self.log_size, bytes)?;
            let entry = LogEntry::decode(bytes).expect("replay_one decoded it");
            self.record(entry.input.envelope, entry.input.timestamp, events);
        }
        Ok(())
    }
}
