//! The checks after the last stop, from the stored log alone: acknowledged inputs are where they
//! were acknowledged, nothing else of the clients' is logged, sequence numbers have no gaps,
//! and a fresh replay reproduces the state hashes the server reported.

use crate::client::{short, ClientLog};
use assay_core::PublicKey;
use assay_engine::{replay_one, Event, LogEntry, State};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

/// What the run exercised, for the test's closing line.
pub struct Report {
    acks: usize,
    refused: usize,
    deposits: usize,
    resends: u64,
    repeats: u64,
    samples: usize,
    days_closed: usize,
    runs: usize,
    refusal_codes: BTreeMap<String, usize>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} inputs acknowledged, {} deposits, {} refused {:?}, {} resends, {} repeats \
             answered alike, {} state hashes matched, {} days closed, {} monthly runs",
            self.acks,
            self.deposits,
            self.refused,
            self.refusal_codes,
            self.resends,
            self.repeats,
            self.samples,
            self.days_closed,
            self.runs
        )
    }
}

/// Panics, naming the first broken property, unless the log and the clients' records agree.
/// `samples` are (log size, state hash) pairs the server reported on `/v1/health`.
pub fn check(entries: &[Vec<u8>], logs: &[ClientLog], samples: &[(u64, String)]) -> Report {
    let decoded: Vec<LogEntry> = entries
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            LogEntry::decode(bytes).unwrap_or_else(|| panic!("entry {index} does not decode"))
        })
        .collect();

    // Per signing key, sequence numbers 0, 1, 2, … in log order: nothing skipped, nothing twice.
    let mut next: HashMap<PublicKey, u64> = HashMap::new();
    let mut at: HashMap<(PublicKey, u64), u64> = HashMap::new();
    for (index, entry) in decoded.iter().enumerate() {
        let envelope = &entry.input.envelope;
        let expected = next.entry(envelope.signer).or_insert(0);
        assert_eq!(
            envelope.sequence,
            *expected,
            "entry {index}: key {} logs sequence {} where {} was due",
            short(&envelope.signer),
            envelope.sequence,
            expected
        );
        *expected += 1;
        at.insert((envelope.signer, envelope.sequence), index as u64);
    }

    // Every acknowledged input is in the log where its reply said, as sent.
    let mut acked: HashSet<(PublicKey, u64)> = HashSet::new();
    for ack in logs.iter().flat_map(|log| &log.acks) {
        let key = (ack.envelope.signer, ack.envelope.sequence);
        let entry = decoded.get(ack.index as usize).unwrap_or_else(|| {
            panic!(
                "input {} #{} was acknowledged at index {} but the log has {} entries",
                short(&key.0),
                key.1,
                ack.index,
                decoded.len()
            )
        });
        assert_eq!(
            entry.input.envelope, ack.envelope,
            "entry {} is not the input acknowledged at that index",
            ack.index
        );
        assert_eq!(
            entry.input.timestamp.0, ack.timestamp,
            "entry {} has another timestamp than its acknowledgement",
            ack.index
        );
        assert!(
            acked.insert(key),
            "input {} #{} acknowledged twice",
            short(&key.0),
            key.1
        );
    }

    // A refused input is not in the log: its sequence number went to a different input, or to
    // none.
    for (envelope, code) in logs.iter().flat_map(|log| &log.refused) {
        if let Some(&index) = at.get(&(envelope.signer, envelope.sequence)) {
            assert_ne!(
                &decoded[index as usize].input.envelope, envelope,
                "entry {index} is an input the server refused ({code})"
            );
        }
    }

    // Every logged input of a client's key was acknowledged to that client (clients resend
    // until answered, so none is left in doubt): nothing was applied behind their backs.
    let client_keys: HashSet<PublicKey> = logs
        .iter()
        .flat_map(|log| log.acks.iter().map(|ack| ack.envelope.signer))
        .chain(
            logs.iter()
                .flat_map(|log| log.refused.iter().map(|(envelope, _)| envelope.signer)),
        )
        .collect();
    for (index, entry) in decoded.iter().enumerate() {
        let envelope = &entry.input.envelope;
        if client_keys.contains(&envelope.signer) {
            assert!(
                acked.contains(&(envelope.signer, envelope.sequence)),
                "entry {index} ({} #{}) was never acknowledged",
                short(&envelope.signer),
                envelope.sequence
            );
        }
    }

    // Replay from nothing: every entry applies and produces its logged events' digest; the
    // state hash matches what the server reported at each sampled size.
    let mut by_size: BTreeMap<u64, &str> = BTreeMap::new();
    for (size, hash) in samples {
        assert!(
            *size <= decoded.len() as u64,
            "the server reported log size {size}; the log has {}",
            decoded.len()
        );
        if let Some(earlier) = by_size.insert(*size, hash) {
            assert_eq!(
                earlier, hash,
                "two state hashes reported at log size {size}"
            );
        }
    }
    let mut state = State::new();
    let mut deposit_index: HashMap<[u8; 32], (u64, u64, u64)> = HashMap::new();
    let mut days_closed = BTreeSet::new();
    let mut runs = 0;
    let check_size = |state: &State, size: u64| {
        if let Some(hash) = by_size.get(&size) {
            assert_eq!(
                hex::encode(state.hash()),
                *hash,
                "the replayed state at log size {size} differs from the server's"
            );
        }
    };
    check_size(&state, 0);
    for (index, bytes) in entries.iter().enumerate() {
        let events = replay_one(&mut state, index as u64, bytes)
            .unwrap_or_else(|error| panic!("replay fails: {error}"));
        for event in &events {
            match event {
                Event::BuyerFunded {
                    buyer,
                    amount,
                    deposit_reference,
                } => {
                    let earlier = deposit_index
                        .insert(*deposit_reference, (index as u64, buyer.0, amount.get()));
                    assert!(
                        earlier.is_none(),
                        "deposit {} is credited twice (entries {:?} and {index})",
                        hex::encode(&deposit_reference[..4]),
                        earlier.map(|e| e.0)
                    );
                }
                Event::TradingDayClosed { day, .. } => {
                    days_closed.insert(day.0);
                }
                Event::MonthlyRunRecorded { .. } => runs += 1,
                _ => {}
            }
        }
        check_size(&state, index as u64 + 1);
    }

    for deposit in logs.iter().flat_map(|log| &log.deposits) {
        assert_eq!(
            deposit_index.get(&deposit.reference),
            Some(&(deposit.index, deposit.buyer, deposit.amount)),
            "deposit {} is not in the log as acknowledged",
            hex::encode(&deposit.reference[..4])
        );
    }

    let mut refusal_codes = BTreeMap::new();
    for (_, code) in logs.iter().flat_map(|log| &log.refused) {
        *refusal_codes.entry(code.clone()).or_insert(0) += 1;
    }
    let report = Report {
        acks: acked.len(),
        refused: logs.iter().map(|log| log.refused.len()).sum(),
        deposits: logs.iter().map(|log| log.deposits.len()).sum(),
        resends: logs.iter().map(|log| log.resends).sum(),
        repeats: logs.iter().map(|log| log.repeats).sum(),
        samples: by_size.len(),
        days_closed: days_closed.len(),
        runs,
        refusal_codes,
    };
    // The run must have exercised what it claims to check.
    assert!(report.refused > 0, "no input was refused: {report}");
    assert!(
        report.resends > 0,
        "no input was resent after a kill: {report}"
    );
    assert!(
        report.days_closed > 0 && report.runs > 0,
        "the clock closed no day or ran no month: {report}"
    );
    report
}
