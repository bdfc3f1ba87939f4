//! The functional core stays pure (STYLE.md, issue 3): no runtime, network, database or
//! file-watching crate anywhere under the core crates' normal dependencies.
//!
//! `cargo metadata` confirms each pure crate is in the workspace; the dependency walk uses
//! `cargo tree -e normal`, because metadata's resolve graph unifies features across the whole
//! workspace, dev-dependencies included (proptest's `rand` would show `getrandom` under
//! ed25519-dalek's `rand_core` although a build of `assay-core` never compiles it).

use std::process::Command;

/// Crates that must stay pure. Add each new core crate here when it lands.
const PURE: &[&str] = &[
    "assay-core",
    "assay-market",
    "assay-coop",
    "assay-engine",
    "assay-log",
    "assay-rails",
];

/// Crates that do I/O, bring a runtime, or read the clock or the OS's randomness.
const FORBIDDEN: &[&str] = &[
    // The log's storage shell: the pure crates get storage through traits, never this crate.
    "assay-store",
    "tokio",
    "axum",
    "sqlx",
    "hyper",
    "reqwest",
    "mio",
    "async-std",
    "rusqlite",
    "postgres",
    "tokio-postgres",
    "socket2",
    "notify",
    "tower",
    "h2",
    "ureq",
    "libsqlite3-sys",
    "nix",
    "tempfile",
    "rand",
    "getrandom",
    "chrono",
    "time",
];

fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn core_crates_depend_on_no_io_crate() {
    let metadata: serde_json::Value =
        serde_json::from_str(&cargo(&["metadata", "--format-version", "1", "--no-deps"])).unwrap();
    let members: Vec<&str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for pure in PURE {
        assert!(members.contains(pure), "{pure} is a workspace member");
        let tree = cargo(&[
            "tree", "-p", pure, "-e", "normal", "--target", "all", "--prefix", "none", "--format",
            "{p}",
        ]);
        let names: Vec<&str> = tree
            .lines()
            .filter_map(|line| line.split(' ').next())
            .collect();
        assert!(names.len() > 3, "{pure}'s dependencies were listed: {tree}");
        for name in names {
            assert!(
                !FORBIDDEN.contains(&name),
                "{pure} depends on {name}, which does I/O"
            );
        }
    }
}
