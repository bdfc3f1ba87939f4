//! Acceptance test for the USDC rail (rule D4): the Rust tree must equal OpenZeppelin's own
//! `@openzeppelin/merkle-tree` (pinned in `tests/oz/package-lock.json`) on random sets of over a
//! thousand leaves — same root, same proofs, same dump — and OZ's `load()` must accept the
//! document Rust writes.
//!
//! Needs `node` and `tests/oz/node_modules` (`bash crates/rails/tests/oz/setup.sh`). Skips with
//! a message only when `node` itself is absent; CI has node.

mod common;

use assay_core::{MemberId, Micros};
use assay_rails::usdc::{self, Distribution, DocumentOptions};
use assay_rails::{Destination, PayoutLine};
use common::{run, usdc_destination, Rng};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Lines with random addresses and amounts, some using the top bytes of a u64 (the total
/// still fits, as the run's total must).
fn random_lines(seed: u64, count: usize) -> Vec<PayoutLine> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|i| PayoutLine {
            member: MemberId(i as u64 * 3 + 1),
            amount: Micros::new(match rng.below(3) {
                0 => 1 + rng.below(10_000_000),
                1 => (rng.next() >> 12).max(1),
                _ => 5_000_000 + rng.below(1_000_000_000),
            }),
            destination: usdc_destination(&mut rng),
        })
        .collect()
}

fn hex_value(bytes: &[u8]) -> Value {
    Value::String(format!("0x{}", hex::encode(bytes)))
}

#[test]
fn trees_match_openzeppelin_merkle_tree() {
    let oz = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oz");
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("SKIPPED trees_match_openzeppelin_merkle_tree: `node` is not installed");
        return;
    }
    assert!(
        oz.join("node_modules/@openzeppelin/merkle-tree").is_dir(),
        "OpenZeppelin's package is missing: run `bash crates/rails/tests/oz/setup.sh` first"
    );

    let sizes = [1usize, 2, 3, 5, 1_000, 1_001, 1_024, 1_337, 2_049];
    let mut sets = Vec::new();
    let mut distributions = Vec::new();
    for (seed, &size) in sizes.iter().enumerate() {
        let mut lines = random_lines(seed as u64 + 100, size);
        if size == 1 {
            lines[0].amount = Micros::MAX;
        }
        let distribution = Distribution::build(run(), &lines).unwrap();
        let document = distribution
            .document(DocumentOptions { proofs: true })
            .unwrap();
        let document: Value = serde_json::from_slice(document.bytes()).unwrap();
        let leaves: Vec<Value> = distribution
            .leaves()
            .iter()
            .map(|leaf| {
                json!([
                    leaf.index.to_string(),
                    hex_value(leaf.account.as_bytes()),
                    leaf.amount.get().to_string()
                ])
            })
            .collect();
        sets.push(json!({ "leaves": leaves, "document": document }));
        distributions.push((distribution, document));
    }

    let mut child = Command::new("node")
        .arg("check.js")
        .current_dir(&oz)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_vec(&json!({ "sets": sets })).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(output.status.success(), "node check.js failed");
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();

    for ((distribution, document), result) in distributions.iter().zip(&results) {
        let size = distribution.len();
        assert_eq!(
            result["root"],
            hex_value(&distribution.root()),
            "root, {size} leaves"
        );
        assert_eq!(
            result["loadedRoot"], result["root"],
            "OZ load() of our document, {size} leaves"
        );
        assert_eq!(result["documentProofsVerify"], true, "{size} leaves");
        for key in ["format", "leafEncoding", "tree", "values"] {
            assert_eq!(
                document[key], result["dump"][key],
                "dump field {key}, {size} leaves"
            );
        }
        let proofs = result["proofs"].as_array().unwrap();
        assert_eq!(proofs.len(), size);
        for (index, oz_proof) in proofs.iter().enumerate() {
            let proof = distribution.proof(index).unwrap();
            let ours: Vec<Value> = proof.iter().map(|node| hex_value(node)).collect();
            assert_eq!(
                oz_proof.as_array().unwrap(),
                &ours,
                "proof {index} of {size}"
            );
            assert_eq!(document["proofs"][index.to_string()], Value::Array(ours));
            let leaf = distribution.leaves()[index];
            assert!(usdc::verify(&distribution.root(), &leaf, &proof));
        }
    }
    assert!(sizes.iter().filter(|&&n| n >= 1_000).count() >= 4);
}

#[test]
fn a_document_without_proofs_is_the_dump_alone() {
    let lines = random_lines(9, 10);
    let distribution = Distribution::build(run(), &lines).unwrap();
    let document = distribution
        .document(DocumentOptions { proofs: false })
        .unwrap();
    let value: Value = serde_json::from_slice(document.bytes()).unwrap();
    assert!(value.get("proofs").is_none());
    assert_eq!(value["root"], hex_value(&distribution.root()));
    assert_eq!(value["runId"], "2026-01r1");
    assert_eq!(document.name(), "usdc-distribution.json");
    let total: u64 = lines.iter().map(|line| line.amount.get()).sum();
    assert_eq!(value["totalMicros"], total.to_string());
    assert_eq!(document.total().get(), total);
    let again = distribution
        .document(DocumentOptions { proofs: false })
        .unwrap();
    assert_eq!(again.sha256(), document.sha256(), "same input, same bytes");
    let mut streamed = Vec::new();
    let digest = distribution
        .write_document(DocumentOptions { proofs: false }, &mut streamed)
        .unwrap();
    assert_eq!(
        (streamed.as_slice(), digest),
        (document.bytes(), document.sha256())
    );
    assert!(matches!(
        Destination::parse("usdc:0x0000000000000000000000000000000000000001"),
        Ok(Destination::Usdc(_))
    ));
}
