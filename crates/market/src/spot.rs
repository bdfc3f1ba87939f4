//! Rule M2: spot is the volume-weighted average of the last trading day's clearing unit prices.
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

use assay_core::{Micros, MoneyError};
use serde::{Deserialize, Serialize};

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

    /// Spot after this day: the VWAP rounded down, or the previous spot if nothing traded.
    pub fn next_spot(&self, previous: Micros) -> Result<Micros, MoneyError> {
        if self.units == 0 {
            return Ok(previous);
        }
        let vwap = self.value_micros / self.units;
        u64::try_from(vwap)
            .map(Micros::new)
            .map_err(|_| MoneyError::Overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spot_is_volume_weighted_and_unchanged_without_trades() {
        // rule M2
        let mut day = DayTrades::default();
        assert_eq!(day.next_spot(Micros::new(500)).unwrap(), Micros::new(500));
        day.record(Micros::new(100), 3);
        day.record(Micros::new(200), 1);
        // (300 + 200) / 4 = 125
        assert_eq!(day.next_spot(Micros::new(500)).unwrap(), Micros::new(125));
        day.record(Micros::new(101), 1);
        // (500 + 101) / 5 = 120.2 → 120, rounded down
        assert_eq!(day.next_spot(Micros::new(500)).unwrap(), Micros::new(120));
    }
}
