//! The cooperative's rules (SPEC D1–D9, G1–G6, E3, X1–X2) as pure functions.
//!
//! Invariant: no I/O, no clock. The engine keeps the month's books and each member's balance and
//! calls [`run_month`] on the 1st; it returns every member's new balance, the payout lines and a
//! report whose two conservation identities hold to the micro-dollar (D9).
//!
//! | rule | where |
//! |---|---|
//! | D2 waterfall 90/8/1/1 | [`waterfall`] |
//! | D3 slot income by premium weight | [`slot_income`] |
//! | D4 threshold and rollover, D5 fees returned, D7 cohort, D8 cold start | [`distribution`] |
//! | D9 conservation | [`RunReport::check_conservation`] |
//! | G1 terms, G2 eligibility, G4 80% of active members, G5 immutable clauses, E3 appeals | [`governance`] |
//! | G3 participation bonus | [`distribution`] (paid from operations' share, like top-ups) |
//! | X1 triggers and their deadlines | [`pill`] |
//! | X2 termination | [`termination`], [`TerminationReport::check_conservation`] |

pub mod distribution;
mod error;
pub mod governance;
pub mod pill;
pub mod slot_income;
pub mod termination;
pub mod waterfall;

pub use distribution::{
    run_month, MemberBalance, MonthBooks, PayoutLine, RunOutcome, RunReport, CENT,
};
pub use error::CoopError;
pub use governance::{Clause, ClauseChange};
pub use pill::Trigger;
pub use slot_income::{member_part_of_sale, split_slot_income};
pub use termination::{terminate, Standing, TerminationOutcome, TerminationReport};
pub use waterfall::{split_operations, OperationsSplit};
