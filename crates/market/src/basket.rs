//! Rules M5 (basket spec) and M6 (slot range by tier).
//!
//! A basket asks for `slots` copies of one data set: `members_per_slot` members' data in
//! `category` over `window_days`. Each slot goes to one buyer and is filled by its own members, so
//! a member's data is sold at most once per basket. The profile filter is coarse on purpose: the
//! exchange never sees profiles; wallets check eligibility on the device (M11).

use crate::MarketError;
use assay_core::{Category, Rules};
use serde::{Deserialize, Deserializer, Serialize};

/// An ISO 3166-1 alpha-2 country code, the coarsest useful region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region([u8; 2]);

impl Region {
    pub fn parse(text: &str) -> Result<Region, MarketError> {
        match text.as_bytes() {
            &[a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Region([a, b])),
            _ => Err(MarketError::BadRegion),
        }
    }

    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII uppercase letters, checked in `parse`.
        std::str::from_utf8(&self.0).expect("region bytes are ASCII")
    }
}

impl Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Region, D::Error> {
        let text = String::deserialize(deserializer)?;
        Region::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Ten-year age bands; nothing finer is ever asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AgeBand {
    #[serde(rename = "18-24")]
    From18To24,
    #[serde(rename = "25-34")]
    From25To34,
    #[serde(rename = "35-44")]
    From35To44,
    #[serde(rename = "45-54")]
    From45To54,
    #[serde(rename = "55-64")]
    From55To64,
    #[serde(rename = "65+")]
    From65,
}

/// Who may fill the basket (rule M5: coarse attributes only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFilter {
    pub region: Option<Region>,
    pub age_band: Option<AgeBand>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasketSpec {
    pub category: Category,
    pub filter: ProfileFilter,
    pub window_days: u32,
    pub members_per_slot: u32,
    /// Slots wanted, the anchor's included.
    pub slots: u8,
}

impl BasketSpec {
    /// Rules M5 and M6. The origination fee is charged whatever this returns (M5); the engine
    /// does that, since it holds the buyer's balance.
    pub fn validate(&self, rules: &Rules) -> Result<(), MarketError> {
        let tier = rules.tier_of(self.category);
        if self.slots < tier.slots_min || self.slots > tier.slots_max {
            return Err(MarketError::SlotsOutOfRange {
                slots: self.slots,
                min: tier.slots_min,
                max: tier.slots_max,
            });
        }
        let members_max = rules.basket.members_per_slot_max;
        if self.members_per_slot == 0 || self.members_per_slot > members_max {
            return Err(MarketError::MembersPerSlotOutOfRange {
                members: self.members_per_slot,
                max: members_max,
            });
        }
        let days_max = rules.basket.window_days_max;
        if self.window_days == 0 || self.window_days > days_max {
            return Err(MarketError::WindowOutOfRange {
                days: self.window_days,
                max: days_max,
            });
        }
        Ok(())
    }

    /// Member-days in one slot: the units spot is quoted in (M2).
    pub fn units_per_slot(&self) -> u64 {
        u64::from(self.members_per_slot) * u64::from(self.window_days)
    }

    /// Member places the basket needs filled (M7).
    pub fn member_places(&self) -> u64 {
        u64::from(self.members_per_slot) * u64::from(self.slots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::from_toml_str(include_str!("../../../rules/default.toml")).unwrap()
    }

    fn spec(category: Category, slots: u8) -> BasketSpec {
        BasketSpec {
            category,
            filter: ProfileFilter::default(),
            window_days: 30,
            members_per_slot: 100,
            slots,
        }
    }

    #[test]
    fn slot_range_follows_the_tier() {
        // rule M6: location is tier A (1–2 slots), tos_interactions tier D (5–8).
        let rules = rules();
        assert!(spec(Category::Location, 2).validate(&rules).is_ok());
        assert_eq!(
            spec(Category::Location, 3).validate(&rules).unwrap_err(),
            MarketError::SlotsOutOfRange {
                slots: 3,
                min: 1,
                max: 2
            }
        );
        assert_eq!(
            spec(Category::TosInteractions, 4)
                .validate(&rules)
                .unwrap_err()
                .code(),
            "slots_out_of_range"
        );
        assert!(spec(Category::TosInteractions, 8).validate(&rules).is_ok());
    }

    #[test]
    fn sample_size_and_window_are_bounded() {
        // rule M5
        let rules = rules();
        let mut s = spec(Category::Browsing, 3);
        s.members_per_slot = 0;
        assert_eq!(
            s.validate(&rules).unwrap_err().code(),
            "members_per_slot_out_of_range"
        );
        let mut s = spec(Category::Browsing, 3);
        s.window_days = 91;
        assert_eq!(
            s.validate(&rules).unwrap_err().code(),
            "window_out_of_range"
        );
        assert_eq!(spec(Category::Browsing, 3).units_per_slot(), 3_000);
        assert_eq!(spec(Category::Browsing, 3).member_places(), 300);
    }

    #[test]
    fn filters_are_coarse_and_parsed() {
        // rule M5
        assert_eq!(Region::parse("US").unwrap().as_str(), "US");
        for bad in ["us", "USA", "U", "1A", ""] {
            assert_eq!(Region::parse(bad), Err(MarketError::BadRegion), "{bad}");
        }
        let filter: ProfileFilter =
            serde_json::from_str(r#"{"region":"DE","age_band":"25-34"}"#).unwrap();
        assert_eq!(filter.age_band, Some(AgeBand::From25To34));
        assert!(serde_json::from_str::<ProfileFilter>(r#"{"region":"DE","zip":"10115"}"#).is_err());
    }
}
