//! `assay rules` prints the rules in force and the hash members see (rule G6).

use std::process::Command;

fn assay(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn prints_rules_and_their_hash() {
    let output = assay(&["rules", "--json"]);
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let hash = json["hash"].as_str().unwrap();
    assert_eq!(hash.len(), 64);
    assert_eq!(json["rules"]["floor"]["ratio_bps"], 9_500);

    let text = String::from_utf8(assay(&["rules"]).stdout).unwrap();
    assert!(text.contains(hash), "the human view shows the same hash");
    assert!(text.contains("waterfall.members_bps"));
}

#[test]
fn refuses_a_bad_rules_file_naming_the_field() {
    let dir = std::env::temp_dir().join(format!("assay-rules-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    let text = include_str!("../../../rules/default.toml")
        .replace("builders_bps = 800", "builders_bps = 801");
    std::fs::write(&path, text).unwrap();
    let output = assay(&["rules", "--file", path.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("`waterfall`"), "{stderr}");
}
