//! NACHA ACH files of PPD credits: the rail that pays members' bank accounts (rule D4).
//!
//! A file is 94-character records, each followed by a newline: a file header (`1`), batches of
//! a batch header (`5`), entry details (`6`, one per member) and a batch control (`8`), then a
//! file control (`9`) and records of all `9`s up to a multiple of ten records (a block).
//! Assay files use service class 220 (credits only), standard entry class PPD, transaction code
//! 22 (checking) or 32 (savings), and no addenda.
//!
//! Every limit below is the capacity of a fixed-width field in those records. A run larger than
//! one batch or one file is split into several ([`write_files`]); [`AchLimits`] lets a test
//! inject small limits to prove the splitting, and lets an operator obey a bank's tighter ones.

mod read;
mod records;
mod write;

pub use read::{read_file, AchBatch, AchFile};
pub use records::{BatchControl, BatchHeader, EntryDetail, FileControl, FileHeader};
pub use write::write_files;

use crate::{Error, RoutingNumber};
use std::fmt;

/// Bytes in a record, not counting its newline.
pub const RECORD_LEN: usize = 94;
/// Records in a block; a file's record count is padded to a multiple of it.
pub const BLOCKING_FACTOR: u64 = 10;
/// Entry detail amount: 10 digits of cents.
pub const ENTRY_AMOUNT_CENTS_MAX: u64 = 9_999_999_999;
/// Batch control entry/addenda count: 6 digits.
pub const BATCH_ENTRY_ADDENDA_COUNT_MAX: u32 = 999_999;
/// Batch and file control total credit (and debit) amount: 12 digits of cents.
pub const TOTAL_CENTS_MAX: u64 = 999_999_999_999;
/// File control batch count: 6 digits (the 7-digit batch number is looser).
pub const FILE_BATCH_COUNT_MAX: u32 = 999_999;
/// File control entry/addenda count: 8 digits.
pub const FILE_ENTRY_ADDENDA_COUNT_MAX: u32 = 99_999_999;
/// File control block count: 6 digits, so at most 9,999,990 records in a file.
pub const FILE_BLOCK_COUNT_MAX: u32 = 999_999;
/// Trace number sequence: 7 digits after the 8-digit ODFI identification. Sequences restart in
/// each file, so this also caps the entries in one file.
pub const TRACE_SEQUENCE_MAX: u32 = 9_999_999;
/// The entry hash keeps the rightmost 10 digits of the sum of routing prefixes.
pub const ENTRY_HASH_MODULUS: u64 = 10_000_000_000;
/// File id modifiers in the order files of one run take them; files sent on one day to one
/// destination must differ in it, so a run has at most 36 files.
pub const FILE_ID_MODIFIERS: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Where a run is split into batches and files. [`AchLimits::NACHA`] is the format's capacity;
/// a bank may demand less, and tests inject tiny limits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AchLimits {
    pub batch_entries_max: u32,
    pub batch_credit_cents_max: u64,
    pub file_entries_max: u32,
    pub file_batches_max: u32,
    pub file_blocks_max: u32,
    pub file_credit_cents_max: u64,
}

impl AchLimits {
    /// The capacity of the record layouts themselves.
    pub const NACHA: AchLimits = AchLimits {
        batch_entries_max: BATCH_ENTRY_ADDENDA_COUNT_MAX,
        batch_credit_cents_max: TOTAL_CENTS_MAX,
        // The trace sequence (7 digits) binds before the file entry count (8 digits).
        file_entries_max: TRACE_SEQUENCE_MAX,
        file_batches_max: FILE_BATCH_COUNT_MAX,
        file_blocks_max: FILE_BLOCK_COUNT_MAX,
        file_credit_cents_max: TOTAL_CENTS_MAX,
    };

    fn validate(&self) -> Result<(), Error> {
        let checks: [(&'static str, u64, u64); 6] = [
            (
                "batch_entries_max",
                self.batch_entries_max.into(),
                BATCH_ENTRY_ADDENDA_COUNT_MAX.into(),
            ),
            (
                "batch_credit_cents_max",
                self.batch_credit_cents_max,
                TOTAL_CENTS_MAX,
            ),
            (
                "file_entries_max",
                self.file_entries_max.into(),
                TRACE_SEQUENCE_MAX.into(),
            ),
            (
                "file_batches_max",
                self.file_batches_max.into(),
                FILE_BATCH_COUNT_MAX.into(),
            ),
            (
                "file_blocks_max",
                self.file_blocks_max.into(),
                FILE_BLOCK_COUNT_MAX.into(),
            ),
            (
                "file_credit_cents_max",
                self.file_credit_cents_max,
                TOTAL_CENTS_MAX,
            ),
        ];
        for (field, value, max) in checks {
            if value == 0 || value > max {
                return Err(Error::AchConfig {
                    field,
                    reason: "limit must be at least 1 and within the NACHA field's capacity",
                });
            }
        }
        Ok(())
    }
}

impl Default for AchLimits {
    fn default() -> AchLimits {
        AchLimits::NACHA
    }
}

/// A calendar date, as NACHA's YYMMDD fields carry it (years 2000–2099).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    pub fn is_valid(&self) -> bool {
        let leap = self.year.is_multiple_of(4)
            && (!self.year.is_multiple_of(100) || self.year.is_multiple_of(400));
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (2000..=2099).contains(&self.year) && (1..=days).contains(&self.day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A time of day, as the file header's HHMM carries it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    pub hour: u8,
    pub minute: u8,
}

impl Time {
    pub fn is_valid(&self) -> bool {
        self.hour < 24 && self.minute < 60
    }
}

/// The originator and its bank (ODFI), and the dates; the caller passes all of it, nothing is
/// read from a clock. Text fields are printable ASCII without leading or trailing spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AchConfig {
    /// The routing number the file goes to (the ODFI or its ACH operator).
    pub immediate_destination: RoutingNumber,
    /// Up to 23 characters; may be empty.
    pub immediate_destination_name: String,
    /// Nine digits (written with a leading space, the usual routing form) or ten alphanumerics
    /// (a company id), as the ODFI assigned.
    pub immediate_origin: String,
    /// Up to 23 characters; may be empty.
    pub immediate_origin_name: String,
    /// Up to 16 characters, shown on members' statements.
    pub company_name: String,
    /// Up to 10 characters, usually `1` and the EIN.
    pub company_identification: String,
    /// Up to 10 characters, shown on members' statements, e.g. `PAYOUT`.
    pub company_entry_description: String,
    /// The originating bank; its first 8 digits start every trace number.
    pub odfi: RoutingNumber,
    /// The day the credits settle; not before the creation date.
    pub effective_entry_date: Date,
    pub file_creation_date: Date,
    pub file_creation_time: Time,
    /// The first file's modifier; later files of the run take the next ones in
    /// [`FILE_ID_MODIFIERS`].
    pub first_file_id_modifier: char,
}

impl AchConfig {
    /// Checks every field against its NACHA width and form; the writer calls it first, and an
    /// operator's configuration is checked with it at start, before any file is due.
    pub fn validate(&self) -> Result<(), Error> {
        let text_fields: [(&'static str, &str, usize, bool); 6] = [
            (
                "immediate_destination_name",
                &self.immediate_destination_name,
                23,
                false,
            ),
            (
                "immediate_origin_name",
                &self.immediate_origin_name,
                23,
                false,
            ),
            ("company_name", &self.company_name, 16, true),
            (
                "company_identification",
                &self.company_identification,
                10,
                true,
            ),
            (
                "company_entry_description",
                &self.company_entry_description,
                10,
                true,
            ),
            ("immediate_origin", &self.immediate_origin, 10, true),
        ];
        for (field, text, width, required) in text_fields {
            if !is_field_text(text, width) || (required && text.is_empty()) {
                return Err(Error::AchConfig {
                    field,
                    reason: "must be printable ASCII, fit its field, have no leading or trailing space, and be present if required",
                });
            }
        }
        let origin = self.immediate_origin.as_bytes();
        let origin_ok = (origin.len() == 9 && origin.iter().all(u8::is_ascii_digit))
            || (origin.len() == 10 && origin.iter().all(u8::is_ascii_alphanumeric));
        if !origin_ok {
            return Err(Error::AchConfig {
                field: "immediate_origin",
                reason: "must be 9 digits or 10 letters and digits",
            });
        }
        if !self.effective_entry_date.is_valid() || !self.file_creation_date.is_valid() {
            return Err(Error::AchConfig {
                field: "effective_entry_date",
                reason: "dates must be real days in 2000-2099",
            });
        }
        if self.effective_entry_date < self.file_creation_date {
            return Err(Error::AchConfig {
                field: "effective_entry_date",
                reason: "must not be before the file creation date",
            });
        }
        if !self.file_creation_time.is_valid() {
            return Err(Error::AchConfig {
                field: "file_creation_time",
                reason: "must be a time of day",
            });
        }
        if modifier_position(self.first_file_id_modifier).is_none() {
            return Err(Error::AchConfig {
                field: "first_file_id_modifier",
                reason: "must be A-Z or 0-9",
            });
        }
        Ok(())
    }
}

/// Printable ASCII of at most `width` bytes with no leading or trailing space: the fixed-width
/// records pad with spaces, so only such text reads back unchanged.
fn is_field_text(text: &str, width: usize) -> bool {
    text.len() <= width
        && text.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && !text.starts_with(' ')
        && !text.ends_with(' ')
}

fn modifier_position(modifier: char) -> Option<usize> {
    FILE_ID_MODIFIERS
        .iter()
        .position(|&m| u32::from(m) == u32::from(modifier))
}
