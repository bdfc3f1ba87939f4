//! `assay log checkpoint`, `assay log prove` and the key files, through the binary.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use assay_log::{leaf_hash, Hash, InclusionProof, SignedCheckpoint, VerifierKey};

fn assay(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(["log"])
        .args(args)
        .args(["--data", &data.display().to_string()])
        .output()
        .expect("assay runs")
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is text")
}

fn failure(output: Output) -> String {
    assert!(!output.status.success(), "expected a failure");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn checkpoint_and_prove_work_on_a_fresh_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // No store, no key yet: nothing to print.
    assert!(failure(assay(&data, &["checkpoint"])).contains("no signed checkpoint"));
    ok(assay(
        &data,
        &[
            "append-loop",
            "--entries-max",
            "1000",
            "--origin",
            "test.example/log",
        ],
    ));

    // The key files: private 0600, public vkey naming the origin.
    let mode = std::fs::metadata(data.join("log.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let vkey = std::fs::read_to_string(data.join("log.vkey")).unwrap();
    let key = VerifierKey::parse(vkey.trim_end()).unwrap();
    assert_eq!(key.name(), "test.example/log");

    // The latest checkpoint opens with the vkey.
    let note = ok(assay(&data, &["checkpoint", "--sign"]));
    let signed = SignedCheckpoint::open(note.as_bytes(), "test.example/log", &key).unwrap();
    assert_eq!(signed.checkpoint().size(), 1000);
    assert_eq!(ok(assay(&data, &["checkpoint"])), note);

    // A proof against the latest checkpoint, checked here independently of the binary.
    let json: serde_json::Value =
        serde_json::from_str(&ok(assay(&data, &["prove", "--index", "42"]))).unwrap();
    assert_eq!(json["tree_size"], 1000);
    assert_eq!(json["verified"], true);
    let path: Vec<Hash> = json["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect();
    assert!(path.len() <= 10);
    let proof = InclusionProof::new(42, 1000, path).unwrap();
    let entry42 = {
        let mut entry = format!("assay append-loop entry {:020}:", 42).into_bytes();
        entry.resize(30 + 42, 42);
        entry
    };
    assert_eq!(
        json["leaf_hash"].as_str().unwrap(),
        leaf_hash(&entry42).to_base64()
    );
    proof
        .verify(&leaf_hash(&entry42), &signed.checkpoint().root())
        .unwrap();

    // At an explicit older size, and refusals.
    let older: serde_json::Value =
        serde_json::from_str(&ok(assay(&data, &["prove", "--index", "0", "--size", "1"]))).unwrap();
    assert_eq!(older["path"].as_array().unwrap().len(), 0);
    assert!(failure(assay(&data, &["prove", "--index", "1000"])).contains("is not in the tree"));
    assert!(
        failure(assay(&data, &["prove", "--index", "1", "--size", "5000"]))
            .contains("beyond the stored size")
    );
    ok(assay(&data, &["verify"]));

    // Without its keys the store's checkpoints cannot be checked, and verify says so.
    std::fs::remove_file(data.join("log.vkey")).unwrap();
    std::fs::remove_file(data.join("log.key")).unwrap();
    assert!(failure(assay(&data, &["verify"])).contains("has no log.vkey"));
}
