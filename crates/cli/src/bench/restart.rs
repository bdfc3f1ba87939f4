//! `assay bench restart --inputs N --tail T`: how long the server takes to start on a log of N
//! inputs (SQLite in a temporary directory), replaying the whole log, beside starting from a
//! snapshot taken T entries before the end and replaying only those. Both starts are the real
//! `assay_server::run::start`, timed until the server listens, each checked to have started
//! the way it claims. Also reported: the snapshot's size, the time to write it (encode, hash,
//! fsync; off the sequencer's task in the server) and to copy the state (the one step the
//! sequencer's task pays).

use super::engine::{build, key, log_signer, ORIGIN};
use anyhow::{ensure, Context};
use assay_core::{Rules, Timestamp};
use assay_engine::{execute, State};
use assay_server::clock::Clock;
use assay_server::resume::EntryEvents;
use assay_server::run::{start, ServeOptions, Started};
use assay_server::sequencer::Accepted;
use assay_server::snapshot::{
    write_snapshot, PendingSnapshot, SnapshotConfig, SNAPSHOT_OUTCOMES_MAX,
};
use assay_server::view::RunView;
use assay_store::{AnyStore, LogWriter, StoreLocation};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Entries per append while the log is built.
const BUILD_BATCH_ENTRIES: usize = 4_096;

pub fn run(inputs: u64, tail: u64, json: bool) -> anyhow::Result<()> {
    ensure!(tail < inputs, "--tail must be smaller than --inputs");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = std::env::temp_dir().join(format!("assay-bench-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = runtime.block_on(bench(&dir, inputs, tail, json));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// What building the log measured about the snapshot.
struct Built {
    /// At least the inputs asked for: the workload ends its last basket.
    log_size: u64,
    last_stamp: Timestamp,
    snapshot_size: u64,
    snapshot_bytes: u64,
    snapshot_write_seconds: f64,
    state_clone_seconds: f64,
}

/// Writes the log of `inputs` inputs to `dir`, with a snapshot at `inputs - tail` in
/// `dir/snapshots`, made as the sequencer makes one.
async fn build_log(dir: &Path, inputs: u64, tail: u64) -> anyhow::Result<Built> {
    let workload = build(inputs).context("building the workload")?;
    let store = AnyStore::open(&StoreLocation::Sqlite {
        dir: dir.to_path_buf(),
    })
    .await?;
    let mut writer = LogWriter::open(store, ORIGIN, log_signer()?).await?;
    let cut = workload.len() as u64 - tail;
    let mut state = State::new();
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(BUILD_BATCH_ENTRIES);
    let mut outcomes: VecDeque<Arc<Accepted>> = VecDeque::new();
    let mut runs = Vec::new();
    let mut snapshot = None;
    for (index, input) in workload.iter().enumerate() {
        let index = index as u64;
        let timestamp = input.timestamp;
        let (events, entry) = execute(&mut state, input.clone())
            .map_err(|refusal| anyhow::anyhow!("workload refused: {refusal}"))?;
        batch.push(entry.encode());
        if events
            .iter()
            .any(|event| RunView::from_event(event).is_some())
        {
            runs.push(EntryEvents {
                index,
                events: events.clone(),
            });
        }
        outcomes.push_back(Arc::new(Accepted {
            index,
            timestamp: timestamp.0,
            events,
        }));
        if outcomes.len() > SNAPSHOT_OUTCOMES_MAX {
            outcomes.pop_front();
        }
        if batch.len() == BUILD_BATCH_ENTRIES || index + 1 == cut {
            writer.append(&batch).await?;
            batch.clear();
        }
        if index + 1 == cut {
            let cloned = Instant::now();
            let copy = state.clone();
            let state_clone_seconds = cloned.elapsed().as_secs_f64();
            let pending = PendingSnapshot {
                state: copy,
                log_size: cut,
                log_root: writer.root(),
                outcomes: outcomes.iter().cloned().collect(),
                runs: runs.clone(),
            };
            let written = Instant::now();
            let path = write_snapshot(&dir.join("snapshots"), &pending)?;
            snapshot = Some((
                state_clone_seconds,
                written.elapsed().as_secs_f64(),
                std::fs::metadata(path)?.len(),
            ));
        }
    }
    writer.append(&batch).await?;
    writer.sign_checkpoint().await?;
    writer.store().close().await;
    let (state_clone_seconds, snapshot_write_seconds, snapshot_bytes) =
        snapshot.context("the cut lies within the workload")?;
    Ok(Built {
        log_size: workload.len() as u64,
        last_stamp: workload.last().context("an empty workload")?.timestamp,
        snapshot_size: cut,
        snapshot_bytes,
        snapshot_write_seconds,
        state_clone_seconds,
    })
}

/// Starts a server on the log in `dir` and stops it; returns how it started and the seconds
/// until it listened.
async fn time_start(
    dir: &Path,
    built: &Built,
    snapshots: Option<SnapshotConfig>,
) -> anyhow::Result<(Started, f64)> {
    let started_at = Instant::now();
    let server = start(ServeOptions {
        listen: "127.0.0.1:0".parse()?,
        location: StoreLocation::Sqlite {
            dir: dir.to_path_buf(),
        },
        origin: ORIGIN.to_string(),
        log_signer: log_signer()?,
        exchange_key: key(0),
        rules: Rules::from_toml_str(crate::rules_cmd::DEFAULT_RULES)?,
        clock: Clock::simulated(Timestamp(built.last_stamp.0 + 1), 1.0),
        admin_token: None,
        rate_per_key: 1_000,
        queue_inputs_max: assay_server::sequencer::QUEUE_INPUTS_MAX,
        snapshots,
        data_dir: dir.to_path_buf(),
        ach: Some(assay_server::ach_config::AchOriginator::test_values()),
    })
    .await?;
    let seconds = started_at.elapsed().as_secs_f64();
    let started = server.started;
    server.stop().await?;
    Ok((started, seconds))
}

async fn bench(dir: &Path, inputs: u64, tail: u64, json: bool) -> anyhow::Result<()> {
    let built_at = Instant::now();
    let built = build_log(dir, inputs, tail).await?;
    let build_seconds = built_at.elapsed().as_secs_f64();

    let (full, full_seconds) = time_start(dir, &built, None).await?;
    ensure!(
        full.snapshot_size.is_none() && full.replayed_entries == built.log_size,
        "the full start did not replay the whole log: {full:?}"
    );
    // Interval 0: the only snapshot written is the one at the stop, after the timing.
    let config = SnapshotConfig {
        interval_entries: 0,
        ..SnapshotConfig::in_data_dir(dir)
    };
    let (resumed, snapshot_seconds) = time_start(dir, &built, Some(config)).await?;
    ensure!(
        resumed.snapshot_size == Some(built.snapshot_size) && resumed.replayed_entries == tail,
        "the second start did not use the snapshot: {resumed:?}"
    );
    let summary = serde_json::json!({
        "inputs": inputs,
        "log_entries": built.log_size,
        "tail": tail,
        "log_build_seconds": build_seconds,
        "full_replay_start_seconds": full_seconds,
        "snapshot_start_seconds": snapshot_seconds,
        "speedup": full_seconds / snapshot_seconds,
        "snapshot_bytes": built.snapshot_bytes,
        "snapshot_write_seconds": built.snapshot_write_seconds,
        "state_clone_ms": built.state_clone_seconds * 1e3,
    });
    if json {
        println!("{summary}");
    } else {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}
