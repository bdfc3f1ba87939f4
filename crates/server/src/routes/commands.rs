//! Writes: signed commands, and deposits recorded by an operator.

use crate::problem::Problem;
use crate::sequencer::{Accepted, Rejection, Request, SubmitError};
use crate::AppState;
use assay_core::{BuyerId, Micros};
use assay_engine::{Command, Envelope};
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// Submits one signed command (the engine's envelope). Resubmitting the same signer and
/// sequence number with the same envelope returns the original outcome (idempotent).
#[utoipa::path(
    post,
    path = "/v1/commands",
    request_body(content = Object, description = "A signed envelope: {signer, sequence, command, signature}; see RULEBOOK.md"),
    responses(
        (status = 200, description = "Accepted and durable", body = Accepted),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unsigned or bad signature", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Sequence number replayed or reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the rules", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit for this key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Queue full; retry after the given seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(app): State<AppState>,
    body: Result<Json<Envelope>, JsonRejection>,
) -> Result<Json<Arc<Accepted>>, Problem> {
    let Json(envelope) = body.map_err(|e| Problem::bad_request("malformed_body", e.body_text()))?;
    if let Err(seconds) = app.limiter.check(&envelope.signer) {
        let mut problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests for this key",
        );
        problem.retry_after_seconds = Some(seconds.max(1));
        return Err(problem);
    }
    forward(&app, Request::Signed(envelope)).await
}

/// A buyer's deposit, as the operator records it (buyers pay from prepaid balances only).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deposit {
    pub buyer: u64,
    pub amount_micros: u64,
    /// SHA-256 of the bank or chain reference, hex.
    pub deposit_reference: String,
}

/// Records a buyer's deposit (operator only: `Authorization: Bearer <admin token>`). The
/// reference makes it idempotent: repeating a recorded deposit returns the original outcome.
#[utoipa::path(
    post,
    path = "/v1/admin/deposits",
    request_body = Deposit,
    responses(
        (status = 200, description = "Recorded", body = Accepted),
        (status = 401, description = "Missing or wrong admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown buyer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Reference already recorded for another buyer or amount", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn deposit(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<Deposit>, JsonRejection>,
) -> Result<Json<Arc<Accepted>>, Problem> {
    let expected = app
        .admin_token
        .as_deref()
        .map(|token| format!("Bearer {token}"));
    let given = headers.get("authorization").and_then(|v| v.to_str().ok());
    if expected.is_none() || given != expected.as_deref() {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "admin_token",
            "missing or wrong admin token",
        ));
    }
    let Json(deposit) = body.map_err(|e| Problem::bad_request("malformed_body", e.body_text()))?;
    let reference: [u8; 32] = hex::decode(&deposit.deposit_reference)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| {
            Problem::bad_request("malformed_body", "deposit_reference must be 64 hex digits")
        })?;
    let command = Command::FundBuyer {
        buyer: BuyerId(deposit.buyer),
        amount: Micros::new(deposit.amount_micros),
        deposit_reference: reference,
    };
    forward(&app, Request::Exchange(command)).await
}

async fn forward(app: &AppState, request: Request) -> Result<Json<Arc<Accepted>>, Problem> {
    match app.sequencer.submit(request).await {
        Ok(Ok(accepted)) => Ok(Json(accepted)),
        Ok(Err(Rejection::Refused(refusal))) => Err(Problem::from_refusal(&refusal)),
        Ok(Err(Rejection::SequenceReused)) => Err(Problem::new(
            StatusCode::CONFLICT,
            "sequence_reused",
            "this sequence number was already used by a different command",
        )),
        Ok(Err(Rejection::DepositReferenceReused)) => Err(Problem::new(
            StatusCode::CONFLICT,
            "deposit_reference_reused",
            "this deposit reference was already recorded for another buyer or amount",
        )),
        Ok(Err(Rejection::Unavailable(detail))) => Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "log_unavailable",
            detail,
        )),
        Err(SubmitError::QueueFull) => {
            let mut problem = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "queue_full",
                "the sequencer queue is full",
            );
            problem.retry_after_seconds = Some(1);
            Err(problem)
        }
        Err(SubmitError::Stopped) => Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is stopping",
        )),
    }
}
