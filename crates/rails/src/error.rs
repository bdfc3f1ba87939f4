//! The crate's one error type. Every variant has a stable `code()`; readers' errors also name the
//! record (ACH) or line (prepaid) and the field, so an operator can find the fault in the file.

use crate::Rail;
use assay_core::{MemberId, Micros, MoneyError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("routing number: {reason}")]
    RoutingNumber { reason: &'static str },
    #[error("account number: {reason}")]
    AccountNumber { reason: &'static str },
    #[error("account holder name: {reason}")]
    AccountName { reason: &'static str },
    #[error("USDC address: {reason}")]
    UsdcAddress { reason: &'static str },
    #[error("card reference: {reason}")]
    CardReference { reason: &'static str },
    #[error("destination text: {reason}")]
    DestinationText { reason: &'static str },
    #[error("run id: {reason}")]
    RunId { reason: &'static str },

    #[error("member {member}: a payout of zero is not a payment")]
    AmountZero { member: MemberId },
    #[error("member {member}: {amount} is not a whole number of cents, which {rail} pays in")]
    AmountNotWholeCents {
        member: MemberId,
        amount: Micros,
        rail: Rail,
    },
    #[error("member {member}: {amount} exceeds the limit of {limit} ({what})")]
    AmountTooLarge {
        member: MemberId,
        amount: Micros,
        limit: Micros,
        what: &'static str,
    },
    #[error("member {member}: the destination is {found}, but the line was given to {expected}")]
    RailMismatch {
        member: MemberId,
        expected: Rail,
        found: Rail,
    },
    #[error("member {member} follows member {previous}: lines must be in strictly ascending member order")]
    LinesNotAscending {
        previous: MemberId,
        member: MemberId,
    },
    #[error("member {member}: id does not fit the ACH identification field (15 digits)")]
    MemberIdTooLong { member: MemberId },
    #[error("{rail}: more than {limit} lines in one file")]
    TooManyLines { rail: Rail, limit: u64 },
    #[error("rails pay {found} in total, the run's member total is {expected} (rule D6)")]
    SumMismatch { expected: Micros, found: Micros },
    #[error(transparent)]
    Money(#[from] MoneyError),

    #[error("ACH configuration, field {field}: {reason}")]
    AchConfig {
        field: &'static str,
        reason: &'static str,
    },
    #[error("{lines} ACH lines but no ACH originator configured: no ACH file can be written")]
    AchNotConfigured { lines: u64 },
    #[error(
        "the ACH run needs more files than the {files_max} file id modifiers left after the first"
    )]
    AchFilesExhausted { files_max: u32 },
    #[error("ACH record {record}, field record_length: {length} bytes, expected 94 and a newline")]
    AchRecordLength { record: u64, length: usize },
    #[error("ACH record {record}, field record_type_code: found {found:?}, expected {expected}")]
    AchRecordOrder {
        record: u64,
        found: char,
        expected: &'static str,
    },
    #[error("ACH record {record}, field {field}: {reason}")]
    AchField {
        record: u64,
        field: &'static str,
        reason: &'static str,
    },
    #[error("ACH record {record}, field {field}: the record says {found}, the entries add up to {expected}")]
    AchControl {
        record: u64,
        field: &'static str,
        expected: u64,
        found: u64,
    },

    #[error("prepaid file line {line}, field {field}: {reason}")]
    PrepaidField {
        line: u64,
        field: &'static str,
        reason: &'static str,
    },
    #[error(
        "prepaid file line {line}, field {field}: the line says {found}, the file has {expected}"
    )]
    PrepaidChecksum {
        line: u64,
        field: &'static str,
        expected: String,
        found: String,
    },

    #[error("a USDC distribution needs at least one line")]
    UsdcEmpty,
    #[error("writing the document failed: {0}")]
    Write(#[from] std::io::Error),
}

impl Error {
    /// Stable machine-readable code; the HTTP API passes it through unchanged.
    pub fn code(&self) -> &'static str {
        match self {
            Error::RoutingNumber { .. } => "routing_number_invalid",
            Error::AccountNumber { .. } => "account_number_invalid",
            Error::AccountName { .. } => "account_name_invalid",
            Error::UsdcAddress { .. } => "usdc_address_invalid",
            Error::CardReference { .. } => "card_reference_invalid",
            Error::DestinationText { .. } => "destination_text_invalid",
            Error::RunId { .. } => "run_id_invalid",
            Error::AmountZero { .. } => "amount_zero",
            Error::AmountNotWholeCents { .. } => "amount_not_whole_cents",
            Error::AmountTooLarge { .. } => "amount_too_large",
            Error::RailMismatch { .. } => "rail_mismatch",
            Error::LinesNotAscending { .. } => "lines_not_ascending",
            Error::MemberIdTooLong { .. } => "member_id_too_long",
            Error::TooManyLines { .. } => "too_many_lines",
            Error::SumMismatch { .. } => "sum_mismatch",
            Error::Money(error) => error.code(),
            Error::AchConfig { .. } => "ach_config_invalid",
            Error::AchNotConfigured { .. } => "ach_not_configured",
            Error::AchFilesExhausted { .. } => "ach_files_exhausted",
            Error::AchRecordLength { .. } => "ach_record_length",
            Error::AchRecordOrder { .. } => "ach_record_order",
            Error::AchField { .. } => "ach_field_invalid",
            Error::AchControl { .. } => "ach_control_mismatch",
            Error::PrepaidField { .. } => "prepaid_field_invalid",
            Error::PrepaidChecksum { .. } => "prepaid_checksum_mismatch",
            Error::UsdcEmpty => "usdc_empty",
            Error::Write(_) => "write_failed",
        }
    }

    /// For reader errors: the 1-based record (ACH) or line (prepaid) number and the field name.
    pub fn location(&self) -> Option<(u64, &'static str)> {
        match self {
            Error::AchRecordLength { record, .. } => Some((*record, "record_length")),
            Error::AchRecordOrder { record, .. } => Some((*record, "record_type_code")),
            Error::AchField { record, field, .. } | Error::AchControl { record, field, .. } => {
                Some((*record, field))
            }
            Error::PrepaidField { line, field, .. }
            | Error::PrepaidChecksum { line, field, .. } => Some((*line, field)),
            _ => None,
        }
    }
}
