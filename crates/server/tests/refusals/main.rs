//! Every refusal code the API can answer with, in one table (`table.rs`), each either reached
//! over real HTTP against a real server (SQLite always; PostgreSQL when
//! `ASSAY_TEST_DATABASE_URL` is set) with its exact status and problem `code`, and proof that it
//! changed nothing (`/v1/state`: the engine's state hash and the log size, before = after); or
//! seen logged as an event where a rule records the outcome; or marked unreachable with the
//! reason (issue 7's acceptance: "every refusal code reachable through the API").
//!
//! Counts (the test prints them): 161 codes. 90 reached over HTTP with the state unchanged;
//! 4 reached over HTTP where a before/after comparison cannot apply (timeout, queue_full,
//! log_unavailable, shutting_down: other requests run meanwhile, or the sequencer stopped);
//! 4 logged as events (BasketRefused ×3, BasketUnfillable); 63 unreachable through the API,
//! by kind: 29 guarded by the server (the sequencer sends that command itself, or another
//! check answers first), 1 past a limit no test meets (a million inputs), 10 checked
//! invariants, 12 store faults, 11 raised only off the API's paths (proof and tile verifiers,
//! the log writer).
//!
//! One server per backend serves the rows in four phases by its manual clock: January 1st
//! (most rows), the 2nd and 3rd (closed baskets, grants, the breaker), the 17th (ended votes);
//! then the store is broken under it (log_unavailable, shutting_down). A second server on the
//! same backend, with a queue of four, fills its queue behind a lock on the store
//! (queue_full), then swallows the pill (X1.4) for `terminated`.

#[path = "../common/mod.rs"]
mod common;
mod enforcement;
mod governance;
mod market;
mod registration;
mod server;
mod table;

use assay_core::TradingDay;
use assay_engine::Envelope;
use assay_server::clock::Clock;
use assay_store::StoreLocation;
use common::{morning, start_server, start_server_with_queue, Api, FIRST_DAY};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use table::{row, Way, Why, TABLE};

/// Requests per second per key: low enough that the rate-limit row needs few requests, high
/// enough for every party's own rows.
pub const RATE_PER_KEY: u32 = 50;

/// How a row was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Http { status: u16, state_checked: bool },
    Logged,
}

pub struct Ctx {
    pub api: Api,
    pub clock: Clock,
    pub seen: BTreeMap<&'static str, Seen>,
}

impl Ctx {
    pub async fn snapshot(&self) -> Value {
        let response = self
            .api
            .http
            .get(format!("{}/v1/state", self.api.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }

    fn record(&mut self, code: &'static str, seen: Seen) {
        let previous = self.seen.insert(code, seen);
        // A code may be met twice only the same way (e.g. banned through two routes).
        assert!(
            previous.is_none_or(|p| p == seen),
            "{code}: {previous:?} then {seen:?}"
        );
    }

    /// Sends `request`, which must be refused with `status` and `code` as a problem document,
    /// leaving the state hash and the log size as they were.
    pub async fn refused(
        &mut self,
        request: reqwest::RequestBuilder,
        status: u16,
        code: &'static str,
    ) {
        let before = self.snapshot().await;
        let body = problem(request, status, code).await;
        let after = self.snapshot().await;
        assert_eq!(before, after, "`{code}` changed the state: {body}");
        self.record(
            code,
            Seen::Http {
                status,
                state_checked: true,
            },
        );
    }

    /// A signed command that must be refused with `status` and `code`, changing nothing.
    pub async fn refused_command(&mut self, envelope: &Envelope, status: u16, code: &'static str) {
        let request = self.api.command(envelope);
        self.refused(request, status, code).await;
    }

    /// A response already checked by [`problem`] where no before/after comparison applies.
    pub fn reached_unproven(&mut self, code: &'static str, status: u16) {
        self.record(
            code,
            Seen::Http {
                status,
                state_checked: false,
            },
        );
    }

    /// A refusal-like outcome the engine logs by rule: seen in an accepted entry's events.
    pub fn logged(&mut self, code: &'static str) {
        self.record(code, Seen::Logged);
    }

    /// Moves the manual clock to the morning of `day` and waits for the sequencer to close the
    /// days in between.
    pub async fn advance_to(&self, day: TradingDay) {
        let now = self.clock.now();
        self.clock.advance(morning(day).0 - now.0);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.snapshot().await["open_day"] == day.to_string() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the sequencer never opened {day}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Sends `request` and checks the answer is the problem document for `code` with `status`.
pub async fn problem(request: reqwest::RequestBuilder, status: u16, code: &str) -> Value {
    let response = request.send().await.unwrap();
    let got = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.text().await.unwrap();
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "`{code}`: {got} {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], format!("https://assay.coop/problems/{code}"));
    body
}

/// The counts the module docs state, from the table.
fn counts() -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for (_, way) in TABLE {
        let kind = match way {
            Way::Http(..) => "reached over HTTP, state unchanged",
            Way::HttpUnproven(..) => "reached over HTTP, no state to compare",
            Way::Logged(..) => "logged as events",
            Way::Unreachable(why, _) => match why {
                Why::Guarded => "unreachable: guarded by the server",
                Why::Budget => "unreachable: past a limit no test budget meets",
                Why::Invariant => "unreachable: a checked invariant",
                Why::Fault => "unreachable: a store fault",
                Why::Elsewhere => "unreachable: raised only off the API's paths",
            },
        };
        *counts.entry(kind).or_default() += 1;
    }
    counts
}

/// Every row is met exactly as the table says, and nothing is met that the table calls
/// unreachable.
fn check_against_table(backend: &str, seen: &BTreeMap<&'static str, Seen>) {
    for (code, how) in seen {
        match (row(code), how) {
            (
                Way::Http(_, status),
                Seen::Http {
                    status: got,
                    state_checked: true,
                },
            )
            | (
                Way::HttpUnproven(_, status, _),
                Seen::Http {
                    status: got,
                    state_checked: false,
                },
            ) => {
                assert_eq!(status, *got, "{code}: the table says {status}")
            }
            (Way::Logged(..), Seen::Logged) => {}
            (way, how) => panic!("{backend}: `{code}` is {way:?} in the table but was {how:?}"),
        }
    }
    let missed: Vec<&str> = TABLE
        .iter()
        .filter(|(code, way)| !matches!(way, Way::Unreachable(..)) && !seen.contains_key(code))
        .map(|(code, _)| *code)
        .collect();
    assert!(missed.is_empty(), "{backend}: rows not met: {missed:?}");
    eprintln!("{backend}: {} codes", TABLE.len());
    for (kind, count) in counts() {
        eprintln!("  {count:>3} {kind}");
    }
}

async fn every_row(backend: &str, main: StoreLocation, terminal: StoreLocation) {
    let started = Instant::now();
    let clock = Clock::manual(morning(FIRST_DAY));
    let running = start_server(main.clone(), clock.clone(), RATE_PER_KEY).await;
    let mut ctx = Ctx {
        api: Api::new(&running),
        clock,
        seen: BTreeMap::new(),
    };
    let stalled = server::stall(&ctx);

    registration::rows(&mut ctx).await;
    registration::destination_rows(&mut ctx).await;
    let mut market = market::first_day(&mut ctx).await;
    let mut governance = governance::first_day(&mut ctx).await;
    enforcement::rows(&mut ctx).await;
    server::routes(&mut ctx).await;
    let unfillable = market::watch_unfillable(&ctx, &mut market).await;
    registration::midnight_burst(&mut ctx, TradingDay(FIRST_DAY.0 + 1)).await;
    ctx.advance_to(TradingDay(FIRST_DAY.0 + 1)).await;
    market::second_day(&mut ctx, &mut market, unfillable).await;
    ctx.advance_to(TradingDay(FIRST_DAY.0 + 2)).await;
    market::third_day(&mut ctx, &mut market).await;
    ctx.advance_to(TradingDay(FIRST_DAY.0 + 16)).await;
    governance::after_voting(&mut ctx, &mut governance).await;
    // February 1st: January's run is recorded and indexed (D4).
    ctx.advance_to(TradingDay(FIRST_DAY.0 + 31)).await;
    server::payout_routes(&mut ctx).await;
    server::stalled(&mut ctx, stalled).await;
    server::break_the_log(&mut ctx, &main).await;
    // The sequencer stopped on the broken store; the stop reports it.
    let _ = running.stop().await;

    let clock = Clock::manual(morning(FIRST_DAY));
    let queue = server::SMALL_QUEUE;
    let running = start_server_with_queue(terminal.clone(), clock, RATE_PER_KEY, queue).await;
    ctx.api = Api::new(&running);
    server::queue_full(&mut ctx, &terminal).await;
    enforcement::pill(&mut ctx).await;
    running.stop().await.unwrap();

    check_against_table(backend, &ctx.seen);
    eprintln!("{backend}: {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn every_code_has_exactly_one_row() {
    let codes = table::codes_in_source();
    let mut rows = std::collections::BTreeSet::new();
    for (code, _) in TABLE {
        assert!(rows.insert(*code), "`{code}` has two rows");
        assert!(
            codes.contains(code),
            "`{code}` is no code of the API's error types"
        );
    }
    let missing: Vec<&&str> = codes.iter().filter(|c| !rows.contains(**c)).collect();
    assert!(missing.is_empty(), "codes without a row: {missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_code_over_http_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("assay-refusals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    every_row(
        "sqlite",
        StoreLocation::Sqlite {
            dir: dir.join("main"),
        },
        StoreLocation::Sqlite {
            dir: dir.join("terminal"),
        },
    )
    .await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_code_over_http_on_postgres() {
    let (Some(main), Some(terminal)) = (
        common::PgSchema::fresh("assay_refusals"),
        common::PgSchema::fresh("assay_refusals_end"),
    ) else {
        return;
    };
    every_row("postgres", main.location(), terminal.location()).await;
}
