//! Rules M3 (floor) and M4 (circuit breaker), over the history of trading-day closing spots.
//!
//! Definitions (RULEBOOK.md states them for members):
//! - A trading day is a UTC calendar day; its close is the spot set at 00:00 UTC after it (M2).
//! - Floor = `ratio_bps` × the mean of the last `window_days` closes, rounded **up** so that
//!   rounding never lets a slot clear below the exact floor. Before `window_days` closes exist,
//!   the mean is over the closes there are (the first is the category's starting price).
//! - Breaker: at a close, the reference is the highest of the previous `window_trading_days`
//!   closes (only those since the category last reopened). If the new close is at or below
//!   reference × (1 − `drop_bps`), the category freezes. A frozen category clears nothing until
//!   the board's recorded resolution reopens it; the closes before the reopening are never a
//!   reference again, so the crash that froze it cannot re-freeze it the next day.

use assay_core::rules::{BreakerRules, FloorRules};
use assay_core::{Micros, MoneyError, Rounding, TradingDay, BPS_ONE};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Whether a category may clear (rule M4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Breaker {
    Open,
    Frozen { since: TradingDay },
}

/// What a trading-day close did to the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseOutcome {
    Open,
    /// The breaker tripped at this close: the engine writes `EmergencyMeeting` (rule M4).
    Tripped {
        reference: Micros,
        spot: Micros,
    },
    StillFrozen,
}

/// Closing spots of one category, newest last, and its breaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceHistory {
    closes: VecDeque<Micros>,
    /// How many of the newest closes were made since the category last (re)opened.
    closes_since_reopen: u32,
    breaker: Breaker,
}

impl PriceHistory {
    /// A category that has not traded yet: its starting price is its first close (M2).
    pub fn new(start_price: Micros) -> PriceHistory {
        PriceHistory {
            closes: VecDeque::from([start_price]),
            closes_since_reopen: 1,
            breaker: Breaker::Open,
        }
    }

    /// Spot: the latest close.
    pub fn spot(&self) -> Micros {
        *self
            .closes
            .back()
            .expect("history always holds the starting price")
    }

    pub fn breaker(&self) -> Breaker {
        self.breaker
    }

    pub fn is_frozen(&self) -> bool {
        matches!(self.breaker, Breaker::Frozen { .. })
    }

    pub fn closes(&self) -> impl Iterator<Item = Micros> + '_ {
        self.closes.iter().copied()
    }

    /// Rule M3: the floor now.
    pub fn floor(&self, rules: &FloorRules) -> Result<Micros, MoneyError> {
        let window = (rules.window_days as usize).min(self.closes.len());
        let sum = Micros::sum(self.closes.iter().rev().take(window).copied())?;
        // ceil(sum × ratio / (window × 10,000)): one rounding, upward.
        let denominator = (window as u64)
            .checked_mul(BPS_ONE)
            .ok_or(MoneyError::Overflow)?;
        sum.mul_ratio(u64::from(rules.ratio_bps), denominator, Rounding::Up)
    }

    /// Records the close of `day` at `spot` and applies the breaker (rule M4).
    pub fn close_day(
        &mut self,
        day: TradingDay,
        spot: Micros,
        floor_rules: &FloorRules,
        breaker_rules: &BreakerRules,
    ) -> CloseOutcome {
        let outcome = match self.breaker {
            Breaker::Frozen { .. } => CloseOutcome::StillFrozen,
            Breaker::Open => {
                let looked_at = breaker_rules
                    .window_trading_days
                    .min(self.closes_since_reopen) as usize;
                let reference = self.closes.iter().rev().take(looked_at).max().copied();
                match reference {
                    Some(reference) if has_fallen(spot, reference, breaker_rules.drop_bps) => {
                        self.breaker = Breaker::Frozen { since: day };
                        CloseOutcome::Tripped { reference, spot }
                    }
                    _ => CloseOutcome::Open,
                }
            }
        };
        self.closes.push_back(spot);
        self.closes_since_reopen = self.closes_since_reopen.saturating_add(1);
        let keep = (floor_rules.window_days as usize)
            .max(breaker_rules.window_trading_days as usize)
            .max(1);
        while self.closes.len() > keep {
            self.closes.pop_front();
        }
        outcome
    }

    /// The board's recorded resolution reopens a frozen category (rule M4).
    pub fn reopen(&mut self) {
        self.breaker = Breaker::Open;
        self.closes_since_reopen = 0;
    }
}

/// `spot ≤ reference × (1 − drop)`, exactly, in integers.
fn has_fallen(spot: Micros, reference: Micros, drop_bps: u32) -> bool {
    let lhs = u128::from(spot.get()) * u128::from(BPS_ONE);
    let rhs = u128::from(reference.get()) * u128::from(BPS_ONE - u64::from(drop_bps));
    lhs <= rhs
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOOR: FloorRules = FloorRules {
        ratio_bps: 9_500,
        window_days: 7,
    };
    const BREAKER: BreakerRules = BreakerRules {
        drop_bps: 2_000,
        window_trading_days: 5,
    };

    fn history(closes: &[u64]) -> PriceHistory {
        let mut history = PriceHistory::new(Micros::new(closes[0]));
        for (day, &close) in closes.iter().enumerate().skip(1) {
            history.close_day(TradingDay(day as i32), Micros::new(close), &FLOOR, &BREAKER);
        }
        history
    }

    #[test]
    fn floor_is_95_percent_of_exactly_the_last_7_closes() {
        // rule M3: seven closes of 1,000,000 → floor 950,000.
        let h = history(&[1_000_000; 7]);
        assert_eq!(h.floor(&FLOOR).unwrap(), Micros::new(950_000));
        // An eighth, older close does not count, however large.
        let h = history(&[
            9_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000,
        ]);
        assert_eq!(h.floor(&FLOOR).unwrap(), Micros::new(950_000));
        // The oldest of the seven does count.
        let h = history(&[
            9_000_000, 1_000_007, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000,
        ]);
        // mean = 7,000,007 / 7 = 1,000,001; × 0.95 = 950,000.95 → rounded up.
        assert_eq!(h.floor(&FLOOR).unwrap(), Micros::new(950_001));
    }

    #[test]
    fn floor_before_seven_closes_averages_what_exists() {
        // rule M3
        let h = history(&[1_000_000, 2_000_000]);
        assert_eq!(h.floor(&FLOOR).unwrap(), Micros::new(1_425_000));
        assert_eq!(
            PriceHistory::new(Micros::new(100)).floor(&FLOOR).unwrap(),
            Micros::new(95)
        );
    }

    #[test]
    fn a_drop_of_exactly_20_percent_within_5_trading_days_freezes() {
        // rule M4: the high is 5 closes back (day 0), the fall lands on day 5.
        let mut h = history(&[1_000_000, 950_000, 900_000, 880_000, 850_000]);
        let outcome = h.close_day(TradingDay(5), Micros::new(800_000), &FLOOR, &BREAKER);
        assert_eq!(
            outcome,
            CloseOutcome::Tripped {
                reference: Micros::new(1_000_000),
                spot: Micros::new(800_000)
            }
        );
        assert_eq!(
            h.breaker(),
            Breaker::Frozen {
                since: TradingDay(5)
            }
        );
    }

    #[test]
    fn a_drop_of_19_99_percent_does_not_freeze() {
        // rule M4: 1,000,000 → 800,100 is a 19.99% fall.
        let mut h = history(&[1_000_000, 950_000, 900_000, 880_000, 850_000]);
        let outcome = h.close_day(TradingDay(5), Micros::new(800_100), &FLOOR, &BREAKER);
        assert_eq!(outcome, CloseOutcome::Open);
        assert!(!h.is_frozen());
    }

    #[test]
    fn a_20_percent_drop_over_6_trading_days_does_not_freeze() {
        // rule M4: the high is 6 closes back, outside the window.
        let mut h = history(&[1_000_000, 960_000, 950_000, 900_000, 880_000, 850_000]);
        let outcome = h.close_day(TradingDay(6), Micros::new(800_000), &FLOOR, &BREAKER);
        assert_eq!(outcome, CloseOutcome::Open);
    }

    #[test]
    fn frozen_stays_frozen_until_the_board_reopens_and_old_highs_do_not_refreeze() {
        // rule M4
        let mut h = history(&[1_000_000]);
        h.close_day(TradingDay(1), Micros::new(700_000), &FLOOR, &BREAKER);
        assert!(h.is_frozen());
        let outcome = h.close_day(TradingDay(2), Micros::new(1_000_000), &FLOOR, &BREAKER);
        assert_eq!(outcome, CloseOutcome::StillFrozen);
        h.reopen();
        // The pre-freeze high of 1,000,000 (day 2's close was made while frozen, before the
        // reopening) is not a reference: a close at 700,000 right after reopening stays open.
        let outcome = h.close_day(TradingDay(3), Micros::new(700_000), &FLOOR, &BREAKER);
        assert_eq!(outcome, CloseOutcome::Open);
        // A new 20% fall after reopening freezes again.
        let outcome = h.close_day(TradingDay(4), Micros::new(560_000), &FLOOR, &BREAKER);
        assert!(matches!(outcome, CloseOutcome::Tripped { .. }));
    }
}
