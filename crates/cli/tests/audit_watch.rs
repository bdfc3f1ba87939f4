//! `assay audit watch` follows a log file and reports a poison-pill trigger the moment its facts
//! appear (issue 6, SPEC X1).

use assay_coop::{Clause, ClauseChange};
use assay_core::{Micros, PublicKey, Rules, Timestamp, TradingDay};
use assay_engine::{
    execute, Command, Envelope, Event, Input, LogEntry, PayoutChoice, ProposalKind, Rail, State,
};
use assay_log::{Checkpoint, NoteSigner};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const ORIGIN: &str = "watch.test/log";

fn key(seed: u64) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(seed.to_be_bytes()).into())
}

fn log_signer() -> NoteSigner {
    NoteSigner::new(ORIGIN, &[4; 32]).unwrap()
}

/// A log being written: the engine's state and the file's records so far.
struct Log {
    state: State,
    now: Timestamp,
    records: Vec<u8>,
}

impl Log {
    fn new() -> Log {
        let rules = Rules::from_toml_str(include_str!("../../../rules/default.toml")).unwrap();
        let mut log = Log {
            state: State::new(),
            now: TradingDay(20_481).start(), // 2026-01-28
            records: Vec::new(),
        };
        log.push(
            &key(0),
            Command::Genesis {
                rules_json: rules.canonical_json(),
                log_origin: ORIGIN.to_string(),
                log_vkey: log_signer().verifier_key().to_vkey(),
            },
        );
        log.push(
            &key(0),
            Command::RegisterFoundingMember {
                member_key: key(1).verifying_key().into(),
                device_key: key(2).verifying_key().into(),
                payout: PayoutChoice {
                    rail: Rail::Usdc,
                    destination_commitment: [0; 32],
                },
            },
        );
        log.push(&key(3), Command::RegisterBuyer);
        log.push(
            &key(0),
            Command::FundBuyer {
                buyer: assay_core::BuyerId(0),
                amount: Micros::new(1_000_000),
                deposit_reference: [0; 32],
            },
        );
        log
    }

    fn input(&mut self, signer: &SigningKey, command: Command) -> Input {
        let public = PublicKey::from(signer.verifying_key());
        let sequence = self.state.sequences.get(&public).copied().unwrap_or(0);
        self.now = Timestamp(self.now.0 + 1);
        Input {
            envelope: Envelope::sign(signer, sequence, command),
            timestamp: self.now,
        }
    }

    fn record(&mut self, entry: &LogEntry) {
        let bytes = entry.encode();
        self.records
            .extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        self.records.extend_from_slice(&bytes);
    }

    fn push(&mut self, signer: &SigningKey, command: Command) -> Vec<Event> {
        let input = self.input(signer, command);
        let (events, entry) = execute(&mut self.state, input).unwrap();
        self.record(&entry);
        events
    }
}

fn equivocation() -> Command {
    let note = |seed: u8| {
        Checkpoint::new(ORIGIN, 10, assay_log::leaf_hash(&[seed]))
            .unwrap()
            .sign(&log_signer())
            .unwrap()
            .to_text()
    };
    Command::ProveEquivocation {
        first_note: note(1),
        second_note: note(2),
    }
}

fn temp_log(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("assay-watch-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.bin");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn watch_once(path: &PathBuf) -> (Option<i32>, String) {
    let output = Process::new(env!("CARGO_BIN_EXE_assay"))
        .args(["audit", "watch", "--once", "--log"])
        .arg(path)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (output.status.code(), stdout)
}

#[test]
fn a_log_without_a_trigger_reports_none() {
    let log = Log::new();
    let path = temp_log("none", &log.records);
    let (code, stdout) = watch_once(&path);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout.trim(), "no trigger in 4 entries");
}

#[test]
fn equivocating_checkpoints_are_reported_at_their_entry() {
    // rule X1.4
    let mut log = Log::new();
    let events = log.push(&key(99), equivocation());
    assert!(matches!(events.last(), Some(Event::Terminated { .. })));
    let path = temp_log("equivocation", &log.records);
    let (code, stdout) = watch_once(&path);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(
        stdout.starts_with("entry 4 (2026-01-28): X1.4 two checkpoints of size 10"),
        "{stdout}"
    );
    assert!(stdout.contains("the exchange terminates"), "{stdout}");
}

#[test]
fn an_immutable_amendment_on_the_log_is_reported_though_the_rules_refuse_it() {
    // rule X1.5: a dishonest exchange logged a proposal its gate should have refused.
    let mut log = Log::new();
    let kind = ProposalKind::Amendment {
        changes: vec![ClauseChange {
            clause: Clause::PoisonPill,
            text_hash: [0; 32],
        }],
    };
    let input = log.input(&key(1), Command::Propose { kind });
    log.record(&LogEntry::new(input, &[]));
    let path = temp_log("immutable", &log.records);
    let (code, stdout) = watch_once(&path);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(stdout.contains("entry 4 (2026-01-28): X1.5"), "{stdout}");
}

#[test]
fn the_watcher_reports_a_trigger_the_moment_its_entry_is_appended() {
    let mut log = Log::new();
    let path = temp_log("follow", &log.records);
    let mut child = Process::new(env!("CARGO_BIN_EXE_assay"))
        .args(["audit", "watch", "--log"])
        .arg(&path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // The normal entries raise nothing; the watcher waits for more.
    assert!(received.recv_timeout(Duration::from_millis(800)).is_err());
    let before = log.records.len();
    log.push(&key(99), equivocation());
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(&log.records[before..]).unwrap();
    file.flush().unwrap();
    let line = received.recv_timeout(Duration::from_secs(30));
    if line.is_err() {
        child.kill().unwrap();
    }
    let line = line.expect("the trigger is reported");
    assert!(line.contains("X1.4"), "{line}");
    assert_eq!(child.wait().unwrap().code(), Some(2));
}
