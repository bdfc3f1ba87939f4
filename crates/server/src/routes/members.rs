//! What a member's wallet reads about itself: its grants (M15) and its payout lines with
//! inclusion proofs (W5). Pseudonymous and derivable from the public log; no behavioral data.

use crate::members::{GrantView, PayoutView};
use crate::problem::{Problem, ServerProblem};
use crate::AppState;
use assay_core::{MemberId, Month};
use axum::extract::{Path, State};
use axum::Json;

/// The grants member `member` was picked for, oldest first (at most the newest 1,000).
#[utoipa::path(
    get,
    path = "/v1/members/{member}/grants",
    params(("member" = u64, Path, description = "The member's id")),
    responses((status = 200, body = Vec<GrantView>))
)]
pub async fn grants(State(app): State<AppState>, Path(member): Path<u64>) -> Json<Vec<GrantView>> {
    let index = app
        .members
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Json(index.grants(MemberId(member)))
}

/// Member `member`'s payout line in `month`'s run (`YYYY-MM`) and its inclusion proof in the
/// run's payout root (D4), with what became of it (issue 9): `sent` in the named file, `held`
/// for want of a destination (the amount is back in the member's balance), or `pending` until
/// the run's files are logged. The proof covers the line, not its status, which the run's
/// `PayoutFilesRecorded` log entry states.
#[utoipa::path(
    get,
    path = "/v1/runs/{month}/payouts/{member}",
    params(
        ("month" = String, Path, description = "YYYY-MM"),
        ("member" = u64, Path, description = "The member's id"),
    ),
    responses(
        (status = 200, body = PayoutView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run, or no line for the member", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn payout(
    State(app): State<AppState>,
    Path((month, member)): Path<(String, u64)>,
) -> Result<Json<PayoutView>, Problem> {
    let month = parse_month(&month)
        .ok_or_else(|| Problem::server(ServerProblem::BadMonth, "the month must read YYYY-MM"))?;
    let index = app
        .members
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match index.payout(month, MemberId(member)) {
        None => Err(Problem::server(
            ServerProblem::UnknownRun,
            format!("no run is indexed for {month}"),
        )),
        Some(None) => Err(Problem::server(
            ServerProblem::NoPayoutLine,
            format!("member {member} has no payout line in {month}'s run"),
        )),
        Some(Some(view)) => Ok(Json(view)),
    }
}

pub(crate) fn parse_month(text: &str) -> Option<Month> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let month: u8 = month.parse().ok()?;
    (1..=12).contains(&month).then_some(Month {
        year: year.parse().ok()?,
        month,
    })
}
