//! `assay serve` and the operator's ACH originator: a bad file (named by `--ach-config` or found
//! as `DATA/ach.toml`) stops the start before any log is opened, with `ach_config_invalid` and
//! the field; no file at all starts the server with a loud warning that ACH lines are held.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assay_server::ach_config::EXAMPLE_TOML as GOOD;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("assay-serve-ach-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn serve(data: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_assay"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(extra);
    command
}

/// Runs `assay serve` to its refusal and returns its stderr.
fn refused(data: &Path, extra: &[&str]) -> String {
    let output = serve(data, extra).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success(), "{stderr}");
    assert!(
        !data.join("assay.db").exists(),
        "refused before opening the log"
    );
    stderr
}

#[test]
fn a_bad_ach_configuration_stops_the_start() {
    let dir = scratch("bad");
    let data = dir.join("data");
    let file = dir.join("ach.toml");
    std::fs::write(
        &file,
        GOOD.replace("odfi = \"011000015\"", "odfi = \"011000016\""),
    )
    .unwrap();
    let stderr = refused(&data, &["--ach-config", file.to_str().unwrap()]);
    assert!(
        stderr.contains("ach_config_invalid") && stderr.contains("`odfi`"),
        "{stderr}"
    );

    // The data directory's ach.toml is read the same way.
    std::fs::create_dir_all(&data).unwrap();
    let long_name = GOOD.replace("\"PRAIRIE DATA\"", "\"PRAIRIE DATA COOPERATIVE\"");
    std::fs::write(data.join("ach.toml"), long_name).unwrap();
    let stderr = refused(&data, &[]);
    assert!(
        stderr.contains("ach_config_invalid") && stderr.contains("`company_name`"),
        "{stderr}"
    );

    // A file named on the command line must exist.
    let missing = dir.join("missing.toml");
    let stderr = refused(&data, &["--ach-config", missing.to_str().unwrap()]);
    assert!(stderr.contains("missing.toml"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Starts `assay serve`, reads stderr until it serves, stops it, and returns what it said.
fn started(data: &Path, extra: &[&str]) -> String {
    let mut child = serve(data, extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut said = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.starts_with("assay serving on") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(said.contains("assay serving on"), "{said}");
    said
}

#[test]
fn a_good_configuration_is_used_and_none_is_said_loudly() {
    let dir = scratch("good");
    let file = dir.join("originator.toml");
    std::fs::write(&file, GOOD).unwrap();
    let said = started(&dir.join("a"), &["--ach-config", file.to_str().unwrap()]);
    assert!(said.contains("ACH originator from"), "{said}");
    assert!(said.contains("PRAIRIE DATA"), "{said}");
    assert!(!said.contains("WARNING"), "{said}");

    let said = started(&dir.join("b"), &[]);
    assert!(
        said.contains("WARNING: no ACH originator configured"),
        "{said}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
