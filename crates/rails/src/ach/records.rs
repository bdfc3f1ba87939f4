//! The five NACHA record layouts, field by field (positions are 1-based and inclusive, as in
//! the NACHA Operating Rules' record formats), with encoders into a fixed 94-byte buffer and
//! decoders that name the record number and field of any fault.

use super::{Date, Time, RECORD_LEN};
use crate::destination::aba_check_digit;
use crate::{Error, RoutingNumber};
use assay_core::MemberId;

/// One record under construction. Fields are appended left to right; `finish` asserts that
/// exactly 94 bytes were written, so a layout slip is a bug caught by every test, never a
/// malformed file.
pub(crate) struct RecordBuf {
    bytes: [u8; RECORD_LEN],
    len: usize,
}

impl RecordBuf {
    pub(crate) fn new(record_type: u8) -> RecordBuf {
        let mut record = RecordBuf {
            bytes: [b' '; RECORD_LEN],
            len: 0,
        };
        record.raw(&[record_type]);
        record
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Left-justified, space-padded text. Callers validated the text; this asserts it.
    pub(crate) fn alpha(&mut self, text: &str, width: usize) {
        assert!(
            text.len() <= width && text.is_ascii(),
            "field text was validated"
        );
        self.bytes[self.len..self.len + text.len()].copy_from_slice(text.as_bytes());
        self.len += width;
    }

    /// Right-justified, zero-padded digits. Callers kept `value` within the field; this asserts.
    pub(crate) fn numeric(&mut self, mut value: u64, width: usize) {
        for position in (self.len..self.len + width).rev() {
            self.bytes[position] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        assert_eq!(value, 0, "numeric value fits its field");
        self.len += width;
    }

    /// Left-justified decimal digits, space-padded (an identification number).
    pub(crate) fn left_number(&mut self, value: u64, width: usize) {
        let digits = if value == 0 {
            1
        } else {
            value.ilog10() as usize + 1
        };
        assert!(digits <= width, "identification number fits its field");
        let start = self.len;
        self.numeric(value, digits);
        debug_assert_eq!(self.len, start + digits);
        self.len = start + width;
    }

    pub(crate) fn date(&mut self, date: Date) {
        self.numeric(u64::from(date.year % 100), 2);
        self.numeric(date.month.into(), 2);
        self.numeric(date.day.into(), 2);
    }

    pub(crate) fn finish(self, out: &mut Vec<u8>) {
        assert_eq!(self.len, RECORD_LEN, "a record is exactly 94 bytes");
        out.extend_from_slice(&self.bytes);
        out.push(b'\n');
    }
}

/// A record being decoded: slices by 1-based inclusive positions; every error carries the
/// record number and the field's name.
pub(crate) struct Fields<'a> {
    pub(crate) record: u64,
    pub(crate) bytes: &'a [u8],
}

impl<'a> Fields<'a> {
    fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        &self.bytes[start - 1..end]
    }

    pub(crate) fn error(&self, field: &'static str, reason: &'static str) -> Error {
        Error::AchField {
            record: self.record,
            field,
            reason,
        }
    }

    pub(crate) fn numeric(
        &self,
        start: usize,
        end: usize,
        field: &'static str,
    ) -> Result<u64, Error> {
        let digits = self.slice(start, end);
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(self.error(field, "must be all digits"));
        }
        Ok(digits
            .iter()
            .fold(0, |n, digit| n * 10 + u64::from(digit - b'0')))
    }

    /// Printable ASCII, returned without its trailing padding.
    pub(crate) fn alpha(
        &self,
        start: usize,
        end: usize,
        field: &'static str,
    ) -> Result<String, Error> {
        let text = self.slice(start, end);
        if !text.iter().all(|b| (0x20..=0x7e).contains(b)) {
            return Err(self.error(field, "must be printable ASCII"));
        }
        let trimmed = text.trim_ascii_end();
        // Printable ASCII is UTF-8.
        Ok(String::from_utf8_lossy(trimmed).into_owned())
    }

    pub(crate) fn exact(
        &self,
        start: usize,
        end: usize,
        expected: &[u8],
        field: &'static str,
        reason: &'static str,
    ) -> Result<(), Error> {
        if self.slice(start, end) != expected {
            return Err(self.error(field, reason));
        }
        Ok(())
    }

    pub(crate) fn blank(&self, start: usize, end: usize, field: &'static str) -> Result<(), Error> {
        if !self.slice(start, end).iter().all(|&b| b == b' ') {
            return Err(self.error(field, "must be blank"));
        }
        Ok(())
    }

    pub(crate) fn date(&self, start: usize, field: &'static str) -> Result<Date, Error> {
        let yymmdd = self.numeric(start, start + 5, field)?;
        // Six digits: each part is below 100.
        let date = Date {
            year: 2000 + (yymmdd / 10_000) as u16,
            month: (yymmdd / 100 % 100) as u8,
            day: (yymmdd % 100) as u8,
        };
        if !date.is_valid() {
            return Err(self.error(field, "must be a real date YYMMDD"));
        }
        Ok(date)
    }

    /// A 9-digit routing number; a wrong ninth digit is blamed on `check_field`, anything else
    /// on `field`.
    fn routing(
        &self,
        digits: &[u8],
        field: &'static str,
        check_field: &'static str,
    ) -> Result<RoutingNumber, Error> {
        let all_digits = digits.len() == 9 && digits.iter().all(u8::is_ascii_digit);
        if all_digits && aba_check_digit(&digits[..8]) != digits[8] - b'0' {
            return Err(self.error(check_field, "check digit does not match the routing number"));
        }
        std::str::from_utf8(digits)
            .ok()
            .and_then(|text| RoutingNumber::parse(text).ok())
            .ok_or_else(|| self.error(field, "must be a depository institution's routing number"))
    }
}

/// The file header record (`1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHeader {
    pub immediate_destination: RoutingNumber,
    /// Without the leading space of the 9-digit form.
    pub immediate_origin: String,
    pub file_creation_date: Date,
    pub file_creation_time: Time,
    pub file_id_modifier: char,
    pub immediate_destination_name: String,
    pub immediate_origin_name: String,
    pub reference_code: String,
}

impl FileHeader {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut record = RecordBuf::new(b'1');
        record.raw(b"01 "); // 2-3 priority code, 4 blank before the 9-digit routing
        record.raw(self.immediate_destination.as_str().as_bytes()); // 5-13
                                                                    // 14-23: a 9-digit origin takes a leading space, as a routing number does in 4-13.
        if self.immediate_origin.len() == 9 {
            record.raw(b" ");
            record.alpha(&self.immediate_origin, 9);
        } else {
            record.alpha(&self.immediate_origin, 10);
        }
        record.date(self.file_creation_date); // 24-29
        record.numeric(self.file_creation_time.hour.into(), 2); // 30-31
        record.numeric(self.file_creation_time.minute.into(), 2); // 32-33
        record.raw(&[self.file_id_modifier as u8]); // 34
        record.raw(b"094101"); // 35-37 record size, 38-39 blocking factor, 40 format code
        record.alpha(&self.immediate_destination_name, 23); // 41-63
        record.alpha(&self.immediate_origin_name, 23); // 64-86
        record.alpha(&self.reference_code, 8); // 87-94
        record.finish(out);
    }

    pub(crate) fn decode(fields: &Fields) -> Result<FileHeader, Error> {
        fields.exact(2, 3, b"01", "priority_code", "must be 01")?;
        fields.exact(
            4,
            4,
            b" ",
            "immediate_destination",
            "must be a space and 9 digits",
        )?;
        let immediate_destination = fields.routing(
            fields.slice(5, 13),
            "immediate_destination",
            "immediate_destination",
        )?;
        let origin = fields.slice(14, 23);
        let origin = if origin[0] == b' ' {
            &origin[1..]
        } else {
            origin
        };
        let origin_ok = (origin.len() == 9 && origin.iter().all(u8::is_ascii_digit))
            || (origin.len() == 10 && origin.iter().all(u8::is_ascii_alphanumeric));
        if !origin_ok {
            return Err(fields.error(
                "immediate_origin",
                "must be a space and 9 digits, or 10 letters and digits",
            ));
        }
        let file_creation_date = fields.date(24, "file_creation_date")?;
        let hhmm = fields.numeric(30, 33, "file_creation_time")?;
        // Four digits: each part is below 100.
        let file_creation_time = Time {
            hour: (hhmm / 100) as u8,
            minute: (hhmm % 100) as u8,
        };
        if !file_creation_time.is_valid() {
            return Err(fields.error("file_creation_time", "must be a time HHMM"));
        }
        let modifier = fields.slice(34, 34)[0];
        if !modifier.is_ascii_uppercase() && !modifier.is_ascii_digit() {
            return Err(fields.error("file_id_modifier", "must be A-Z or 0-9"));
        }
        fields.exact(35, 37, b"094", "record_size", "must be 094")?;
        fields.exact(38, 39, b"10", "blocking_factor", "must be 10")?;
        fields.exact(40, 40, b"1", "format_code", "must be 1")?;
        Ok(FileHeader {
            immediate_destination,
            immediate_origin: String::from_utf8_lossy(origin).into_owned(),
            file_creation_date,
            file_creation_time,
            file_id_modifier: char::from(modifier),
            immediate_destination_name: fields.alpha(41, 63, "immediate_destination_name")?,
            immediate_origin_name: fields.alpha(64, 86, "immediate_origin_name")?,
            reference_code: fields.alpha(87, 94, "reference_code")?,
        })
    }
}

/// Service class code of a batch of credits only.
pub const SERVICE_CLASS_CREDITS: u16 = 220;

/// The batch header record (`5`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    pub service_class_code: u16,
    pub company_name: String,
    /// Assay writes the run id here.
    pub company_discretionary_data: String,
    pub company_identification: String,
    pub standard_entry_class: String,
    pub company_entry_description: String,
    pub company_descriptive_date: String,
    pub effective_entry_date: Date,
    pub originator_status_code: u8,
    pub odfi_identification: u64,
    pub batch_number: u32,
}

impl BatchHeader {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut record = RecordBuf::new(b'5');
        record.numeric(self.service_class_code.into(), 3); // 2-4
        record.alpha(&self.company_name, 16); // 5-20
        record.alpha(&self.company_discretionary_data, 20); // 21-40
        record.alpha(&self.company_identification, 10); // 41-50
        record.alpha(&self.standard_entry_class, 3); // 51-53
        record.alpha(&self.company_entry_description, 10); // 54-63
        record.alpha(&self.company_descriptive_date, 6); // 64-69
        record.date(self.effective_entry_date); // 70-75
        record.alpha("", 3); // 76-78 settlement date, the ACH operator fills it
        record.numeric(self.originator_status_code.into(), 1); // 79
        record.numeric(self.odfi_identification, 8); // 80-87
        record.numeric(self.batch_number.into(), 7); // 88-94
        record.finish(out);
    }

    pub(crate) fn decode(fields: &Fields) -> Result<BatchHeader, Error> {
        let service_class_code = fields.numeric(2, 4, "service_class_code")? as u16;
        if service_class_code != SERVICE_CLASS_CREDITS {
            return Err(fields.error("service_class_code", "must be 220 (credits only)"));
        }
        fields.exact(51, 53, b"PPD", "standard_entry_class", "must be PPD")?;
        fields.blank(76, 78, "settlement_date")?;
        let originator_status_code = fields.numeric(79, 79, "originator_status_code")? as u8;
        if originator_status_code != 1 {
            return Err(fields.error(
                "originator_status_code",
                "must be 1 (a depository institution)",
            ));
        }
        Ok(BatchHeader {
            service_class_code,
            company_name: fields.alpha(5, 20, "company_name")?,
            company_discretionary_data: fields.alpha(21, 40, "company_discretionary_data")?,
            company_identification: fields.alpha(41, 50, "company_identification")?,
            standard_entry_class: "PPD".to_string(),
            company_entry_description: fields.alpha(54, 63, "company_entry_description")?,
            company_descriptive_date: fields.alpha(64, 69, "company_descriptive_date")?,
            effective_entry_date: fields.date(70, "effective_entry_date")?,
            originator_status_code,
            odfi_identification: fields.numeric(80, 87, "odfi_identification")?,
            // Seven digits fit in u32.
            batch_number: fields.numeric(88, 94, "batch_number")? as u32,
        })
    }
}

/// Writes one PPD credit entry detail record (`6`) straight from its parts, with no heap
/// allocation: this is the per-member hot path.
#[allow(clippy::too_many_arguments)] // one argument per record field; a struct would only rename them
pub(crate) fn encode_entry(
    out: &mut Vec<u8>,
    transaction_code: u8,
    rdfi: &RoutingNumber,
    account_number: &str,
    amount_cents: u64,
    member: MemberId,
    name: &str,
    trace_number: u64,
) {
    let mut record = RecordBuf::new(b'6');
    record.numeric(transaction_code.into(), 2); // 2-3
    record.raw(rdfi.as_str().as_bytes()); // 4-11 RDFI identification, 12 check digit
    record.alpha(account_number, 17); // 13-29
    record.numeric(amount_cents, 10); // 30-39
    record.left_number(member.0, 15); // 40-54 individual identification number
    record.alpha(name, 22); // 55-76
    record.alpha("", 2); // 77-78 discretionary data
    record.raw(b"0"); // 79 addenda record indicator
    record.numeric(trace_number, 15); // 80-94
    record.finish(out);
}

/// The entry detail record (`6`) of a PPD entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryDetail {
    pub transaction_code: u8,
    pub rdfi: RoutingNumber,
    pub account_number: String,
    pub amount_cents: u64,
    /// Assay writes the member id here, in decimal.
    pub individual_identification: String,
    pub individual_name: String,
    pub discretionary_data: String,
    pub trace_number: u64,
}

impl EntryDetail {
    /// Credits: 22/32 deposits and 23/33 prenotes.
    pub fn is_credit(&self) -> bool {
        matches!(self.transaction_code, 22 | 23 | 32 | 33)
    }

    /// The member, if the identification number is one (as in every file Assay writes).
    pub fn member(&self) -> Option<MemberId> {
        self.individual_identification.parse().ok().map(MemberId)
    }

    pub(crate) fn decode(fields: &Fields) -> Result<EntryDetail, Error> {
        let transaction_code = fields.numeric(2, 3, "transaction_code")? as u8;
        if !matches!(transaction_code, 22 | 32) {
            return Err(fields.error(
                "transaction_code",
                "must be 22 or 32 (a credit to checking or savings)",
            ));
        }
        let rdfi = fields.routing(
            fields.slice(4, 12),
            "receiving_dfi_identification",
            "check_digit",
        )?;
        let account_number = fields.alpha(13, 29, "dfi_account_number")?;
        if account_number.is_empty() {
            return Err(fields.error("dfi_account_number", "must not be blank"));
        }
        let amount_cents = fields.numeric(30, 39, "amount")?;
        if amount_cents == 0 {
            return Err(fields.error("amount", "a credit must pay something"));
        }
        let addenda = fields.slice(79, 79)[0];
        if addenda != b'0' {
            return Err(fields.error(
                "addenda_record_indicator",
                "must be 0: Assay files carry no addenda",
            ));
        }
        Ok(EntryDetail {
            transaction_code,
            rdfi,
            account_number,
            amount_cents,
            individual_identification: fields.alpha(40, 54, "individual_identification_number")?,
            individual_name: fields.alpha(55, 76, "individual_name")?,
            discretionary_data: fields.alpha(77, 78, "discretionary_data")?,
            trace_number: fields.numeric(80, 94, "trace_number")?,
        })
    }
}

/// The batch control record (`8`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchControl {
    pub service_class_code: u16,
    pub entry_addenda_count: u32,
    pub entry_hash: u64,
    pub total_debit_cents: u64,
    pub total_credit_cents: u64,
    pub company_identification: String,
    pub odfi_identification: u64,
    pub batch_number: u32,
}

impl BatchControl {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut record = RecordBuf::new(b'8');
        record.numeric(self.service_class_code.into(), 3); // 2-4
        record.numeric(self.entry_addenda_count.into(), 6); // 5-10
        record.numeric(self.entry_hash, 10); // 11-20
        record.numeric(self.total_debit_cents, 12); // 21-32
        record.numeric(self.total_credit_cents, 12); // 33-44
        record.alpha(&self.company_identification, 10); // 45-54
        record.alpha("", 19); // 55-73 message authentication code
        record.alpha("", 6); // 74-79 reserved
        record.numeric(self.odfi_identification, 8); // 80-87
        record.numeric(self.batch_number.into(), 7); // 88-94
        record.finish(out);
    }

    pub(crate) fn decode(fields: &Fields) -> Result<BatchControl, Error> {
        fields.blank(55, 73, "message_authentication_code")?;
        fields.blank(74, 79, "reserved")?;
        // Each numeric field below has at most 12 digits; counts of 6 and 7 digits fit u32.
        Ok(BatchControl {
            service_class_code: fields.numeric(2, 4, "service_class_code")? as u16,
            entry_addenda_count: fields.numeric(5, 10, "entry_addenda_count")? as u32,
            entry_hash: fields.numeric(11, 20, "entry_hash")?,
            total_debit_cents: fields.numeric(21, 32, "total_debit_amount")?,
            total_credit_cents: fields.numeric(33, 44, "total_credit_amount")?,
            company_identification: fields.alpha(45, 54, "company_identification")?,
            odfi_identification: fields.numeric(80, 87, "odfi_identification")?,
            batch_number: fields.numeric(88, 94, "batch_number")? as u32,
        })
    }
}

/// The file control record (`9`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileControl {
    pub batch_count: u32,
    pub block_count: u32,
    pub entry_addenda_count: u32,
    pub entry_hash: u64,
    pub total_debit_cents: u64,
    pub total_credit_cents: u64,
}

impl FileControl {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut record = RecordBuf::new(b'9');
        record.numeric(self.batch_count.into(), 6); // 2-7
        record.numeric(self.block_count.into(), 6); // 8-13
        record.numeric(self.entry_addenda_count.into(), 8); // 14-21
        record.numeric(self.entry_hash, 10); // 22-31
        record.numeric(self.total_debit_cents, 12); // 32-43
        record.numeric(self.total_credit_cents, 12); // 44-55
        record.alpha("", 39); // 56-94 reserved
        record.finish(out);
    }

    pub(crate) fn decode(fields: &Fields) -> Result<FileControl, Error> {
        fields.blank(56, 94, "reserved")?;
        // Counts have 6 or 8 digits and fit u32.
        Ok(FileControl {
            batch_count: fields.numeric(2, 7, "batch_count")? as u32,
            block_count: fields.numeric(8, 13, "block_count")? as u32,
            entry_addenda_count: fields.numeric(14, 21, "entry_addenda_count")? as u32,
            entry_hash: fields.numeric(22, 31, "entry_hash")?,
            total_debit_cents: fields.numeric(32, 43, "total_debit_amount")?,
            total_credit_cents: fields.numeric(44, 55, "total_credit_amount")?,
        })
    }
}
