//! The governance and pill parts of the state: board seats, open proposals, bylaws, unsettled
//! payouts and the termination record (rules G1–G6, E3, D6, X1–X3).

use crate::command::{Choice, Digest, Party};
use assay_coop::governance::{founding_bylaws, BOARD_SEATS};
use assay_coop::{Clause, ClauseChange, PayoutLine, Trigger};
use assay_core::{MemberId, Month, Timestamp, TradingDay};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most proposals (elections, amendments, rules changes, appeals) open at once.
pub const OPEN_PROPOSALS_MAX: usize = 64;
/// Most candidates in one election.
pub const CANDIDATES_MAX: usize = 64;
/// Most clause changes in one amendment.
pub const CLAUSE_CHANGES_MAX: usize = 64;
/// Largest rules JSON a proposal may carry (the default rules are about 1.5 KiB).
pub const RULES_JSON_BYTES_MAX: usize = 64 * 1024;

/// A board seat's holder and term (G1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub member: MemberId,
    pub since: TradingDay,
    /// The term ends at 00:00 UTC of this day; the seat is vacant from then.
    pub ends: TradingDay,
}

/// What an open proposal asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Motion {
    Election {
        seat: u8,
        /// In the order they stood (ties go to the first).
        candidates: Vec<MemberId>,
    },
    Amendment {
        changes: Vec<ClauseChange>,
    },
    RulesChange {
        rules_hash: Digest,
    },
    /// Rule E3: the board votes; yes overturns the ban.
    Appeal {
        party: Party,
    },
}

impl Motion {
    /// Rule G5's gate let this motion through although it amends an immutable clause: only a
    /// fault can cause it, and it triggers the pill (X1.5).
    pub fn touches_immutable(&self) -> bool {
        matches!(self, Motion::Amendment { changes }
            if assay_coop::governance::touched_immutable(changes).is_some())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub motion: Motion,
    pub opened: Timestamp,
    pub closes: Timestamp,
    /// Members numbered below this may vote: nobody registers to vote on an open question.
    pub members_at_open: u64,
    pub ballots: BTreeMap<MemberId, Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Governance {
    pub seats: [Option<Seat>; BOARD_SEATS],
    /// Open proposals only: a tally removes its proposal (the log keeps the history).
    pub proposals: BTreeMap<u64, Proposal>,
    pub next_proposal: u64,
    /// Rules changes that passed and are not adopted yet, by proposal: their rules hash.
    pub passed_rules: BTreeMap<u64, Digest>,
    /// Each clause's current text hash; the three principles from genesis on.
    pub bylaws: BTreeMap<Clause, Digest>,
}

impl Default for Governance {
    fn default() -> Governance {
        Governance {
            seats: [None; BOARD_SEATS],
            proposals: BTreeMap::new(),
            next_proposal: 0,
            passed_rules: BTreeMap::new(),
            bylaws: founding_bylaws().into_iter().collect(),
        }
    }
}

impl Governance {
    /// The member holding `seat` on `day`, if its term has not ended.
    pub fn holder(&self, seat: usize, day: TradingDay) -> Option<MemberId> {
        self.seats[seat]
            .filter(|held| day < held.ends)
            .map(|held| held.member)
    }

    /// The seat `member` holds on `day`.
    pub fn seat_of(&self, member: MemberId, day: TradingDay) -> Option<usize> {
        (0..BOARD_SEATS).find(|&seat| self.holder(seat, day) == Some(member))
    }
}

/// A run whose payouts the rails have not yet been recorded as executing (D6, X1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsettledRun {
    pub month: Month,
    pub payout_root: Digest,
    pub lines: Vec<PayoutLine>,
    /// The rails' files for this run, once recorded (D6).
    pub files: Option<Vec<crate::command::PayoutFile>>,
}

/// The pill was swallowed (X2): only the final payout's files and settlement follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    pub trigger: Trigger,
    pub at: Timestamp,
    pub payout_root: Digest,
    pub settled: bool,
}
