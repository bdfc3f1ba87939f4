//! Scenario parameters, read from TOML files under `crates/sim/scenarios/`. Every assumption the
//! simulation makes about members and buyers is a field here; the files say beside each value
//! where it comes from. The market's own rules are not here: they are `rules/default.toml`, read
//! by the real engine.

use assay_core::Category;
use serde::Deserialize;

/// The scenarios shipped with the simulator, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("base", include_str!("../scenarios/base.toml")),
    ("crash", include_str!("../scenarios/crash.toml")),
    ("growth", include_str!("../scenarios/growth.toml")),
    ("cold-start", include_str!("../scenarios/cold-start.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("no built-in scenario named {0:?} (known: base, crash, growth, cold-start)")]
    Unknown(String),
    #[error("scenario file does not parse: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("scenario is inconsistent: {0}")]
    Invalid(&'static str),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Days before the supply ratio is measured (the 30-day warm-up).
    pub warmup_days: u32,
    pub members: MemberParams,
    pub buyers: BuyerParams,
    pub categories: PerCategory<CategoryParams>,
    pub operations: OperationsParams,
    /// Membership over time, as shares of `--members`; the first phase starts in month 0.
    pub phases: Vec<Phase>,
    #[serde(default)]
    pub shocks: Vec<Shock>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerCategory<T> {
    pub browsing: T,
    pub purchases: T,
    pub location: T,
    pub app_interactions: T,
    pub tos_interactions: T,
}

impl<T> PerCategory<T> {
    pub fn get(&self, category: Category) -> &T {
        match category {
            Category::Browsing => &self.browsing,
            Category::Purchases => &self.purchases,
            Category::Location => &self.location,
            Category::AppInteractions => &self.app_interactions,
            Category::TosInteractions => &self.tos_interactions,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionShare {
    /// ISO 3166-1 alpha-2, as the engine's basket filter takes it.
    pub code: String,
    pub share_ppm: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberParams {
    pub regions: Vec<RegionShare>,
    /// Shares of the engine's six age bands: 18-24, 25-34, 35-44, 45-54, 55-64, 65+.
    pub age_band_share_ppm: [u32; 6],
    /// Members who set a reserve price in a category (M12); the rest accept any price.
    pub reserve_setter_ppm: u32,
    /// Median reserve, relative to the category's starting price.
    pub reserve_median_over_start: f64,
    /// Log-space spread of reserves.
    pub reserve_sigma: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryParams {
    /// Members whose wallets offer this category (M12: the default is to participate).
    pub participation_ppm: u32,
    /// Buyers' needs for a data set in this category, arriving per day (Poisson).
    pub needs_per_day: f64,
    /// Share of buyers interested in this category.
    pub buyer_interest_ppm: u32,
    /// Median buyer valuation per member-day, relative to the category's starting price.
    pub valuation_median_over_start: f64,
    /// A slot's sample size as a share of the members matching the basket's filter
    /// (log-uniform between the two).
    pub sample_share_min_ppm: u32,
    pub sample_share_max_ppm: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotChoice {
    /// The tier's minimum number of slots.
    Min,
    /// Uniform over the tier's range.
    Uniform,
    /// The tier's maximum.
    Max,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyerParams {
    pub count: u32,
    /// Log-space spread of valuations across buyers.
    pub valuation_sigma: f64,
    pub window_days: Vec<u32>,
    pub window_weights: Vec<u64>,
    /// Filters on posted baskets: none, region only, or region and age band (the rest).
    pub filter_none_ppm: u32,
    pub filter_region_ppm: u32,
    pub slots: SlotChoice,
    /// Days an unmet need waits for a better price or another basket before it lapses.
    pub patience_days: u32,
    /// Share of (valuation − slot-2 minimum) a bidder adds above the minimum.
    pub bid_premium_share: f64,
    /// A buyer posts only if the basket asks at most this share of the matching members.
    pub fill_share_max_ppm: u32,
    /// Monthly budget as a multiple of the buyer's expected spend at its own valuations.
    pub budget_over_expected: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationsParams {
    /// Operating costs recorded each month per member (D2: paid from operations' 10%).
    pub cost_per_member_month_micros: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Month index (0 = the first simulated month) when this phase's members have joined.
    pub month: u32,
    pub label: String,
    /// Members at this phase as a share of `--members`, in ppm.
    pub members_share_ppm: u32,
    /// Multiplies every category's `needs_per_day` during the phase (1.0: no change).
    #[serde(default = "one")]
    pub needs_factor: f64,
    /// Multiplies buyers' valuations during the phase (1.0: no change).
    #[serde(default = "one")]
    pub valuation_factor: f64,
    /// Figure 5's projected average monthly income for this phase, in USD, if the paper has one.
    #[serde(default)]
    pub figure5_usd: Option<[f64; 2]>,
}

fn one() -> f64 {
    1.0
}

/// A change in buyer demand over `ramp_days` from `start_day`, then held.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shock {
    pub start_day: u32,
    pub ramp_days: u32,
    pub needs_factor: f64,
    pub valuation_factor: f64,
}

impl Scenario {
    pub fn builtin(name: &str) -> Result<Scenario, ScenarioError> {
        let text = BUILTIN
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, text)| *text)
            .ok_or_else(|| ScenarioError::Unknown(name.to_string()))?;
        Scenario::from_toml_str(text)
    }

    pub fn from_toml_str(text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text)?;
        scenario.validate()?;
        Ok(scenario)
    }

    fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |why| Err(ScenarioError::Invalid(why));
        if self.phases.first().map(|p| p.month) != Some(0) {
            return invalid("the first phase must start in month 0");
        }
        if self.phases.windows(2).any(|w| w[1].month <= w[0].month) {
            return invalid("phases must be in increasing month order");
        }
        if self
            .phases
            .windows(2)
            .any(|w| w[1].members_share_ppm < w[0].members_share_ppm)
        {
            return invalid("membership never shrinks between phases");
        }
        if self.members.regions.is_empty() || self.members.regions.len() > 40 {
            return invalid("between 1 and 40 regions");
        }
        if self
            .members
            .regions
            .iter()
            .map(|r| r.share_ppm)
            .sum::<u32>()
            == 0
            || self.members.age_band_share_ppm.iter().sum::<u32>() == 0
        {
            return invalid("region and age shares must not all be zero");
        }
        let b = &self.buyers;
        if b.count == 0 || b.window_days.is_empty() || b.window_days.len() != b.window_weights.len()
        {
            return invalid("buyers need a count and one weight per window");
        }
        if b.filter_none_ppm + b.filter_region_ppm > 1_000_000 {
            return invalid("filter shares exceed 100%");
        }
        for category in Category::ALL {
            let c = self.categories.get(category);
            if c.sample_share_min_ppm == 0 || c.sample_share_min_ppm > c.sample_share_max_ppm {
                return invalid("sample shares must satisfy 0 < min <= max");
            }
        }
        Ok(())
    }

    /// The phase in force in month `month`.
    pub fn phase(&self, month: u32) -> &Phase {
        self.phases
            .iter()
            .rev()
            .find(|p| p.month <= month)
            .expect("validated: the first phase starts in month 0")
    }

    /// Demand multipliers (needs, valuations) on simulated day `day` from the shocks.
    pub fn shock_factors(&self, day: u32) -> (f64, f64) {
        let mut factors = (1.0, 1.0);
        for shock in &self.shocks {
            if day < shock.start_day {
                continue;
            }
            let progress = if shock.ramp_days == 0 {
                1.0
            } else {
                (f64::from(day - shock.start_day + 1) / f64::from(shock.ramp_days)).min(1.0)
            };
            factors.0 *= 1.0 + (shock.needs_factor - 1.0) * progress;
            factors.1 *= 1.0 + (shock.valuation_factor - 1.0) * progress;
        }
        factors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_scenario_parses() {
        for (name, _) in BUILTIN {
            let scenario = Scenario::builtin(name).unwrap();
            assert_eq!(&scenario.name, name);
        }
        assert!(matches!(
            Scenario::builtin("nope"),
            Err(ScenarioError::Unknown(_))
        ));
    }
}
