//! Time as data. The sequencer stamps each input; rules read only that stamp, never a clock.
//!
//! A trading day is a UTC calendar day, 00:00:00 inclusive to the next 00:00:00 exclusive
//! (rule M4's "trading day"; the market runs every day, as data is produced every day).

use serde::{Deserialize, Serialize};
use std::fmt;

pub const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;

/// Microseconds since 1970-01-01T00:00:00Z, UTC. Supplied by the sequencer, never read here.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// A trading day: days since 1970-01-01 (UTC).
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TradingDay(pub i32);

/// A calendar month, UTC. Monthly runs (rule D4) are keyed by it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    pub year: i32,
    /// 1 = January.
    pub month: u8,
}

impl Timestamp {
    pub fn trading_day(self) -> TradingDay {
        // Days since the epoch fit in i32 for ±5.8 million years.
        TradingDay(self.0.div_euclid(MICROS_PER_DAY) as i32)
    }
}

impl TradingDay {
    pub fn start(self) -> Timestamp {
        Timestamp(i64::from(self.0) * MICROS_PER_DAY)
    }

    /// The civil date (year, month, day). Howard Hinnant's `civil_from_days`, exact for the
    /// proleptic Gregorian calendar.
    pub fn civil(self) -> (i32, u8, u8) {
        let z = i64::from(self.0) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        (year, month, day)
    }

    pub fn month(self) -> Month {
        let (year, month, _) = self.civil();
        Month { year, month }
    }

    /// True on the 1st of a month, the day of the monthly run (rule D4).
    pub fn is_first_of_month(self) -> bool {
        self.civil().2 == 1
    }
}

impl Month {
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl fmt::Display for TradingDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trading_day_is_the_utc_calendar_day() {
        // 2026-11-25T00:00:00Z = 1_795_564_800 s.
        let midnight = Timestamp(1_795_564_800 * 1_000_000);
        assert_eq!(midnight.trading_day().to_string(), "2026-11-25");
        assert_eq!(
            Timestamp(midnight.0 - 1).trading_day().to_string(),
            "2026-11-24"
        );
        assert_eq!(midnight.trading_day().start(), midnight);
        assert_eq!(Timestamp(-1).trading_day(), TradingDay(-1));
    }

    #[test]
    fn civil_dates_cross_leap_years_and_month_ends() {
        assert_eq!(TradingDay(0).civil(), (1970, 1, 1));
        assert_eq!(TradingDay(11_016).civil(), (2000, 2, 29));
        assert_eq!(TradingDay(20_422).civil(), (2025, 11, 30));
        assert!(TradingDay(20_423).is_first_of_month());
        assert_eq!(TradingDay(20_423).month().to_string(), "2025-12");
        assert_eq!(
            Month {
                year: 2025,
                month: 12
            }
            .next()
            .to_string(),
            "2026-01"
        );
    }
}
