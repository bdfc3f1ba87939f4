//! `assay audit watch --log FILE`: follows a file of log entries, replays each with the rules,
//! and reports a poison-pill trigger the moment its facts appear (SPEC X1, L3).
//!
//! Log file format: a sequence of records, each a 4-byte big-endian length followed by that many
//! bytes of one encoded `LogEntry` (`assay_engine::LogEntry::encode`), in log order. A writer
//! appends whole records; a reader that meets a partial record at the end waits for the rest.
//!
//! The watcher trusts nothing the exchange computed: it re-applies every input with the rules
//! (signatures included) and reports
//! - a trigger of X1 the moment the replayed entry terminates the exchange (every trigger is a
//!   fact of the inputs: a run's numbers, a timestamp past a deadline, two checkpoints, an
//!   amendment);
//! - an entry the rules refuse with `immutable_clause`: an amendment of a principle got past the
//!   exchange's gate (X1.5), whatever the exchange's own engine did with it;
//! - every entry the rules refuse or whose logged events differ from the rules' events (the
//!   exchange's log parts from the rules there), without stopping.
//!
//! Exit status: 2 when a trigger is reported, 0 when `--once` reaches the end without one.

use anyhow::{bail, Context};
use assay_coop::Trigger;
use assay_engine::{apply, events_digest, Event, LogEntry, Refusal, State, ENTRY_VERSION};
use clap::Subcommand;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the watcher sleeps at the end of the file before looking again.
const POLL_INTERVAL_MS: u64 = 200;
/// A record longer than the log's entry limit cannot be an entry.
const RECORD_BYTES_MAX: usize = assay_log::ENTRY_BYTES_MAX;
/// Exit status when a trigger is reported.
const TRIGGER_EXIT_CODE: i32 = 2;

#[derive(Subcommand)]
pub enum Audit {
    /// Follow a log file and report a poison-pill trigger as soon as its facts appear.
    Watch {
        /// File of length-prefixed encoded log entries.
        #[arg(long)]
        log: PathBuf,
        /// Stop at the end of the file instead of waiting for more entries.
        #[arg(long)]
        once: bool,
    },
}

pub fn run(audit: Audit) -> anyhow::Result<()> {
    match audit {
        Audit::Watch { log, once } => watch(&log, once),
    }
}

/// What one replayed entry showed.
enum Finding {
    Nothing,
    Trigger(String),
}

fn watch(path: &Path, once: bool) -> anyhow::Result<()> {
    let mut file = File::open(path).with_context(|| format!("opening log {}", path.display()))?;
    let mut pending = Vec::new();
    let mut state = State::new();
    let mut index = 0u64;
    loop {
        let mut chunk = Vec::new();
        file.read_to_end(&mut chunk)
            .with_context(|| format!("reading log {}", path.display()))?;
        pending.extend_from_slice(&chunk);
        let mut offset = 0;
        while let Some((record, used)) = next_record(&pending[offset..])? {
            offset += used;
            if let Finding::Trigger(report) = check_entry(&mut state, index, record)? {
                println!("{report}");
                std::process::exit(TRIGGER_EXIT_CODE);
            }
            index += 1;
        }
        pending.drain(..offset);
        if once {
            if !pending.is_empty() {
                bail!("the log ends inside a record after entry {index}");
            }
            println!("no trigger in {index} entries");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MS));
    }
}

/// The next whole record and the bytes it used, or `None` if it has not been fully written.
fn next_record(bytes: &[u8]) -> anyhow::Result<Option<(&[u8], usize)>> {
    let Some(prefix) = bytes.get(..4) else {
        return Ok(None);
    };
    let length = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    if length > RECORD_BYTES_MAX {
        bail!("a record of {length} bytes is longer than any log entry");
    }
    Ok(bytes.get(4..4 + length).map(|record| (record, 4 + length)))
}

/// Replays one entry with the rules and says what it showed.
fn check_entry(state: &mut State, index: u64, bytes: &[u8]) -> anyhow::Result<Finding> {
    let entry =
        LogEntry::decode(bytes).with_context(|| format!("entry {index} cannot be decoded"))?;
    if entry.version != ENTRY_VERSION {
        bail!(
            "entry {index} has encoding version {}; this build reads {ENTRY_VERSION}",
            entry.version
        );
    }
    let day = entry.input.timestamp.trading_day();
    match apply(state, &entry.input) {
        Err(Refusal::ImmutableClause) => Ok(Finding::Trigger(format!(
            "entry {index} ({day}): X1.5 an amendment of an immutable clause got past the \
             exchange's gate: the rules refuse it (immutable_clause), yet it is on the log"
        ))),
        Err(refusal) => {
            println!(
                "entry {index} ({day}): the rules refuse this logged input ({}); the log parts \
                 from the rules here",
                refusal.code()
            );
            Ok(Finding::Nothing)
        }
        Ok(events) => {
            if events_digest(&events) != entry.events_digest {
                println!(
                    "entry {index} ({day}): the logged events differ from the rules' events; \
                     the log parts from the rules here"
                );
            }
            Ok(match events.last() {
                Some(Event::Terminated {
                    report,
                    payout_root,
                    payout_count,
                }) => Finding::Trigger(format!(
                    "entry {index} ({day}): X1.{} {}; the exchange terminates: {payout_count} \
                     final payouts, {} to members, payout root {}",
                    report.trigger.number(),
                    describe(&report.trigger),
                    report.paid_total,
                    hex::encode(payout_root)
                )),
                _ => Finding::Nothing,
            })
        }
    }
}

fn describe(trigger: &Trigger) -> String {
    match trigger {
        Trigger::MembersBelowNinety { month } => {
            format!("the run of {month} would give members under 90% of gross")
        }
        Trigger::RunLate { month } => {
            format!("the run of {month} was not recorded within 3 days after the 1st")
        }
        Trigger::MemberMoneyHeld { month } => format!(
            "the payouts of {month}'s run were not settled by the 8th: member money held past \
             the schedule"
        ),
        Trigger::Equivocation {
            size,
            first_root,
            second_root,
        } => format!(
            "two checkpoints of size {size} with roots {} and {}: the log equivocated",
            hex::encode(first_root),
            hex::encode(second_root)
        ),
        Trigger::ImmutableAmendment { proposal } => {
            format!("proposal {proposal} amends an immutable clause")
        }
    }
}
