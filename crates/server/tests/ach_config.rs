//! The operator's ACH originator file: a good one gives the configured details in each month's
//! `AchConfig`; every bad field is refused as `ach_config_invalid`, naming the field, before any
//! file is written.

use assay_core::Month;
use assay_rails::ach::Date;
use assay_server::ach_config::{AchOriginator, EXAMPLE_TOML as GOOD, TEST_VALUES_TOML};

/// `GOOD` with `key`'s line replaced by `line` (or removed when `line` is empty).
fn with(key: &str, line: &str) -> String {
    GOOD.lines()
        .map(|l| {
            if l.starts_with(&format!("{key} =")) {
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `text` and expects `ach_config_invalid` naming `field`.
fn check_refused(text: &str, field: &str) {
    let error = AchOriginator::from_toml_str(text).unwrap_err();
    assert_eq!(error.code(), "ach_config_invalid", "{error}");
    assert_eq!(error.field, field, "{error}");
    assert!(
        error.to_string().starts_with("ach_config_invalid: "),
        "{error}"
    );
}

#[test]
fn a_good_file_gives_the_configured_originator_each_month() {
    let originator = AchOriginator::from_toml_str(GOOD).unwrap();
    let december = Month {
        year: 2026,
        month: 12,
    };
    let config = originator.config(december).unwrap();
    assert_eq!(config.odfi.as_str(), "011000015");
    assert_eq!(config.immediate_destination.as_str(), "026009593");
    assert_eq!(config.immediate_destination_name, "FEDERAL RESERVE BANK");
    assert_eq!(config.immediate_origin, "1987654321");
    assert_eq!(config.immediate_origin_name, "PRAIRIE DATA COOP");
    assert_eq!(config.company_name, "PRAIRIE DATA");
    assert_eq!(config.company_identification, "1987654321");
    assert_eq!(config.company_entry_description, "DIVIDEND");
    // Created on the 1st after the month, settling on the 2nd (dates from the month alone).
    let january = Date {
        year: 2027,
        month: 1,
        day: 1,
    };
    assert_eq!(config.file_creation_date, january);
    assert_eq!(config.effective_entry_date, Date { day: 2, ..january });
    config.validate().unwrap();
    // A 9-digit immediate origin (a routing number) is the other accepted form.
    let nine = with("immediate_origin", r#"immediate_origin = "122105278""#);
    AchOriginator::from_toml_str(&nine).unwrap();
    // The documented test values are a valid file too, and differ from an operator's.
    assert_ne!(
        AchOriginator::from_toml_str(TEST_VALUES_TOML).unwrap(),
        originator
    );
}

#[test]
fn each_bad_field_is_refused_by_name() {
    let cases: &[(&str, &str)] = &[
        // Routing numbers: check digit, length, digits, prefix.
        ("odfi", r#"odfi = "011000016""#),
        ("odfi", r#"odfi = "01100001""#),
        ("odfi", r#"odfi = "01100001X""#),
        ("odfi", r#"odfi = "991000015""#),
        ("odfi", "odfi = 11000015"),
        (
            "immediate_destination",
            r#"immediate_destination = "021000022""#,
        ),
        // Widths: names 23, company name 16, ids and description 10.
        (
            "immediate_destination_name",
            r#"immediate_destination_name = "FEDERAL RESERVE BANK OF X""#,
        ),
        (
            "immediate_origin_name",
            r#"immediate_origin_name = "PRAIRIE DATA COOPERATIVE INC""#,
        ),
        ("company_name", r#"company_name = "PRAIRIE DATA COOPE""#),
        ("company_name", r#"company_name = """#),
        ("company_name", r#"company_name = " PRAIRIE""#),
        ("company_name", r#"company_name = "PRAIRIÉ""#),
        (
            "company_identification",
            r#"company_identification = "19876543210""#,
        ),
        ("company_identification", r#"company_identification = """#),
        (
            "company_entry_description",
            r#"company_entry_description = "DIVIDENDS 26""#,
        ),
        // The immediate origin: 9 digits or 10 letters and digits.
        ("immediate_origin", r#"immediate_origin = "12345678""#),
        ("immediate_origin", r#"immediate_origin = "1987-54321""#),
        ("immediate_origin", r#"immediate_origin = "19876543210""#),
        // Missing fields are named too.
        ("odfi", ""),
        ("company_identification", ""),
    ];
    for (field, line) in cases {
        let key = line
            .split(" =")
            .next()
            .filter(|k| !k.is_empty())
            .unwrap_or(field);
        check_refused(&with(key, line), field);
    }
    // A misspelt key is refused, not ignored.
    check_refused(&format!("{GOOD}\ncompany_nmae = \"X\"\n"), "company_nmae");
    // Not TOML at all.
    let error = AchOriginator::from_toml_str("# ACH\nodfi = \"0110").unwrap_err();
    assert_eq!(error.code(), "ach_config_invalid", "{error}");
    assert!(error.message.contains("line 2"), "{error}");
}

#[test]
fn a_file_on_disk_is_read_and_checked() {
    let dir = std::env::temp_dir().join(format!("assay-ach-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("ach.toml");
    std::fs::write(&good, GOOD).unwrap();
    assert_eq!(
        AchOriginator::load(&good).unwrap(),
        AchOriginator::from_toml_str(GOOD).unwrap()
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, with("odfi", r#"odfi = "011000016""#)).unwrap();
    let error = format!("{:#}", AchOriginator::load(&bad).unwrap_err());
    assert!(
        error.contains("ach_config_invalid") && error.contains("`odfi`"),
        "{error}"
    );
    let missing = format!(
        "{:#}",
        AchOriginator::load(&dir.join("none.toml")).unwrap_err()
    );
    assert!(missing.contains("none.toml"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}
