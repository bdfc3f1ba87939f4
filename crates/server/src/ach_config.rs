//! The ACH originator: the cooperative's own details in every NACHA file it writes (its bank,
//! the ODFI; the ids that bank assigned; the name members see on their statements). They are
//! the operator's, not the rules', so they come from the operator's configuration
//! (`assay serve --ach-config FILE`, default `DATA/ach.toml`), never from the log.
//!
//! The file is parsed and checked at start, never trusted: each field against its NACHA width
//! and form (`AchConfig::validate`, the writer's own check) and both routing numbers against
//! their check digit. Any fault is `ach_config_invalid` naming the field, and the server does not
//! start, rather than write a file the bank would reject at the first run.
//!
//! Without a configuration the server writes no ACH file: ACH lines are held (rule D9: back into
//! the member's balance, paid at a later run) and the other rails are paid as usual.
//! [`AchOriginator::test_values`] exists for the demo, benchmarks and tests only.

use assay_core::Month;
use assay_rails::ach::{AchConfig, Date, Time};
use assay_rails::RoutingNumber;
use serde::Deserialize;
use std::path::Path;

/// The file `assay serve` reads from the data directory when `--ach-config` is not given.
pub const ACH_CONFIG_FILE_NAME: &str = "ach.toml";
/// Largest configuration file read; the real one is well under 1 KiB.
pub const ACH_CONFIG_BYTES_MAX: u64 = 64 * 1024;

/// A configuration that failed to parse or check; `code()` is `ach_config_invalid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ach_config_invalid: ACH originator field `{field}`: {message}")]
pub struct AchConfigError {
    /// The field at fault (`.` for a file that is not TOML at all).
    pub field: String,
    pub message: String,
}

impl AchConfigError {
    pub fn code(&self) -> &'static str {
        "ach_config_invalid"
    }
}

/// The originator's details, checked: an ACH configuration whose dates [`AchOriginator::config`]
/// replaces with each month's (only the dates depend on the month, so every configuration it
/// gives passes the writer's validation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AchOriginator {
    checked: AchConfig,
}

/// A configuration's dates for files created on `creation` at 00:05 and settling the next day.
fn dated(config: AchConfig, creation: Date) -> AchConfig {
    AchConfig {
        effective_entry_date: Date {
            day: creation.day + 1,
            ..creation
        },
        file_creation_date: creation,
        file_creation_time: Time { hour: 0, minute: 5 },
        ..config
    }
}

/// The file's shape: every field required, unknown ones refused (a misspelt key must not
/// silently leave a default in a bank file).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AchOriginatorFile {
    odfi: String,
    immediate_destination: String,
    immediate_destination_name: String,
    immediate_origin: String,
    immediate_origin_name: String,
    company_name: String,
    company_identification: String,
    company_entry_description: String,
}

fn routing(field: &str, text: &str) -> Result<RoutingNumber, AchConfigError> {
    RoutingNumber::parse(text).map_err(|error| AchConfigError {
        field: field.to_string(),
        message: format!("{text:?} is not a routing number: {error}"),
    })
}

impl AchOriginator {
    /// Parses and checks a configuration file's text.
    pub fn from_toml_str(text: &str) -> Result<AchOriginator, AchConfigError> {
        let deserializer = toml::Deserializer::new(text);
        let file: AchOriginatorFile =
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                let mut field = error.path().to_string();
                let mut message = error.inner().message().to_string();
                if let Some(span) = error.inner().span() {
                    let before = &text.as_bytes()[..span.start.min(text.len())];
                    let line = 1 + before.iter().filter(|&&byte| byte == b'\n').count();
                    message = format!("line {line}: {message}");
                }
                // serde reports a missing or unknown field at its parent; name the field.
                let inner = error.inner().message();
                let named = ["missing field `", "unknown field `"]
                    .iter()
                    .find_map(|prefix| inner.strip_prefix(prefix))
                    .and_then(|rest| rest.split('`').next());
                if let Some(name) = named {
                    field = name.to_string();
                }
                AchConfigError { field, message }
            })?;
        // The writer's own check, on a month whose dates are valid: what passes here passes at
        // every run, since only the dates change with the month.
        let january = Date {
            year: 2026,
            month: 1,
            day: 1,
        };
        let checked = AchConfig {
            immediate_destination: routing("immediate_destination", &file.immediate_destination)?,
            immediate_destination_name: file.immediate_destination_name,
            immediate_origin: file.immediate_origin,
            immediate_origin_name: file.immediate_origin_name,
            company_name: file.company_name,
            company_identification: file.company_identification,
            company_entry_description: file.company_entry_description,
            odfi: routing("odfi", &file.odfi)?,
            // Placeholders: `dated` sets the dates and the time.
            effective_entry_date: january,
            file_creation_date: january,
            file_creation_time: Time { hour: 0, minute: 0 },
            first_file_id_modifier: 'A',
        };
        let checked = dated(checked, january);
        checked.validate().map_err(|error| match error {
            assay_rails::Error::AchConfig { field, reason } => AchConfigError {
                field: field.to_string(),
                message: reason.to_string(),
            },
            other => AchConfigError {
                field: ".".to_string(),
                message: other.to_string(),
            },
        })?;
        Ok(AchOriginator { checked })
    }

    /// Reads and checks the configuration file at `path`.
    pub fn load(path: &Path) -> anyhow::Result<AchOriginator> {
        use anyhow::Context as _;
        use std::io::Read as _;
        let file = std::fs::File::open(path)
            .with_context(|| format!("opening the ACH configuration {}", path.display()))?;
        let mut text = String::new();
        file.take(ACH_CONFIG_BYTES_MAX + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("reading the ACH configuration {}", path.display()))?;
        if text.len() as u64 > ACH_CONFIG_BYTES_MAX {
            anyhow::bail!(
                "ach_config_invalid: {} is larger than {ACH_CONFIG_BYTES_MAX} bytes",
                path.display()
            );
        }
        AchOriginator::from_toml_str(&text)
            .with_context(|| format!("checking the ACH configuration {}", path.display()))
    }

    /// **Test values, not an originator**: what the demo, the benchmarks and the tests write
    /// into their ACH files. The routing numbers only pass the check digit; no bank has agreed
    /// to receive files from this originator, and `assay serve` never uses them.
    pub fn test_values() -> AchOriginator {
        AchOriginator::from_toml_str(TEST_VALUES_TOML)
            .expect("the built-in test values pass the check (unit test below)")
    }

    /// The company name written into every batch header (members' statements show it).
    pub fn company_name(&self) -> &str {
        &self.checked.company_name
    }

    /// The full configuration of `month`'s files: created on the 1st after `month` at 00:05 and
    /// settling on the 2nd, so the bytes depend on the month alone (rule D4: regenerating a
    /// run gives the same bytes).
    pub fn config(&self, month: Month) -> anyhow::Result<AchConfig> {
        let next = month.next();
        let creation = Date {
            year: u16::try_from(next.year)?,
            month: next.month,
            day: 1,
        };
        Ok(dated(self.checked.clone(), creation))
    }
}

/// An operator's file, as the README shows it (the values are examples, unlike the test values
/// in every field; tests use it as the configured originator).
pub const EXAMPLE_TOML: &str = r#"
odfi = "011000015"
immediate_destination = "026009593"
immediate_destination_name = "FEDERAL RESERVE BANK"
immediate_origin = "1987654321"
immediate_origin_name = "PRAIRIE DATA COOP"
company_name = "PRAIRIE DATA"
company_identification = "1987654321"
company_entry_description = "DIVIDEND"
"#;

/// The test values, in the file's own form (see [`AchOriginator::test_values`]).
pub const TEST_VALUES_TOML: &str = r#"# TEST VALUES: not a real originator; for the demo, benchmarks and tests only.
odfi = "122105278"
immediate_destination = "021000021"
immediate_destination_name = "ODFI"
immediate_origin = "122105278"
immediate_origin_name = "ASSAY COOPERATIVE"
company_name = "ASSAY COOP"
company_identification = "1234567890"
company_entry_description = "PAYOUT"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_values_pass_the_check() {
        let originator = AchOriginator::test_values();
        assert_eq!(originator.company_name(), "ASSAY COOP");
    }
}
