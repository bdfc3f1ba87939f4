//! The ACH reader: parses a file record by record and checks every length, the record order,
//! every field, every control total, the entry hash, the counts, the block count and the
//! padding. The first fault is returned, naming its record number and field.

use super::records::{BatchControl, BatchHeader, EntryDetail, Fields, FileControl, FileHeader};
use super::{BLOCKING_FACTOR, ENTRY_HASH_MODULUS, RECORD_LEN};
use crate::{Error, MICROS_PER_CENT};
use assay_core::{MemberId, Micros};

/// A file as read, with every control total checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AchFile {
    pub header: FileHeader,
    pub batches: Vec<AchBatch>,
    pub control: FileControl,
    /// All-`9` records after the file control, padding the file to whole blocks.
    pub padding_records: u32,
}

/// A batch as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AchBatch {
    pub header: BatchHeader,
    pub entries: Vec<EntryDetail>,
    pub control: BatchControl,
}

impl AchFile {
    pub fn entries(&self) -> impl Iterator<Item = &EntryDetail> {
        self.batches.iter().flat_map(|batch| batch.entries.iter())
    }

    /// The money the file credits.
    pub fn total(&self) -> Result<Micros, Error> {
        Ok(Micros::new(self.control.total_credit_cents).checked_mul(MICROS_PER_CENT)?)
    }

    /// Each entry's member and amount, in file order.
    pub fn payouts(&self) -> impl Iterator<Item = (Option<MemberId>, Micros)> + '_ {
        self.entries().map(|entry| {
            // At most 10 digits of cents times 10,000 fits in u64.
            (
                entry.member(),
                Micros::new(entry.amount_cents * MICROS_PER_CENT),
            )
        })
    }
}

/// Splits a file into records of exactly 94 bytes, each ended by a newline.
struct Records<'a> {
    bytes: &'a [u8],
    position: usize,
    number: u64,
}

impl<'a> Records<'a> {
    /// The next record and its 1-based number, `None` at the end of the file.
    fn next(&mut self) -> Result<Option<Fields<'a>>, Error> {
        let rest = &self.bytes[self.position..];
        if rest.is_empty() {
            return Ok(None);
        }
        self.number += 1;
        let length = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        if length != RECORD_LEN || rest.len() == length {
            return Err(Error::AchRecordLength {
                record: self.number,
                length,
            });
        }
        self.position += RECORD_LEN + 1;
        Ok(Some(Fields {
            record: self.number,
            bytes: &rest[..RECORD_LEN],
        }))
    }

    /// The next record, which must exist and have one of the `allowed` record type codes.
    fn expect(&mut self, allowed: &[u8], expected: &'static str) -> Result<Fields<'a>, Error> {
        let Some(fields) = self.next()? else {
            return Err(Error::AchRecordOrder {
                record: self.number + 1,
                found: '\u{0}',
                expected,
            });
        };
        let record_type = fields.bytes[0];
        if !allowed.contains(&record_type) {
            return Err(Error::AchRecordOrder {
                record: fields.record,
                found: char::from(record_type),
                expected,
            });
        }
        Ok(fields)
    }
}

/// Reads and validates one ACH file.
pub fn read_file(bytes: &[u8]) -> Result<AchFile, Error> {
    let mut records = Records {
        bytes,
        position: 0,
        number: 0,
    };
    let header = FileHeader::decode(&records.expect(b"1", "1 (file header)")?)?;
    let mut batches = Vec::new();
    let mut last_trace = 0;
    let control_fields = loop {
        let fields = records.expect(b"59", "5 (batch header) or 9 (file control)")?;
        if fields.bytes[0] == b'9' {
            break fields;
        }
        let batch = read_batch(
            &mut records,
            fields,
            batches.len() as u32 + 1,
            &mut last_trace,
        )?;
        batches.push(batch);
    };
    let control = FileControl::decode(&control_fields)?;
    check_file_control(&control_fields, &control, &batches)?;

    let mut padding_records = 0;
    while let Some(fields) = records.next()? {
        if fields.bytes != [b'9'; RECORD_LEN] {
            return Err(fields.error("padding", "records after the file control must be all 9s"));
        }
        padding_records += 1;
        if padding_records >= BLOCKING_FACTOR as u32 {
            return Err(fields.error("padding", "more padding than one block needs"));
        }
    }
    let record_count = records.number;
    if !record_count.is_multiple_of(BLOCKING_FACTOR) {
        return Err(Error::AchField {
            record: record_count,
            field: "padding",
            reason: "the file must end on a block boundary (a multiple of 10 records)",
        });
    }
    check_control(
        &control_fields,
        "block_count",
        record_count / BLOCKING_FACTOR,
        control.block_count.into(),
    )?;
    Ok(AchFile {
        header,
        batches,
        control,
        padding_records,
    })
}

fn read_batch<'a>(
    records: &mut Records<'a>,
    header_fields: Fields<'a>,
    batch_number: u32,
    last_trace: &mut u64,
) -> Result<AchBatch, Error> {
    let header = BatchHeader::decode(&header_fields)?;
    if header.batch_number != batch_number {
        return Err(header_fields.error(
            "batch_number",
            "batches must be numbered 1, 2, 3 … in file order",
        ));
    }
    let mut entries = Vec::new();
    let mut entry_hash = 0;
    let mut credit_cents: u64 = 0;
    let control_fields = loop {
        let fields = records.expect(b"68", "6 (entry detail) or 8 (batch control)")?;
        if fields.bytes[0] == b'8' {
            break fields;
        }
        let entry = EntryDetail::decode(&fields)?;
        if entry.trace_number / 10_000_000 != header.odfi_identification {
            return Err(fields.error(
                "trace_number",
                "must start with the batch's ODFI identification",
            ));
        }
        if entry.trace_number <= *last_trace {
            return Err(fields.error("trace_number", "trace numbers must ascend through the file"));
        }
        *last_trace = entry.trace_number;
        entry_hash = (entry_hash + entry.rdfi.dfi_identification()) % ENTRY_HASH_MODULUS;
        credit_cents = credit_cents.saturating_add(entry.amount_cents);
        entries.push(entry);
    };
    let control = BatchControl::decode(&control_fields)?;
    if entries.is_empty() {
        return Err(control_fields.error(
            "entry_addenda_count",
            "a batch must have at least one entry",
        ));
    }
    let matches_header = [
        (
            control.service_class_code == header.service_class_code,
            "service_class_code",
        ),
        (
            control.company_identification == header.company_identification,
            "company_identification",
        ),
        (
            control.odfi_identification == header.odfi_identification,
            "odfi_identification",
        ),
        (control.batch_number == header.batch_number, "batch_number"),
    ];
    for (matches, field) in matches_header {
        if !matches {
            return Err(control_fields.error(field, "must equal the batch header's"));
        }
    }
    check_control(
        &control_fields,
        "entry_addenda_count",
        entries.len() as u64,
        control.entry_addenda_count.into(),
    )?;
    check_control(
        &control_fields,
        "entry_hash",
        entry_hash,
        control.entry_hash,
    )?;
    check_control(
        &control_fields,
        "total_debit_amount",
        0,
        control.total_debit_cents,
    )?;
    check_control(
        &control_fields,
        "total_credit_amount",
        credit_cents,
        control.total_credit_cents,
    )?;
    Ok(AchBatch {
        header,
        entries,
        control,
    })
}

fn check_file_control(
    fields: &Fields,
    control: &FileControl,
    batches: &[AchBatch],
) -> Result<(), Error> {
    let entries: u64 = batches.iter().map(|batch| batch.entries.len() as u64).sum();
    let entry_hash = batches.iter().fold(0, |hash, batch| {
        (hash + batch.control.entry_hash) % ENTRY_HASH_MODULUS
    });
    let credit_cents = batches.iter().fold(0u64, |total, batch| {
        total.saturating_add(batch.control.total_credit_cents)
    });
    check_control(
        fields,
        "batch_count",
        batches.len() as u64,
        control.batch_count.into(),
    )?;
    check_control(
        fields,
        "entry_addenda_count",
        entries,
        control.entry_addenda_count.into(),
    )?;
    check_control(fields, "entry_hash", entry_hash, control.entry_hash)?;
    check_control(fields, "total_debit_amount", 0, control.total_debit_cents)?;
    check_control(
        fields,
        "total_credit_amount",
        credit_cents,
        control.total_credit_cents,
    )
}

fn check_control(
    fields: &Fields,
    field: &'static str,
    expected: u64,
    found: u64,
) -> Result<(), Error> {
    if expected != found {
        return Err(Error::AchControl {
            record: fields.record,
            field,
            expected,
            found,
        });
    }
    Ok(())
}
