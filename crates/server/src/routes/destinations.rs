//! A member hands the exchange their payout destination (rule D4, issue 9). The request is
//! signed by the member's key and checked against the commitment the log holds for the member;
//! the destination is then sealed into the private table (`crate::destinations`). Nothing of it
//! is logged or served back: the answer names only the rail and the commitment.

use crate::problem::{Problem, ServerProblem};
use crate::sequencer::SubmitError;
use crate::AppState;
use assay_core::MemberId;
use assay_rails::{destination_request_message, Destination, Salt};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A member's destination, the salt of their registered commitment, and their signature.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DestinationRequest {
    /// `ach:ROUTING:ACCOUNT:checking|savings:NAME`, `usdc:0xADDRESS` or `prepaid:REFERENCE`.
    pub destination: String,
    /// The commitment's 32-byte salt, hex.
    pub salt: String,
    /// Ed25519 signature by the member's key over `destination_request_message`, hex.
    pub signature: String,
}

/// What the exchange stored, named only by its public commitment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DestinationStored {
    pub member: u64,
    /// `ach`, `usdc` or `prepaid`.
    pub rail: String,
    /// Hex: the commitment the log holds for the member, which the destination matched.
    pub destination_commitment: String,
}

/// Stores member `member`'s payout destination in the exchange's private, encrypted table.
/// Repeating a request replaces the row with the same destination.
#[utoipa::path(
    post,
    path = "/v1/members/{member}/destination",
    params(("member" = u64, Path, description = "The member's id")),
    request_body = DestinationRequest,
    responses(
        (status = 200, description = "Stored", body = DestinationStored),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed by the member's key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The destination does not parse, or does not match the member's commitment", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit for this member's key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The destination table is unavailable, or the server is stopping", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn store(
    State(app): State<AppState>,
    Path(member): Path<u64>,
    body: Result<Json<DestinationRequest>, JsonRejection>,
) -> Result<Json<DestinationStored>, Problem> {
    let Json(request) = body.map_err(Problem::from_json_rejection)?;
    let member = MemberId(member);
    let record = match app.sequencer.member_payout(member).await {
        Ok(Some(record)) => record,
        Ok(None) => {
            return Err(Problem::server(
                ServerProblem::DestinationMemberUnknown,
                format!("no member {member} is registered"),
            ))
        }
        Err(SubmitError::QueueFull) => {
            let mut problem = Problem::server(ServerProblem::QueueFull, "the sequencer is busy");
            problem.retry_after_seconds = Some(1);
            return Err(problem);
        }
        Err(SubmitError::Stopped) => {
            return Err(Problem::server(
                ServerProblem::ShuttingDown,
                "the server is stopping",
            ))
        }
    };
    if let Err(seconds) = app.limiter.check(&record.key) {
        let mut problem =
            Problem::server(ServerProblem::RateLimited, "too many requests for this key");
        problem.retry_after_seconds = Some(seconds.max(1));
        return Err(problem);
    }
    let invalid = |detail: String| Problem::server(ServerProblem::DestinationInvalid, detail);
    if request.destination.len() > crate::destinations::DESTINATION_TEXT_BYTES_MAX {
        return Err(invalid("the destination text is too long".to_string()));
    }
    let salt: [u8; 32] = hex::decode(&request.salt)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| invalid("salt must be 64 hex digits".to_string()))?;
    let salt = Salt(salt);
    // The rails' error names the field and carries its own code; the detail keeps both, and
    // never echoes the text itself.
    let destination = Destination::parse(&request.destination)
        .map_err(|error| invalid(format!("{}: {error}", error.code())))?;
    let signature = hex::decode(&request.signature)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .map(|bytes| Signature::from_bytes(&bytes))
        .ok_or_else(|| {
            Problem::server(
                ServerProblem::DestinationSignatureInvalid,
                "signature must be 128 hex digits",
            )
        })?;
    let message = destination_request_message(member, &destination, &salt);
    record
        .key
        .verifying_key()
        .verify_strict(&message, &signature)
        .map_err(|_| {
            Problem::server(
                ServerProblem::DestinationSignatureInvalid,
                format!("the signature is not member {member}'s"),
            )
        })?;
    let commitment = destination.commitment(&salt);
    if commitment.0 != record.payout.destination_commitment {
        return Err(Problem::server(
            ServerProblem::DestinationCommitmentMismatch,
            format!("the destination and salt do not hash to member {member}'s logged commitment"),
        ));
    }
    app.destinations
        .put(member, &salt, &destination)
        .await
        .map_err(|error| {
            Problem::server(ServerProblem::DestinationsUnavailable, format!("{error:#}"))
        })?;
    Ok(Json(DestinationStored {
        member: member.0,
        rail: destination.rail().to_string(),
        destination_commitment: commitment.to_string(),
    }))
}
