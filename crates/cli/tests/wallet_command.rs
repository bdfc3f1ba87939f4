//! `assay wallet …` (issue 8): the evaluation's JSON keys, the ToS audit's JSON shape and its
//! negation handling, a wallet file that refuses a wrong passphrase, and member decisions the
//! classifier learns from (W2).

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
        // The headline keys report the held-out set, which has its own object.
        assert_eq!(json[key], json["held_out"][key], "{key}");
    }
    assert_eq!(json["headline_set"], "fresh4");
    assert!(json["held_out"]["fixed_after"].is_array());
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

/// Rule W2: the member's own allow/deny decisions, kept in the vault, move the classifier to
/// the member's verdict on that host, in both directions, within a bounded number of corrections.
#[test]
fn decide_teaches_the_classifier_and_persists_in_the_wallet() {
    let dir = temp_dir("decide");
    let file = dir.join("wallet");
    let file = file.to_str().unwrap();
    let init = assay(&["wallet", "init", "--file", file], Some("pw"));
    assert!(init.status.success(), "{init:?}");
    let host = "app-measurement.com";
    let mut decisions = 0;
    for (flag, verdict) in [("--deny", "now commercial"), ("--allow", "now utility")] {
        let mut reached = false;
        for _ in 0..10 {
            let output = assay(
                &[
                    "wallet",
                    "decide",
                    "--file",
                    file,
                    host,
                    flag,
                    "--first-party",
                    "com.example.game",
                ],
                Some("pw"),
            );
            assert!(output.status.success(), "{output:?}");
            decisions += 1;
            let text = String::from_utf8(output.stdout).unwrap();
            assert!(
                text.contains(&format!("({decisions} decisions kept)")),
                "{text}"
            );
            if text.contains(verdict) {
                reached = true;
                break;
            }
        }
        assert!(reached, "{flag}: the classifier never followed the member");
    }
    let status = assay(&["wallet", "status", "--file", file], Some("pw"));
    let text = String::from_utf8(status.stdout).unwrap();
    assert!(
        text.contains(&format!("decisions          {decisions}")),
        "{text}"
    );
    let wrong = assay(
        &["wallet", "decide", "--file", file, host, "--deny"],
        Some("nope"),
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong_passphrase"));
    std::fs::remove_dir_all(&dir).unwrap();
}
