//! Public, read-only: rules, prices, open baskets, run summaries (aggregates only).

use crate::problem::{Problem, ServerProblem};
use crate::sequencer::StateSnapshot;
use crate::view::{BasketView, MarketView, PublicView, RunView};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct RulesInForce {
    /// SHA-256 of the canonical JSON of the rules (rule G6).
    pub hash: String,
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
}

/// The rules in force and their hash (G6).
#[utoipa::path(get, path = "/v1/rules", responses((status = 200, body = RulesInForce)))]
pub async fn rules(State(app): State<AppState>) -> Json<RulesInForce> {
    Json(RulesInForce {
        hash: app.rules_hash.clone(),
        rules: serde_json::from_str(&app.rules_json).unwrap_or_default(),
    })
}

/// Spot, floor, breaker and origination fee per category (M2–M4, M10).
#[utoipa::path(get, path = "/v1/markets", responses((status = 200, body = Vec<MarketView>)))]
pub async fn markets(State(app): State<AppState>) -> Json<Vec<MarketView>> {
    Json(app.view.borrow().markets.clone())
}

/// Open baskets, for wallets to decide eligibility on the device (M11).
#[utoipa::path(get, path = "/v1/baskets", responses((status = 200, body = Vec<BasketView>)))]
pub async fn baskets(State(app): State<AppState>) -> Json<Vec<BasketView>> {
    Json(app.view.borrow().open_baskets.clone())
}

/// Monthly run summaries: totals and payout roots, never a member's line (D4, D9).
#[utoipa::path(get, path = "/v1/runs", responses((status = 200, body = Vec<RunView>)))]
pub async fn runs(State(app): State<AppState>) -> Json<Vec<RunView>> {
    Json(app.view.borrow().runs.clone())
}

/// Every monthly run's payout status (D4, D6; issue 9): per rail the files, lines and money,
/// each file's name and SHA-256 as logged, the lines held for want of a destination, and when
/// the run started and was settled. Aggregates from the log only; no destination detail.
#[utoipa::path(get, path = "/v1/payouts", responses((status = 200, body = Vec<crate::payouts::PayoutStatus>)))]
pub async fn payouts(State(app): State<AppState>) -> Json<Vec<crate::payouts::PayoutStatus>> {
    Json(app.view.borrow().payouts.clone())
}

/// The payout status of `month`'s run (`YYYY-MM`).
#[utoipa::path(
    get,
    path = "/v1/payouts/{month}",
    params(("month" = String, Path, description = "YYYY-MM")),
    responses(
        (status = 200, body = crate::payouts::PayoutStatus),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No run of that month", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn payout_month(
    State(app): State<AppState>,
    axum::extract::Path(month): axum::extract::Path<String>,
) -> Result<Json<crate::payouts::PayoutStatus>, Problem> {
    let month = crate::routes::members::parse_month(&month)
        .ok_or_else(|| Problem::server(ServerProblem::BadMonth, "the month must read YYYY-MM"))?;
    let text = month.to_string();
    app.view
        .borrow()
        .payouts
        .iter()
        .rev()
        .find(|run| run.month == text)
        .cloned()
        .map(Json)
        .ok_or_else(|| Problem::server(ServerProblem::UnknownRun, format!("no run of {text}")))
}

/// Everything public in one document.
#[utoipa::path(get, path = "/v1/summary", responses((status = 200, body = PublicView)))]
pub async fn summary(State(app): State<AppState>) -> Json<Arc<PublicView>> {
    Json(app.view.borrow().clone())
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub ok: bool,
    /// Log entries applied to the state.
    pub log_size: u64,
    /// SHA-256 of the engine's state after the first `log_size` entries, hex: equal to the hash
    /// of anyone's replay of that prefix of the log (L3).
    pub state_hash: String,
}

/// Liveness of the sequencer, with the log size and the state hash it has reached. Answered by
/// the sequencer between two batches; 503 when it has stopped or is swamped with queries.
#[utoipa::path(get, path = "/v1/health", responses(
    (status = 200, body = Health),
    (status = 503, description = "The sequencer has stopped or is busy", body = Problem, content_type = "application/problem+json"),
))]
pub async fn health(State(app): State<AppState>) -> Result<Json<Health>, Problem> {
    let status = state_between_batches(&app).await?;
    Ok(Json(Health {
        ok: true,
        log_size: status.log_size,
        state_hash: status.state_hash,
    }))
}

/// The engine's state hash and the log's size, read by the sequencer between two batches so the
/// two belong together. A refused input leaves both as they were; anyone who replays the log
/// gets the same hash (L3).
#[utoipa::path(
    get,
    path = "/v1/state",
    responses(
        (status = 200, body = StateSnapshot),
        (status = 503, description = "Too many status queries, or shutting down", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn state(State(app): State<AppState>) -> Result<Json<StateSnapshot>, Problem> {
    Ok(Json(state_between_batches(&app).await?))
}

async fn state_between_batches(app: &AppState) -> Result<StateSnapshot, Problem> {
    app.sequencer
        .status()
        .await
        .map_err(|error| Problem::from_submit_error(&error))
}
