//! HTTP routes. Every route is listed in [`ROUTES`], which builds the router and is checked
//! against the OpenAPI document, so no route goes undocumented.

pub mod commands;
pub mod destinations;
pub mod log;
pub mod members;
pub mod public;
pub mod stream;

/// (method, path) of every route the server serves.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/commands"),
    ("post", "/v1/admin/deposits"),
    ("post", "/v1/admin/bans"),
    ("get", "/v1/rules"),
    ("get", "/v1/markets"),
    ("get", "/v1/baskets"),
    ("get", "/v1/runs"),
    ("get", "/v1/payouts"),
    ("get", "/v1/payouts/{month}"),
    ("get", "/v1/summary"),
    ("get", "/v1/events"),
    ("get", "/v1/health"),
    ("get", "/v1/state"),
    ("get", "/v1/openapi.json"),
    ("get", "/v1/log"),
    ("get", "/checkpoint"),
    ("get", "/tile/{path}"),
    ("get", "/v1/proofs/inclusion"),
    ("get", "/v1/proofs/consistency"),
    ("get", "/v1/members/{member}/grants"),
    ("get", "/v1/runs/{month}/payouts/{member}"),
    ("post", "/v1/members/{member}/destination"),
];
