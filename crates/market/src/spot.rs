//! Rule M2: spot moves with the volume-weighted clearing unit prices of recent trading days.
//!
//! Every clearing price is at or above spot (the anchor pays spot, bids pay a premium), so
//! clearings alone could only push spot up. Demand that fails to show must move it too: a slot
//! that a basket opened for bidding and no bid wanted at its minimum is marked at the floor, the
//! lowest price the market could have asked. Spot then falls when slots go unsold, rises when
//! bids compete, and the circuit breaker (M4) catches a spike that collapses.
//!
//! A unit is one member-day of data in the category: a slot of 100 members over a 30-day window
//! is 3,000 units, and its price is unit price × 3,000. Weighting by units means a large basket
//! moves spot more than a small one, as volume does on any exchange.
//!
//! A close weighs the day's units against the units of the previous `spot.window_days − 1`
//! trading days, carried at the previous spot ([`RecentVolume`]): a day moves spot by its share
//! of that volume. With a one-day VWAP a quiet day's single basket set the category's price, and
//! its reversal the next days tripped the breaker (M4) though no market had fallen
//! (`crates/sim/README.md`). The previous days enter at the previous spot, not at their own
//! prices, so a day leaving the window never moves spot: only trades do.

use assay_core::{Micros, MoneyError};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The clearings of one trading day in one category, accumulated for the close.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTrades {
    /// Σ unit price × units, in micro-USD.
    value_micros: u128,
    /// Σ units (member-days).
    units: u128,
}

impl DayTrades {
    pub fn record(&mut self, unit_price: Micros, units: u64) {
        self.value_micros += u128::from(unit_price.get()) * u128::from(units);
        self.units += u128::from(units);
    }

    /// Marks `units` of unsold slots at `floor` (see the module docs).
    pub fn record_unsold(&mut self, floor: Micros, units: u64) {
        self.record(floor, units);
    }

    pub fn is_empty(&self) -> bool {
        self.units == 0
    }

    /// Units traded and marked today.
    pub fn units(&self) -> u128 {
        self.units
    }

    /// Spot after this day: the volume-weighted average of the day's prices and `carried` units
    /// at `previous`, rounded down; the previous spot if nothing traded today.
    pub fn next_spot(&self, previous: Micros, carried: u128) -> Result<Micros, MoneyError> {
        if self.units == 0 {
            return Ok(previous);
        }
        let carried_value = u128::from(previous.get())
            .checked_mul(carried)
            .ok_or(MoneyError::Overflow)?;
        let value = self
            .value_micros
            .checked_add(carried_value)
            .ok_or(MoneyError::Overflow)?;
        let units = self
            .units
            .checked_add(carried)
            .ok_or(MoneyError::Overflow)?;
        u64::try_from(value / units)
            .map(Micros::new)
            .map_err(|_| MoneyError::Overflow)
    }
}

/// Units traded (and marked unsold) at each of a category's last trading-day closes, newest
/// last: what a close carries at the previous spot (M2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentVolume {
    days: VecDeque<u128>,
}

impl RecentVolume {
    /// Units of the newest `days` closes (fewer if fewer exist); checked like every sum here.
    pub fn carried(&self, days: u32) -> Result<u128, MoneyError> {
        self.days
            .iter()
            .rev()
            .take(days as usize)
            .try_fold(0u128, |sum, units| sum.checked_add(*units))
            .ok_or(MoneyError::Overflow)
    }

    /// Records a close's units, keeping the newest `keep` closes.
    pub fn push(&mut self, units: u128, keep: u32) {
        self.days.push_back(units);
        while self.days.len() > keep as usize {
            self.days.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spot_is_volume_weighted_and_unchanged_without_trades() {
        // rule M2, with nothing carried (spot.window_days = 1): the day's VWAP.
        let mut day = DayTrades::default();
        assert_eq!(
            day.next_spot(Micros::new(500), 0).unwrap(),
            Micros::new(500)
        );
        day.record(Micros::new(100), 3);
        day.record(Micros::new(200), 1);
        // (300 + 200) / 4 = 125
        assert_eq!(
            day.next_spot(Micros::new(500), 0).unwrap(),
            Micros::new(125)
        );
        day.record(Micros::new(101), 1);
        // (500 + 101) / 5 = 120.2 → 120, rounded down
        assert_eq!(
            day.next_spot(Micros::new(500), 0).unwrap(),
            Micros::new(120)
        );
    }

    #[test]
    fn a_day_moves_spot_by_its_share_of_the_window_volume() {
        // rule M2: 1 unit at 200 against 3 carried units at the previous spot of 100.
        let mut day = DayTrades::default();
        day.record(Micros::new(200), 1);
        assert_eq!(
            day.next_spot(Micros::new(100), 3).unwrap(),
            Micros::new(125)
        );
        // A day without trades leaves spot where it was, whatever is carried.
        let quiet = DayTrades::default();
        assert_eq!(
            quiet.next_spot(Micros::new(100), 3).unwrap(),
            Micros::new(100)
        );
        // Huge volumes do not overflow silently.
        let mut big = DayTrades::default();
        big.record(Micros::new(u64::MAX), u64::MAX);
        assert_eq!(
            big.next_spot(Micros::new(u64::MAX), u128::MAX),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn recent_volume_carries_the_newest_closes_only() {
        // rule M2: with spot.window_days = 5 a close carries the previous 4 closes' units.
        let mut volume = RecentVolume::default();
        assert_eq!(volume.carried(4).unwrap(), 0);
        for units in [10, 20, 30, 40, 50] {
            volume.push(units, 4);
        }
        assert_eq!(volume.carried(4).unwrap(), 20 + 30 + 40 + 50);
        assert_eq!(volume.carried(2).unwrap(), 40 + 50);
        assert_eq!(volume.carried(0).unwrap(), 0);
        // Quiet days count as closes with no volume.
        volume.push(0, 4);
        assert_eq!(volume.carried(4).unwrap(), 30 + 40 + 50);
    }
}
