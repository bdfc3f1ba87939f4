//! The rule parameters in force (rule G6): every number the market and money rules read.
//!
//! The shell reads `rules/*.toml`; this module parses and validates the text and names the
//! offending field in every error. The hash members see is SHA-256 over the canonical JSON of the
//! validated rules, so comments and layout in the TOML never change it, and every parameter does.

use crate::{Category, Micros, Tier, BPS_ONE, PPM_ONE};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Version of the rules schema this build understands.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub schema_version: u32,
    /// Rule M1: each category's tier and starting spot price (M2, before any trade).
    #[serde(deserialize_with = "named_keys")]
    pub categories: BTreeMap<Category, CategoryRules>,
    /// Rule M6: slots per basket by tier.
    #[serde(deserialize_with = "named_keys")]
    pub tiers: BTreeMap<Tier, TierRules>,
    pub premium: PremiumRules,
    pub spot: SpotRules,
    pub floor: FloorRules,
    pub breaker: BreakerRules,
    pub basket: BasketRules,
    pub fee: FeeRules,
    pub supply: SupplyRules,
    pub selection: SelectionRules,
    pub waterfall: WaterfallRules,
    pub payout: PayoutRules,
    pub cold_start: ColdStartRules,
    pub cohort: CohortRules,
    pub offtake: OfftakeRules,
    pub governance: GovernanceRules,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRules {
    pub tier: Tier,
    /// Spot price per member-day before the category's first trade (M2).
    pub start_price_micros: Micros,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierRules {
    pub slots_min: u8,
    pub slots_max: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PremiumRules {
    /// Rule M9: minimum premium over spot for slot 2, 3, … (entry i is slot i + 2).
    pub ladder_bps: Vec<u32>,
    /// Rule M14: a member's premium weight is 1 + a uniqueness bonus of at most this.
    pub uniqueness_bonus_max_bps: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpotRules {
    /// Rule M2: a close averages the day's trades with the volume of the previous
    /// `window_days − 1` trading days, carried at the previous spot (1: the day's VWAP alone).
    pub window_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloorRules {
    /// Rule M3: floor = this share of the rolling average of spot.
    pub ratio_bps: u32,
    /// Rule M3: trading days in the rolling average.
    pub window_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerRules {
    /// Rule M4: a fall of at least this much from the window's highest spot freezes.
    pub drop_bps: u32,
    /// Rule M4: trading days the fall is measured over.
    pub window_trading_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasketRules {
    /// Rule M5: largest sample size a slot may ask for.
    pub members_per_slot_max: u32,
    /// Rule M5: longest data window a basket may ask for.
    pub window_days_max: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeRules {
    /// Rule M5/M10: origination fee per basket when a category first opens.
    pub start_micros: Micros,
    pub min_micros: Micros,
    pub max_micros: Micros,
    /// Rule M10: largest change of the fee at one trading-day close (EIP-1559 uses 1/8).
    pub adjust_max_bps: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplyRules {
    /// Rule M10: slots sold ÷ slots demanded the controller steers to.
    pub target_ppm: u32,
    /// Rule M10: trading days in the rolling ratio.
    pub window_days: u32,
    /// Bound on the controller's carried slot allowance, so a quiet spell cannot bank supply.
    pub credit_slots_max: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionRules {
    /// Rule M13: "fewest recent sales first" counts sales in this many trading days.
    pub recent_sales_window_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaterfallRules {
    /// Rule D2: members' share of gross buyer-side income.
    pub members_bps: u32,
    /// Rule D2: the rest is operations' gross share; its surplus splits by these weights.
    pub builders_bps: u32,
    pub cohort_bps: u32,
    pub architect_bps: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutRules {
    /// Rule D4: balances below this roll to the next month.
    pub threshold_micros: Micros,
    /// Rule D5: fee a member pays for a mid-month payout (returned at the next run).
    pub mid_month_fee_micros: Micros,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColdStartRules {
    /// Rule D8: monthly minimum for the first public members.
    pub guarantee_micros: Micros,
    pub members: u32,
    pub months: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortRules {
    /// Rule D7: size cap of the founding cohort.
    pub founding_members_max: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfftakeRules {
    /// Rule M16: processing fee on an off-take agreement's value, paid by the buyer.
    pub processing_fee_bps: u32,
}

/// Rules G3, G4. The board's size, its terms, the 80% bar and the pill's deadlines are not
/// here: the paper fixes them, so no vote on parameters can move them (`coop::governance`,
/// `coop::pill`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceRules {
    /// Days a proposal, election or appeal is open for ballots.
    pub voting_days: u32,
    /// A member is active if they signed an input within this many days (RULEBOOK G4).
    pub active_window_days: u32,
    /// Rule G3: credited per ballot on a members' vote at the next run, paid by operations.
    pub participation_bonus_micros: Micros,
}

/// A rules file that cannot be used. `field` is the dotted path of the offending parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("rules field `{field}`: {message}")]
    Parse { field: String, message: String },
    #[error("rules field `{field}`: {message}")]
    Invalid { field: String, message: String },
}

impl RulesError {
    pub fn code(&self) -> &'static str {
        match self {
            RulesError::Parse { .. } => "rules_parse",
            RulesError::Invalid { .. } => "rules_invalid",
        }
    }

    pub fn field(&self) -> &str {
        match self {
            RulesError::Parse { field, .. } | RulesError::Invalid { field, .. } => field,
        }
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> RulesError {
    RulesError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl Rules {
    /// Parses and validates a rules file's text.
    pub fn from_toml_str(text: &str) -> Result<Rules, RulesError> {
        let deserializer = toml::Deserializer::new(text);
        let rules: Rules = serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let mut field = error.path().to_string();
            let message = error.inner().message().to_string();
            // serde reports a missing field at its parent; name the field itself.
            if let Some(name) = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
            {
                field = if field == "." {
                    name.to_string()
                } else {
                    format!("{field}.{name}")
                };
            }
            RulesError::Parse { field, message }
        })?;
        rules.validate()?;
        Ok(rules)
    }

    /// Parses and validates rules from their canonical JSON (as carried in the log).
    pub fn from_json_str(text: &str) -> Result<Rules, RulesError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let rules: Rules =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
                RulesError::Parse {
                    field: error.path().to_string(),
                    message: error.inner().to_string(),
                }
            })?;
        rules.validate()?;
        Ok(rules)
    }

    /// Checks the laws between parameters that types alone cannot state.
    pub fn validate(&self) -> Result<(), RulesError> {
        if self.schema_version != SCHEMA_VERSION {
            return Err(invalid(
                "schema_version",
                format!("this build reads schema {SCHEMA_VERSION}"),
            ));
        }
        for category in Category::ALL {
            let field = format!("categories.{category}");
            let rules = self
                .categories
                .get(&category)
                .ok_or_else(|| invalid(&field, "category missing"))?;
            if rules.start_price_micros.is_zero() {
                return Err(invalid(
                    format!("{field}.start_price_micros"),
                    "must be positive",
                ));
            }
        }
        self.validate_tiers()?;
        self.validate_premium()?;
        check_range("spot.window_days", self.spot.window_days, 1, 366)?;
        check_range("floor.ratio_bps", self.floor.ratio_bps, 1, BPS_ONE)?;
        check_range("floor.window_days", self.floor.window_days, 1, 366)?;
        check_range("breaker.drop_bps", self.breaker.drop_bps, 1, BPS_ONE - 1)?;
        check_range(
            "breaker.window_trading_days",
            self.breaker.window_trading_days,
            1,
            366,
        )?;
        check_range(
            "basket.members_per_slot_max",
            self.basket.members_per_slot_max,
            1,
            10_000_000,
        )?;
        check_range(
            "basket.window_days_max",
            self.basket.window_days_max,
            1,
            3_660,
        )?;
        self.validate_fee()?;
        check_range("supply.target_ppm", self.supply.target_ppm, 1, PPM_ONE)?;
        check_range("supply.window_days", self.supply.window_days, 1, 366)?;
        check_range(
            "supply.credit_slots_max",
            self.supply.credit_slots_max,
            1,
            1_000_000,
        )?;
        check_range(
            "selection.recent_sales_window_days",
            self.selection.recent_sales_window_days,
            1,
            3_660,
        )?;
        self.validate_waterfall()?;
        if self.payout.threshold_micros.is_zero() {
            return Err(invalid("payout.threshold_micros", "must be positive"));
        }
        // ACH and prepaid pay whole cents (D4): a whole-cent threshold guarantees that a member
        // at the threshold is paid a positive amount on every rail.
        if !self.payout.threshold_micros.get().is_multiple_of(10_000) {
            return Err(invalid(
                "payout.threshold_micros",
                "must be a whole number of cents (a multiple of 10000)",
            ));
        }
        check_range("cold_start.months", self.cold_start.months, 0, 120)?;
        check_range(
            "cohort.founding_members_max",
            self.cohort.founding_members_max,
            1,
            u32::MAX.into(),
        )?;
        check_range(
            "offtake.processing_fee_bps",
            self.offtake.processing_fee_bps,
            0,
            BPS_ONE,
        )?;
        self.validate_governance()
    }

    fn validate_governance(&self) -> Result<(), RulesError> {
        let g = &self.governance;
        check_range("governance.voting_days", g.voting_days, 1, 90)?;
        // A ballot must keep its voter active until the vote closes (RULEBOOK G4).
        check_range(
            "governance.active_window_days",
            g.active_window_days,
            u64::from(g.voting_days),
            3_660,
        )?;
        // "A small bonus" (§VI): never more than the payout threshold.
        if g.participation_bonus_micros > self.payout.threshold_micros {
            return Err(invalid(
                "governance.participation_bonus_micros",
                "may not exceed payout.threshold_micros",
            ));
        }
        Ok(())
    }

    fn validate_tiers(&self) -> Result<(), RulesError> {
        let mut previous: Option<(Tier, TierRules)> = None;
        for tier in Tier::ALL {
            let field = format!("tiers.{tier}");
            let rules = *self
                .tiers
                .get(&tier)
                .ok_or_else(|| invalid(&field, "tier missing"))?;
            if rules.slots_min == 0 {
                return Err(invalid(format!("{field}.slots_min"), "must be at least 1"));
            }
            if rules.slots_max < rules.slots_min {
                return Err(invalid(
                    format!("{field}.slots_max"),
                    "must be at least slots_min",
                ));
            }
            // Rule M6: the more valuable the tier, the fewer the slots.
            if let Some((previous_tier, previous_rules)) = previous {
                if rules.slots_min < previous_rules.slots_min
                    || rules.slots_max < previous_rules.slots_max
                {
                    return Err(invalid(
                        field,
                        format!("a less valuable tier may not open fewer slots than tier {previous_tier}"),
                    ));
                }
            }
            previous = Some((tier, rules));
        }
        Ok(())
    }

    fn validate_premium(&self) -> Result<(), RulesError> {
        let ladder = &self.premium.ladder_bps;
        let field = "premium.ladder_bps";
        let slots_max = self.tiers.values().map(|t| t.slots_max).max().unwrap_or(1);
        if ladder.len() + 1 < usize::from(slots_max) {
            return Err(invalid(
                field,
                format!("needs a premium for every slot from 2 to {slots_max}"),
            ));
        }
        if ladder.first() == Some(&0) {
            return Err(invalid(field, "slot 2's premium must be above the anchor"));
        }
        if ladder.windows(2).any(|pair| pair[1] <= pair[0]) {
            return Err(invalid(field, "premiums must be strictly increasing"));
        }
        check_range(
            "premium.uniqueness_bonus_max_bps",
            self.premium.uniqueness_bonus_max_bps,
            0,
            BPS_ONE,
        )
    }

    fn validate_fee(&self) -> Result<(), RulesError> {
        let fee = &self.fee;
        if fee.max_micros < fee.min_micros {
            return Err(invalid("fee.max_micros", "must be at least fee.min_micros"));
        }
        if fee.start_micros < fee.min_micros || fee.start_micros > fee.max_micros {
            return Err(invalid(
                "fee.start_micros",
                "must lie within [min_micros, max_micros]",
            ));
        }
        check_range("fee.adjust_max_bps", fee.adjust_max_bps, 1, BPS_ONE)
    }

    fn validate_waterfall(&self) -> Result<(), RulesError> {
        let w = &self.waterfall;
        let sum = u64::from(w.members_bps)
            + u64::from(w.builders_bps)
            + u64::from(w.cohort_bps)
            + u64::from(w.architect_bps);
        if sum != BPS_ONE {
            return Err(invalid(
                "waterfall",
                format!("shares sum to {sum} bps, not 10000 (100%)"),
            ));
        }
        // Rule X1.1: a member share below 90% is a poison-pill trigger, so no vote can set it.
        check_range("waterfall.members_bps", w.members_bps, 9_000, BPS_ONE)
    }

    pub fn category(&self, category: Category) -> &CategoryRules {
        // validate() guarantees every category is present.
        &self.categories[&category]
    }

    pub fn tier_of(&self, category: Category) -> TierRules {
        self.tiers[&self.category(category).tier]
    }

    /// Minimum premium of slot `slot` (1-based; slot 1 is the anchor at 0).
    pub fn ladder_premium_bps(&self, slot: u8) -> Option<u32> {
        match slot {
            0 => None,
            1 => Some(0),
            k => self.premium.ladder_bps.get(usize::from(k) - 2).copied(),
        }
    }

    /// The canonical encoding the hash covers: compact JSON, fields in declaration order, maps
    /// sorted by key.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("rules hold only strings, integers, maps and lists")
    }

    /// SHA-256 of the canonical encoding: the rules hash members see (rule G6).
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_json().as_bytes()).into()
    }

    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash())
    }
}

/// Reads a map keyed by an enum through string keys, so an error inside an entry is reported at
/// `categories.location.tier` rather than at an unnamed key.
fn named_keys<'de, D, K, V>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: serde::de::DeserializeOwned + Ord,
    V: Deserialize<'de>,
{
    use serde::de::{value::StrDeserializer, Error};
    let raw = BTreeMap::<String, V>::deserialize(deserializer)?;
    raw.into_iter()
        .map(|(name, value)| {
            let key = K::deserialize(StrDeserializer::<serde::de::value::Error>::new(&name))
                .map_err(D::Error::custom)?;
            Ok((key, value))
        })
        .collect()
}

fn check_range(field: &str, value: u32, min: u64, max: u64) -> Result<(), RulesError> {
    let value = u64::from(value);
    if value < min || value > max {
        return Err(invalid(field, format!("{value} is outside [{min}, {max}]")));
    }
    Ok(())
}
