//! The ACH writer: streams PPD credits into files, closing a batch or a file whenever the next
//! entry would overflow one of the [`AchLimits`].

use super::records::{
    encode_entry, BatchControl, BatchHeader, FileControl, FileHeader, SERVICE_CLASS_CREDITS,
};
use super::{
    modifier_position, AchConfig, AchLimits, BLOCKING_FACTOR, ENTRY_AMOUNT_CENTS_MAX,
    ENTRY_HASH_MODULUS, FILE_ID_MODIFIERS, RECORD_LEN,
};
use crate::{
    check_line, whole_cents, Destination, Error, PayoutLine, Rail, RailFile, RunId, MICROS_PER_CENT,
};
use assay_core::Micros;

/// Largest member id the 15-character individual identification field holds.
const MEMBER_ID_MAX: u64 = 999_999_999_999_999;
/// The trace number is the ODFI's 8 digits followed by a 7-digit sequence.
const TRACE_SEQUENCE_FACTOR: u64 = 10_000_000;

/// Writes the ACH lines of a run as NACHA files (rule D4), splitting into batches and files at
/// `limits`. Lines are written in the order given, trace sequences run from 1 in each file, and
/// the same input always gives the same bytes. No lines, no files.
///
/// Refuses a line that is not an ACH destination, pays zero or a fraction of a cent, or exceeds
/// what one entry, batch or file may carry.
pub fn write_files<'a>(
    config: &AchConfig,
    limits: &AchLimits,
    run: RunId,
    lines: impl IntoIterator<Item = &'a PayoutLine>,
) -> Result<Vec<RailFile>, Error> {
    config.validate()?;
    limits.validate()?;
    let mut writer = Writer {
        config,
        limits,
        run,
        run_text: run.to_string(),
        files: Vec::new(),
        file: None,
    };
    let lines = lines.into_iter();
    let capacity_hint = lines.size_hint().0.min(limits.file_entries_max as usize);
    for line in lines {
        writer.push(line, capacity_hint)?;
    }
    writer.close_file();
    Ok(writer.files)
}

struct Writer<'c> {
    config: &'c AchConfig,
    limits: &'c AchLimits,
    run: RunId,
    run_text: String,
    files: Vec<RailFile>,
    file: Option<OpenFile>,
}

struct OpenFile {
    bytes: Vec<u8>,
    modifier: u8,
    /// Records written so far, the file header included.
    records: u64,
    batches: u32,
    entries: u32,
    credit_cents: u64,
    /// Sum of the closed batches' entry hashes, modulo 10^10.
    entry_hash: u64,
    total: Micros,
    batch: Option<OpenBatch>,
}

struct OpenBatch {
    number: u32,
    entries: u32,
    credit_cents: u64,
    entry_hash: u64,
}

impl Writer<'_> {
    fn push(&mut self, line: &PayoutLine, capacity_hint: usize) -> Result<(), Error> {
        check_line(line, Rail::Ach)?;
        let Destination::Ach(account) = &line.destination else {
            unreachable!("check_line confirmed the ACH rail");
        };
        let cents = whole_cents(line, Rail::Ach)?;
        let limits = self.limits;
        let cents_max = ENTRY_AMOUNT_CENTS_MAX
            .min(limits.batch_credit_cents_max)
            .min(limits.file_credit_cents_max);
        if cents > cents_max {
            return Err(Error::AmountTooLarge {
                member: line.member,
                amount: line.amount,
                limit: Micros::new(cents_max * MICROS_PER_CENT),
                what: "one ACH entry, batch or file",
            });
        }
        if line.member.0 > MEMBER_ID_MAX {
            return Err(Error::MemberIdTooLong {
                member: line.member,
            });
        }

        if let Some(file) = &self.file {
            if let Some(batch) = &file.batch {
                if batch.entries >= limits.batch_entries_max
                    || batch.credit_cents + cents > limits.batch_credit_cents_max
                {
                    self.close_batch();
                }
            }
        }
        if !self
            .file
            .as_ref()
            .is_some_and(|file| file.fits(limits, cents))
        {
            self.close_file();
            self.open_file(capacity_hint)?;
        }
        if self.file.as_ref().is_some_and(|file| file.batch.is_none()) {
            self.open_batch();
        }

        let file = self.file.as_mut().expect("a file was opened above");
        let batch = file.batch.as_mut().expect("a batch was opened above");
        file.entries += 1;
        let odfi = self.config.odfi.dfi_identification();
        let trace_number = odfi * TRACE_SEQUENCE_FACTOR + u64::from(file.entries);
        encode_entry(
            &mut file.bytes,
            account.account_type().credit_transaction_code(),
            &account.routing(),
            account.account_number(),
            cents,
            line.member,
            account.name(),
            trace_number,
        );
        file.records += 1;
        file.credit_cents += cents;
        file.total = file.total.checked_add(line.amount)?;
        batch.entries += 1;
        batch.credit_cents += cents;
        batch.entry_hash =
            (batch.entry_hash + account.routing().dfi_identification()) % ENTRY_HASH_MODULUS;
        Ok(())
    }

    fn open_file(&mut self, capacity_hint: usize) -> Result<(), Error> {
        let first = modifier_position(self.config.first_file_id_modifier)
            .expect("the configuration was validated");
        let position = first + self.files.len();
        let modifier = *FILE_ID_MODIFIERS
            .get(position)
            .ok_or(Error::AchFilesExhausted {
                files_max: (FILE_ID_MODIFIERS.len() - first) as u32,
            })?;
        let records_hint = capacity_hint + 4;
        let mut bytes = Vec::with_capacity(records_hint * (RECORD_LEN + 1));
        let config = self.config;
        FileHeader {
            immediate_destination: config.immediate_destination,
            immediate_origin: config.immediate_origin.clone(),
            file_creation_date: config.file_creation_date,
            file_creation_time: config.file_creation_time,
            file_id_modifier: char::from(modifier),
            immediate_destination_name: config.immediate_destination_name.clone(),
            immediate_origin_name: config.immediate_origin_name.clone(),
            reference_code: String::new(),
        }
        .encode(&mut bytes);
        self.file = Some(OpenFile {
            bytes,
            modifier,
            records: 1,
            batches: 0,
            entries: 0,
            credit_cents: 0,
            entry_hash: 0,
            total: Micros::ZERO,
            batch: None,
        });
        Ok(())
    }

    fn open_batch(&mut self) {
        let config = self.config;
        let file = self.file.as_mut().expect("batches open inside a file");
        file.batches += 1;
        BatchHeader {
            service_class_code: SERVICE_CLASS_CREDITS,
            company_name: config.company_name.clone(),
            company_discretionary_data: self.run_text.clone(),
            company_identification: config.company_identification.clone(),
            standard_entry_class: "PPD".to_string(),
            company_entry_description: config.company_entry_description.clone(),
            company_descriptive_date: String::new(),
            effective_entry_date: config.effective_entry_date,
            originator_status_code: 1,
            odfi_identification: config.odfi.dfi_identification(),
            batch_number: file.batches,
        }
        .encode(&mut file.bytes);
        file.records += 1;
        file.batch = Some(OpenBatch {
            number: file.batches,
            entries: 0,
            credit_cents: 0,
            entry_hash: 0,
        });
    }

    fn close_batch(&mut self) {
        let config = self.config;
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let Some(batch) = file.batch.take() else {
            return;
        };
        BatchControl {
            service_class_code: SERVICE_CLASS_CREDITS,
            entry_addenda_count: batch.entries,
            entry_hash: batch.entry_hash,
            total_debit_cents: 0,
            total_credit_cents: batch.credit_cents,
            company_identification: config.company_identification.clone(),
            odfi_identification: config.odfi.dfi_identification(),
            batch_number: batch.number,
        }
        .encode(&mut file.bytes);
        file.records += 1;
        file.entry_hash = (file.entry_hash + batch.entry_hash) % ENTRY_HASH_MODULUS;
    }

    fn close_file(&mut self) {
        self.close_batch();
        let Some(mut file) = self.file.take() else {
            return;
        };
        let records = file.records + 1;
        let blocks = records.div_ceil(BLOCKING_FACTOR);
        FileControl {
            batch_count: file.batches,
            // `fits` kept the block count within its 6 digits.
            block_count: blocks as u32,
            entry_addenda_count: file.entries,
            entry_hash: file.entry_hash,
            total_debit_cents: 0,
            total_credit_cents: file.credit_cents,
        }
        .encode(&mut file.bytes);
        for _ in records..blocks * BLOCKING_FACTOR {
            file.bytes.extend_from_slice(&[b'9'; RECORD_LEN]);
            file.bytes.push(b'\n');
        }
        debug_assert_eq!(
            file.bytes.len() as u64,
            blocks * BLOCKING_FACTOR * (RECORD_LEN as u64 + 1)
        );
        // Lower case, as the log's file names are (a-z 0-9 . _ -): the modifier is A-Z or 0-9
        // in the file, so names stay distinct.
        let name = format!(
            "ach-{}-{}.ach",
            self.run,
            char::from(file.modifier).to_ascii_lowercase()
        );
        self.files.push(RailFile::new(
            Rail::Ach,
            name,
            file.bytes,
            file.entries.into(),
            file.total,
        ));
    }
}

impl OpenFile {
    /// Whether one more entry of `cents` fits this file, counting the batch header it may need
    /// and the control records still to come.
    fn fits(&self, limits: &AchLimits, cents: u64) -> bool {
        let new_batch = self.batch.is_none();
        let records_after = self.records
            + 1 // the entry
            + 1 // its batch's control, written when the batch closes
            + u64::from(new_batch) // a batch header
            + 1; // the file control
        self.entries < limits.file_entries_max
            && self.credit_cents + cents <= limits.file_credit_cents_max
            && (!new_batch || self.batches < limits.file_batches_max)
            && records_after.div_ceil(BLOCKING_FACTOR) <= u64::from(limits.file_blocks_max)
    }
}
