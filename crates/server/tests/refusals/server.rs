//! The server's own refusals: bodies, queries, routes, methods, tokens, rate limits, timeouts,
//! and the transparency routes' log and store codes; last, a store that fails under the server.

use crate::common::Party;
use crate::{problem, Ctx, Seen, RATE_PER_KEY};
use assay_engine::Command;
use assay_store::StoreLocation;
use serde_json::json;
use std::io::{Read, Write};
use std::time::Duration;

pub async fn routes(ctx: &mut Ctx) {
    let base = ctx.api.base.clone();
    let http = ctx.api.http.clone();
    let commands = format!("{base}/v1/commands");
    let json_body = |body: Vec<u8>| {
        http.post(&commands)
            .header("content-type", "application/json")
            .body(body)
    };
    ctx.refused(
        json_body(b"{\"signer\": 1}".to_vec()),
        400,
        "malformed_body",
    )
    .await;
    // The server answers before reading such a body and then closes the connection; a
    // client must not send its next request down it (hyper reports `IncompleteMessage`).
    ctx.refused(
        json_body(vec![b' '; 100_000]).header("connection", "close"),
        413,
        "body_too_large",
    )
    .await;
    let no_token = http.post(format!("{base}/v1/admin/deposits")).json(&json!({
        "buyer": 0, "amount_micros": 1, "deposit_reference": hex::encode([0u8; 32])
    }));
    ctx.refused(no_token, 401, "admin_token").await;
    let alien = http
        .post(format!("{base}/v1/admin/bans"))
        .bearer_auth(crate::common::ADMIN)
        .json(&json!({ "party": "alien", "id": 0, "evidence_hash": hex::encode([0u8; 32]) }));
    ctx.refused(alien, 400, "malformed_body").await;

    ctx.refused(http.get(format!("{base}/v1/nowhere")), 404, "unknown_route")
        .await;
    ctx.refused(http.get(&commands), 405, "method_not_allowed")
        .await;
    ctx.refused(http.get(format!("{base}/tile/nonsense")), 404, "tile_path")
        .await;
    ctx.refused(
        http.get(format!("{base}/tile/0/005")),
        404,
        "tile_not_served",
    )
    .await;
    let proofs = format!("{base}/v1/proofs");
    let cases = [
        ("inclusion?index=x&size=1", 400, "malformed_query"),
        ("inclusion?index=5&size=3", 400, "leaf_index_range"),
        ("inclusion?index=0&size=1000000", 400, "beyond_tree"),
        ("consistency?old=5&new=3", 400, "consistency_sizes"),
    ];
    for (query, status, code) in cases {
        ctx.refused(http.get(format!("{proofs}/{query}")), status, code)
            .await;
    }

    rate_limited(ctx).await;
}

/// More requests by one key at once than its bucket holds (twice the per-second rate): some are
/// answered 429 with Retry-After; the rest are unsigned, refused too; none changed anything.
async fn rate_limited(ctx: &mut Ctx) {
    let flooder = Party::new("server-flooder", 0);
    let mut envelope = flooder.peek(Command::RegisterBuyer);
    envelope.signature = None;
    let before = ctx.snapshot().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..3 * RATE_PER_KEY {
        let request = ctx.api.command(&envelope);
        tasks.spawn(async move {
            let response = request.send().await.unwrap();
            let retry_after = response.headers().get("retry-after").is_some();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (
                status,
                retry_after,
                body["code"].as_str().unwrap().to_string(),
            )
        });
    }
    let mut limited = 0;
    for (status, retry_after, code) in tasks.join_all().await {
        match (status, code.as_str()) {
            (429, "rate_limited") => {
                assert!(retry_after, "429 without Retry-After");
                limited += 1;
            }
            (401, "unsigned") => {}
            other => panic!("flood answered {other:?}"),
        }
    }
    assert!(limited > 0, "no request was rate limited");
    assert_eq!(ctx.snapshot().await, before, "the flood changed the state");
    ctx.seen.insert(
        "rate_limited",
        Seen::Http {
            status: 429,
            state_checked: true,
        },
    );
}

/// Starts a request whose body never finishes arriving; the server must answer it 408 after
/// REQUEST_TIMEOUT (10 s) while the other rows run.
pub fn stall(ctx: &Ctx) -> tokio::task::JoinHandle<String> {
    let addr = ctx.api.base.trim_start_matches("http://").to_string();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .write_all(
                b"POST /v1/commands HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
            )
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut answer = Vec::new();
        let mut buffer = [0; 4096];
        while !String::from_utf8_lossy(&answer).ends_with('}') {
            let read = stream.read(&mut buffer).unwrap();
            if read == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..read]);
        }
        String::from_utf8(answer).unwrap()
    })
}

pub async fn stalled(ctx: &mut Ctx, stall: tokio::task::JoinHandle<String>) {
    let answer = stall.await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{answer}"
    );
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (body["status"].as_u64(), body["code"].as_str()),
        (Some(408), Some("timeout"))
    );
    ctx.reached_unproven("timeout", 408);
}

/// Drops the log's entries table under the running server: the next accepted input cannot be
/// made durable (503 log_unavailable, nothing acknowledged), and the sequencer stops, so what
/// follows is refused (503 shutting_down).
pub async fn break_the_log(ctx: &mut Ctx, location: &StoreLocation) {
    use sqlx::Connection;
    match location {
        StoreLocation::Sqlite { dir } => {
            let url = format!("sqlite://{}", dir.join("assay.db").display());
            let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("DROP TABLE log_entries")
                .execute(&mut connection)
                .await
                .unwrap();
            connection.close().await.unwrap();
        }
        StoreLocation::Postgres {
            url,
            schema: Some(schema),
        } => assay_store::PgStore::drop_schema(url, schema)
            .await
            .unwrap(),
        other => panic!("no way to break {other:?}"),
    }
    let mut buyer = Party::new("server-last-buyer", 0);
    let first = ctx.api.command(&buyer.sign(Command::RegisterBuyer));
    problem(first, 503, "log_unavailable").await;
    ctx.reached_unproven("log_unavailable", 503);
    let second = ctx
        .api
        .command(&Party::new("server-last-buyer", 1).peek(Command::RegisterBuyer));
    problem(second, 503, "shutting_down").await;
    ctx.reached_unproven("shutting_down", 503);
}

/// Queue length of the server `queue_full` runs on.
pub const SMALL_QUEUE: usize = 4;

/// A lock that keeps the log's writer waiting, taken from outside the server.
enum WriterLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl WriterLock {
    async fn take(location: &StoreLocation) -> WriterLock {
        use sqlx::Connection;
        match location {
            StoreLocation::Sqlite { dir } => {
                let url = format!("sqlite://{}", dir.join("assay.db").display());
                let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query("BEGIN EXCLUSIVE")
                    .execute(&mut connection)
                    .await
                    .unwrap();
                WriterLock::Sqlite(connection)
            }
            StoreLocation::Postgres {
                url,
                schema: Some(schema),
            } => {
                let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query("BEGIN").execute(&mut connection).await.unwrap();
                let lock = format!("LOCK TABLE {schema}.log_entries IN ACCESS EXCLUSIVE MODE");
                sqlx::query(sqlx::AssertSqlSafe(lock))
                    .execute(&mut connection)
                    .await
                    .unwrap();
                WriterLock::Postgres(connection)
            }
            other => panic!("no way to lock {other:?}"),
        }
    }

    async fn release(self) {
        match self {
            WriterLock::Sqlite(mut connection) => {
                sqlx::query("ROLLBACK")
                    .execute(&mut connection)
                    .await
                    .unwrap();
            }
            WriterLock::Postgres(mut connection) => {
                sqlx::query("ROLLBACK")
                    .execute(&mut connection)
                    .await
                    .unwrap();
            }
        }
    }
}

/// On a server whose queue holds `SMALL_QUEUE` requests: while a lock keeps the writer from
/// making one accepted input durable, more requests than the queue holds arrive; the overflow
/// is answered 503 queue_full with Retry-After at once, never dropped silently, and when the
/// lock goes the log has grown by the one accepted input only.
pub async fn queue_full(ctx: &mut Ctx, location: &StoreLocation) {
    let before = ctx.snapshot().await;
    let lock = WriterLock::take(location).await;
    let mut holder = Party::new("server-queue-holder", 0);
    let accepted = ctx.api.command(&holder.sign(Command::RegisterBuyer));
    let held = tokio::spawn(async move { accepted.send().await.unwrap().status().as_u16() });
    // Let the sequencer take the input and block on the lock.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..2 * SMALL_QUEUE as u64 {
        let mut envelope = Party::new("server-queue-filler", index).peek(Command::RegisterBuyer);
        envelope.signature = None;
        let request = ctx.api.command(&envelope);
        tasks.spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").is_some();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, retry_after, body)
        });
    }
    // The overflow is answered while the writer still waits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!held.is_finished(), "the lock did not hold the writer");
    lock.release().await;
    assert_eq!(held.await.unwrap(), 200);
    let mut full = 0;
    for (status, retry_after, body) in tasks.join_all().await {
        match (status, body["code"].as_str()) {
            (503, Some("queue_full")) => {
                assert!(retry_after, "503 without Retry-After");
                assert_eq!(body["type"], "https://assay.coop/problems/queue_full");
                full += 1;
            }
            (401, Some("unsigned")) => {}
            other => panic!("a queued request was answered {other:?}"),
        }
    }
    assert!(full > 0, "the queue never filled");
    let after = ctx.snapshot().await;
    assert_eq!(
        after["log_size"].as_u64(),
        before["log_size"].as_u64().map(|size| size + 1),
        "only the accepted input was logged"
    );
    ctx.reached_unproven("queue_full", 503);
}

/// A member's payout line (W5): a month that does not parse, a month without a run, and a
/// member the recorded run does not pay.
pub async fn payout_routes(ctx: &mut Ctx) {
    let http = ctx.api.http.clone();
    let base = ctx.api.base.clone();
    for (path, status, code) in [
        ("2026-13/payouts/0", 400, "bad_month"),
        ("2030-01/payouts/0", 404, "unknown_run"),
        ("2026-01/payouts/999999", 404, "no_payout_line"),
    ] {
        let request = http.get(format!("{base}/v1/runs/{path}"));
        ctx.refused(request, status, code).await;
    }
}
