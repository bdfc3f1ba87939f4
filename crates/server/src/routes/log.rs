//! The transparency log, public and read-only (L2): the latest checkpoint, C2SP tlog-tiles,
//! inclusion and consistency proofs, and the log's origin and verifier key.

use crate::problem::{Problem, ServerProblem};
use crate::AppState;
use assay_log::TileId;
use assay_store::{
    read_consistency_proof, read_inclusion_proof, read_root_at, read_tile, AnyStore, LogStore,
};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// What the log routes read: a store handle of their own (never the writer's), and the log's
/// public identity.
pub struct LogReader {
    pub store: AnyStore,
    pub origin: String,
    /// The verifier key in C2SP `vkey` form.
    pub vkey: String,
}

fn reader(app: &AppState) -> Result<&Arc<LogReader>, Problem> {
    app.log
        .as_ref()
        .ok_or_else(|| Problem::server(ServerProblem::NoLog, "this server has no durable log"))
}

/// A store error keeps its code. A request the log cannot answer (an index past the size, a
/// size past the tree) is the client's 400; a database that fails, or a torn store, is not the
/// request's fault (503, 500).
fn store_problem(error: assay_store::Error) -> Problem {
    use assay_store::Error as E;
    let status = match &error {
        E::Log(_)
        | E::RangeOutsideTree { .. }
        | E::BeyondTree { .. }
        | E::ReadTooLarge { .. }
        | E::SizeConflict { .. }
        | E::BatchTooLarge { .. }
        | E::CheckpointMismatch { .. } => StatusCode::BAD_REQUEST,
        E::TileNotServed { .. } => StatusCode::NOT_FOUND,
        error if error.is_torn() => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    Problem::new(status, error.code(), error.to_string())
}

fn query_problem(rejection: QueryRejection) -> Problem {
    Problem::server(ServerProblem::MalformedQuery, rejection.body_text())
}

#[derive(Serialize, ToSchema)]
pub struct LogInfo {
    pub origin: String,
    pub vkey: String,
    pub size: u64,
}

/// The log's origin line, verifier key (C2SP vkey) and current size.
#[utoipa::path(get, path = "/v1/log", responses((status = 200, body = LogInfo)))]
pub async fn info(State(app): State<AppState>) -> Result<Json<LogInfo>, Problem> {
    let log = reader(&app)?;
    let size = log.store.tree_size().await.map_err(store_problem)?;
    Ok(Json(LogInfo {
        origin: log.origin.clone(),
        vkey: log.vkey.clone(),
        size,
    }))
}

/// The latest signed checkpoint (C2SP tlog-checkpoint in a signed note).
#[utoipa::path(get, path = "/checkpoint", responses((status = 200, description = "A signed note", content_type = "text/plain; charset=utf-8")))]
pub async fn checkpoint(State(app): State<AppState>) -> Result<Response, Problem> {
    let log = reader(&app)?;
    let latest = log.store.latest_checkpoint().await.map_err(store_problem)?;
    let latest =
        latest.ok_or_else(|| Problem::server(ServerProblem::NoCheckpoint, "no checkpoint yet"))?;
    let mut response = latest.note.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// A hash tile or entry bundle at its C2SP tlog-tiles path. Full tiles never change and are
/// cached for a year; partial ones must be revalidated.
#[utoipa::path(get, path = "/tile/{path}", params(("path" = String, Path, description = "e.g. 0/x001/234.p/7 or entries/000")), responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = Problem)))]
pub async fn tile(
    State(app): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, Problem> {
    let log = reader(&app)?;
    let tile = TileId::parse_path(&format!("tile/{path}"))
        .map_err(|e| Problem::new(StatusCode::NOT_FOUND, e.code(), e.to_string()))?;
    let size = log.store.tree_size().await.map_err(store_problem)?;
    if !tile.is_served_at(size) {
        return Err(Problem::server(
            ServerProblem::TileNotServed,
            "no such tile at this tree size",
        ));
    }
    let bytes = read_tile(&log.store, &tile, size)
        .await
        .map_err(store_problem)?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let cache = if tile.is_partial() {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}

#[derive(Deserialize, IntoParams)]
pub struct InclusionQuery {
    pub index: u64,
    pub size: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ProofBody {
    /// Root at `size` (inclusion) or `new` (consistency), base64 as in checkpoints.
    pub root: String,
    /// The proof's hashes, base64.
    pub hashes: Vec<String>,
}

/// An inclusion proof for entry `index` in the tree of `size` entries (RFC 9162 §2.1.3).
#[utoipa::path(get, path = "/v1/proofs/inclusion", params(InclusionQuery), responses((status = 200, body = ProofBody), (status = 400, body = Problem)))]
pub async fn inclusion(
    State(app): State<AppState>,
    query: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Json<ProofBody>, Problem> {
    let Query(query) = query.map_err(query_problem)?;
    let log = reader(&app)?;
    let proof = read_inclusion_proof(&log.store, query.index, query.size)
        .await
        .map_err(store_problem)?;
    let root = read_root_at(&log.store, query.size)
        .await
        .map_err(store_problem)?;
    Ok(Json(ProofBody {
        root: root.to_base64(),
        hashes: proof.path().iter().map(|h| h.to_base64()).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    pub old: u64,
    pub new: u64,
}

/// A consistency proof between tree sizes `old` and `new` (RFC 9162 §2.1.4).
#[utoipa::path(get, path = "/v1/proofs/consistency", params(ConsistencyQuery), responses((status = 200, body = ProofBody), (status = 400, body = Problem)))]
pub async fn consistency(
    State(app): State<AppState>,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<ProofBody>, Problem> {
    let Query(query) = query.map_err(query_problem)?;
    let log = reader(&app)?;
    let proof = read_consistency_proof(&log.store, query.old, query.new)
        .await
        .map_err(store_problem)?;
    let root = read_root_at(&log.store, query.new)
        .await
        .map_err(store_problem)?;
    Ok(Json(ProofBody {
        root: root.to_base64(),
        hashes: proof.path().iter().map(|h| h.to_base64()).collect(),
    }))
}
