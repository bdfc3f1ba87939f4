//! `assay rules`: the rules in force and their hash.

use anyhow::Context;
use assay_core::Rules;

/// The rules this build ships with, so `assay rules` works from any directory.
pub const DEFAULT_RULES: &str = include_str!("../../../rules/default.toml");

pub fn print(text: &str, source: &str, json: bool) -> anyhow::Result<()> {
    let rules = Rules::from_toml_str(text).with_context(|| format!("loading {source}"))?;
    let value = serde_json::to_value(&rules).context("encoding rules")?;
    if json {
        let out = serde_json::json!({ "hash": rules.hash_hex(), "rules": value });
        println!("{out}");
        return Ok(());
    }
    println!("Assay rules in force ({source})");
    println!(
        "rules hash (SHA-256 of the canonical JSON): {}",
        rules.hash_hex()
    );
    println!();
    let mut lines = Vec::new();
    flatten("", &value, &mut lines);
    let width = lines.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    for (key, value) in lines {
        println!("{key:width$}  {value}");
    }
    Ok(())
}

/// `a.b.c = value` lines, in the canonical order.
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, out);
            }
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}
