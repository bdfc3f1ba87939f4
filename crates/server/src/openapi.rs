//! The OpenAPI document, generated from the route handlers' annotations (never hand-written).

use crate::routes::{commands, destinations, log, members, public, stream};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Assay exchange API",
        description = "A member-owned cooperative exchange for behavioral data. Errors are RFC 9457 problem+json with a stable `code`."
    ),
    paths(
        commands::submit,
        commands::deposit,
        commands::ban,
        public::rules,
        public::markets,
        public::baskets,
        public::runs,
        public::payouts,
        public::payout_month,
        public::summary,
        public::health,
        public::state,
        stream::events,
        openapi_json,
        log::info,
        log::checkpoint,
        log::tile,
        log::inclusion,
        log::consistency,
        members::grants,
        members::payout,
        destinations::store,
    ),
    components(schemas(crate::problem::Problem))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
