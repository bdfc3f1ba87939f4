//! The public, read-only view the sequencer publishes after every batch: prices, open baskets and
//! run summaries (aggregates only, never a member's line). Readers never touch the engine state.

use assay_core::{Category, Month};
use assay_engine::{Event, State};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct PublicView {
    /// Log entries so far.
    pub log_size: u64,
    pub rules_hash: String,
    /// The open trading day, `YYYY-MM-DD` (UTC).
    pub open_day: String,
    pub markets: Vec<MarketView>,
    pub open_baskets: Vec<BasketView>,
    pub runs: Vec<RunView>,
    /// The runs' payout statuses (issue 9).
    pub payouts: Vec<crate::payouts::PayoutStatus>,
    pub members: u64,
    pub buyers: u64,
}

/// One category's prices now (M2–M4, M10).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MarketView {
    pub category: String,
    pub tier: String,
    pub spot_micros: u64,
    pub floor_micros: u64,
    pub frozen: bool,
    pub origination_fee_micros: u64,
}

/// An open basket as wallets see it: enough to decide eligibility on the device (M11).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BasketView {
    pub basket: u64,
    pub buyer: u64,
    pub category: String,
    pub region: Option<String>,
    pub age_band: Option<String>,
    pub window_days: u32,
    pub members_per_slot: u32,
    pub slots: u8,
    pub anchor_unit_price_micros: u64,
    pub offers: u64,
    pub bids: u64,
}

/// A monthly run's public summary (D4, D9): totals only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunView {
    pub month: String,
    pub gross_income_micros: u64,
    pub member_side_micros: u64,
    pub payouts: u64,
    pub payouts_total_micros: u64,
    pub rollover_out_micros: u64,
    pub operations_costs_paid_micros: u64,
    pub cold_start_topups_micros: u64,
    pub builders_micros: u64,
    pub cohort_micros: u64,
    pub architect_micros: u64,
    /// RFC 6962 root over the run's payout lines, hex.
    pub payout_root: String,
    pub conservation_ok: bool,
}

impl RunView {
    pub fn from_event(event: &Event) -> Option<RunView> {
        let Event::MonthlyRunRecorded {
            month,
            report,
            payout_root,
            payout_count,
        } = event
        else {
            return None;
        };
        Some(RunView {
            month: month_text(*month),
            gross_income_micros: report.gross_income.get(),
            member_side_micros: report.member_side.get(),
            payouts: *payout_count,
            payouts_total_micros: report.payouts_total.get(),
            rollover_out_micros: report.rollover_out.get(),
            operations_costs_paid_micros: report.operations.costs_paid.get(),
            cold_start_topups_micros: report.operations.topups_paid.get(),
            builders_micros: report.operations.builders.get(),
            cohort_micros: report.operations.cohort.get(),
            architect_micros: report.operations.architect.get(),
            payout_root: hex::encode(payout_root),
            conservation_ok: report.check_conservation().is_ok(),
        })
    }
}

fn month_text(month: Month) -> String {
    month.to_string()
}

fn json_name<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_value(value)
        .ok()?
        .as_str()
        .map(str::to_string)
}

impl PublicView {
    pub fn build(
        state: &State,
        log_size: u64,
        runs: &[RunView],
        payouts: &[crate::payouts::PayoutStatus],
    ) -> PublicView {
        let Some(rules) = state.rules() else {
            return PublicView {
                log_size,
                ..PublicView::default()
            };
        };
        let markets = Category::ALL
            .iter()
            .map(|&category| {
                let market = state.market(category);
                MarketView {
                    category: category.to_string(),
                    tier: rules.category(category).tier.to_string(),
                    spot_micros: market.history.spot().get(),
                    floor_micros: market
                        .history
                        .floor(&rules.floor)
                        .map(|f| f.get())
                        .unwrap_or(0),
                    frozen: market.history.is_frozen(),
                    origination_fee_micros: market.supply.fee().get(),
                }
            })
            .collect();
        let open_baskets = state
            .baskets
            .iter()
            .map(|(id, basket)| BasketView {
                basket: id.0,
                buyer: basket.buyer.0,
                category: basket.spec.category.to_string(),
                region: basket.spec.filter.region.map(|r| r.as_str().to_string()),
                age_band: basket.spec.filter.age_band.as_ref().and_then(json_name),
                window_days: basket.spec.window_days,
                members_per_slot: basket.spec.members_per_slot,
                slots: basket.spec.slots,
                anchor_unit_price_micros: basket.anchor_unit_price.get(),
                offers: basket.offers.len() as u64,
                bids: basket.bids.len() as u64,
            })
            .collect();
        PublicView {
            log_size,
            rules_hash: state
                .exchange
                .as_ref()
                .map(|e| hex::encode(e.rules_hash))
                .unwrap_or_default(),
            open_day: state.open_day.to_string(),
            markets,
            open_baskets,
            runs: runs.to_vec(),
            payouts: payouts.to_vec(),
            members: state.members.len() as u64,
            buyers: state.buyers.len() as u64,
        }
    }
}
