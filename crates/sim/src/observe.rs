//! What the simulator records from the engine's events, and the checks it runs on them
//! (issue 10, item 4): conservation and the member share at every monthly run, no clearing below
//! the floor and none in a frozen category at every grant.

use assay_coop::RunReport;
use assay_core::{BasketId, Category, Micros, Month, TradingDay};
use assay_engine::Event;
use serde::Serialize;
use std::collections::HashMap;

/// Failures kept with their details; more are only counted.
const FAILURE_DETAILS_MAX: usize = 20;

/// One category on one trading day.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CategoryDay {
    pub spot_micros: u64,
    pub floor_micros: u64,
    pub fee_micros: u64,
    pub sold: u64,
    pub demanded: u64,
    pub frozen: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayRecord {
    /// Simulated day index from 0.
    pub day: u32,
    pub categories: [CategoryDay; 5],
}

#[derive(Debug, Clone, Serialize)]
pub struct BreakerEvent {
    pub day: u32,
    pub category: Category,
    pub reference_micros: u64,
    pub spot_micros: u64,
}

/// One monthly run.
#[derive(Debug, Clone, Serialize)]
pub struct MonthRecord {
    pub month: String,
    pub phase: String,
    pub members: u64,
    /// New money per member this month: sales, shared pool, cold-start top-up and cohort share.
    pub income_median_micros: u64,
    /// 10th, 20th … 90th percentiles.
    pub income_deciles_micros: [u64; 9],
    pub income_mean_micros: u64,
    pub report: RunReport,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Check {
    pub failures: u64,
    pub details: Vec<String>,
}

impl Check {
    fn fail(&mut self, detail: String) {
        self.failures += 1;
        if self.details.len() < FAILURE_DETAILS_MAX {
            self.details.push(detail);
        }
    }

    pub fn ok(&self) -> bool {
        self.failures == 0
    }
}

/// The named checks; any failure fails the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Checks {
    pub conservation: Check,
    pub member_share: Check,
    pub no_clearing_below_floor: Check,
    pub no_clearing_when_frozen: Check,
    /// Months whose run the engine refused or never recorded.
    pub monthly_run: Check,
}

impl Checks {
    pub fn all_ok(&self) -> bool {
        [
            &self.conservation,
            &self.member_share,
            &self.no_clearing_below_floor,
            &self.no_clearing_when_frozen,
            &self.monthly_run,
        ]
        .iter()
        .all(|c| c.ok())
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    pub needs: u64,
    pub needs_met: u64,
    pub needs_lapsed: u64,
    pub baskets_posted: u64,
    pub baskets_unfillable: u64,
    pub baskets_canceled: u64,
    pub offers: u64,
    pub bids: u64,
    pub grants: u64,
    /// Slots demanded but not released (the supply controller withheld them, M10).
    pub slots_withheld: u64,
    /// Slots released for which a bid existed but missed its ladder minimum (M9).
    pub slots_released_unsold: u64,
}

/// Everything recorded during a run.
#[derive(Default)]
pub struct Observer {
    pub days: Vec<DayRecord>,
    pub months: Vec<MonthRecord>,
    pub breaker_events: Vec<BreakerEvent>,
    pub checks: Checks,
    pub counters: Counters,
    /// Floor and frozen state of each category for today, read before any basket closes.
    floor_today: [Micros; 5],
    frozen_today: [bool; 5],
    today: [CategoryDay; 5],
    basket_category: HashMap<BasketId, Category>,
}

impl Observer {
    /// Starts a trading day with each category's floor and breaker as the engine has them.
    pub fn open_day(&mut self, floors: [Micros; 5], frozen: [bool; 5]) {
        self.floor_today = floors;
        self.frozen_today = frozen;
        self.today = Default::default();
        self.basket_category.clear();
    }

    /// Records the events of one accepted input.
    pub fn record(&mut self, day: u32, events: &[Event]) {
        for event in events {
            self.record_one(day, event);
        }
    }

    fn record_one(&mut self, day: u32, event: &Event) {
        match event {
            Event::BasketPosted {
                basket, category, ..
            } => {
                self.counters.baskets_posted += 1;
                self.basket_category.insert(*basket, *category);
            }
            Event::OfferAccepted { .. } => self.counters.offers += 1,
            Event::BidAccepted { .. } => self.counters.bids += 1,
            Event::BasketUnfillable { .. } => self.counters.baskets_unfillable += 1,
            Event::BasketCanceled { .. } => self.counters.baskets_canceled += 1,
            Event::GrantIssued {
                basket,
                unit_price,
                grant,
                ..
            } => {
                self.counters.grants += 1;
                let Some(&category) = self.basket_category.get(basket) else {
                    self.checks
                        .no_clearing_below_floor
                        .fail(format!("grant {grant} of an unknown basket {basket}"));
                    return;
                };
                let c = category.index();
                if *unit_price < self.floor_today[c] {
                    self.checks.no_clearing_below_floor.fail(format!(
                        "day {day}: grant {grant} in {category} at {} under the floor {}",
                        unit_price.get(),
                        self.floor_today[c].get()
                    ));
                }
                if self.frozen_today[c] {
                    self.checks.no_clearing_when_frozen.fail(format!(
                        "day {day}: grant {grant} in frozen category {category}"
                    ));
                }
            }
            Event::BasketClosed {
                basket,
                demanded,
                released,
                sold,
            } => {
                let (demanded_u, released_u) = (u64::from(*demanded), u64::from(*released));
                self.counters.slots_withheld += demanded_u.saturating_sub(released_u);
                self.counters.slots_released_unsold +=
                    released_u.min(demanded_u) - u64::from(*sold).min(released_u.min(demanded_u));
                if let Some(&category) = self.basket_category.get(basket) {
                    let today = &mut self.today[category.index()];
                    today.demanded += u64::from(*demanded);
                    today.sold += u64::from(*sold);
                }
            }
            Event::TradingDayClosed {
                category,
                spot,
                floor,
                fee,
                ..
            } => {
                let today = &mut self.today[category.index()];
                today.spot_micros = spot.get();
                today.floor_micros = floor.get();
                today.fee_micros = fee.get();
                today.frozen = self.frozen_today[category.index()];
            }
            Event::EmergencyMeeting {
                category,
                reference,
                spot,
                ..
            } => {
                self.breaker_events.push(BreakerEvent {
                    day,
                    category: *category,
                    reference_micros: reference.get(),
                    spot_micros: spot.get(),
                });
                self.today[category.index()].frozen = true;
            }
            _ => {}
        }
    }

    /// Ends the trading day after its close was applied.
    pub fn close_day(&mut self, day: u32) {
        self.days.push(DayRecord {
            day,
            categories: self.today,
        });
    }

    /// Checks a monthly run's report (D9, X1.1) and records the month's incomes.
    pub fn record_run(
        &mut self,
        month: Month,
        phase: &str,
        report: &RunReport,
        mut incomes: Vec<u64>,
    ) {
        if let Err(error) = report.check_conservation() {
            self.checks.conservation.fail(format!("{month}: {error}"));
        }
        // X1.1: members' side at least 90% of gross, checked against the fixed 90%.
        let ninety = report
            .gross_income
            .mul_bps(9_000, assay_core::Rounding::Up)
            .unwrap_or(Micros::MAX);
        if report.member_side < ninety {
            self.checks.member_share.fail(format!(
                "{month}: members' side {} under 90% of gross {}",
                report.member_side.get(),
                report.gross_income.get()
            ));
        }
        incomes.sort_unstable();
        let quantile = |q: usize| -> u64 {
            if incomes.is_empty() {
                return 0;
            }
            incomes[((incomes.len() - 1) * q) / 100]
        };
        let sum: u128 = incomes.iter().map(|&i| u128::from(i)).sum();
        self.months.push(MonthRecord {
            month: month.to_string(),
            phase: phase.to_string(),
            members: incomes.len() as u64,
            income_median_micros: quantile(50),
            income_deciles_micros: std::array::from_fn(|i| quantile(10 * (i + 1))),
            income_mean_micros: (sum / incomes.len().max(1) as u128) as u64,
            report: report.clone(),
        });
    }

    pub fn fail_run(&mut self, month: Month, why: String) {
        self.checks.monthly_run.fail(format!("{month}: {why}"));
    }
}

/// Days since the simulation began, for a trading day.
pub fn day_index(first: TradingDay, day: TradingDay) -> u32 {
    (day.0 - first.0) as u32
}
