//! Governance rules G1–G6 and E3 as pure functions of plain facts.
//!
//! The engine keeps the board, the proposals and the ballots; these functions decide what the
//! paper decides: when a board term ends (G1), who may stand (G2), whether an amendment carries
//! (G4), which clauses no amendment may touch (G5), and when an appeal overturns a ban (E3).
//! Numbers the paper fixes are constants here, not rule parameters, so no parameter vote can
//! move them.

use assay_core::TradingDay;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Rule G1: the board has five seats.
pub const BOARD_SEATS: usize = 5;
/// Rule G1: a full term lasts five years.
pub const TERM_YEARS: u32 = 5;
/// Rule G4: an amendment needs yes ballots from 80% of active members (not of votes cast).
pub const AMENDMENT_PASS_BPS: u64 = 8_000;
/// Rule E3: a ban is overturned only when a majority of the whole board (3 of 5 seats, vacant
/// seats counting against) votes to overturn: the burden is on the accused.
pub const APPEAL_OVERTURN_VOTES: u64 = 3;
/// Bound on the search for a seat's next term end: 1,000 years of terms.
const TERMS_SEARCH_MAX: u32 = 200;

/// A clause of the cooperative's bylaws. The three principles of SPEC §0 are clauses like the
/// others, so an amendment can name them, and is refused for it (G5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Clause {
    /// P-purpose: the exchange exists to return maximum value to members.
    Purpose,
    /// P-nothing: the exchange holds no behavioral data and no member money past the schedule.
    NothingToCapture,
    /// P-pill: the poison pill cannot be disabled, delayed or overridden.
    PoisonPill,
    /// Any other bylaw, by number.
    Bylaw(u32),
}

/// One change an amendment makes: the clause and the SHA-256 of its new text (the text itself
/// is published with the proposal, off the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClauseChange {
    pub clause: Clause,
    pub text_hash: [u8; 32],
}

/// The texts of the immutable clauses, as SPEC §0 states them.
pub const IMMUTABLE_CLAUSES: [(Clause, &str); 3] = [
    (
        Clause::Purpose,
        "The exchange exists to return maximum value to members. It is measured (rule X1).",
    ),
    (
        Clause::NothingToCapture,
        "Nothing to capture: the exchange holds zero behavioral data and no member money past \
         the monthly schedule.",
    ),
    (
        Clause::PoisonPill,
        "The poison pill cannot be disabled, delayed or overridden by any actor.",
    ),
];

impl Clause {
    /// Rule G5: the three principles can never be amended.
    pub fn is_immutable(self) -> bool {
        !matches!(self, Clause::Bylaw(_))
    }
}

/// SHA-256 of a clause text: what the bylaws record per clause.
pub fn clause_text_hash(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The bylaws at genesis: the three immutable clauses and their text hashes.
pub fn founding_bylaws() -> Vec<(Clause, [u8; 32])> {
    IMMUTABLE_CLAUSES
        .iter()
        .map(|&(clause, text)| (clause, clause_text_hash(text)))
        .collect()
}

/// Rule G5: the first immutable clause an amendment touches, if any.
pub fn touched_immutable(changes: &[ClauseChange]) -> Option<Clause> {
    changes
        .iter()
        .map(|change| change.clause)
        .find(|clause| clause.is_immutable())
}

/// Rule G4: yes ballots from at least 80% of active members. `active` counts every voter, so
/// `yes ≤ active`; an amendment nobody voted for never passes.
pub fn amendment_passes(yes: u64, active: u64) -> bool {
    debug_assert!(yes <= active, "every voter is active");
    yes > 0 && u128::from(yes) * 10_000 >= u128::from(active) * u128::from(AMENDMENT_PASS_BPS)
}

/// Rule E3: overturn votes by seated board members.
pub fn appeal_overturned(overturn_votes: u64) -> bool {
    overturn_votes >= APPEAL_OVERTURN_VOTES
}

/// Rule G1: the day seat `seat`'s term ends when it is filled on `seated`.
///
/// Reading: seat k's terms end on the anniversaries of genesis k + 1, k + 6, k + 11 … years
/// later. The first board's terms are therefore 1 to 5 years long, and from then on exactly one
/// seat, the one held longest, ends each year. A seat filled late keeps its schedule, so the
/// stagger never drifts.
pub fn term_end(genesis: TradingDay, seat: usize, seated: TradingDay) -> TradingDay {
    debug_assert!(seat < BOARD_SEATS);
    let first = seat as u32 + 1;
    let mut end = genesis.add_years(first);
    for term in 1..=TERMS_SEARCH_MAX {
        if end > seated {
            return end;
        }
        end = genesis.add_years(first + term * TERM_YEARS);
    }
    end
}

/// What G2 needs to know about one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateFacts {
    pub founding: bool,
    pub banned: bool,
    /// Has held a seat (one term per lifetime).
    pub served: bool,
    /// Signed an input within the active window.
    pub active: bool,
}

impl CandidateFacts {
    /// Could stand, cohort rule aside: in good standing, active, never served.
    pub fn eligible(&self) -> bool {
        !self.banned && !self.served && self.active
    }
}

/// Rule G2: the member may stand. Founding members first: a public member may stand only when
/// no founding member is eligible.
pub fn may_stand(candidate: CandidateFacts, founding_member_eligible: bool) -> bool {
    candidate.eligible() && (candidate.founding || !founding_member_eligible)
}

/// Rule G1 (a Reading): the winner of an election is the candidate with the most votes; a tie
/// goes to the candidate who stood first. `votes[i]` belongs to the i-th candidate in the order
/// they stood; `None` when no candidate got a vote.
pub fn election_winner(votes: &[u64]) -> Option<usize> {
    let mut best: Option<(usize, u64)> = None;
    for (index, &count) in votes.iter().enumerate() {
        if count > 0 && best.is_none_or(|(_, most)| count > most) {
            best = Some((index, count));
        }
    }
    best.map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amendments_need_80_percent_of_active_members() {
        // rule G4
        assert!(!amendment_passes(7_999, 10_000));
        assert!(amendment_passes(8_000, 10_000));
        assert!(amendment_passes(4, 5));
        assert!(!amendment_passes(3, 5));
        assert!(!amendment_passes(0, 0));
    }

    #[test]
    fn terms_are_staggered_so_one_seat_ends_each_year() {
        // rule G1
        let genesis = TradingDay::from_civil(2026, 1, 28);
        let ends: Vec<String> = (0..BOARD_SEATS)
            .map(|seat| term_end(genesis, seat, genesis).to_string())
            .collect();
        assert_eq!(
            ends,
            [
                "2027-01-28",
                "2028-01-28",
                "2029-01-28",
                "2030-01-28",
                "2031-01-28"
            ]
        );
        // Seat 0's second term runs five years from the end of its first.
        let second = term_end(genesis, 0, TradingDay::from_civil(2027, 2, 11));
        assert_eq!(second.to_string(), "2032-01-28");
    }

    #[test]
    fn founding_members_stand_first_and_serve_once() {
        // rule G2
        let member = CandidateFacts {
            founding: false,
            banned: false,
            served: false,
            active: true,
        };
        assert!(!may_stand(member, true));
        assert!(may_stand(member, false));
        let founder = CandidateFacts {
            founding: true,
            ..member
        };
        assert!(may_stand(founder, true));
        let served = CandidateFacts {
            served: true,
            ..founder
        };
        assert!(!may_stand(served, true));
        let banned = CandidateFacts {
            banned: true,
            ..member
        };
        assert!(!may_stand(banned, false));
    }

    #[test]
    fn the_principles_are_immutable_and_other_bylaws_are_not() {
        // rule G5
        let change = |clause| ClauseChange {
            clause,
            text_hash: [0; 32],
        };
        assert_eq!(touched_immutable(&[change(Clause::Bylaw(3))]), None);
        assert_eq!(
            touched_immutable(&[change(Clause::Bylaw(3)), change(Clause::PoisonPill)]),
            Some(Clause::PoisonPill)
        );
        assert_eq!(founding_bylaws().len(), 3);
    }

    #[test]
    fn the_most_votes_win_and_ties_go_to_the_first_to_stand() {
        assert_eq!(election_winner(&[]), None);
        assert_eq!(election_winner(&[0, 0]), None);
        assert_eq!(election_winner(&[2, 5, 5]), Some(1));
        assert!(appeal_overturned(3) && !appeal_overturned(2));
    }
}
