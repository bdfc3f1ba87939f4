//! The log is a functional core: no async runtime, web framework, database or other I/O crate
//! may enter its dependency tree (house style, "Functional core, imperative shell").

use std::process::Command;

const FORBIDDEN: &[&str] = &[
    "tokio",
    "axum",
    "sqlx",
    "hyper",
    "reqwest",
    "mio",
    "async-std",
];

#[test]
fn no_io_crates_in_the_dependency_tree() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            "assay-log",
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("cargo tree prints UTF-8");
    assert!(
        tree.starts_with("assay-log"),
        "unexpected cargo tree output: {tree}"
    );
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        assert!(!FORBIDDEN.contains(&name), "assay-log depends on {name}");
    }
}
