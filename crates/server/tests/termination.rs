//! After the poison pill (X2, X3) the server keeps serving: it records the final payout's
//! settlement once, closes no more days, and answers members' commands with the `terminated`
//! refusal instead of stopping (a refused exchange command is fatal to the sequencer, so an
//! attempted day close after termination used to turn every request into a 503).

use assay_core::{Category, MemberId, Micros, Rules, Timestamp, TradingDay};
use assay_engine::command::{offtake_consent_message, sign_bytes};
use assay_engine::{replay, Command, Envelope, PayoutChoice, Rail};
use assay_log::{Checkpoint, NoteSigner};
use assay_server::clock::Clock;
use assay_server::run::{start, RunningServer, ServeOptions};
use assay_store::{AnyStore, LogStore, StoreLocation};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::time::Duration;

const ORIGIN: &str = "assay.test/log";
const LOG_KEY: [u8; 32] = [7; 32];
const ADMIN: &str = "test-admin-token";
/// 2026-01-10: far from a month's end, so no run interferes.
const DAY: TradingDay = TradingDay(20_463);

/// The data directory of a test server on `location`: the SQLite directory, or a directory
/// named after the PostgreSQL schema (so a restarted server finds its destination key again).
fn data_dir_of(location: &StoreLocation) -> std::path::PathBuf {
    match location {
        StoreLocation::Sqlite { dir } => dir.clone(),
        StoreLocation::Postgres { schema, .. } => std::env::temp_dir().join(format!(
            "assay-data-{}-{}",
            schema.as_deref().unwrap_or("public"),
            std::process::id()
        )),
        StoreLocation::Memory => {
            std::env::temp_dir().join(format!("assay-data-memory-{}", std::process::id()))
        }
    }
}

async fn server(location: StoreLocation) -> RunningServer {
    start(ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir_of(&location),
        location,
        origin: ORIGIN.to_string(),
        log_signer: NoteSigner::new(ORIGIN, &LOG_KEY).unwrap(),
        exchange_key: SigningKey::from_bytes(&[1; 32]),
        rules: Rules::from_toml_str(include_str!("../../../rules/default.toml")).unwrap(),
        // A simulated day every 1.5 s of real time.
        clock: Clock::simulated(Timestamp(DAY.start().0 + 1_000_000), 86_400.0 / 1.5),
        admin_token: Some(ADMIN.to_string()),
        rate_per_key: 1_000,
        queue_inputs_max: assay_server::sequencer::QUEUE_INPUTS_MAX,
        snapshots: None,
    })
    .await
    .unwrap()
}

async fn post(http: &reqwest::Client, base: &str, envelope: &Envelope) -> (u16, Value) {
    let response = http
        .post(format!("{base}/v1/commands"))
        .json(envelope)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// A checkpoint of the server's own log signed with its key, with a made-up root.
fn forged_checkpoint(size: u64, root_seed: u8) -> String {
    let signer = NoteSigner::new(ORIGIN, &LOG_KEY).unwrap();
    Checkpoint::new(ORIGIN, size, assay_log::leaf_hash(&[root_seed]))
        .unwrap()
        .sign(&signer)
        .unwrap()
        .to_text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_pill_the_server_settles_the_final_payout_and_keeps_answering() {
    // rules X1.4, X2, X3, D6
    let dir = std::env::temp_dir().join(format!("assay-termination-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let location = StoreLocation::Sqlite { dir: dir.clone() };
    let server = server(location.clone()).await;
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();

    // A member with money: a buyer's off-take credits them (M16).
    let member = SigningKey::from_bytes(&[2; 32]);
    let device = SigningKey::from_bytes(&[3; 32]);
    let buyer = SigningKey::from_bytes(&[4; 32]);
    let register = Command::RegisterMember {
        device_key: device.verifying_key().into(),
        payout: PayoutChoice {
            rail: Rail::Usdc,
            destination_commitment: [9; 32],
        },
    };
    let (status, body) = post(&http, &base, &Envelope::sign(&member, 0, register)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(
        &http,
        &base,
        &Envelope::sign(&buyer, 0, Command::RegisterBuyer),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let deposit = http
        .post(format!("{base}/v1/admin/deposits"))
        .bearer_auth(ADMIN)
        .json(&json!({ "buyer": 0, "amount_micros": 100_000_000, "deposit_reference": hex::encode([1u8; 32]) }))
        .send()
        .await
        .unwrap();
    assert_eq!(deposit.status().as_u16(), 200);
    let value = Micros::new(20_000_000);
    let consent = sign_bytes(
        &member,
        &offtake_consent_message(&buyer.verifying_key().into(), Category::Location, 6, value),
    );
    let off_take = Command::OffTake {
        member: MemberId(0),
        member_key: member.verifying_key().into(),
        category: Category::Location,
        months: 6,
        value,
        member_consent: consent,
    };
    let (status, body) = post(&http, &base, &Envelope::sign(&buyer, 1, off_take)).await;
    assert_eq!(status, 200, "{body}");

    // Anyone proves that the log equivocated: the pill fires (X1.4).
    let proof = Command::ProveEquivocation {
        first_note: forged_checkpoint(1, 1),
        second_note: forged_checkpoint(1, 2),
    };
    let (status, body) = post(&http, &base, &Envelope::sign(&member, 1, proof)).await;
    assert_eq!(status, 200, "{body}");

    // Let a few simulated midnights pass: the sequencer must neither stop nor close days.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let health = http.get(format!("{base}/v1/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let (status, body) = post(
        &http,
        &base,
        &Envelope::sign(&member, 2, Command::RequestMidMonthPayout),
    )
    .await;
    assert_eq!(body["code"], "terminated", "{status} {body}");
    server.stop().await.unwrap();

    // The log replays to a terminated exchange whose final payout is settled, once.
    let store = AnyStore::open(&location).await.unwrap();
    let size = store.tree_size().await.unwrap();
    let entries = store.entries(0, size).await.unwrap();
    store.close().await;
    let state = replay(entries.iter().map(Vec::as_slice)).unwrap();
    let termination = state.terminated.as_ref().expect("terminated");
    assert!(termination.settled, "the final payout was not settled");
    std::fs::remove_dir_all(&dir).unwrap();
}
