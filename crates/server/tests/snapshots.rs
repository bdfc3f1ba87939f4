//! Snapshots (issue 7): a restart from a snapshot plus the log's tail reaches the state a full
//! replay reaches, keeps answering resubmissions and listing runs, and a damaged or foreign
//! snapshot is passed over, never trusted. On SQLite, and on PostgreSQL when
//! `ASSAY_TEST_DATABASE_URL` is set (each run in its own schema, dropped at the end).

mod common;

use assay_core::{Rules, Timestamp, TradingDay};
use assay_engine::{replay, Command, Envelope, PayoutChoice, Rail, State};
use assay_log::NoteSigner;
use assay_server::clock::Clock;
use assay_server::resume::Resume;
use assay_server::run::{start, RunningServer, ServeOptions};
use assay_server::snapshot::{resume, write_snapshot, PendingSnapshot, SnapshotConfig};
use assay_store::{AnyStore, LogStore, LogWriter, StoreLocation};
use ed25519_dalek::SigningKey;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ORIGIN: &str = "assay.test/log";
/// 2026-01-31: the month's run comes at the first midnight.
const LAST_DAY_OF_JANUARY: TradingDay = TradingDay(20_484);

fn key(label: &str, index: u64) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(format!("{label} {index}")).into())
}

fn rules() -> Rules {
    Rules::from_toml_str(include_str!("../../../rules/default.toml")).unwrap()
}

fn signer(origin: &str) -> NoteSigner {
    NoteSigner::new(origin, &[7; 32]).unwrap()
}

struct Log {
    location: StoreLocation,
    origin: &'static str,
    rules: Rules,
    snapshots: SnapshotConfig,
}

impl Log {
    fn sqlite(dir: &Path, origin: &'static str, rules: Rules) -> Log {
        Log {
            location: StoreLocation::Sqlite {
                dir: dir.to_path_buf(),
            },
            origin,
            rules,
            snapshots: SnapshotConfig {
                dir: dir.join("snapshots"),
                interval_entries: 10,
            },
        }
    }

    /// A server whose simulated clock starts at `start` and runs `speed` times real time;
    /// with `snapshots` false it neither reads nor writes snapshots.
    async fn serve(&self, start_at: Timestamp, speed: f64, snapshots: bool) -> RunningServer {
        start(ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            location: self.location.clone(),
            origin: self.origin.to_string(),
            log_signer: signer(self.origin),
            exchange_key: key("exchange", 0),
            rules: self.rules.clone(),
            clock: Clock::simulated(start_at, speed),
            admin_token: Some(common::ADMIN.to_string()),
            rate_per_key: 1_000,
            queue_inputs_max: assay_server::sequencer::QUEUE_INPUTS_MAX,
            snapshots: snapshots.then(|| self.snapshots.clone()),
            data_dir: self
                .snapshots
                .dir
                .parent()
                .expect("snapshots live in a data directory")
                .to_path_buf(),
            ach: Some(assay_server::ach_config::AchOriginator::test_values()),
        })
        .await
        .unwrap()
    }

    async fn writer(&self) -> LogWriter<AnyStore> {
        let store = AnyStore::open(&self.location).await.unwrap();
        LogWriter::open(store, self.origin, signer(self.origin))
            .await
            .unwrap()
    }

    /// What `start` would resume from now, and the state a full replay of the log reaches.
    async fn resume_and_replay(&self) -> (Resume, State) {
        let writer = self.writer().await;
        let resumed = resume(&self.snapshots, &writer, self.origin).await;
        let mut entries = Vec::new();
        let size = writer.size();
        let mut from = 0;
        while from < size {
            let to = (from + assay_store::ENTRIES_READ_MAX).min(size);
            entries.extend(writer.store().entries(from, to).await.unwrap());
            from = to;
        }
        let full = replay(entries.iter().map(Vec::as_slice)).unwrap();
        writer.store().close().await;
        (resumed, full)
    }

    fn snapshot_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.snapshots.dir)
            .map(|listing| listing.map(|entry| entry.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    }
}

fn registration(label: &str, index: u64) -> Envelope {
    let member = key(label, index);
    let payout = PayoutChoice {
        rail: Rail::Usdc,
        destination_commitment: [3; 32],
    };
    let device_key = key(&format!("{label}-device"), index)
        .verifying_key()
        .into();
    Envelope::sign(&member, 0, Command::RegisterMember { device_key, payout })
}

async fn post(server: &RunningServer, envelope: &Envelope) -> Value {
    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/commands", server.addr))
        .json(envelope)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn get(server: &RunningServer, path: &str) -> Value {
    reqwest::get(format!("http://{}{path}", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn register(server: &RunningServer, label: &str, count: u64) -> Vec<(Envelope, Value)> {
    let mut accepted = Vec::new();
    for index in 0..count {
        let envelope = registration(label, index);
        let answer = post(server, &envelope).await;
        accepted.push((envelope, answer));
    }
    accepted
}

/// The whole story: snapshots while serving and at the stop, a tail written without them, then
/// a restart from the snapshot that equals a full replay.
async fn restart_from_snapshot(log: Log) {
    // January 31st, a day every 3 s: the run on February 1st lands while the first server runs.
    let january = Timestamp(LAST_DAY_OF_JANUARY.start().0 + 1_000_000);
    let first = log.serve(january, 86_400.0 / 3.0, true).await;
    assert_eq!(first.started.snapshot_size, None);
    let before = register(&first, "member", 40).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&first, "/v1/runs").await.as_array().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the month's run never came");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let runs = get(&first, "/v1/runs").await;
    first.stop().await.unwrap();
    // Periodic snapshots and the one at the stop, of which the newest two are kept.
    assert_eq!(log.snapshot_files().len(), 2, "{:?}", log.snapshot_files());

    // A tail the snapshots do not cover: a server that writes none.
    let february = Timestamp(TradingDay(LAST_DAY_OF_JANUARY.0 + 10).start().0 + 1_000_000);
    let second = log.serve(february, 1.0, false).await;
    assert_eq!(second.started.snapshot_size, None);
    let after = register(&second, "late", 15).await;
    second.stop().await.unwrap();

    let (resumed, full) = log.resume_and_replay().await;
    let snapshot_size = resumed.snapshot_size.expect("resumed from a snapshot");
    assert!(
        resumed.log_size() - snapshot_size >= 15,
        "a tail was replayed"
    );
    assert_eq!(resumed.state.hash(), full.hash());
    assert_eq!(resumed.state, full);

    let third = log.serve(february, 1.0, true).await;
    assert_eq!(third.started.snapshot_size, Some(snapshot_size));
    assert_eq!(
        third.started.replayed_entries,
        third.started.log_size - snapshot_size
    );
    // Resubmissions get their original answers, from before the snapshot and from the tail.
    for (envelope, answer) in [&before[0], &before[39], &after[0], &after[14]] {
        assert_eq!(&post(&third, envelope).await, answer);
    }
    assert_eq!(get(&third, "/v1/runs").await, runs);
    assert_eq!(
        get(&third, "/v1/health").await["log_size"],
        third.started.log_size
    );
    third.stop().await.unwrap();
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("assay-snapshots-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A log in `schema`, with its snapshots in `dir` (the data directory keeps the snapshots, and
/// would keep the keys, beside PostgreSQL).
fn postgres_log(schema: &common::PgSchema, dir: &std::path::Path) -> Log {
    Log {
        location: schema.location(),
        origin: ORIGIN,
        rules: rules(),
        snapshots: SnapshotConfig {
            dir: dir.join("snapshots"),
            interval_entries: 10,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_from_a_snapshot_equals_a_full_replay_on_sqlite() {
    let dir = scratch("sqlite");
    restart_from_snapshot(Log::sqlite(&dir, ORIGIN, rules())).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_from_a_snapshot_equals_a_full_replay_on_postgres() {
    let Some(schema) = common::PgSchema::fresh("assay_snapshots") else {
        return;
    };
    let dir = scratch("postgres");
    restart_from_snapshot(postgres_log(&schema, &dir)).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What a repeated deposit gets after a restart: the answer the deposit got first (200, the
/// same body), with nothing changed or logged; another amount under its reference gets 409
/// `deposit_reference_reused`. First from a snapshot that carries no outcomes, as one does when
/// the deposit is older than its last `SNAPSHOT_OUTCOMES_MAX` entries, so only the engine's
/// record of the reference can answer; then after a full replay.
async fn a_repeated_deposit_gets_its_first_answer_after_a_restart(log: Log) {
    let day = Timestamp(TradingDay(20_454).start().0 + 1_000_000);
    let first = log.serve(day, 1.0, true).await;
    post(
        &first,
        &Envelope::sign(&key("buyer", 0), 0, Command::RegisterBuyer),
    )
    .await;
    let reference = [0xde; 32];
    let api = common::Api::new(&first);
    let (status, answer) = api.deposit_with(0, 5_000_000, reference).await;
    assert_eq!(status, 200, "{answer}");
    register(&first, "member", 3).await;
    first.stop().await.unwrap();

    let (_, full) = log.resume_and_replay().await;
    let writer = log.writer().await;
    let log_size = writer.size();
    let pending = PendingSnapshot {
        state: full,
        log_size,
        log_root: writer.root(),
        outcomes: Vec::new(),
        runs: Vec::new(),
    };
    writer.store().close().await;
    write_snapshot(&log.snapshots.dir, &pending).unwrap();

    for from_snapshot in [true, false] {
        let server = log.serve(day, 1.0, from_snapshot).await;
        let started = &server.started;
        assert_eq!(started.snapshot_size, from_snapshot.then_some(log_size));
        let health = get(&server, "/v1/health").await;
        let api = common::Api::new(&server);
        assert_eq!(
            api.deposit_with(0, 5_000_000, reference).await,
            (200, answer.clone())
        );
        let (status, problem) = api.deposit_with(0, 5_000_001, reference).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (409, Some("deposit_reference_reused"))
        );
        assert_eq!(
            get(&server, "/v1/health").await,
            health,
            "the state or the log changed"
        );
        assert_eq!(health["log_size"], log_size);
        server.stop().await.unwrap();
    }
    let (_, full) = log.resume_and_replay().await;
    assert_eq!(full.buyers[0].available.get(), 5_000_000, "credited once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_deposit_gets_its_first_answer_after_a_restart_on_sqlite() {
    let dir = scratch("deposit-sqlite");
    a_repeated_deposit_gets_its_first_answer_after_a_restart(Log::sqlite(&dir, ORIGIN, rules()))
        .await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_deposit_gets_its_first_answer_after_a_restart_on_postgres() {
    let Some(schema) = common::PgSchema::fresh("assay_snapshots_deposit") else {
        return;
    };
    let dir = scratch("deposit-postgres");
    a_repeated_deposit_gets_its_first_answer_after_a_restart(postgres_log(&schema, &dir)).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A log of `count` registrations after genesis, snapshotted every 10 entries and at the stop.
async fn small_log(log: &Log, label: &str, count: u64) {
    let day = Timestamp(TradingDay(20_454).start().0 + 1_000_000);
    let server = log.serve(day, 1.0, true).await;
    register(&server, label, count).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_snapshot_is_passed_over() {
    let dir = scratch("damaged");
    let log = Log::sqlite(&dir, ORIGIN, rules());
    small_log(&log, "member", 25).await;
    let files = log.snapshot_files();
    assert_eq!(files.len(), 2);
    let (older, newest) = (&files[0], &files[1]);

    // One flipped byte in the newest: the older one is used, and the result is still exact.
    let mut bytes = std::fs::read(newest).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(newest, &bytes).unwrap();
    let (resumed, full) = log.resume_and_replay().await;
    assert!(resumed.snapshot_size.unwrap() < 26);
    assert_eq!(resumed.state, full);

    // The older one truncated too: nothing is trusted, the whole log is replayed.
    let bytes = std::fs::read(older).unwrap();
    std::fs::write(older, &bytes[..bytes.len() - 1]).unwrap();
    let (resumed, _) = log.resume_and_replay().await;
    assert_eq!(resumed.snapshot_size, None);
    assert_eq!(resumed.log_size(), 0);
    let day = Timestamp(TradingDay(20_454).start().0 + 1_000_000);
    let server = log.serve(day, 1.0, true).await;
    assert_eq!(server.started.snapshot_size, None);
    assert_eq!(server.started.replayed_entries, 26);
    server.stop().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Snapshots of other logs (another origin; the same origin with other genesis rules) are
/// refused even where their size fits this log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_another_log_is_ignored() {
    let dir = scratch("foreign");
    let log = Log::sqlite(&dir.join("ours"), ORIGIN, rules());
    small_log(&log, "member", 25).await;
    let mut other_rules = rules();
    other_rules.breaker.drop_bps += 1;
    let others = [
        Log::sqlite(&dir.join("origin"), "other.test/log", rules()),
        Log::sqlite(&dir.join("rules"), ORIGIN, other_rules),
    ];
    // Sizes 21 and 18, so their files' names differ: snapshots at 10, 20, 21 and 10, 18.
    for (other, count) in others.iter().zip([20, 17]) {
        small_log(other, "member", count).await;
    }
    for file in log.snapshot_files() {
        std::fs::remove_file(file).unwrap();
    }
    for other in &others {
        for file in other.snapshot_files() {
            let name = file.file_name().unwrap();
            std::fs::copy(&file, log.snapshots.dir.join(name)).unwrap();
        }
    }
    assert_eq!(log.snapshot_files().len(), 4, "two kept from each");
    let (resumed, full) = log.resume_and_replay().await;
    assert_eq!(resumed.snapshot_size, None);
    assert_eq!(full.members.len(), 25);
    std::fs::remove_dir_all(&dir).unwrap();
}
