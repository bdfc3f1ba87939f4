//! The benchmark commands run and print the keys the issues ask for (small sizes; the figures
//! themselves are reported in notes, never asserted).

use std::process::Command;

fn bench(args: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_assay"))
        .arg("bench")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn bench_month_reports_its_figures_and_conserves_money() {
    let json = bench(&["month", "--members", "20000", "--json"]);
    for key in [
        "members",
        "seconds",
        "peak_rss_bytes",
        "sha256_leaves_per_s",
        "ratio_to_sha256",
        "payout_root",
    ] {
        assert!(!json[key].is_null(), "missing `{key}` in {json}");
    }
    assert_eq!(json["members"], 20_000);
    assert_eq!(json["conservation_ok"], true);
}

#[test]
fn bench_month_with_rails_pays_the_run_exactly_on_every_rail() {
    // Rules D4, D6 (issue 9): the files pay exactly the run's payouts; ACH and prepaid lines
    // are whole cents; payouts plus rollovers are the members' total.
    let json = bench(&["month", "--members", "6000", "--rails", "--json"]);
    let rails = &json["rails"];
    for key in [
        "ach_write_seconds",
        "ach_read_back_seconds",
        "usdc_tree_seconds",
        "prepaid_seconds",
        "usdc_root",
    ] {
        assert!(!rails[key].is_null(), "missing `rails.{key}` in {json}");
    }
    let per_rail: u64 = ["ach", "usdc", "prepaid"]
        .iter()
        .map(|rail| rails[rail]["total_micros"].as_u64().unwrap())
        .sum();
    assert_eq!(rails["files_total_micros"], json["payouts_total_micros"]);
    assert_eq!(per_rail, json["payouts_total_micros"].as_u64().unwrap());
    for rail in ["ach", "usdc", "prepaid"] {
        assert!(rails[rail]["lines"].as_u64().unwrap() > 0, "{rail} unused");
    }
    assert_eq!(rails["whole_cents_on_ach_and_prepaid"], true);
    assert_eq!(rails["rails_sum_ok"], true);
    assert_eq!(json["conservation_ok"], true);
}

#[test]
fn bench_engine_reports_signed_and_unsigned_rates() {
    let json = bench(&["engine", "--inputs", "3000", "--json"]);
    for key in [
        "inputs",
        "inputs_per_s_signed",
        "inputs_per_s_unsigned",
        "inputs_per_s_batch_signed",
    ] {
        assert!(
            json[key].as_f64().is_some_and(|v| v > 0.0),
            "missing `{key}` in {json}"
        );
    }
}

#[test]
fn bench_http_reports_throughput_latency_and_the_verify_baseline() {
    let json = bench(&["http", "--requests", "300", "--concurrency", "8", "--json"]);
    assert_eq!(json["accepted"], 300, "{json}");
    for key in ["accepted_per_s", "p50_ms", "p99_ms", "verify_per_s"] {
        assert!(
            json[key].as_f64().is_some_and(|v| v > 0.0),
            "missing `{key}` in {json}"
        );
    }
}

#[test]
fn bench_restart_starts_both_ways_and_reports_the_ratio() {
    // The command itself fails unless the first start replayed the whole log and the second
    // started from the snapshot and replayed exactly the tail.
    let json = bench(&["restart", "--inputs", "3000", "--tail", "500", "--json"]);
    assert_eq!(json["tail"], 500, "{json}");
    for key in [
        "full_replay_start_seconds",
        "snapshot_start_seconds",
        "speedup",
        "snapshot_bytes",
        "snapshot_write_seconds",
    ] {
        assert!(
            json[key].as_f64().is_some_and(|v| v > 0.0),
            "missing `{key}` in {json}"
        );
    }
}
