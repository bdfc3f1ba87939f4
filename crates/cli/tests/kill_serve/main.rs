//! Kill test for the exchange (issue 7): the real `assay serve` binary runs under load from
//! twelve concurrent clients (buyers registering, depositing, posting baskets and bidding;
//! members registering and offering) on a simulated clock fast enough that trading days close
//! and January's run happens during the test. The test SIGKILLs the server at seeded random
//! moments, runs `assay log verify` on what it left, and restarts it on the same data; clients
//! resubmit every unanswered input with the same key and sequence number (deposits with the
//! same reference) until it is answered. At the end it checks, from the log alone:
//!
//! - every acknowledged input is in the log at the index and with the timestamp it was
//!   acknowledged with, and every acknowledged deposit once, under its reference;
//! - every logged client input was acknowledged, no refused input was logged, and per signing
//!   key the logged sequence numbers run 0, 1, 2, … without gap or repeat (nothing half-applied);
//! - a fresh replay of the log with the engine reproduces every event digest, and the state hash
//!   the server reported on `/v1/health` at each sampled log size (L3);
//! - `assay log verify` passes after every kill and after the final graceful stop.
//!
//! Runs on SQLite, and on PostgreSQL when `ASSAY_TEST_DATABASE_URL` is set. The kill moments
//! and the clients' choices come from a seed printed at the start; `ASSAY_KILL_SEED=<seed>`
//! replays them (thread timing is not reproducible, the choices are).
#![cfg(unix)]

#[path = "../common/kill.rs"]
mod kill;

mod check;
mod client;
mod load;
mod server;

use crate::client::{Api, ClientLog};
use crate::server::{Server, Store};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kill::seed;
pub use kill::Rng;

/// Times the server is killed with SIGKILL under load.
const KILLS: u32 = 6;
/// Shortest and longest stretch of load between a restart and the next kill.
const ROUND_MS_MIN: u64 = 800;
const ROUND_MS_MAX: u64 = 3_000;
/// Inputs acknowledged since the last restart before the next kill, so every kill comes under
/// load.
const ROUND_ACKS_MIN: u64 = 30;
/// Concurrent clients: buyers first, members after.
const BUYER_CLIENTS: u64 = 3;
const MEMBER_CLIENTS: u64 = 9;
/// How often the monitor samples `/v1/health` for the state hash.
const SAMPLE_EVERY: Duration = Duration::from_millis(300);

/// What the clients and the monitor share with the test.
pub struct Shared {
    /// Set when the load should end; clients finish the input in hand first.
    pub stop: AtomicBool,
}

async fn kill_under_load(store: Store) {
    let started = Instant::now();
    let mut rng = Rng::new(seed());
    let mut server = Server::new(store);
    server.start().await;
    let api = Api::new(server.base(), server.admin_token());
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
    });

    let clients: Vec<_> = (0..BUYER_CLIENTS + MEMBER_CLIENTS)
        .map(|index| {
            let client_rng = Rng::new(rng.next_u64());
            let (api, shared) = (api.clone(), shared.clone());
            tokio::spawn(async move {
                if index < BUYER_CLIENTS {
                    load::buyer(index, api, shared, client_rng).await
                } else {
                    load::members(index, api, shared, client_rng).await
                }
            })
        })
        .collect();
    let monitor = tokio::spawn(load::monitor(api.clone(), shared.clone(), SAMPLE_EVERY));

    let mut acks_per_round = Vec::new();
    for round in 0..KILLS {
        let at_restart = api.acked.load(Ordering::SeqCst);
        let run_ms = ROUND_MS_MIN + rng.below(ROUND_MS_MAX - ROUND_MS_MIN);
        tokio::time::sleep(Duration::from_millis(run_ms)).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while api.acked.load(Ordering::SeqCst) < at_restart + ROUND_ACKS_MIN {
            assert!(
                Instant::now() < deadline,
                "round {round}: the clients got no acknowledgements for 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.kill().await;
        let acked = api.acked.load(Ordering::SeqCst) - at_restart;
        acks_per_round.push(acked);
        let killed = Instant::now();
        server.verify().await;
        let verified = killed.elapsed();
        server.start().await;
        eprintln!(
            "round {round}: killed after {run_ms} ms and {acked} acknowledgements; verified in \
             {:.2} s, serving again {:.2} s later; {:.1} s in",
            verified.as_secs_f64(),
            (killed.elapsed() - verified).as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    // Load on the last restart, then the clients settle what they hold and stop.
    tokio::time::sleep(Duration::from_millis(ROUND_MS_MIN)).await;
    shared.stop.store(true, Ordering::SeqCst);
    let mut logs: Vec<ClientLog> = Vec::new();
    for client in clients {
        logs.push(client.await.expect("a client task panicked"));
    }
    let mut samples = monitor.await.expect("the monitor task panicked");
    let last = api
        .health()
        .await
        .expect("the server answers health after the load");
    samples.push(last);
    server.stop().await;
    server.verify().await;

    let entries = server.entries().await;
    let report = check::check(&entries, &logs, &samples);
    eprintln!(
        "{} kills ({} acknowledgements between them: {acks_per_round:?}); log {} entries; {report}; \
         {:.1} s",
        KILLS,
        acks_per_round.iter().sum::<u64>(),
        entries.len(),
        started.elapsed().as_secs_f64()
    );
    server.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_server_survives_sigkill_under_load() {
    kill_under_load(Store::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_server_survives_sigkill_under_load() {
    let Ok(url) = std::env::var("ASSAY_TEST_DATABASE_URL") else {
        eprintln!("ASSAY_TEST_DATABASE_URL is unset: skipping the PostgreSQL server kill test");
        return;
    };
    kill_under_load(Store::postgres(&url).await).await;
}
