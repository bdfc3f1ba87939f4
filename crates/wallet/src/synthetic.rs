//! A seeded generator of plausible behavioral records, for demos, tests and simulations.
//! Same seed, same records, on every machine: the generator is SplitMix64, written out here so
//! no RNG crate's version can change a test's data.

use crate::vault::Record;
use assay_core::TradingDay;

/// Records one generated member produces per day at most (a named bound on the inner loop).
pub const RECORDS_PER_DAY_MAX: u32 = 40;

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0); the modulo bias is irrelevant for test data.
    pub fn below(&mut self, bound: u64) -> u64 {
        debug_assert!(bound > 0);
        self.next_u64() % bound
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SITES: &[(&str, &str)] = &[
    (
        "https://en.wikipedia.org/wiki/Cooperative",
        "Cooperative - Wikipedia",
    ),
    ("https://news.ycombinator.com/", "Hacker News"),
    ("https://www.bbc.co.uk/news", "BBC News"),
    (
        "https://www.allrecipes.com/recipe/lentil-soup",
        "Lentil soup",
    ),
    ("https://github.com/rust-lang/rust", "rust-lang/rust"),
    ("https://www.weather.gov/", "National Weather Service"),
    (
        "https://www.reddit.com/r/personalfinance",
        "r/personalfinance",
    ),
    (
        "https://www.nytimes.com/section/technology",
        "Technology - NYT",
    ),
];
const MERCHANTS: &[(&str, &str, u64)] = &[
    ("grocer", "vegetables", 23_400_000),
    ("bookshop", "paperback", 14_990_000),
    ("pharmacy", "vitamins", 9_500_000),
    ("hardware", "screws", 4_250_000),
    ("cafe", "coffee", 3_800_000),
];
const APPS: &[(&str, &str)] = &[
    ("maps", "route_search"),
    ("music", "play"),
    ("messenger", "open_chat"),
    ("fitness", "log_workout"),
    ("news", "read_article"),
];
const SERVICES: &[&str] = &["photo-share", "ride-hail", "smart-tv", "game-store"];

/// Records of one member over `days` days from `first_day`. `canary`, when given, is written
/// into every record's free text, so tests can search for it wherever data might leak (P-nothing).
pub fn generate(seed: u64, first_day: TradingDay, days: u32, canary: Option<&str>) -> Vec<Record> {
    let mut rng = SplitMix64::new(seed);
    let tag = |text: &str| match canary {
        Some(c) => format!("{text} {c}"),
        None => text.to_string(),
    };
    // Home somewhere in the continental US, in 1e-5 degrees.
    let home_lat = 3_000_000 + rng.below(1_800_000) as i32;
    let home_lon = -12_000_000 + rng.below(4_500_000) as i32;
    let mut records = Vec::new();
    for offset in 0..days {
        let day = TradingDay(first_day.0 + offset as i32);
        let count = 3 + rng.below(u64::from(RECORDS_PER_DAY_MAX - 3)) as u32;
        for _ in 0..count {
            let record = match rng.below(10) {
                0..=3 => {
                    let (url, title) = rng.pick(SITES);
                    Record::Browsing {
                        day,
                        url: url.to_string(),
                        title: tag(title),
                    }
                }
                4 => {
                    let (merchant, item, amount) = rng.pick(MERCHANTS);
                    Record::Purchase {
                        day,
                        merchant: merchant.to_string(),
                        item: tag(item),
                        amount_micros: amount + rng.below(1_000_000),
                    }
                }
                5..=6 => Record::Location {
                    day,
                    latitude_e5: home_lat + rng.below(2_000) as i32 - 1_000,
                    longitude_e5: home_lon + rng.below(2_000) as i32 - 1_000,
                },
                7..=8 => {
                    let (app, action) = rng.pick(APPS);
                    Record::AppInteraction {
                        day,
                        app: app.to_string(),
                        action: tag(action),
                    }
                }
                _ => Record::TosInteraction {
                    day,
                    service: tag(SERVICES[rng.below(SERVICES.len() as u64) as usize]),
                    accepted: rng.below(4) != 0,
                },
            };
            records.push(record);
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_core::Category;

    #[test]
    fn same_seed_same_records_and_every_category_appears() {
        let a = generate(7, TradingDay(20_000), 30, None);
        assert_eq!(a, generate(7, TradingDay(20_000), 30, None));
        assert_ne!(a, generate(8, TradingDay(20_000), 30, None));
        for category in Category::ALL {
            assert!(a.iter().any(|r| r.category() == category), "{category}");
        }
        assert!(a.iter().all(|r| (20_000..20_030).contains(&r.day().0)));
    }
}
