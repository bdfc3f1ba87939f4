//! What the sequencer rebuilds from the log before it takes requests: the engine state, the
//! outcomes it answers resubmissions with, and the runs the public view lists. It starts empty
//! (a full replay) or from a snapshot (`crate::snapshot`), and replays the entries after that.

use crate::members::{MemberIndex, OpenSpecs};
use crate::sequencer::{Accepted, IDEMPOTENT_OUTCOMES_MAX};
use crate::view::RunView;
use assay_core::{BuyerId, Micros, PublicKey, Timestamp};
use assay_engine::command::Digest;
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
    /// Deposits by bank reference, so a repeated deposit gets its first outcome.
    pub deposits: Deposits,
    /// Open baskets' specs and the members' grants and payout lines (`crate::members`). After a
    /// start from a snapshot they cover the baskets open at the snapshot, the runs it carries
    /// and the entries after it: grants of baskets closed before the snapshot are not listed.
    pub specs: OpenSpecs,
    pub members: MemberIndex,
    /// The runs' payout statuses (issue 9).
    pub payouts: crate::payouts::PayoutRuns,
}

/// A deposit's buyer, amount and outcome, by its bank reference.
pub type Deposits = HashMap<Digest, (BuyerId, Micros, Arc<Accepted>)>;

/// Remembers the deposits among an accepted input's events (the first of a reference wins).
pub fn remember_deposits(deposits: &mut Deposits, accepted: &Arc<Accepted>) {
    for event in &accepted.events {
        if let Event::BuyerFunded {
            buyer,
            amount,
            deposit_reference,
        } = event
        {
            deposits
                .entry(*deposit_reference)
                .or_insert_with(|| (*buyer, *amount, accepted.clone()));
        }
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
            log_size,
            outcomes: HashMap::new(),
            outcome_order: VecDeque::new(),
            runs: Vec::new(),
            run_entries: Vec::new(),
            snapshot_size,
            deposits: HashMap::new(),
            specs: OpenSpecs::default(),
            members: MemberIndex::default(),
            payouts: crate::payouts::PayoutRuns::default(),
        }
    }

    /// Records entry `log_size` (already applied to the state) with its events.
    pub fn record(&mut self, envelope: Envelope, timestamp: Timestamp, events: Vec<Event>) {
        let index = self.log_size;
        self.log_size += 1;
        self.last_stamp = timestamp;
        self.payouts.observe(timestamp, &events);
        if crate::payouts::is_run_entry(&events) {
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
        remember_deposits(&mut self.deposits, &accepted);
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
            let update = self.specs.update(
                &self.state,
                self.log_size,
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
