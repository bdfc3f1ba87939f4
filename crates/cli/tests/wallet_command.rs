//! `assay wallet …` (issue 8): the evaluation's JSON keys, the ToS audit's JSON shape and its
//! negation handling, and a wallet file that refuses a wrong passphrase.

use std::process::Command;

fn assay(args: &[&str], passphrase: Option<&str>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_assay"));
    command.args(args);
    match passphrase {
        Some(p) => command.env("ASSAY_WALLET_PASSPHRASE", p),
        None => command.env_remove("ASSAY_WALLET_PASSPHRASE"),
    };
    command.output().unwrap()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("assay-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn eval_json_has_the_issue_keys() {
    let output = assay(&["wallet", "eval", "--json"], None);
    assert!(output.status.success(), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in [
        "commercial_precision",
        "commercial_recall",
        "corrections_to_fix_median",
    ] {
        assert!(json[key].is_number(), "{key}");
    }
    assert!(json["tos_test"]["categories"].is_array());
}

#[test]
fn audit_tos_reports_categories_and_respects_negation() {
    let dir = temp_dir("tos");
    let policy = dir.join("policy.txt");
    std::fs::write(
        &policy,
        "We do not collect your precise location. We keep a history of the orders you place.",
    )
    .unwrap();
    let output = assay(
        &["wallet", "audit-tos", policy.to_str().unwrap(), "--json"],
        None,
    );
    assert!(output.status.success(), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let categories = json["categories"].as_array().unwrap();
    assert_eq!(categories.len(), 1, "{json}");
    assert_eq!(categories[0]["category"], "purchases");
    assert!(categories[0]["evidence"][0]
        .as_str()
        .unwrap()
        .contains("orders"));
    // Purchases start at $0.04 per member-day: $1.20 for 30 days.
    assert_eq!(categories[0]["value_micros_per_month"], 1_200_000);
}

#[test]
fn a_wallet_file_refuses_a_wrong_passphrase_and_is_not_overwritten() {
    let dir = temp_dir("init");
    let file = dir.join("wallet");
    let path = file.to_str().unwrap();
    assert!(assay(&["wallet", "init", "--file", path], Some("right"))
        .status
        .success());
    let before = std::fs::read(&file).unwrap();
    let again = assay(&["wallet", "init", "--file", path], Some("other"));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("store_exists"));
    let wrong = assay(&["wallet", "status", "--file", path], Some("wrong"));
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong_passphrase"));
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert!(assay(&["wallet", "status", "--file", path], Some("right"))
        .status
        .success());
}
