//! Snapshot files (issue 7): every `interval_entries` entries and at a graceful stop the
//! sequencer hands a copy of the state to a blocking thread, which writes
//! `DATA/snapshots/snapshot-<log size>.bin` atomically (temp file, fsync, rename, fsync of the
//! directory) and keeps the newest [`SNAPSHOTS_KEPT`]. At start-up [`resume`] takes the newest
//! snapshot that checks out against the log and replays only the entries after it; a snapshot
//! that does not check out is reported and skipped, and with none the whole log is replayed.
//! The files live in the data directory whatever the store (SQLite or PostgreSQL).
//!
//! A file is a server header, a sidecar and the engine's snapshot (`assay_engine::snapshot`,
//! which checks itself):
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `ASSAYSRV` |
//! | 2 | file version, `FILE_VERSION` |
//! | 8 | sidecar length |
//! | 32 | SHA-256 of the sidecar |
//! | sidecar | postcard: the log's root at the snapshot's size, the events of the last entries
//! (to answer resubmissions idempotently) and of the runs' entries (for the public view) |
//! | rest | the engine snapshot |
//!
//! Nothing in a file is trusted: the engine snapshot must decode and hash to its header, the
//! root must be this log's root at that size (so a snapshot of another log, another origin or
//! other genesis rules, is refused), the state's log origin must be this server's, and every
//! carried event list must hash to the digest its log entry records.

use crate::resume::{EntryEvents, Resume};
use crate::sequencer::Accepted;
use anyhow::{bail, ensure, Context};
use assay_engine::{
    decode_snapshot, encode_snapshot, events_digest, Event, LogEntry, SnapshotHeader, State,
};
use assay_log::Hash;
use assay_store::{AnyStore, LogStore, LogWriter, ENTRIES_READ_MAX};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Entries between two snapshots unless configured otherwise.
pub const SNAPSHOT_INTERVAL_ENTRIES: u64 = 50_000;
/// Snapshot files kept; older ones are deleted after each write. Two, so a damaged newest file
/// still leaves one to start from.
pub const SNAPSHOTS_KEPT: usize = 2;
/// Outcomes of the last entries a snapshot carries, so a client resubmitting after a restart
/// still gets its original answer (a full replay rebuilds up to `IDEMPOTENT_OUTCOMES_MAX`).
pub const SNAPSHOT_OUTCOMES_MAX: usize = 65_536;
/// Largest snapshot file read.
pub const SNAPSHOT_FILE_BYTES_MAX: u64 = 5 << 30;

const FILE_MAGIC: [u8; 8] = *b"ASSAYSRV";
const FILE_VERSION: u16 = 1;
const FILE_HEADER_BYTES: usize = 8 + 2 + 8 + 32;
const FILE_PREFIX: &str = "snapshot-";
const FILE_SUFFIX: &str = ".bin";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotConfig {
    pub dir: PathBuf,
    /// Entries between periodic snapshots; 0 writes only at a graceful stop.
    pub interval_entries: u64,
}

impl SnapshotConfig {
    /// `DATA/snapshots`, every [`SNAPSHOT_INTERVAL_ENTRIES`].
    pub fn in_data_dir(data: &Path) -> SnapshotConfig {
        SnapshotConfig {
            dir: data.join("snapshots"),
            interval_entries: SNAPSHOT_INTERVAL_ENTRIES,
        }
    }
}

/// A copy of the sequencer's state after a durable batch, waiting to be written.
pub struct PendingSnapshot {
    pub state: State,
    pub log_size: u64,
    pub log_root: Hash,
    /// The last entries' outcomes, oldest first, ending at `log_size`.
    pub outcomes: Vec<Arc<Accepted>>,
    pub runs: Vec<EntryEvents>,
}

#[derive(Serialize, Deserialize)]
struct Sidecar {
    log_root: [u8; 32],
    /// Index of the entry `outcomes[0]` belongs to.
    outcomes_from: u64,
    outcomes: Vec<Vec<Event>>,
    runs: Vec<EntryEvents>,
}

/// Encodes the file's bytes (O(state): the engine hashes the state here).
pub fn encode_file(pending: &PendingSnapshot) -> Vec<u8> {
    let outcomes_from = pending.log_size - pending.outcomes.len() as u64;
    debug_assert!(pending
        .outcomes
        .iter()
        .enumerate()
        .all(|(i, accepted)| accepted.index == outcomes_from + i as u64));
    let sidecar = Sidecar {
        log_root: *pending.log_root.as_bytes(),
        outcomes_from,
        outcomes: pending
            .outcomes
            .iter()
            .map(|accepted| accepted.events.clone())
            .collect(),
        runs: pending.runs.clone(),
    };
    let sidecar = postcard::to_allocvec(&sidecar).expect("events encode with postcard");
    let engine = encode_snapshot(&pending.state, pending.log_size);
    let mut bytes = Vec::with_capacity(FILE_HEADER_BYTES + sidecar.len() + engine.len());
    bytes.extend_from_slice(&FILE_MAGIC);
    bytes.extend_from_slice(&FILE_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(sidecar.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(&sidecar));
    bytes.extend_from_slice(&sidecar);
    bytes.extend_from_slice(&engine);
    bytes
}

/// Parses a file: the sidecar, and the engine state checked against its own header.
fn decode_file(bytes: &[u8]) -> anyhow::Result<(Sidecar, SnapshotHeader, State)> {
    ensure!(
        bytes.len() >= FILE_HEADER_BYTES,
        "truncated: {} bytes",
        bytes.len()
    );
    ensure!(
        bytes[..8] == FILE_MAGIC,
        "not a snapshot file (wrong magic)"
    );
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    ensure!(
        version == FILE_VERSION,
        "file version {version}; this build reads {FILE_VERSION}"
    );
    let sidecar_bytes = u64::from_le_bytes(bytes[10..18].try_into().expect("8 bytes"));
    let rest = &bytes[FILE_HEADER_BYTES..];
    ensure!(
        sidecar_bytes <= rest.len() as u64,
        "truncated: a sidecar of {sidecar_bytes} bytes does not fit"
    );
    let (sidecar, engine) = rest.split_at(sidecar_bytes as usize);
    ensure!(
        Sha256::digest(sidecar).as_slice() == &bytes[18..50],
        "sidecar checksum differs"
    );
    let sidecar: Sidecar = match postcard::take_from_bytes(sidecar) {
        Ok((sidecar, [])) => sidecar,
        _ => bail!("sidecar does not decode"),
    };
    let (header, state) =
        decode_snapshot(engine).map_err(|error| anyhow::anyhow!("{error} ({})", error.code()))?;
    Ok((sidecar, header, state))
}

fn file_name(log_size: u64) -> String {
    format!("{FILE_PREFIX}{log_size:020}{FILE_SUFFIX}")
}

/// Snapshot files in `dir` by the log size their name claims, newest first.
fn snapshot_files(dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(u64, PathBuf)> = listing
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let size = name
                .strip_prefix(FILE_PREFIX)?
                .strip_suffix(FILE_SUFFIX)?
                .parse()
                .ok()?;
            Some((size, entry.path()))
        })
        .collect();
    files.sort_unstable_by(|a, b| b.cmp(a));
    files
}

/// Writes `pending` to `dir` atomically, then deletes all but the newest [`SNAPSHOTS_KEPT`]
/// files and any temporary file a crash left behind.
pub fn write_snapshot(dir: &Path, pending: &PendingSnapshot) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let bytes = encode_file(pending);
    let path = dir.join(file_name(pending.log_size));
    let temp = dir.join(format!(".{}.tmp", file_name(pending.log_size)));
    let mut file =
        std::fs::File::create(&temp).with_context(|| format!("creating {}", temp.display()))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temp.display()))?;
    drop(file);
    std::fs::rename(&temp, &path).with_context(|| format!("renaming to {}", path.display()))?;
    std::fs::File::open(dir)
        .and_then(|directory| directory.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    for (_, old) in snapshot_files(dir).into_iter().skip(SNAPSHOTS_KEPT) {
        std::fs::remove_file(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    for entry in std::fs::read_dir(dir)?.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(path)
}

/// The sequencer's side: decides when a snapshot is due and writes one at a time off its task.
pub struct Snapshotter {
    config: SnapshotConfig,
    last_size: u64,
    in_flight: Option<JoinHandle<()>>,
}

impl Snapshotter {
    /// `last_size`: the log size of the snapshot the server started from (0 if none).
    pub fn new(config: SnapshotConfig, last_size: u64) -> Snapshotter {
        Snapshotter {
            config,
            last_size,
            in_flight: None,
        }
    }

    /// The log size of the last snapshot begun (or started from).
    pub fn last_size(&self) -> u64 {
        self.last_size
    }

    /// A periodic snapshot is due at `log_size`, and the previous one is written.
    pub fn due(&self, log_size: u64) -> bool {
        self.config.interval_entries > 0
            && log_size >= self.last_size.saturating_add(self.config.interval_entries)
            && self.in_flight.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Starts writing `pending` on a blocking thread. A failure is reported, never fatal: the
    /// log stays the truth, and the next snapshot is tried an interval later.
    pub fn begin(&mut self, pending: PendingSnapshot) {
        self.last_size = pending.log_size;
        let dir = self.config.dir.clone();
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            if let Err(error) = write_snapshot(&dir, &pending) {
                eprintln!(
                    "warning: writing the snapshot at log size {} failed: {error:#}",
                    pending.log_size
                );
            }
        }));
    }

    /// Waits for the snapshot being written, if any.
    pub async fn finish(&mut self) {
        if let Some(handle) = self.in_flight.take() {
            if let Err(error) = handle.await {
                eprintln!("warning: the snapshot writer failed: {error}");
            }
        }
    }
}

/// Entries `start..end` of the store, in pages.
async fn read_entries(
    writer: &LogWriter<AnyStore>,
    start: u64,
    end: u64,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut entries = Vec::with_capacity(end.saturating_sub(start) as usize);
    let mut from = start;
    while from < end {
        let to = (from + ENTRIES_READ_MAX).min(end);
        entries.extend(writer.store().entries(from, to).await?);
        from = to;
    }
    Ok(entries)
}

/// Checks that `events` are what entry `bytes` (at `index`) produced; returns the entry.
fn check_events(index: u64, bytes: &[u8], events: &[Event]) -> anyhow::Result<LogEntry> {
    let entry = LogEntry::decode(bytes).with_context(|| format!("log entry {index} decodes"))?;
    ensure!(
        events_digest(events) == entry.events_digest,
        "its events for entry {index} differ from the log's digest"
    );
    Ok(entry)
}

/// Loads one snapshot file and checks it against the log (see the module docs).
async fn load(path: &Path, writer: &LogWriter<AnyStore>, origin: &str) -> anyhow::Result<Resume> {
    let length = tokio::fs::metadata(path).await?.len();
    ensure!(
        length <= SNAPSHOT_FILE_BYTES_MAX,
        "{length} bytes exceed the limit"
    );
    let bytes = tokio::fs::read(path).await?;
    let (sidecar, header, state) = tokio::task::spawn_blocking(move || decode_file(&bytes))
        .await
        .context("joining the decoder")??;
    let log_size = header.log_size;
    ensure!(
        log_size <= writer.size(),
        "its log size {log_size} is beyond the log's {}",
        writer.size()
    );
    let root = writer.root_at(log_size).await?;
    ensure!(
        root.as_bytes() == &sidecar.log_root,
        "it belongs to another log: its root at size {log_size} is not this log's"
    );
    if let Some(exchange) = &state.exchange {
        ensure!(
            exchange.log_origin == origin,
            "it is of log {:?}, not {origin:?}",
            exchange.log_origin
        );
    }
    let mut resume = Resume::from_state(state, log_size, Some(log_size));
    resume.specs = crate::members::OpenSpecs::of_open_baskets(&resume.state);
    let outcomes_end = sidecar
        .outcomes_from
        .checked_add(sidecar.outcomes.len() as u64);
    ensure!(
        outcomes_end == Some(log_size),
        "its outcomes do not end at its log size"
    );
    let entries = read_entries(writer, sidecar.outcomes_from, log_size).await?;
    for (offset, (bytes, events)) in entries.iter().zip(sidecar.outcomes).enumerate() {
        let index = sidecar.outcomes_from + offset as u64;
        let entry = check_events(index, bytes, &events)?;
        let accepted = Arc::new(Accepted {
            index,
            timestamp: entry.input.timestamp.0,
            events,
        });
        resume
            .history
            .remember_outcome(entry.input.envelope, accepted);
    }
    let mut previous = None;
    for run in sidecar.runs {
        ensure!(
            run.index < log_size && previous.is_none_or(|p| p < run.index),
            "its run entries are out of order"
        );
        previous = Some(run.index);
        let bytes = read_entries(writer, run.index, run.index + 1).await?;
        let entry = check_events(run.index, &bytes[0], &run.events)?;
        // The members' payout lines of the carried runs (W5).
        let update = resume.specs.update(
            &resume.state,
            run.index,
            &entry.input.envelope.command,
            entry.input.timestamp.trading_day(),
            &run.events,
        );
        resume.members.apply(update);
        ensure!(
            crate::payouts::is_run_entry(&run.events),
            "entry {} holds no run, payout files or settlement",
            run.index
        );
        resume.history.remember_run(entry.input.timestamp, run);
    }
    Ok(resume)
}

/// What the server starts from: the newest snapshot in `config.dir` that checks out against
/// the log, with the entries after it replayed; or, if none does, an empty state (the
/// sequencer then replays the whole log). Every snapshot passed over is reported on stderr.
pub async fn resume(config: &SnapshotConfig, writer: &LogWriter<AnyStore>, origin: &str) -> Resume {
    for (named_size, path) in snapshot_files(&config.dir) {
        if named_size > writer.size() {
            eprintln!(
                "warning: snapshot {} is beyond the log's size {}; ignored",
                path.display(),
                writer.size()
            );
            continue;
        }
        let mut resume = match load(&path, writer, origin).await {
            Ok(resume) => resume,
            Err(error) => {
                eprintln!("warning: snapshot {} ignored: {error:#}", path.display());
                continue;
            }
        };
        let tail = match read_entries(writer, resume.log_size(), writer.size()).await {
            Ok(tail) => tail,
            Err(error) => {
                eprintln!(
                    "warning: reading the log after snapshot {}: {error:#}",
                    path.display()
                );
                continue;
            }
        };
        match resume.replay(&tail) {
            Ok(()) => return resume,
            Err(error) => eprintln!(
                "warning: snapshot {} ignored: the log after it does not replay on it: {error}",
                path.display()
            ),
        }
    }
    Resume::empty()
}
