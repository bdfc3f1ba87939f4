//! Writes: signed commands, and deposits recorded by an operator.

use crate::problem::{Problem, ServerProblem};
use crate::sequencer::{Accepted, Rejection, Request};
use crate::AppState;
use assay_core::{BuyerId, MemberId, Micros};
use assay_engine::{Command, Envelope, Party};
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::HeaderMap;
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
        (status = 401, description = "Unsigned, or a signature (envelope, attestation, consent, presence) that does not verify", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "The buyer's prepaid balance cannot pay", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The signer may not send this command (not the exchange, not a member or buyer, banned, not a voter)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown basket, buyer, member, grant or proposal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Sequence number replayed, skipped or reused; already registered, offered, bid, standing, voted or appealed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the rules", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit for this key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Queue full (retry after the given seconds), log unavailable, or shutting down", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(app): State<AppState>,
    body: Result<Json<Envelope>, JsonRejection>,
) -> Result<Json<Arc<Accepted>>, Problem> {
    let Json(envelope) = body.map_err(Problem::from_json_rejection)?;
    if let Err(seconds) = app.limiter.check(&envelope.signer) {
        let mut problem =
            Problem::server(ServerProblem::RateLimited, "too many requests for this key");
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
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong admin token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The buyer is banned", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Reference already recorded for another buyer or amount", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown buyer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Deposits would exceed what the books can hold", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Queue full, log unavailable, or shutting down", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn deposit(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<Deposit>, JsonRejection>,
) -> Result<Json<Arc<Accepted>>, Problem> {
    check_admin(&app, &headers)?;
    let Json(deposit) = body.map_err(Problem::from_json_rejection)?;
    let reference = digest_hex(&deposit.deposit_reference, "deposit_reference")?;
    let command = Command::FundBuyer {
        buyer: BuyerId(deposit.buyer),
        amount: Micros::new(deposit.amount_micros),
        deposit_reference: reference,
    };
    forward(&app, Request::Exchange(command)).await
}

/// A finding that bans a party for life (rules E1, E2), as the operator records it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// `member` or `buyer`.
    pub party: PartyKind,
    /// The member's or buyer's id.
    pub id: u64,
    /// SHA-256 of the evidence, hex; the evidence itself stays off the log.
    pub evidence_hash: String,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    Member,
    Buyer,
}

/// Records a finding that bans a party for life (E1, E2): its open business ends in the same
/// entry (E4); it may appeal once (E3). Operator only: `Authorization: Bearer <admin token>`.
#[utoipa::path(
    post,
    path = "/v1/admin/bans",
    request_body = Finding,
    responses(
        (status = 200, description = "Recorded", body = Accepted),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong admin token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Already banned", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown member or buyer", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Queue full, log unavailable, or shutting down", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn ban(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<Finding>, JsonRejection>,
) -> Result<Json<Arc<Accepted>>, Problem> {
    check_admin(&app, &headers)?;
    let Json(finding) = body.map_err(Problem::from_json_rejection)?;
    let evidence_hash = digest_hex(&finding.evidence_hash, "evidence_hash")?;
    let party = match finding.party {
        PartyKind::Member => Party::Member(MemberId(finding.id)),
        PartyKind::Buyer => Party::Buyer(BuyerId(finding.id)),
    };
    let command = Command::Ban {
        party,
        evidence_hash,
    };
    forward(&app, Request::Exchange(command)).await
}

/// Operator routes need `Authorization: Bearer <admin token>`; without a configured token they
/// are closed.
fn check_admin(app: &AppState, headers: &HeaderMap) -> Result<(), Problem> {
    let expected = app
        .admin_token
        .as_deref()
        .map(|token| format!("Bearer {token}"));
    let given = headers.get("authorization").and_then(|v| v.to_str().ok());
    if expected.is_none() || given != expected.as_deref() {
        return Err(Problem::server(
            ServerProblem::AdminToken,
            "missing or wrong admin token",
        ));
    }
    Ok(())
}

/// A SHA-256 digest given as 64 hex digits.
fn digest_hex(text: &str, field: &str) -> Result<[u8; 32], Problem> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| {
            Problem::server(
                ServerProblem::MalformedBody,
                format!("{field} must be 64 hex digits"),
            )
        })
}

async fn forward(app: &AppState, request: Request) -> Result<Json<Arc<Accepted>>, Problem> {
    match app.sequencer.submit(request).await {
        Ok(Ok(accepted)) => Ok(Json(accepted)),
        Ok(Err(Rejection::Refused(refusal))) => Err(Problem::from_refusal(&refusal)),
        Ok(Err(Rejection::SequenceReused)) => Err(Problem::server(
            ServerProblem::SequenceReused,
            "this sequence number was already used by a different command",
        )),
        Ok(Err(Rejection::DepositReferenceReused)) => Err(Problem::server(
            ServerProblem::DepositReferenceReused,
            "this deposit reference was already recorded for another buyer or amount",
        )),
        Ok(Err(Rejection::Unavailable(detail))) => {
            Err(Problem::server(ServerProblem::LogUnavailable, detail))
        }
        Err(error) => Err(Problem::from_submit_error(&error)),
    }
}
