//! The exchange service (issue 7): an HTTP API under `/v1` in front of one sequencer.
//!
//! Shape: handlers parse and rate-limit, then queue the request to the [`sequencer`], which is
//! the only writer. Public reads come from a [`view::PublicView`] the sequencer publishes after
//! each batch, so reads never wait on the writer. A restart starts from the newest good
//! [`snapshot`] and replays only the log after it ([`resume`]). Invariant: this crate contains no rules; it
//! calls `assay-engine` for every decision.

pub mod ach_config;
pub mod clock;
pub mod destinations;
pub mod journal;
pub mod limits;
pub mod members;
pub mod openapi;
pub mod payouts;
pub mod problem;
pub mod resume;
pub mod routes;
pub mod run;
pub mod sequencer;
pub mod snapshot;
pub mod store_journal;
pub mod view;

use crate::limits::RateLimiter;
use crate::sequencer::SequencerHandle;
use crate::view::PublicView;
use axum::routing::{get, post};
use axum::Router;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// Largest request body accepted (a signed command is well under 4 KiB; rules changes are the
/// largest, around 3 KiB).
pub const REQUEST_BODY_BYTES_MAX: usize = 64 * 1024;
/// Longest a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct AppState {
    pub sequencer: SequencerHandle,
    pub view: watch::Receiver<Arc<PublicView>>,
    pub events: broadcast::Sender<Arc<String>>,
    pub rules_json: Arc<String>,
    pub rules_hash: String,
    pub admin_token: Option<String>,
    pub limiter: Arc<RateLimiter>,
    /// The durable log's read side; `None` for a server on a memory journal.
    pub log: Option<Arc<routes::log::LogReader>>,
    /// Members' grants and payout lines (M15, W5), as of the last durable batch.
    pub members: Arc<RwLock<members::MemberIndex>>,
    /// Members' payout destinations, sealed (issue 9); written by members, read by the run.
    pub destinations: Arc<destinations::Destinations>,
}

pub fn router(app: AppState) -> Router {
    use routes::{commands, destinations, log, members, public, stream};
    Router::new()
        .route("/v1/commands", post(commands::submit))
        .route("/v1/admin/deposits", post(commands::deposit))
        .route("/v1/admin/bans", post(commands::ban))
        .route("/v1/rules", get(public::rules))
        .route("/v1/markets", get(public::markets))
        .route("/v1/baskets", get(public::baskets))
        .route("/v1/runs", get(public::runs))
        .route("/v1/payouts", get(public::payouts))
        .route("/v1/payouts/{month}", get(public::payout_month))
        .route("/v1/summary", get(public::summary))
        .route("/v1/events", get(stream::events))
        .route("/v1/health", get(public::health))
        .route("/v1/state", get(public::state))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/v1/log", get(log::info))
        .route("/checkpoint", get(log::checkpoint))
        .route("/tile/{*path}", get(log::tile))
        .route("/v1/proofs/inclusion", get(log::inclusion))
        .route("/v1/proofs/consistency", get(log::consistency))
        .route("/v1/members/{member}/grants", get(members::grants))
        .route("/v1/runs/{month}/payouts/{member}", get(members::payout))
        .route(
            "/v1/members/{member}/destination",
            post(destinations::store),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(RequestBodyLimitLayer::new(REQUEST_BODY_BYTES_MAX))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // Outermost: the layers above answer 413 and 408 without a body.
        .layer(axum::middleware::map_response(
            problem::problem_for_bare_errors,
        ))
        .with_state(app)
}

async fn unknown_route(uri: axum::http::Uri) -> problem::Problem {
    problem::Problem::server(
        problem::ServerProblem::UnknownRoute,
        format!("no route for {}", uri.path()),
    )
}

async fn method_not_allowed(method: axum::http::Method) -> problem::Problem {
    problem::Problem::server(
        problem::ServerProblem::MethodNotAllowed,
        format!("this route does not take {method}"),
    )
}
