//! What the sequencer rebuilds from the log before it takes requests: the engine state, the
//! outcomes it answers resubmissions with, and the runs the public view lists. It starts empty
//! (a full replay) or from a snapshot (`crate::snapshot`), and replays the entries after that.

use crate::members::{MemberIndex, OpenSpecs};
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
    /// The last entry's stamp (`i64::MIN` before any).
    pub last_stamp: Timestamp,
    /// Outcomes, deposits, runs and payout statuses of the entries applied to `state`.
    pub history: History,
    /// The snapshot's log size when this started from one.
    pub snapshot_size: Option<u64>,
    /// Open baskets' specs and the members' grants and payout lines (`crate::members`). After a
    /// start from a snapshot they cover the baskets open at the snapshot, the runs it carries
    /// and the entries after it: grants of baskets closed before the snapshot are not listed.
    pub specs: OpenSpecs,
    pub members: MemberIndex,
}

/// What the server remembers of the log beside the engine state, kept the same way while it
/// replays (`Resume`) and while it writes (`Sequencer`): the outcomes it answers resubmissions
/// with, and the runs with their payout statuses. Repeated deposits are answered from the
/// engine's own record of each bank reference (`State::repeated_deposit`).
#[derive(Default)]
pub struct History {
    /// Entries recorded: the next entry's index.
    pub log_size: u64,
    pub outcomes: HashMap<(PublicKey, u64), (Envelope, Arc<Accepted>)>,
    /// Keys of `outcomes`, oldest first: entries `log_size - outcome_order.len()..log_size`.
    pub outcome_order: VecDeque<(PublicKey, u64)>,
    pub runs: Vec<RunView>,
    /// The entries the runs came from, so a snapshot can carry them checkably.
    pub run_entries: Vec<EntryEvents>,
    /// The runs' payout statuses (issue 9).
    pub payouts: crate::payouts::PayoutRuns,
}

impl History {
    /// Records entry `log_size`, stamped `timestamp`, with its events; returns its outcome.
    pub fn record(
        &mut self,
        envelope: Envelope,
        timestamp: Timestamp,
        events: Vec<Event>,
    ) -> Arc<Accepted> {
        let index = self.log_size;
        self.log_size += 1;
        if crate::payouts::is_run_entry(&events) {
            self.remember_run(
                timestamp,
                EntryEvents {
                    index,
                    events: events.clone(),
                },
            );
        }
        let accepted = Arc::new(Accepted {
            index,
            timestamp: timestamp.0,
            events,
        });
        self.remember_outcome(envelope, accepted.clone());
        accepted
    }

    /// Remembers an entry's outcome for resubmissions, keeping the newest
    /// `IDEMPOTENT_OUTCOMES_MAX`.
    pub fn remember_outcome(&mut self, envelope: Envelope, accepted: Arc<Accepted>) {
        let key = (envelope.signer, envelope.sequence);
        self.outcomes.insert(key, (envelope, accepted));
        self.outcome_order.push_back(key);
        while self.outcome_order.len() > IDEMPOTENT_OUTCOMES_MAX {
            if let Some(key) = self.outcome_order.pop_front() {
                self.outcomes.remove(&key);
            }
        }
    }

    /// Remembers an entry holding a run, its payout files or its settlement.
    pub fn remember_run(&mut self, timestamp: Timestamp, entry: EntryEvents) {
        self.runs
            .extend(entry.events.iter().filter_map(RunView::from_event));
        self.payouts.observe(timestamp, &entry.events);
        self.run_entries.push(entry);
    }
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
            history: History {
                log_size,
                ..History::default()
            },
            snapshot_size,
            specs: OpenSpecs::default(),
            members: MemberIndex::default(),
        }
    }

    /// Entries applied to `state`.
    pub fn log_size(&self) -> u64 {
        self.history.log_size
    }

    /// Records entry `log_size` (already applied to the state) with its events.
    pub fn record(&mut self, envelope: Envelope, timestamp: Timestamp, events: Vec<Event>) {
        self.last_stamp = timestamp;
        self.history.record(envelope, timestamp, events);
    }

    /// Applies `entries`, which continue the log at `log_size`, checking every signature and
    /// event digest (rule L3).
    pub fn replay(&mut self, entries: &[Vec<u8>]) -> Result<(), ReplayError> {
        for bytes in entries {
            let events = replay_one(&mut self.state, self.history.log_size, bytes)?;
            let entry = LogEntry::decode(bytes).expect("replay_one decoded it");
            let update = self.specs.update(
                &self.state,
                self.history.log_size,
                &entry.input.envelope.command,
                entry.input.timestamp.trading_day(),
                &events,
            );
            self.members.apply(update);
            self.record(entry.input.envelope, entry.input.timestamp, events);
        }
        Ok(())
    }
}
