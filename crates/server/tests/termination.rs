//! After the poison pill (X2, X3) the server keeps serving: it pays the final payout once as it
//! pays a run (the rails' files written and logged, a line without a destination held, then the
//! settlement; issue 9), closes no more days, and answers members' commands with the
//! `terminated` refusal instead of stopping (a refused exchange command is fatal to the
//! sequencer, so an attempted day close after termination used to turn every request into a
//! 503).

use assay_core::{Category, MemberId, Micros, Rules, Timestamp, TradingDay};
use assay_engine::command::{offtake_consent_message, sign_bytes};
use assay_engine::{replay, Command, Envelope, LogEntry, PayoutChoice, Rail};
use assay_log::{Checkpoint, NoteSigner};
use assay_rails::{destination_request_message, Destination, Salt};
use assay_server::clock::Clock;
use assay_server::payouts::{run_dir, settlement_reference};
use assay_server::run::{start, RunningServer, ServeOptions};
use assay_store::{AnyStore, LogStore, StoreLocation};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
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
        ach: Some(assay_server::ach_config::AchOriginator::test_values()),
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

    // Two members with money, which buyers' off-takes credit (M16). Member 0 hands the exchange
    // its destination; member 1 never does, so its final line is held.
    let member = SigningKey::from_bytes(&[2; 32]);
    let device = SigningKey::from_bytes(&[3; 32]);
    let buyer = SigningKey::from_bytes(&[4; 32]);
    let held_member = SigningKey::from_bytes(&[5; 32]);
    let held_device = SigningKey::from_bytes(&[6; 32]);
    let destination =
        Destination::parse("usdc:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").unwrap();
    let salt = Salt([8; 32]);
    for (key, device, commitment) in [
        (&member, &device, destination.commitment(&salt).0),
        (&held_member, &held_device, [9; 32]),
    ] {
        let register = Command::RegisterMember {
            device_key: device.verifying_key().into(),
            payout: PayoutChoice {
                rail: Rail::Usdc,
                destination_commitment: commitment,
            },
        };
        let (status, body) = post(&http, &base, &Envelope::sign(key, 0, register)).await;
        assert_eq!(status, 200, "{body}");
    }
    let message = destination_request_message(MemberId(0), &destination, &salt);
    let response = http
        .post(format!("{base}/v1/members/0/destination"))
        .json(&json!({
            "destination": destination.to_text(),
            "salt": hex::encode(salt.0),
            "signature": hex::encode(member.sign(&message).to_bytes()),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
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
    for (sequence, (id, key)) in [(0, &member), (1, &held_member)].into_iter().enumerate() {
        let consent = sign_bytes(
            key,
            &offtake_consent_message(&buyer.verifying_key().into(), Category::Location, 6, value),
        );
        let off_take = Command::OffTake {
            member: MemberId(id),
            member_key: key.verifying_key().into(),
            category: Category::Location,
            months: 6,
            value,
            member_consent: consent,
        };
        let envelope = Envelope::sign(&buyer, sequence as u64 + 1, off_take);
        let (status, body) = post(&http, &base, &envelope).await;
        assert_eq!(status, 200, "{body}");
    }

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

    // It was settled as a run is (D6, issue 9): its files logged first, each on disk in the
    // final payout's month with the logged hash; the held line back in its member's balance;
    // the settlement's reference the hash of the file list.
    let commands: Vec<Command> = entries
        .iter()
        .map(|bytes| LogEntry::decode(bytes).unwrap().input.envelope.command)
        .collect();
    let recorded: Vec<_> = commands
        .iter()
        .filter_map(|command| match command {
            Command::RecordPayoutFiles {
                payout_root,
                files,
                held,
            } => Some((payout_root, files, held)),
            _ => None,
        })
        .collect();
    assert_eq!(recorded.len(), 1, "{commands:?}");
    let (payout_root, files, held) = recorded[0];
    assert_eq!(payout_root, &termination.payout_root);
    assert_eq!(held, &vec![MemberId(1)]);
    assert!(state.members[1].balance.carried > Micros::ZERO);
    assert!(!files.is_empty());
    let run_dir = run_dir(&dir, DAY.month());
    let mut on_disk: Vec<String> = std::fs::read_dir(&run_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut logged: Vec<String> = files.iter().map(|file| file.name.clone()).collect();
    logged.sort();
    assert_eq!(
        on_disk, logged,
        "the directory holds exactly the logged files"
    );
    for file in files {
        let bytes = std::fs::read(run_dir.join(&file.name)).unwrap();
        assert_eq!(
            <[u8; 32]>::from(Sha256::digest(&bytes)),
            file.sha256,
            "{}",
            file.name
        );
    }
    let settlements: Vec<_> = commands
        .iter()
        .filter_map(|command| match command {
            Command::SettlePayouts {
                payout_root,
                settlement_reference,
            } => Some((payout_root, settlement_reference)),
            _ => None,
        })
        .collect();
    assert_eq!(
        settlements,
        vec![(&termination.payout_root, &settlement_reference(files))]
    );
    let files_at = commands
        .iter()
        .position(|command| matches!(command, Command::RecordPayoutFiles { .. }));
    let settled_at = commands
        .iter()
        .position(|command| matches!(command, Command::SettlePayouts { .. }));
    assert!(
        files_at < settled_at,
        "the files are logged before the settlement"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
