//! `assay bench http --requests N --concurrency C`: accepted signed inputs per second through a
//! server on loopback (SQLite in a temporary directory, so every answer is durable), with p50/p99
//! latency, beside the raw Ed25519 verify rate measured in the same run.
//!
//! The inputs are member registrations from N distinct keys: each is a signed, verified, logged
//! input, and none depends on another, so the figure measures the service, not a market.

use anyhow::{ensure, Context};
use assay_core::{Rules, Timestamp};
use assay_engine::{Command, Envelope, PayoutChoice, Rail};
use assay_server::clock::Clock;
use assay_server::run::{start, ServeOptions};
use assay_store::StoreLocation;
use ed25519_dalek::{Signer, SigningKey, Verifier};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn key(index: u64) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(format!("bench-http {index}")).into())
}

/// Raw Ed25519 verifications per second on this machine, now.
fn verify_per_s() -> f64 {
    let signer = key(u64::MAX);
    let message = b"assay bench http baseline";
    let signature = signer.sign(message);
    let public = signer.verifying_key();
    let count = 20_000;
    let start = Instant::now();
    for _ in 0..count {
        public
            .verify(message, &signature)
            .expect("a valid signature");
    }
    f64::from(count) / start.elapsed().as_secs_f64()
}

pub fn run(requests: u64, concurrency: usize, json: bool) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(requests, concurrency.max(1), json))
}

async fn bench(requests: u64, concurrency: usize, json: bool) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("assay-bench-http-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rules = Rules::from_toml_str(crate::rules_cmd::DEFAULT_RULES)?;
    let origin = crate::log_cmd::DEFAULT_ORIGIN.to_string();
    let server = start(ServeOptions {
        listen: "127.0.0.1:0".parse()?,
        location: StoreLocation::Sqlite { dir: dir.clone() },
        log_signer: crate::log_cmd::load_or_create_signer(&dir, &origin)?,
        origin,
        exchange_key: key(u64::MAX - 1),
        rules,
        // A slow simulated clock: the whole run stays within one trading day.
        clock: Clock::simulated(Timestamp(1_767_225_600_000_000), 1.0),
        admin_token: None,
        rate_per_key: 1_000,
        queue_inputs_max: assay_server::sequencer::QUEUE_INPUTS_MAX,
        snapshots: None,
        data_dir: dir.clone(),
        ach: Some(assay_server::ach_config::AchOriginator::test_values()),
    })
    .await?;
    let envelopes: Vec<Envelope> = (0..requests)
        .map(|index| {
            let member = key(index);
            let payout = PayoutChoice {
                rail: Rail::Usdc,
                destination_commitment: [0; 32],
            };
            let device_key = member.verifying_key().into();
            Envelope::sign(&member, 0, Command::RegisterMember { device_key, payout })
        })
        .collect();
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        envelopes
            .iter()
            .map(serde_json::to_vec)
            .collect::<Result<_, _>>()?,
    );
    let url = format!("http://{}/v1/commands", server.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, bodies, next) =
                (client.clone(), url.clone(), bodies.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut accepted = 0u64;
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(body) = bodies.get(index) else { break };
                    let sent = Instant::now();
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await?;
                    let ok = response.status().is_success();
                    response.bytes().await?;
                    latencies.push(sent.elapsed());
                    accepted += u64::from(ok);
                }
                Ok::<_, reqwest::Error>((accepted, latencies))
            })
        })
        .collect();
    let mut accepted = 0;
    let mut latencies: Vec<Duration> = Vec::with_capacity(requests as usize);
    for worker in workers {
        let (count, mut times) = worker.await.context("joining a worker")??;
        accepted += count;
        latencies.append(&mut times);
    }
    let seconds = started.elapsed().as_secs_f64();
    server.stop().await?;
    let _ = std::fs::remove_dir_all(&dir);
    ensure!(!latencies.is_empty(), "no request was sent");
    latencies.sort_unstable();
    let percentile =
        |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    let summary = serde_json::json!({
        "requests": requests,
        "concurrency": concurrency,
        "accepted": accepted,
        "seconds": seconds,
        "accepted_per_s": accepted as f64 / seconds,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "verify_per_s": verify_per_s(),
    });
    if json {
        println!("{summary}");
    } else {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}
