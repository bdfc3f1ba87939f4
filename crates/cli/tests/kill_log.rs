//! Kill -9 durability (issue 4): a child process appends to the log in a loop, printing each
//! size once its commit has returned; the test kills it with SIGKILL at random moments, and
//! after every kill checks that `assay log verify` passes and that every acknowledged entry is
//! stored with the same bytes. The next child resumes the same log, so each round also checks
//! that a restart continues from the stored root.
//!
//! The moments come from a seed printed at the start; `ASSAY_KILL_SEED=<seed>` replays a run.
#![cfg(unix)]

use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use assay_store::{AnyStore, LogStore, StoreLocation, ENTRIES_READ_MAX};

#[path = "common/kill.rs"]
mod kill;
use kill::{seed, Rng};

/// Kills per backend (the issue asks for at least 20).
const KILLS: u32 = 24;
/// Longest a child runs before it is killed.
const RUN_MS_MAX: u64 = 300;

/// Copy of `log_cmd::loop_entry` (a binary crate's functions cannot be imported): entry
/// `index` of the append loop's log.
fn loop_entry(index: u64) -> Vec<u8> {
    let mut entry = format!("assay append-loop entry {index:020}:").into_bytes();
    let length = 30 + (index % 97) as usize;
    entry.resize(length, (index % 251) as u8);
    entry
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(future)
}

fn assay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_assay"))
}

/// Runs the append loop for a random moment, kills it with SIGKILL, and returns the largest
/// size it acknowledged (if any).
fn run_and_kill(store_args: &[String], moments: &mut Rng) -> Option<u64> {
    let mut child = assay()
        .args([
            "log",
            "append-loop",
            "--batch-max",
            "16",
            "--checkpoint-every",
            "3",
        ])
        .args(store_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the append loop starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut last = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("stdout is text");
            last = Some(line.trim().parse::<u64>().expect("each line is a size"));
        }
        last
    });
    std::thread::sleep(Duration::from_millis(10 + moments.below(RUN_MS_MAX)));
    child.kill().expect("SIGKILL is delivered");
    let status = child.wait().expect("the child is reaped");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("stderr is readable");
    assert_eq!(
        status.signal(),
        Some(9),
        "the append loop ended before it was killed: {status}; stderr: {stderr}"
    );
    reader.join().expect("the reader thread finishes")
}

fn verify(store_args: &[String]) {
    let output = assay()
        .args(["log", "verify"])
        .args(store_args)
        .output()
        .expect("assay log verify runs");
    assert!(
        output.status.success(),
        "assay log verify failed after a kill:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every stored entry is the loop's entry for its index, and at least `acknowledged` are
/// stored. Returns the stored size.
fn check_entries(location: &StoreLocation, acknowledged: u64) -> u64 {
    block_on(async {
        let store = AnyStore::open(location).await.expect("the store opens");
        let size = store.head().await.expect("the head reads").size;
        assert!(
            size >= acknowledged,
            "{acknowledged} entries were acknowledged but only {size} are stored"
        );
        let mut start = 0;
        while start < size {
            let end = (start + ENTRIES_READ_MAX).min(size);
            let entries = store.entries(start, end).await.expect("entries read");
            for (index, entry) in (start..end).zip(entries) {
                assert_eq!(entry, loop_entry(index), "entry {index} changed");
            }
            start = end;
        }
        store.close().await;
        size
    })
}

fn kill_repeatedly(store_args: &[String], location: &StoreLocation) {
    let mut moments = Rng::new(seed());
    let mut acknowledged = 0u64;
    let mut rounds_with_progress = 0u32;
    for round in 0..KILLS {
        let acked = run_and_kill(store_args, &mut moments);
        if let Some(acked) = acked {
            assert!(acked >= acknowledged, "round {round}: sizes went backwards");
            rounds_with_progress += u32::from(acked > acknowledged);
            acknowledged = acked;
        }
        verify(store_args);
        let stored = check_entries(location, acknowledged);
        eprintln!("round {round}: acknowledged {acked:?}, stored {stored}");
        // Entries committed but not yet acknowledged when the kill came count as stored.
        acknowledged = acknowledged.max(stored);
    }
    assert!(
        rounds_with_progress >= KILLS / 2,
        "only {rounds_with_progress} of {KILLS} runs acknowledged anything: the test did not exercise appends"
    );
}

#[test]
fn sqlite_log_survives_sigkill() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    let store_args = vec!["--data".to_string(), data.display().to_string()];
    kill_repeatedly(&store_args, &StoreLocation::Sqlite { dir: data.clone() });
}

#[test]
fn postgres_log_survives_sigkill() {
    let Ok(url) = std::env::var("ASSAY_TEST_DATABASE_URL") else {
        eprintln!("ASSAY_TEST_DATABASE_URL is unset: skipping the PostgreSQL kill test");
        return;
    };
    let schema = format!("assay_kill_test_{}", std::process::id());
    block_on(async {
        assay_store::PgStore::drop_schema(&url, &schema)
            .await
            .expect("drop");
        // Creates the schema; the children reach it through the URL's search_path.
        assay_store::PgStore::open_in_schema(&url, &schema)
            .await
            .expect("the schema is created")
            .close()
            .await;
    });
    let separator = if url.contains('?') { '&' } else { '?' };
    let schema_url = format!("{url}{separator}options[search_path]={schema}");
    let keys = tempfile::tempdir().expect("a temporary directory");
    let store_args = vec![
        "--data".to_string(),
        keys.path().display().to_string(),
        "--database".to_string(),
        schema_url.clone(),
    ];
    kill_repeatedly(
        &store_args,
        &StoreLocation::Postgres {
            url: schema_url,
            schema: None,
        },
    );
    block_on(assay_store::PgStore::drop_schema(&url, &schema)).expect("drop");
}

/// `assay log verify` exits non-zero, naming the damage, when an entry or a checkpoint was
/// changed behind the store's back (changes the torn-store check at open cannot see).
#[test]
fn verify_refuses_a_tampered_log() {
    for (damage, expect) in [
        (
            "UPDATE log_entries SET data = x'00' WHERE idx = 7",
            "differs from the hash recomputed from the entries",
        ),
        (
            "UPDATE log_checkpoints SET note = \
             replace(note, char(10) || char(10), char(10) || 'extra' || char(10) || char(10))",
            "does not verify",
        ),
    ] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        let store_args = vec!["--data".to_string(), data.display().to_string()];
        let output = assay()
            .args(["log", "append-loop", "--entries-max", "300"])
            .args(&store_args)
            .output()
            .expect("the append loop runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        verify(&store_args);
        let url = format!(
            "sqlite://{}",
            data.join(assay_store::SQLITE_FILE_NAME).display()
        );
        block_on(async {
            let pool = sqlx::SqlitePool::connect(&url)
                .await
                .expect("the database opens");
            let changed = sqlx::query(sqlx::AssertSqlSafe(damage))
                .execute(&pool)
                .await
                .expect("the damage applies")
                .rows_affected();
            assert!(changed > 0, "{damage} changed nothing");
            pool.close().await;
        });
        let output = assay()
            .args(["log", "verify"])
            .args(&store_args)
            .output()
            .expect("assay log verify runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "verify passed after {damage}");
        assert!(
            stderr.contains(expect),
            "after {damage}, verify said: {stderr}"
        );
    }
}
