//! The run's JSON summary (issue 10, item 3). Everything in it is a function of the seed, the
//! scenario and the rules: no wall-clock time, so the same seed gives byte-identical JSON.

use crate::observe::{BreakerEvent, Checks, Counters, MonthRecord, Observer};
use crate::sim::Config;
use assay_core::Category;
use serde::Serialize;
use std::collections::BTreeMap;

/// Trading days in the rolling window the supply chart and the ratio range use (M10's window).
pub const ROLLING_DAYS: usize = 7;

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub members: u64,
    pub months: u32,
    pub days: u32,
    pub warmup_days: u32,
    /// Σ sold ÷ Σ demanded per category over the days after the warm-up (M10's target: 0.95).
    pub supply_ratio_by_category: BTreeMap<String, Option<f64>>,
    /// Lowest and highest 7-day rolling ratio after the warm-up, per category.
    pub supply_ratio_rolling_range_by_category: BTreeMap<String, Option<[f64; 2]>>,
    /// Slots demanded after the warm-up, per category: the ratio's sample size.
    pub demanded_after_warmup_by_category: BTreeMap<String, u64>,
    pub breaker_events: Vec<BreakerEvent>,
    /// Largest fall of spot from the highest of the previous 5 closes, in bps (M4 trips at 2,000).
    pub max_spot_fall_5d_bps_by_category: BTreeMap<String, u64>,
    pub final_spot_micros_by_category: BTreeMap<String, u64>,
    /// Daily closes per category: spot, floor, fee, slots sold, slots demanded.
    pub daily_by_category: BTreeMap<String, Daily>,
    pub median_member_income_micros_by_month: Vec<u64>,
    pub member_income_by_month: Vec<MonthIncome>,
    pub conservation_ok: bool,
    pub checks_ok: bool,
    pub checks: Checks,
    pub counters: Counters,
    pub refusals_by_code: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Daily {
    pub spot_micros: Vec<u64>,
    pub floor_micros: Vec<u64>,
    pub fee_micros: Vec<u64>,
    pub sold: Vec<u64>,
    pub demanded: Vec<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthIncome {
    pub month: String,
    pub phase: String,
    pub members: u64,
    pub median_micros: u64,
    pub deciles_micros: [u64; 9],
    pub mean_micros: u64,
    pub gross_income_micros: u64,
    pub operations_gross_micros: u64,
    pub cold_start_topups_owed_micros: u64,
    pub cold_start_topups_paid_micros: u64,
    pub operating_costs_paid_micros: u64,
}

impl MonthIncome {
    fn from_record(record: &MonthRecord) -> MonthIncome {
        let r = &record.report;
        MonthIncome {
            month: record.month.clone(),
            phase: record.phase.clone(),
            members: record.members,
            median_micros: record.income_median_micros,
            deciles_micros: record.income_deciles_micros,
            mean_micros: record.income_mean_micros,
            gross_income_micros: r.gross_income.get(),
            operations_gross_micros: r.operations.gross.get(),
            cold_start_topups_owed_micros: r.topups_owed.get(),
            cold_start_topups_paid_micros: r.operations.topups_paid.get(),
            operating_costs_paid_micros: r.operations.costs_paid.get(),
        }
    }
}

/// sold ÷ demanded, or `None` without demand.
fn ratio(sold: u64, demanded: u64) -> Option<f64> {
    (demanded > 0).then(|| sold as f64 / demanded as f64)
}

/// The 7-day rolling ratio of `category` ending on each day (`None` without demand).
pub fn rolling_ratios(observer: &Observer, category: Category) -> Vec<Option<f64>> {
    let c = category.index();
    let days = &observer.days;
    (0..days.len())
        .map(|end| {
            let start = (end + 1).saturating_sub(ROLLING_DAYS);
            let (sold, demanded) = days[start..=end].iter().fold((0, 0), |(s, d), day| {
                (s + day.categories[c].sold, d + day.categories[c].demanded)
            });
            ratio(sold, demanded)
        })
        .collect()
}

/// The largest fall of a close from the highest of the 5 closes before it, in bps.
fn max_fall_bps(observer: &Observer, category: Category, start_price: u64) -> u64 {
    let mut closes = vec![start_price];
    closes.extend(
        observer
            .days
            .iter()
            .map(|d| d.categories[category.index()].spot_micros),
    );
    (1..closes.len())
        .map(|i| {
            let reference = closes[i.saturating_sub(5)..i].iter().copied().max();
            match reference {
                Some(r) if r > closes[i] => (r - closes[i]) * 10_000 / r,
                _ => 0,
            }
        })
        .max()
        .unwrap_or(0)
}

pub fn build(
    scenario: &crate::Scenario,
    rules: &assay_core::Rules,
    config: &Config,
    observer: &Observer,
    refusals: &BTreeMap<&'static str, u64>,
) -> Summary {
    let warmup = scenario.warmup_days as usize;
    let mut supply = BTreeMap::new();
    let mut rolling = BTreeMap::new();
    let mut demanded_after = BTreeMap::new();
    let mut falls = BTreeMap::new();
    let mut finals = BTreeMap::new();
    let mut daily = BTreeMap::new();
    for category in Category::ALL {
        let c = category.index();
        let after = observer.days.iter().skip(warmup);
        let (sold, demanded) = after.fold((0, 0), |(s, d), day| {
            (s + day.categories[c].sold, d + day.categories[c].demanded)
        });
        let name = category.as_str().to_string();
        supply.insert(name.clone(), ratio(sold, demanded));
        demanded_after.insert(name.clone(), demanded);
        let windows: Vec<f64> = rolling_ratios(observer, category)
            .into_iter()
            .skip(warmup + ROLLING_DAYS - 1)
            .flatten()
            .collect();
        let range = windows.iter().copied().reduce(f64::min).map(|low| {
            let high = windows.iter().copied().fold(low, f64::max);
            [low, high]
        });
        rolling.insert(name.clone(), range);
        let start = rules.category(category).start_price_micros.get();
        falls.insert(name.clone(), max_fall_bps(observer, category, start));
        let last = observer
            .days
            .last()
            .map_or(start, |d| d.categories[c].spot_micros);
        finals.insert(name.clone(), last);
        let days = observer.days.iter().map(|d| &d.categories[c]);
        daily.insert(
            name,
            Daily {
                spot_micros: days.clone().map(|d| d.spot_micros).collect(),
                floor_micros: days.clone().map(|d| d.floor_micros).collect(),
                fee_micros: days.clone().map(|d| d.fee_micros).collect(),
                sold: days.clone().map(|d| d.sold).collect(),
                demanded: days.map(|d| d.demanded).collect(),
            },
        );
    }
    let months: Vec<MonthIncome> = observer
        .months
        .iter()
        .map(MonthIncome::from_record)
        .collect();
    Summary {
        scenario: scenario.name.clone(),
        seed: config.seed,
        members: config.members,
        months: config.months,
        days: observer.days.len() as u32,
        warmup_days: scenario.warmup_days,
        supply_ratio_by_category: supply,
        supply_ratio_rolling_range_by_category: rolling,
        demanded_after_warmup_by_category: demanded_after,
        breaker_events: observer.breaker_events.clone(),
        max_spot_fall_5d_bps_by_category: falls,
        final_spot_micros_by_category: finals,
        daily_by_category: daily,
        median_member_income_micros_by_month: months.iter().map(|m| m.median_micros).collect(),
        member_income_by_month: months,
        conservation_ok: observer.checks.conservation.ok() && observer.checks.monthly_run.ok(),
        checks_ok: observer.checks.all_ok(),
        checks: observer.checks.clone(),
        counters: observer.counters.clone(),
        refusals_by_code: refusals
            .iter()
            .map(|(code, count)| (code.to_string(), *count))
            .collect(),
    }
}
