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

    /// The day of a civil date. Howard Hinnant's `days_from_civil`, the inverse of
    /// [`TradingDay::civil`]; `day` must exist in that month.
    pub fn from_civil(year: i32, month: u8, day: u8) -> TradingDay {
        debug_assert!((1..=12).contains(&month) && (1..=31).contains(&day));
        let year = i64::from(year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let yoe = year.rem_euclid(400);
        let month = i64::from(month);
        let mp = if month > 2 { month - 3 } else { month + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        // Days since the epoch fit in i32 for ±5.8 million years.
        TradingDay((era * 146_097 + doe - 719_468) as i32)
    }

    /// The same calendar date `years` later; 29 February becomes 28 February in a common year.
    /// Board terms are counted this way (rule G1).
    pub fn add_years(self, years: u32) -> TradingDay {
        let (year, month, day) = self.civil();
        let year = year.saturating_add(years as i32);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let day = if month == 2 && day == 29 && !leap {
            28
        } else {
            day
        };
        TradingDay::from_civil(year, month, day)
    }
}

impl Month {
    /// The month's 1st, the day of its monthly run (rule D4).
    pub fn first_day(self) -> TradingDay {
        TradingDay::from_civil(self.year, self.month, 1)
    }

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

    #[test]
    fn from_civil_inverts_civil_and_years_keep_the_date() {
        for day in (-800_000..800_000).step_by(997).map(TradingDay) {
            let (y, m, d) = day.civil();
            assert_eq!(TradingDay::from_civil(y, m, d), day);
        }
        assert_eq!(TradingDay::from_civil(2026, 1, 1), TradingDay(20_454));
        let leap_day = TradingDay::from_civil(2028, 2, 29);
        assert_eq!(leap_day.add_years(1).to_string(), "2029-02-28");
        assert_eq!(leap_day.add_years(4).to_string(), "2032-02-29");
        assert_eq!(TradingDay(20_454).add_years(5).to_string(), "2031-01-01");
        let february = Month {
            year: 2026,
            month: 2,
        };
        assert_eq!(february.first_day().to_string(), "2026-02-01");
    }
}
