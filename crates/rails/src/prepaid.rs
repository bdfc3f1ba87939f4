//! The prepaid card rail: a CSV load file for the card processor (rule D4).
//!
//! ```text
//! card_reference,amount_micros,currency,run_id
//! tok_4f9a,12340000,USD,2026-01r1
//! …
//! #checksum,<rows>,<total_micros>,<sha256>
//! ```
//!
//! - One header line, then one row per member, in line order; every line ends in `\n`.
//! - `card_reference`: the processor's token, 1–64 of `0-9 A-Z a-z _ -` (never a card number).
//! - `amount_micros`: decimal micro-USD, no sign, no leading zeros, never zero, and always a
//!   whole number of cents (a multiple of 10,000), because card processors post cents. Micro-USD
//!   is written rather than dollars so the file says exactly what the log says, and the
//!   processor's conversion (÷ 10,000) is exact. A sub-cent amount is refused, never rounded.
//! - `currency`: `USD`. `run_id`: the run, the same on every row.
//! - The last line: `#checksum`, the number of rows (header and checksum line not counted), the
//!   sum of `amount_micros`, and the lowercase hex SHA-256 of every byte before this line.
//!
//! No field can hold a comma, quote or newline, so no CSV quoting is ever needed.

use crate::{
    check_line, whole_cents, CardReference, Destination, Error, PayoutLine, Rail, RailFile, RunId,
    MICROS_PER_CENT,
};
use assay_core::Micros;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

pub const HEADER: &str = "card_reference,amount_micros,currency,run_id";
pub const CURRENCY: &str = "USD";
/// Most rows in one file: twice the 10-million-member target, so one run never needs two
/// files, and a reader never allocates without bound for a corrupt or hostile file.
pub const ROWS_MAX: u64 = 20_000_000;
const CHECKSUM_TAG: &str = "#checksum";

/// Writes the run's prepaid lines as a load file, or `None` when there are none.
pub fn write_file<'a>(
    run: RunId,
    lines: impl IntoIterator<Item = &'a PayoutLine>,
) -> Result<Option<RailFile>, Error> {
    let run_text = run.to_string();
    let lines = lines.into_iter();
    let mut text = String::with_capacity(HEADER.len() + 1 + lines.size_hint().0 * 48);
    text.push_str(HEADER);
    text.push('\n');
    let mut rows: u64 = 0;
    let mut total = Micros::ZERO;
    for line in lines {
        check_line(line, Rail::Prepaid)?;
        let Destination::Prepaid(reference) = &line.destination else {
            unreachable!("check_line confirmed the prepaid rail");
        };
        whole_cents(line, Rail::Prepaid)?;
        if rows == ROWS_MAX {
            return Err(Error::TooManyLines {
                rail: Rail::Prepaid,
                limit: ROWS_MAX,
            });
        }
        total = total.checked_add(line.amount)?;
        rows += 1;
        // Writing to a String cannot fail.
        let _ = writeln!(
            text,
            "{},{},{CURRENCY},{run_text}",
            reference.as_str(),
            line.amount.get()
        );
    }
    if rows == 0 {
        return Ok(None);
    }
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    let _ = writeln!(text, "{CHECKSUM_TAG},{rows},{},{digest}", total.get());
    let name = format!("prepaid-{run}.csv");
    Ok(Some(RailFile::new(
        Rail::Prepaid,
        name,
        text.into_bytes(),
        rows,
        total,
    )))
}

/// A load file as read, checksum verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrepaidFile {
    pub run: RunId,
    pub rows: Vec<PrepaidRow>,
    pub total: Micros,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PrepaidRow {
    pub card_reference: CardReference,
    pub amount: Micros,
}

/// Reads and validates a load file; errors name the 1-based line and the field.
pub fn read_file(bytes: &[u8]) -> Result<PrepaidFile, Error> {
    let mut lines = Lines {
        bytes,
        position: 0,
        number: 0,
    };
    let header = lines
        .next_line()?
        .ok_or_else(|| field_error(1, "header", "the file is empty"))?;
    if header != HEADER.as_bytes() {
        return Err(field_error(
            1,
            "header",
            "must be card_reference,amount_micros,currency,run_id",
        ));
    }
    let mut rows = Vec::new();
    let mut run: Option<RunId> = None;
    let mut total = Micros::ZERO;
    loop {
        let checksum_start = lines.position;
        let Some(line) = lines.next_line()? else {
            return Err(field_error(
                lines.number + 1,
                "checksum",
                "the file must end with a #checksum line",
            ));
        };
        let number = lines.number;
        if line.starts_with(b"#") {
            check_checksum(
                number,
                line,
                &bytes[..checksum_start],
                rows.len() as u64,
                total,
            )?;
            if lines.position != bytes.len() {
                return Err(field_error(
                    number + 1,
                    "end",
                    "nothing may follow the checksum line",
                ));
            }
            break;
        }
        if rows.len() as u64 == ROWS_MAX {
            return Err(field_error(
                number,
                "row",
                "more rows than one file may hold",
            ));
        }
        let text =
            std::str::from_utf8(line).map_err(|_| field_error(number, "row", "must be ASCII"))?;
        let fields: Vec<&str> = text.split(',').collect();
        let [reference, amount, currency, run_text] = fields[..] else {
            return Err(field_error(
                number,
                "row",
                "must have 4 comma-separated fields",
            ));
        };
        let card_reference = CardReference::parse(reference).map_err(|_| {
            field_error(
                number,
                "card_reference",
                "must be a card token of 1 to 64 of 0-9 A-Z a-z _ -",
            )
        })?;
        let amount = parse_amount(amount).ok_or_else(|| {
            field_error(
                number,
                "amount_micros",
                "must be a positive whole number of cents in micro-USD, no leading zeros",
            )
        })?;
        if currency != CURRENCY {
            return Err(field_error(number, "currency", "must be USD"));
        }
        let row_run = RunId::parse(run_text)
            .map_err(|_| field_error(number, "run_id", "must be a run id like 2026-01r1"))?;
        if run.is_some_and(|run| run != row_run) {
            return Err(field_error(
                number,
                "run_id",
                "must be the same on every row",
            ));
        }
        run = Some(row_run);
        total = total
            .checked_add(amount)
            .map_err(|_| field_error(number, "amount_micros", "the total overflows"))?;
        rows.push(PrepaidRow {
            card_reference,
            amount,
        });
    }
    let run = run.ok_or_else(|| field_error(2, "row", "a load file has at least one row"))?;
    Ok(PrepaidFile { run, rows, total })
}

fn parse_amount(text: &str) -> Option<Micros> {
    let canonical =
        !text.is_empty() && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit());
    let micros: u64 = text.parse().ok().filter(|_| canonical)?;
    micros
        .is_multiple_of(MICROS_PER_CENT)
        .then_some(Micros::new(micros))
}

fn check_checksum(
    number: u64,
    line: &[u8],
    preceding: &[u8],
    rows: u64,
    total: Micros,
) -> Result<(), Error> {
    let text =
        std::str::from_utf8(line).map_err(|_| field_error(number, "checksum", "must be ASCII"))?;
    let fields: Vec<&str> = text.split(',').collect();
    let [CHECKSUM_TAG, row_count, total_micros, digest] = fields[..] else {
        return Err(field_error(
            number,
            "checksum",
            "must be #checksum,ROWS,TOTAL_MICROS,SHA256",
        ));
    };
    let expected = [
        ("row_count", row_count, rows.to_string()),
        ("total_micros", total_micros, total.get().to_string()),
        ("sha256", digest, hex::encode(Sha256::digest(preceding))),
    ];
    for (field, found, expected) in expected {
        if found != expected {
            return Err(Error::PrepaidChecksum {
                line: number,
                field,
                expected,
                found: found.to_string(),
            });
        }
    }
    Ok(())
}

fn field_error(line: u64, field: &'static str, reason: &'static str) -> Error {
    Error::PrepaidField {
        line,
        field,
        reason,
    }
}

/// Splits a file into `\n`-terminated lines, numbered from 1.
struct Lines<'a> {
    bytes: &'a [u8],
    position: usize,
    number: u64,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Result<Option<&'a [u8]>, Error> {
        let rest = &self.bytes[self.position..];
        if rest.is_empty() {
            return Ok(None);
        }
        self.number += 1;
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(field_error(
                self.number,
                "line_terminator",
                "every line must end with a newline",
            ));
        };
        self.position += end + 1;
        Ok(Some(&rest[..end]))
    }
}
