//! Errors as RFC 9457 `application/problem+json`, carrying a stable code: the engine's refusal
//! code, a log or store code from the transparency routes, or one of [`ServerProblem`]'s.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document. `code` is the stable machine-readable refusal code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `https://assay.coop/problems/<code>`; the code is the part to branch on.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip)]
    pub retry_after_seconds: Option<u64>,
}

/// What the server itself refuses or fails at, before or after the engine: every code the
/// server makes up (as opposed to passing through) is a variant here, so the refusal table test
/// (`tests/refusals`) sees them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerProblem {
    /// The body is not the JSON the route takes.
    MalformedBody,
    /// The query string is not what the route takes.
    MalformedQuery,
    /// The body exceeds `REQUEST_BODY_BYTES_MAX`.
    BodyTooLarge,
    /// An operator route without the right `Authorization: Bearer` token.
    AdminToken,
    /// The signer's token bucket is empty (issue 7: per-key rate limits).
    RateLimited,
    /// The signer's sequence number was used before by a different envelope.
    SequenceReused,
    /// A deposit's bank reference was recorded before for another buyer or amount.
    DepositReferenceReused,
    /// The sequencer's bounded queue is full (answered with Retry-After).
    QueueFull,
    /// The sequencer has stopped: the server is shutting down, or stopped writing.
    ShuttingDown,
    /// The log could not be written; nothing of the batch may be assumed applied.
    LogUnavailable,
    /// The request took longer than `REQUEST_TIMEOUT`.
    Timeout,
    /// No route has this path.
    UnknownRoute,
    /// The path exists, but not with this method.
    MethodNotAllowed,
    /// A server on a memory journal has no durable log to serve.
    NoLog,
    /// The log has no signed checkpoint yet.
    NoCheckpoint,
    /// The tile path is valid but that tile does not exist at the current tree size.
    TileNotServed,
    /// A month in a path that does not read `YYYY-MM`.
    BadMonth,
    /// No monthly run of that month is indexed.
    UnknownRun,
    /// The run exists but pays the member nothing (below the threshold, D4).
    NoPayoutLine,
    /// A destination request's destination or salt does not parse (issue 9; the detail names
    /// the rails' own code, e.g. `routing_number_invalid`).
    DestinationInvalid,
    /// A destination request not signed by the member's registered key.
    DestinationSignatureInvalid,
    /// A destination and salt that do not hash to the commitment the log holds for the member.
    DestinationCommitmentMismatch,
    /// A destination request for a member id nobody registered.
    DestinationMemberUnknown,
    /// The private destination table could not be read or written.
    DestinationsUnavailable,
}

impl ServerProblem {
    pub fn code(self) -> &'static str {
        match self {
            ServerProblem::MalformedBody => "malformed_body",
            ServerProblem::MalformedQuery => "malformed_query",
            ServerProblem::BodyTooLarge => "body_too_large",
            ServerProblem::AdminToken => "admin_token",
            ServerProblem::RateLimited => "rate_limited",
            ServerProblem::SequenceReused => "sequence_reused",
            ServerProblem::DepositReferenceReused => "deposit_reference_reused",
            ServerProblem::QueueFull => "queue_full",
            ServerProblem::ShuttingDown => "shutting_down",
            ServerProblem::LogUnavailable => "log_unavailable",
            ServerProblem::Timeout => "timeout",
            ServerProblem::UnknownRoute => "unknown_route",
            ServerProblem::MethodNotAllowed => "method_not_allowed",
            ServerProblem::NoLog => "no_log",
            ServerProblem::NoCheckpoint => "no_checkpoint",
            ServerProblem::TileNotServed => "tile_not_served",
            ServerProblem::BadMonth => "bad_month",
            ServerProblem::UnknownRun => "unknown_run",
            ServerProblem::NoPayoutLine => "no_payout_line",
            ServerProblem::DestinationInvalid => "destination_invalid",
            ServerProblem::DestinationSignatureInvalid => "destination_signature_invalid",
            ServerProblem::DestinationCommitmentMismatch => "destination_commitment_mismatch",
            ServerProblem::DestinationMemberUnknown => "destination_member_unknown",
            ServerProblem::DestinationsUnavailable => "destinations_unavailable",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ServerProblem::MalformedBody
            | ServerProblem::MalformedQuery
            | ServerProblem::BadMonth => StatusCode::BAD_REQUEST,
            ServerProblem::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ServerProblem::AdminToken => StatusCode::UNAUTHORIZED,
            ServerProblem::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ServerProblem::SequenceReused | ServerProblem::DepositReferenceReused => {
                StatusCode::CONFLICT
            }
            ServerProblem::QueueFull
            | ServerProblem::ShuttingDown
            | ServerProblem::LogUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ServerProblem::Timeout => StatusCode::REQUEST_TIMEOUT,
            ServerProblem::UnknownRoute
            | ServerProblem::NoLog
            | ServerProblem::NoCheckpoint
            | ServerProblem::TileNotServed
            | ServerProblem::UnknownRun
            | ServerProblem::NoPayoutLine => StatusCode::NOT_FOUND,
            ServerProblem::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ServerProblem::DestinationInvalid | ServerProblem::DestinationCommitmentMismatch => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ServerProblem::DestinationSignatureInvalid => StatusCode::UNAUTHORIZED,
            ServerProblem::DestinationMemberUnknown => StatusCode::NOT_FOUND,
            ServerProblem::DestinationsUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("https://assay.coop/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_string(),
            retry_after_seconds: None,
        }
    }

    /// A problem the server raises itself.
    pub fn server(problem: ServerProblem, detail: impl Into<String>) -> Problem {
        Problem::new(problem.status(), problem.code(), detail)
    }

    /// The HTTP status a refusal code maps to.
    pub fn from_refusal(refusal: &assay_engine::Refusal) -> Problem {
        let code = refusal.code();
        let status = match code {
            "unsigned" | "bad_signature" | "bad_attestation" | "bad_consent" | "bad_presence" => {
                StatusCode::UNAUTHORIZED
            }
            "not_exchange" | "not_member" | "not_buyer" | "unknown_party" | "banned"
            | "not_voter" => StatusCode::FORBIDDEN,
            "unknown_basket"
            | "unknown_buyer"
            | "unknown_member"
            | "unknown_grant"
            | "unknown_proposal"
            | "unknown_payout_root" => StatusCode::NOT_FOUND,
            "sequence_replayed"
            | "sequence_gap"
            | "already_registered"
            | "receipt_repeated"
            | "genesis_repeated"
            | "duplicate_offer"
            | "duplicate_bid"
            | "device_in_use"
            | "ballot_repeated"
            | "already_standing"
            | "appeal_repeated"
            | "deposit_reference_reused" => StatusCode::CONFLICT,
            "fee_unpaid" | "insufficient_balance" => StatusCode::PAYMENT_REQUIRED,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Problem::new(status, code, refusal.to_string())
    }

    /// Answers a request the sequencer could not take: its queue is full (503, retry in a
    /// second) or it has stopped (503).
    pub fn from_submit_error(error: &crate::sequencer::SubmitError) -> Problem {
        match error {
            crate::sequencer::SubmitError::QueueFull => {
                let mut problem = Problem::server(ServerProblem::QueueFull, error.to_string());
                problem.retry_after_seconds = Some(1);
                problem
            }
            crate::sequencer::SubmitError::Stopped => {
                Problem::server(ServerProblem::ShuttingDown, error.to_string())
            }
        }
    }

    /// Answers a JSON body the route could not take: too large (413), or malformed (400).
    pub fn from_json_rejection(rejection: axum::extract::rejection::JsonRejection) -> Problem {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::server(ServerProblem::BodyTooLarge, rejection.body_text())
        } else {
            Problem::server(ServerProblem::MalformedBody, rejection.body_text())
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after_seconds;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Turns the bare error responses of layers outside the handlers (the body limit's 413, the
/// timeout's 408) into problem documents, so every error the API gives has a code.
pub async fn problem_for_bare_errors(response: Response) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return response;
    }
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::server(
            ServerProblem::BodyTooLarge,
            format!("the body exceeds {} bytes", crate::REQUEST_BODY_BYTES_MAX),
        )
        .into_response(),
        StatusCode::REQUEST_TIMEOUT => Problem::server(
            ServerProblem::Timeout,
            format!("the request took longer than {:?}", crate::REQUEST_TIMEOUT),
        )
        .into_response(),
        _ => response,
    }
}
