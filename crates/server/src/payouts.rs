//! The monthly run's payout files (rules D4, D6; issue 9). Right after the engine records a run,
//! the sequencer asks [`PayoutWriter::write`] for the rails' files: each payable line whose
//! member handed the exchange a destination matching their logged commitment goes to its rail
//! (`assay_rails::write_run`), and the files land in `DATA/payouts/YYYY-MM/`. The sequencer then
//! logs each file's name, SHA-256, rail, line count and total (`RecordPayoutFiles`) and only then
//! the settlement, whose reference is the hash of that file list.
//!
//! A payable line without such a destination is **held**: it is listed in `RecordPayoutFiles`,
//! and the engine returns its amount to the member's carried balance, so it is paid at a later
//! run once the member has sent a destination. It is never dropped, and the run still conserves
//! money to the micro-dollar: Σ files + Σ held + rollover = payouts + rollover of the run (D9).
//! So is an ACH line while the operator has configured no ACH originator ([`AchOriginator`]):
//! no ACH file is written with made-up originator details, and the other rails are unaffected.
//!
//! Regenerating a run gives the same bytes: every input (the lines, the destinations, the ACH
//! originator's details from the operator's configuration, and dates, which derive from the
//! month) is fixed by the log, the private table and that configuration, and no file carries the
//! time it was written. Files are written atomically
//! (temp file, fsync, rename, fsync of the directory); a file of an earlier attempt at the same
//! run that the new list does not name is removed.

use crate::ach_config::AchOriginator;
use crate::destinations::Destinations;
use anyhow::Context;
use assay_core::{MemberId, Micros, Month};
use assay_engine::command::Digest;
use assay_engine::{PayoutFile, Rail as EngineRail, State};
use assay_rails::ach::AchLimits;
use assay_rails::usdc::DocumentOptions;
use assay_rails::{write_run, PayoutLine, Rail, RunId};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The run directory's parent inside the data directory.
pub const PAYOUTS_DIR_NAME: &str = "payouts";
/// Domain tag of a settlement reference: SHA-256 of this and each file's name, NUL, SHA-256.
const SETTLEMENT_DOMAIN: &[u8] = b"assay/payout-files/v1\n";

/// What the rails were given for a run.
#[derive(Debug, Clone)]
pub struct WrittenRun {
    pub files: Vec<PayoutFile>,
    /// Members whose line was held, ascending.
    pub held: Vec<MemberId>,
    /// SHA-256 over the file list (see [`settlement_reference`]).
    pub settlement_reference: Digest,
}

/// Writes runs' files into `DATA/payouts/`.
pub struct PayoutWriter {
    dir: PathBuf,
    destinations: Arc<Destinations>,
    /// `None`: the operator configured no originator, and ACH lines are held.
    ach: Option<AchOriginator>,
}

/// `DATA/payouts/YYYY-MM`.
pub fn run_dir(data_dir: &Path, month: Month) -> PathBuf {
    data_dir.join(PAYOUTS_DIR_NAME).join(month.to_string())
}

/// The settlement reference of a file list: what the log's settlement says was paid.
pub fn settlement_reference(files: &[PayoutFile]) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update(SETTLEMENT_DOMAIN);
    for file in files {
        hasher.update(file.name.as_bytes());
        hasher.update([0]);
        hasher.update(file.sha256);
    }
    hasher.finalize().into()
}

fn engine_rail(rail: Rail) -> EngineRail {
    match rail {
        Rail::Ach => EngineRail::Ach,
        Rail::Usdc => EngineRail::Usdc,
        Rail::Prepaid => EngineRail::Prepaid,
    }
}

impl PayoutWriter {
    pub fn new(
        data_dir: &Path,
        destinations: Arc<Destinations>,
        ach: Option<AchOriginator>,
    ) -> PayoutWriter {
        PayoutWriter {
            dir: data_dir.to_path_buf(),
            destinations,
            ach,
        }
    }

    /// Writes the files of the unsettled run in `state` (which must be `month`'s) and returns
    /// what the log should record.
    pub async fn write(&self, state: &State, month: Month) -> anyhow::Result<WrittenRun> {
        let run = state
            .unsettled
            .as_ref()
            .filter(|run| run.month == month)
            .with_context(|| format!("no unsettled run for {month}"))?;
        let wanted: BTreeSet<MemberId> = run.lines.iter().map(|line| line.member).collect();
        let found = self.destinations.load(&wanted).await?;
        let mut lines = Vec::with_capacity(run.lines.len());
        let mut held = Vec::new();
        let mut paid_total = Micros::ZERO;
        let mut ach_held = 0u64;
        for line in &run.lines {
            let member = state
                .member(line.member)
                .with_context(|| format!("run line of unknown member {}", line.member))?;
            let destination = found.get(&line.member).and_then(|(salt, destination)| {
                // Checked again at the run: the row must still match what the log commits to.
                let matches = destination.commitment(salt).0
                    == member.payout.destination_commitment
                    && engine_rail(destination.rail()) == member.payout.rail;
                matches.then_some(*destination)
            });
            // No originator, no ACH file: the line waits in the member's balance instead.
            let no_originator =
                self.ach.is_none() && destination.is_some_and(|d| d.rail() == Rail::Ach);
            ach_held += u64::from(no_originator);
            match destination.filter(|_| !no_originator) {
                Some(destination) => {
                    paid_total = paid_total.checked_add(line.amount)?;
                    lines.push(PayoutLine {
                        member: line.member,
                        amount: line.amount,
                        destination,
                    });
                }
                None => held.push(line.member),
            }
        }
        if ach_held > 0 {
            eprintln!(
                "WARNING: {month}: {ach_held} ACH payout lines held, no ACH originator is \
                 configured (assay serve --ach-config FILE, or DATA/ach.toml)"
            );
        }
        let dir = run_dir(&self.dir, month);
        let mut files = Vec::new();
        let mut written = Vec::new();
        if !lines.is_empty() {
            let ach = self
                .ach
                .as_ref()
                .map(|originator| originator.config(month))
                .transpose()?;
            let run_files = write_run(
                ach.as_ref(),
                &AchLimits::NACHA,
                RunId::new(month, 1)?,
                &lines,
                paid_total,
                DocumentOptions { proofs: true },
            )?;
            for file in run_files.files() {
                let name = file.name().to_string();
                written.push((name.clone(), file.bytes().to_vec()));
                files.push(PayoutFile {
                    name,
                    sha256: file.sha256(),
                    rail: engine_rail(file.rail()),
                    lines: file.lines(),
                    total: file.total(),
                });
            }
        }
        let settlement_reference = settlement_reference(&files);
        tokio::task::spawn_blocking(move || write_files(&dir, &written))
            .await
            .context("joining the payout file writer")??;
        Ok(WrittenRun {
            files,
            held,
            settlement_reference,
        })
    }
}

/// Writes each file atomically into `dir` and removes any other file there.
fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, bytes) in files {
        let path = dir.join(name);
        let temp = dir.join(format!(".{name}.tmp"));
        // The files name members' accounts: readable by the operator only, like the key.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options
            .open(&temp)
            .with_context(|| format!("creating {}", temp.display()))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &path).with_context(|| format!("renaming to {}", path.display()))?;
    }
    let names: BTreeSet<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if !names.contains(name.to_string_lossy().as_ref()) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
        }
    }
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// One rail's part of a run, as the log records its files.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RailStatus {
    /// `ach`, `usdc` or `prepaid`.
    pub rail: String,
    pub files: u64,
    pub lines: u64,
    pub total_micros: u64,
}

/// One file the rails were given, as logged: no destination detail, only what identifies it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FileStatus {
    pub name: String,
    pub rail: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub lines: u64,
    pub total_micros: u64,
}

/// A monthly run's payout status (D4, D6): aggregates from the log only, so members can see
/// that the run happened on time and an auditor can match the files' hashes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PayoutStatus {
    /// `YYYY-MM`.
    pub month: String,
    /// `files_pending` (run recorded, files not yet logged), `files_recorded`, `settled`, or
    /// `nothing_to_pay` (no member reached the threshold).
    pub status: String,
    /// Hex.
    pub payout_root: String,
    /// The run entry's stamp, µs since the Unix epoch, and as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    pub started_micros: i64,
    pub started_at: String,
    /// The settlement entry's stamp (the run is finished), if logged.
    pub finished_micros: Option<i64>,
    pub finished_at: Option<String>,
    /// The run's payout lines and their total (before any is held).
    pub payouts: u64,
    pub payouts_total_micros: u64,
    /// Per rail: files, lines and money paid.
    pub rails: Vec<RailStatus>,
    /// Lines held for want of a destination and returned to members' balances.
    pub held_lines: u64,
    pub held_total_micros: u64,
    pub rollover_out_micros: u64,
    pub files: Vec<FileStatus>,
    /// Hex, once settled.
    pub settlement_reference: Option<String>,
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` of a stamp (UTC).
pub fn rfc3339(timestamp: assay_core::Timestamp) -> String {
    let day = timestamp.trading_day();
    let micros = timestamp.0 - day.start().0;
    let seconds = micros / 1_000_000;
    format!(
        "{day}T{:02}:{:02}:{:02}.{:06}Z",
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60,
        micros % 1_000_000
    )
}

fn rail_text(rail: EngineRail) -> &'static str {
    match rail {
        EngineRail::Ach => "ach",
        EngineRail::Usdc => "usdc",
        EngineRail::Prepaid => "prepaid",
    }
}

/// Whether an entry's events belong to a run's status (kept with snapshots for the public
/// views: the run, its files, its settlement).
pub fn is_run_entry(events: &[assay_engine::Event]) -> bool {
    use assay_engine::Event;
    events.iter().any(|event| {
        matches!(
            event,
            Event::MonthlyRunRecorded { .. }
                | Event::PayoutFilesRecorded { .. }
                | Event::PayoutsSettled { .. }
        )
    })
}

/// The runs' statuses, updated entry by entry from the log.
#[derive(Debug, Clone, Default)]
pub struct PayoutRuns(Vec<PayoutStatus>);

impl PayoutRuns {
    pub fn all(&self) -> &[PayoutStatus] {
        &self.0
    }

    /// Takes one applied entry's stamp and events.
    pub fn observe(&mut self, timestamp: assay_core::Timestamp, events: &[assay_engine::Event]) {
        use assay_engine::Event;
        for event in events {
            match event {
                Event::MonthlyRunRecorded {
                    month,
                    payout_root,
                    payout_count,
                    report,
                } => {
                    let nothing = *payout_count == 0;
                    self.0.push(PayoutStatus {
                        month: month.to_string(),
                        status: if nothing {
                            "nothing_to_pay"
                        } else {
                            "files_pending"
                        }
                        .to_string(),
                        payout_root: hex::encode(payout_root),
                        started_micros: timestamp.0,
                        started_at: rfc3339(timestamp),
                        finished_micros: nothing.then_some(timestamp.0),
                        finished_at: nothing.then(|| rfc3339(timestamp)),
                        payouts: *payout_count,
                        payouts_total_micros: report.payouts_total.get(),
                        rails: Vec::new(),
                        held_lines: 0,
                        held_total_micros: 0,
                        rollover_out_micros: report.rollover_out.get(),
                        files: Vec::new(),
                        settlement_reference: None,
                    });
                }
                Event::PayoutFilesRecorded {
                    payout_root,
                    files,
                    held,
                } => {
                    let Some(run) = self.find(payout_root) else {
                        continue;
                    };
                    run.status = "files_recorded".to_string();
                    run.files = files
                        .iter()
                        .map(|file| FileStatus {
                            name: file.name.clone(),
                            rail: rail_text(file.rail).to_string(),
                            sha256: hex::encode(file.sha256),
                            lines: file.lines,
                            total_micros: file.total.get(),
                        })
                        .collect();
                    run.rails = [EngineRail::Ach, EngineRail::Usdc, EngineRail::Prepaid]
                        .into_iter()
                        .map(|rail| {
                            let on = files.iter().filter(|file| file.rail == rail);
                            RailStatus {
                                rail: rail_text(rail).to_string(),
                                files: on.clone().count() as u64,
                                lines: on.clone().map(|file| file.lines).sum(),
                                total_micros: on.map(|file| file.total.get()).sum(),
                            }
                        })
                        .collect();
                    run.held_lines = held.len() as u64;
                    run.held_total_micros = held.iter().map(|line| line.amount.get()).sum();
                }
                Event::PayoutsSettled {
                    payout_root,
                    settlement_reference,
                } => {
                    let Some(run) = self.find(payout_root) else {
                        continue;
                    };
                    run.status = "settled".to_string();
                    run.finished_micros = Some(timestamp.0);
                    run.finished_at = Some(rfc3339(timestamp));
                    run.settlement_reference = Some(hex::encode(settlement_reference));
                }
                _ => {}
            }
        }
    }

    fn find(&mut self, payout_root: &Digest) -> Option<&mut PayoutStatus> {
        let root = hex::encode(payout_root);
        self.0
            .iter_mut()
            .rev()
            .find(|run| run.payout_root == root && run.status != "nothing_to_pay")
    }
}
