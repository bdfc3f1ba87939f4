//! RULEBOOK.md's parameter table and rules/default.toml must say the same thing (issue 3).
//! Rows are `| `dotted.key` | value | rule | meaning |`.

use std::collections::BTreeMap;

const RULEBOOK: &str = include_str!("../../../RULEBOOK.md");
const DEFAULT: &str = include_str!("../../../rules/default.toml");

fn flatten(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, out);
            }
        }
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(scalar).collect();
            out.insert(prefix.to_string(), format!("[{}]", items.join(",")));
        }
        other => {
            out.insert(prefix.to_string(), scalar(other));
        }
    }
}

fn scalar(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Integer(number) => number.to_string(),
        toml::Value::Boolean(flag) => flag.to_string(),
        other => panic!("rules hold strings, integers and booleans only, not {other:?}"),
    }
}

fn table_rows() -> BTreeMap<String, String> {
    let section = RULEBOOK
        .split("## Parameters")
        .nth(1)
        .expect("RULEBOOK.md has a `## Parameters` section");
    let mut rows = BTreeMap::new();
    for line in section.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let key = cells[1].trim_matches('`').to_string();
        // Values may be written with digit-group underscores or spaces for people to read.
        let value: String = cells[2]
            .trim_matches('`')
            .chars()
            .filter(|c| *c != '_' && *c != ' ' && *c != '"')
            .collect();
        assert!(
            rows.insert(key.clone(), value).is_none(),
            "`{key}` listed twice"
        );
    }
    rows
}

#[test]
fn rulebook_parameter_table_matches_default_toml() {
    let parsed: toml::Value = toml::from_str(DEFAULT).unwrap();
    let mut in_toml = BTreeMap::new();
    flatten("", &parsed, &mut in_toml);
    let in_book = table_rows();
    for (key, value) in &in_toml {
        match in_book.get(key) {
            None => panic!("RULEBOOK.md's table lacks `{key}` (= {value} in default.toml)"),
            Some(book) => assert_eq!(book, value, "`{key}` differs: RULEBOOK.md vs default.toml"),
        }
    }
    for key in in_book.keys() {
        assert!(
            in_toml.contains_key(key),
            "RULEBOOK.md lists `{key}`, which default.toml lacks"
        );
    }
}
