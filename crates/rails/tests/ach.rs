//! ACH files at the crate boundary: every file written is read back and checked against the
//! lines it came from (rule D4); splitting at injected limits; corrupted files refused with the
//! record and field named.

mod common;

use assay_core::{MemberId, Micros};
use assay_rails::ach::{self, AchFile, AchLimits, FILE_ID_MODIFIERS};
use assay_rails::{Destination, Error, PayoutLine, RailFile};
use common::{ach_destination, config, lines, run, Corrupt};
use proptest::prelude::*;

/// Writes `lines`, reads every file back, and checks the files against the lines and the
/// limits. Returns the files and what was read.
fn check(lines: &[PayoutLine], limits: &AchLimits) -> Vec<(RailFile, AchFile)> {
    let config = config();
    let files = ach::write_files(&config, limits, run(), lines).unwrap();
    let mut read_back = Vec::new();
    let mut payouts = Vec::new();
    for (position, file) in files.iter().enumerate() {
        let read = ach::read_file(file.bytes()).unwrap_or_else(|e| panic!("{}: {e}", file.name()));
        assert_eq!(
            file.bytes().len() % (10 * 95),
            0,
            "whole blocks of 94 + newline"
        );
        assert_eq!(
            read.header.file_id_modifier,
            char::from(FILE_ID_MODIFIERS[position])
        );
        assert_eq!(read.total().unwrap(), file.total());
        assert_eq!(read.entries().count() as u64, file.lines());
        assert!(read.batches.len() as u32 <= limits.file_batches_max);
        assert!(read.control.block_count <= limits.file_blocks_max);
        assert!(read.entries().count() as u32 <= limits.file_entries_max);
        assert!(read.control.total_credit_cents <= limits.file_credit_cents_max);
        for (sequence, entry) in read.entries().enumerate() {
            // Trace numbers: the ODFI's 8 digits, then 1, 2, 3 … within the file.
            assert_eq!(
                entry.trace_number,
                12_210_527 * 10_000_000 + sequence as u64 + 1
            );
        }
        for batch in &read.batches {
            assert!(batch.entries.len() as u32 <= limits.batch_entries_max);
            assert!(batch.control.total_credit_cents <= limits.batch_credit_cents_max);
            assert_eq!(batch.header.company_discretionary_data, run().to_string());
            assert_eq!(
                batch.header.effective_entry_date,
                config.effective_entry_date
            );
        }
        payouts.extend(read.entries().cloned());
        read_back.push((file.clone(), read));
    }
    assert_eq!(payouts.len(), lines.len(), "every line is paid once");
    for (entry, line) in payouts.iter().zip(lines) {
        let Destination::Ach(account) = &line.destination else {
            panic!("ACH lines only");
        };
        assert_eq!(entry.member(), Some(line.member));
        assert_eq!(entry.amount_cents * 10_000, line.amount.get());
        assert_eq!(entry.rdfi, account.routing());
        assert_eq!(entry.account_number, account.account_number());
        assert_eq!(entry.individual_name, account.name());
        assert_eq!(
            entry.transaction_code,
            account.account_type().credit_transaction_code()
        );
    }
    read_back
}

fn small_file() -> Vec<u8> {
    let limits = AchLimits {
        batch_entries_max: 4,
        ..AchLimits::NACHA
    };
    let lines = lines(7, 10, ach_destination, 1_000_000);
    let files = ach::write_files(&config(), &limits, run(), &lines).unwrap();
    assert_eq!(files.len(), 1);
    files[0].bytes().to_vec()
}

/// The 94 bytes of 1-based record `record`, mutable.
fn record(bytes: &mut [u8], record: usize) -> &mut [u8] {
    &mut bytes[(record - 1) * 95..(record - 1) * 95 + 94]
}

fn check_refused(bytes: &[u8], code: &str, record: u64, field: &str) {
    let error = ach::read_file(bytes).expect_err("a corrupted file is refused");
    assert_eq!(error.code(), code, "{error}");
    assert_eq!(error.location(), Some((record, field)), "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("record {record}")) && message.contains(field),
        "{message}"
    );
}

#[test]
fn a_small_file_matches_its_golden_bytes() {
    // rule D4: the bytes a bank receives are pinned; any layout change shows up here.
    let lines = [
        PayoutLine {
            member: MemberId(1),
            amount: Micros::new(5_000_000),
            destination: Destination::parse("ach:021000021:000123456789:checking:JANE MEMBER")
                .unwrap(),
        },
        PayoutLine {
            member: MemberId(42),
            amount: Micros::new(1_234_560_000),
            destination: Destination::parse("ach:011000015:9876-5:savings:O'NEIL & SONS").unwrap(),
        },
        PayoutLine {
            member: MemberId(999_999_999_999_999),
            amount: Micros::new(99_999_999_990_000),
            destination: Destination::parse("ach:321171184:X:checking:A").unwrap(),
        },
    ];
    let files = check(&lines, &AchLimits::NACHA);
    let golden_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test_data/ach-three-members.txt"
    );
    if std::env::var_os("ASSAY_BLESS").is_some() {
        std::fs::write(golden_path, files[0].0.bytes()).unwrap();
    }
    let golden = std::fs::read(golden_path).unwrap();
    assert_eq!(
        String::from_utf8_lossy(files[0].0.bytes()),
        String::from_utf8_lossy(&golden),
        "run with ASSAY_BLESS=1 to accept a deliberate change"
    );
}

#[test]
fn runs_split_into_batches_and_files_at_each_limit() {
    // rule D4 at scale: a run larger than one batch or file is split, never truncated.
    let lines = lines(1, 50, ach_destination, 100_000);
    let cases = [
        (
            "batch entries",
            AchLimits {
                batch_entries_max: 3,
                ..AchLimits::NACHA
            },
            1,
            17,
        ),
        (
            "file entries",
            AchLimits {
                file_entries_max: 7,
                ..AchLimits::NACHA
            },
            8,
            8,
        ),
        (
            "file batches",
            AchLimits {
                batch_entries_max: 2,
                file_batches_max: 3,
                ..AchLimits::NACHA
            },
            9,
            25,
        ),
        // Two blocks hold 20 records: header, batch header, 16 entries, batch control, control.
        (
            "file blocks",
            AchLimits {
                file_blocks_max: 2,
                ..AchLimits::NACHA
            },
            4,
            4,
        ),
        (
            "batch credit",
            AchLimits {
                batch_credit_cents_max: 300_000,
                ..AchLimits::NACHA
            },
            1,
            0,
        ),
    ];
    for (what, limits, files_expected, batches_expected) in cases {
        let files = check(&lines, &limits);
        let batches: usize = files.iter().map(|(_, read)| read.batches.len()).sum();
        if files_expected > 0 {
            assert_eq!(files.len(), files_expected, "{what}");
        } else {
            assert!(files.len() > 1, "{what}: {} files", files.len());
        }
        if batches_expected > 0 {
            assert_eq!(batches, batches_expected, "{what}");
        } else {
            assert!(batches > files.len(), "{what}: {batches} batches");
        }
    }
    // A file credit cap splits files, each with its one batch.
    let limits = AchLimits {
        file_credit_cents_max: 300_000,
        ..AchLimits::NACHA
    };
    let files = check(&lines, &limits);
    assert!(files.len() > 1);
    assert!(files.iter().all(|(_, read)| read.batches.len() == 1));
    let one = check(&lines, &AchLimits::NACHA);
    assert_eq!((one.len(), one[0].1.batches.len()), (1, 1));
}

#[test]
fn a_run_that_needs_more_file_id_modifiers_than_remain_is_refused() {
    let lines = lines(2, 4, ach_destination, 100_000);
    let limits = AchLimits {
        file_entries_max: 1,
        ..AchLimits::NACHA
    };
    let mut config = config();
    config.first_file_id_modifier = '8';
    let error = ach::write_files(&config, &limits, run(), &lines).unwrap_err();
    assert_eq!(error.code(), "ach_files_exhausted");
    config.first_file_id_modifier = '6';
    assert_eq!(
        ach::write_files(&config, &limits, run(), &lines)
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn lines_an_ach_file_cannot_carry_are_refused() {
    let good = lines(3, 1, ach_destination, 100_000).remove(0);
    let cases: [(Corrupt<PayoutLine>, &str); 5] = [
        (
            |l| l.amount = Micros::new(5_000_001),
            "amount_not_whole_cents",
        ),
        (|l| l.amount = Micros::ZERO, "amount_zero"),
        (
            |l| l.amount = Micros::new(10_000_000_000 * 10_000),
            "amount_too_large",
        ),
        (
            |l| l.member = MemberId(1_000_000_000_000_000),
            "member_id_too_long",
        ),
        (
            |l| l.destination = Destination::parse("prepaid:tok").unwrap(),
            "rail_mismatch",
        ),
    ];
    for (corrupt, code) in cases {
        let mut line = good.clone();
        corrupt(&mut line);
        let error = ach::write_files(&config(), &AchLimits::NACHA, run(), [&line]).unwrap_err();
        assert_eq!(error.code(), code, "{error}");
    }
    assert!(
        ach::write_files(&config(), &AchLimits::NACHA, run(), [] as [&PayoutLine; 0])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn bad_configuration_and_limits_are_refused() {
    let lines = lines(4, 2, ach_destination, 100_000);
    let cases: [(Corrupt<ach::AchConfig>, &str); 6] = [
        (|c| c.effective_entry_date.month = 1, "effective_entry_date"),
        (|c| c.file_creation_date.month = 13, "effective_entry_date"),
        (
            |c| c.company_name = "A NAME TOO LONG FOR 16".to_string(),
            "company_name",
        ),
        (
            |c| c.immediate_origin = "12345".to_string(),
            "immediate_origin",
        ),
        (|c| c.first_file_id_modifier = 'a', "first_file_id_modifier"),
        (|c| c.file_creation_time.hour = 24, "file_creation_time"),
    ];
    for (corrupt, field) in cases {
        let mut config = config();
        corrupt(&mut config);
        match ach::write_files(&config, &AchLimits::NACHA, run(), &lines) {
            Err(Error::AchConfig { field: found, .. }) => assert_eq!(found, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let limits = AchLimits {
        batch_entries_max: 0,
        ..AchLimits::NACHA
    };
    let error = ach::write_files(&config(), &limits, run(), &lines).unwrap_err();
    assert_eq!(error.code(), "ach_config_invalid");
    let limits = AchLimits {
        file_blocks_max: 1_000_000,
        ..AchLimits::NACHA
    };
    let error = ach::write_files(&config(), &limits, run(), &lines).unwrap_err();
    assert_eq!(error.code(), "ach_config_invalid");
}

#[test]
fn the_same_lines_give_the_same_bytes() {
    // Idempotence: a run re-built from the log must produce the files it recorded.
    let lines = lines(5, 300, ach_destination, 1_000_000);
    let limits = AchLimits {
        batch_entries_max: 40,
        file_entries_max: 200,
        ..AchLimits::NACHA
    };
    let first = ach::write_files(&config(), &limits, run(), &lines).unwrap();
    let second = ach::write_files(&config(), &limits, run(), &lines).unwrap();
    assert_eq!(first, second);
    assert_eq!(first.len(), 2);
    assert_ne!(first[0].sha256(), first[1].sha256());
}

#[test]
fn a_corrupted_amount_digit_is_caught_by_the_batch_total() {
    // Record 1 is the file header, 2 the batch header, 3–6 entries, 7 the batch control.
    let mut bytes = small_file();
    let amount = &mut record(&mut bytes, 4)[29..39];
    amount[5] = if amount[5] == b'7' { b'8' } else { b'7' };
    check_refused(&bytes, "ach_control_mismatch", 7, "total_credit_amount");
}

#[test]
fn a_corrupted_routing_digit_is_caught_by_the_check_digit() {
    let mut bytes = small_file();
    let routing = &mut record(&mut bytes, 3)[3..12];
    routing[4] = if routing[4] == b'5' { b'6' } else { b'5' };
    check_refused(&bytes, "ach_field_invalid", 3, "check_digit");
}

#[test]
fn a_wrong_entry_hash_is_refused_in_batch_and_file_controls() {
    let mut bytes = small_file();
    let hash = &mut record(&mut bytes, 7)[10..20];
    hash[9] = if hash[9] == b'0' { b'1' } else { b'0' };
    check_refused(&bytes, "ach_control_mismatch", 7, "entry_hash");

    // 10 entries in batches of 4: records 1, 2, 3–6, 7, 8, 9–12, 13, 14, 15–16, 17, file control 18.
    let mut bytes = small_file();
    let hash = &mut record(&mut bytes, 18)[21..31];
    hash[0] = if hash[0] == b'0' { b'1' } else { b'0' };
    check_refused(&bytes, "ach_control_mismatch", 18, "entry_hash");
}

#[test]
fn a_short_record_is_refused() {
    let mut bytes = small_file();
    bytes.remove(4 * 95 - 10);
    check_refused(&bytes, "ach_record_length", 4, "record_length");
    let crlf = String::from_utf8(small_file())
        .unwrap()
        .replace('\n', "\r\n");
    check_refused(crlf.as_bytes(), "ach_record_length", 1, "record_length");
}

#[test]
fn a_bad_block_count_is_refused() {
    let mut bytes = small_file();
    record(&mut bytes, 18)[12] = b'3';
    check_refused(&bytes, "ach_control_mismatch", 18, "block_count");
}

#[test]
fn padding_must_fill_the_last_block_exactly() {
    let mut bytes = small_file();
    bytes.truncate(bytes.len() - 95);
    check_refused(&bytes, "ach_field_invalid", 19, "padding");
    let mut bytes = small_file();
    record(&mut bytes, 20)[50] = b'0';
    check_refused(&bytes, "ach_field_invalid", 20, "padding");
    let mut bytes = small_file();
    bytes.extend_from_within(bytes.len() - 95..);
    check_refused(&bytes, "ach_field_invalid", 21, "padding");
    let mut bytes = small_file();
    bytes.pop();
    check_refused(&bytes, "ach_record_length", 20, "record_length");
}

#[test]
fn records_out_of_order_are_refused() {
    let mut bytes = small_file();
    let batch_control = record(&mut bytes, 7).to_vec();
    record(&mut bytes, 6).copy_from_slice(&batch_control);
    record(&mut bytes, 7)[0] = b'6';
    // Record 6 now closes the batch after three entries, so its count is wrong.
    check_refused(&bytes, "ach_control_mismatch", 6, "entry_addenda_count");
    let mut bytes = small_file();
    record(&mut bytes, 3)[0] = b'9';
    check_refused(&bytes, "ach_record_order", 3, "record_type_code");
    let mut bytes = small_file();
    record(&mut bytes, 1)[0] = b'5';
    check_refused(&bytes, "ach_record_order", 1, "record_type_code");
}

#[test]
fn entry_fields_are_validated() {
    let mut bytes = small_file();
    record(&mut bytes, 5)[33] = b'x';
    check_refused(&bytes, "ach_field_invalid", 5, "amount");
    let mut bytes = small_file();
    record(&mut bytes, 5)[1..3].copy_from_slice(b"27");
    check_refused(&bytes, "ach_field_invalid", 5, "transaction_code");
    let mut bytes = small_file();
    record(&mut bytes, 5)[78] = b'1';
    check_refused(&bytes, "ach_field_invalid", 5, "addenda_record_indicator");
    let mut bytes = small_file();
    let earlier_trace = record(&mut bytes, 4)[79..94].to_vec();
    record(&mut bytes, 5)[79..94].copy_from_slice(&earlier_trace);
    check_refused(&bytes, "ach_field_invalid", 5, "trace_number");
    let mut bytes = small_file();
    record(&mut bytes, 1)[35..37].copy_from_slice(b"20");
    check_refused(&bytes, "ach_field_invalid", 1, "record_size");
    let mut bytes = small_file();
    record(&mut bytes, 2)[69..71].copy_from_slice(b"26");
    record(&mut bytes, 2)[71..73].copy_from_slice(b"02");
    record(&mut bytes, 2)[73..75].copy_from_slice(b"30");
    check_refused(&bytes, "ach_field_invalid", 2, "effective_entry_date");
    let mut bytes = small_file();
    record(&mut bytes, 8)[93] = b'3';
    check_refused(&bytes, "ach_field_invalid", 8, "batch_number");
}

fn arbitrary_limits() -> impl Strategy<Value = AchLimits> {
    (
        1u32..12,
        300_000u64..5_000_000,
        3u32..40,
        3u32..6,
        2u32..8,
        300_000u64..5_000_000,
    )
        .prop_map(
            |(
                batch_entries_max,
                batch_credit_cents_max,
                file_entries_max,
                file_batches_max,
                file_blocks_max,
                file_credit,
            )| {
                AchLimits {
                    batch_entries_max,
                    batch_credit_cents_max,
                    file_entries_max,
                    file_batches_max,
                    file_blocks_max,
                    file_credit_cents_max: file_credit.max(batch_credit_cents_max),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Law: whatever the limits, every line comes back from the files exactly once, in order,
    /// and every control total checks (rule D4).
    #[test]
    fn files_read_back_to_the_lines_they_were_written_from(
        seed in any::<u64>(),
        count in 1usize..80,
        limits in arbitrary_limits(),
    ) {
        let lines = lines(seed, count, ach_destination, 100_000);
        check(&lines, &limits);
    }

    /// Parsers never panic: any mutation of a valid file is read or refused with a located
    /// error (a cheap stand-in for a fuzz target).
    #[test]
    fn a_mutated_file_is_read_or_refused_never_a_panic(
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = small_file();
        for (position, byte) in mutations {
            let position = position.index(bytes.len());
            bytes[position] = byte;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Err(error) = ach::read_file(&bytes) {
            prop_assert!(error.location().is_some(), "{}", error);
        }
    }
}
