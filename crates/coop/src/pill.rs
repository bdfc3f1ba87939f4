//! The poison pill's triggers (X1) as facts about plain data, and its deadlines.
//!
//! The deadlines are constants, not rule parameters: P-pill says no actor may delay the pill,
//! and a parameter could be moved by a vote.

use assay_core::{Month, TradingDay};
use serde::{Deserialize, Serialize};

/// X1.2: a month's run must be recorded within this many days after the 1st of the next month:
/// an input stamped on the 4th or later while the month's books are still open triggers.
pub const RUN_DEADLINE_DAYS: i32 = 3;
/// X1.3 (a Reading of D6): the run's payouts must be recorded as settled by the rails within
/// this many days after the 1st: an input stamped on the 8th or later while they are not
/// triggers.
pub const SETTLEMENT_DEADLINE_DAYS: i32 = 7;

/// Which fact of X1 swallowed the pill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    /// X1.1: the run of `month` would give members under 90% of gross.
    MembersBelowNinety { month: Month },
    /// X1.2: `month`'s run was not recorded by the deadline.
    RunLate { month: Month },
    /// X1.3: the payouts of `month`'s run were not settled by the deadline: the exchange holds
    /// member money past the schedule (D6).
    MemberMoneyHeld { month: Month },
    /// X1.4: two checkpoints of the log for the same size with different roots.
    Equivocation {
        size: u64,
        first_root: [u8; 32],
        second_root: [u8; 32],
    },
    /// X1.5: an amendment of an immutable clause got past the gate (G5).
    ImmutableAmendment { proposal: u64 },
}

impl Trigger {
    /// The X1 item number, 1 to 5.
    pub fn number(&self) -> u8 {
        match self {
            Trigger::MembersBelowNinety { .. } => 1,
            Trigger::RunLate { .. } => 2,
            Trigger::MemberMoneyHeld { .. } => 3,
            Trigger::Equivocation { .. } => 4,
            Trigger::ImmutableAmendment { .. } => 5,
        }
    }
}

/// The first day on which an input proves `month`'s run late (X1.2).
pub fn run_deadline(month: Month) -> TradingDay {
    TradingDay(month.next().first_day().0 + RUN_DEADLINE_DAYS)
}

/// The first day on which an input proves `month`'s payouts held past the schedule (X1.3).
pub fn settlement_deadline(month: Month) -> TradingDay {
    TradingDay(month.next().first_day().0 + SETTLEMENT_DEADLINE_DAYS)
}

/// X1.2 and X1.3 from the facts an input carries: its day, the month whose books are open, and
/// the month whose run's payouts are not yet settled.
pub fn time_trigger(
    day: TradingDay,
    books_month: Month,
    unsettled_month: Option<Month>,
) -> Option<Trigger> {
    if day >= run_deadline(books_month) {
        return Some(Trigger::RunLate { month: books_month });
    }
    match unsettled_month {
        Some(month) if day >= settlement_deadline(month) => {
            Some(Trigger::MemberMoneyHeld { month })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JANUARY: Month = Month {
        year: 2026,
        month: 1,
    };

    #[test]
    fn the_run_is_late_from_the_4th_and_payouts_from_the_8th() {
        // rules X1.2, X1.3
        let day = |d| TradingDay::from_civil(2026, 2, d);
        assert_eq!(time_trigger(day(3), JANUARY, None), None);
        assert_eq!(
            time_trigger(day(4), JANUARY, None),
            Some(Trigger::RunLate { month: JANUARY })
        );
        let february = JANUARY.next();
        assert_eq!(time_trigger(day(7), february, Some(JANUARY)), None);
        assert_eq!(
            time_trigger(day(8), february, Some(JANUARY)),
            Some(Trigger::MemberMoneyHeld { month: JANUARY })
        );
        // Months later, still late.
        let june = TradingDay::from_civil(2026, 6, 1);
        assert_eq!(
            time_trigger(june, JANUARY, None).map(|t| t.number()),
            Some(2)
        );
    }
}
