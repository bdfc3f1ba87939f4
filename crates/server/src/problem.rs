//! Errors as RFC 9457 `application/problem+json`, carrying the engine's stable code.

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

    /// The HTTP status a refusal code maps to.
    pub fn from_refusal(refusal: &assay_engine::Refusal) -> Problem {
        let code = refusal.code();
        let status = match code {
            "unsigned" | "bad_signature" | "bad_attestation" | "bad_consent" => {
                StatusCode::UNAUTHORIZED
            }
            "not_exchange" | "not_member" | "not_buyer" | "banned" => StatusCode::FORBIDDEN,
            "unknown_basket" | "unknown_buyer" | "unknown_member" | "unknown_grant" => {
                StatusCode::NOT_FOUND
            }
            "sequence_replayed" | "sequence_gap" | "already_registered" | "receipt_repeated"
            | "genesis_repeated" | "duplicate_offer" | "duplicate_bid" => StatusCode::CONFLICT,
            "fee_unpaid" | "insufficient_balance" => StatusCode::PAYMENT_REQUIRED,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Problem::new(status, code, refusal.to_string())
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
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
