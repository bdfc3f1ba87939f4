//! The prepaid load file at the crate boundary (rule D4): written files read back to their
//! lines, corrupted files are refused naming line and field.

mod common;

use assay_core::{MemberId, Micros};
use assay_rails::prepaid::{self, PrepaidFile};
use assay_rails::{Destination, PayoutLine};
use common::{lines, prepaid_destination, run, Corrupt};
use proptest::prelude::*;

fn check(lines: &[PayoutLine]) -> PrepaidFile {
    let file = prepaid::write_file(run(), lines)
        .unwrap()
        .expect("lines were given");
    let read = prepaid::read_file(file.bytes()).unwrap();
    assert_eq!(read.run, run());
    assert_eq!(read.rows.len(), lines.len());
    assert_eq!(
        (read.total, file.total()),
        (
            file.total(),
            Micros::sum(lines.iter().map(|l| l.amount)).unwrap()
        )
    );
    assert_eq!(file.lines(), lines.len() as u64);
    for (row, line) in read.rows.iter().zip(lines) {
        assert_eq!(Destination::Prepaid(row.card_reference), line.destination);
        assert_eq!(row.amount, line.amount);
    }
    read
}

fn small_file() -> String {
    let lines = lines(11, 5, prepaid_destination, 1_000_000);
    let file = prepaid::write_file(run(), &lines).unwrap().unwrap();
    String::from_utf8(file.into_bytes()).unwrap()
}

/// Replaces field `field` (0-based) of 1-based line `line`.
fn with_field(text: &str, line: usize, field: usize, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[line - 1].split(',').collect();
    fields[field] = value;
    lines[line - 1] = fields.join(",");
    lines.join("\n") + "\n"
}

fn check_refused(text: &str, code: &str, line: u64, field: &str) {
    let error = prepaid::read_file(text.as_bytes()).expect_err("a corrupted file is refused");
    assert_eq!(error.code(), code, "{error}");
    assert_eq!(error.location(), Some((line, field)), "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("line {line}, field {field}")),
        "{error}"
    );
}

#[test]
fn a_small_file_matches_its_golden_bytes() {
    let lines = [
        PayoutLine {
            member: MemberId(1),
            amount: Micros::new(5_000_000),
            destination: Destination::parse("prepaid:tok_4f9a").unwrap(),
        },
        PayoutLine {
            member: MemberId(7),
            amount: Micros::new(123_450_000),
            destination: Destination::parse("prepaid:CARD-0002_x").unwrap(),
        },
    ];
    check(&lines);
    let file = prepaid::write_file(run(), &lines).unwrap().unwrap();
    assert_eq!(file.name(), "prepaid-2026-01r1.csv");
    let text = String::from_utf8(file.bytes().to_vec()).unwrap();
    let body = "card_reference,amount_micros,currency,run_id\n\
                tok_4f9a,5000000,USD,2026-01r1\n\
                CARD-0002_x,123450000,USD,2026-01r1\n";
    // The digest below was computed independently: `printf '<body>' | sha256sum`.
    let expected = format!(
        "{body}#checksum,2,128450000,{}\n",
        "f94d40c2abfdef6a9a59604c985c1c25405be2c7baff0e04f45fff777f19fd2c"
    );
    assert_eq!(text, expected);
}

#[test]
fn lines_a_card_cannot_carry_are_refused_and_no_lines_write_no_file() {
    let good = lines(12, 1, prepaid_destination, 100_000).remove(0);
    let cases: [(Corrupt<PayoutLine>, &str); 3] = [
        (
            |l| l.amount = Micros::new(5_000_001),
            "amount_not_whole_cents",
        ),
        (|l| l.amount = Micros::ZERO, "amount_zero"),
        (
            |l| {
                l.destination =
                    Destination::parse("usdc:0x0000000000000000000000000000000000000001").unwrap()
            },
            "rail_mismatch",
        ),
    ];
    for (corrupt, code) in cases {
        let mut line = good.clone();
        corrupt(&mut line);
        assert_eq!(
            prepaid::write_file(run(), [&line]).unwrap_err().code(),
            code
        );
    }
    assert!(prepaid::write_file(run(), [] as [&PayoutLine; 0])
        .unwrap()
        .is_none());
}

#[test]
fn corrupted_files_are_refused_naming_line_and_field() {
    let file = small_file();
    let amount = file
        .lines()
        .nth(2)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .to_string();
    let mut changed = amount.clone().into_bytes();
    changed[0] = if changed[0] == b'9' {
        b'8'
    } else {
        changed[0] + 1
    };
    let changed = String::from_utf8(changed).unwrap();
    check_refused(
        &with_field(&file, 3, 1, &changed),
        "prepaid_checksum_mismatch",
        7,
        "total_micros",
    );
    check_refused(
        &with_field(&file, 3, 0, "tok_swapped"),
        "prepaid_checksum_mismatch",
        7,
        "sha256",
    );
    check_refused(
        &with_field(&file, 7, 1, "6"),
        "prepaid_checksum_mismatch",
        7,
        "row_count",
    );
    check_refused(
        &with_field(&file, 3, 1, &format!("{amount}1")),
        "prepaid_field_invalid",
        3,
        "amount_micros",
    );
    check_refused(
        &with_field(&file, 3, 1, &format!("0{amount}")),
        "prepaid_field_invalid",
        3,
        "amount_micros",
    );
    check_refused(
        &with_field(&file, 3, 1, "0"),
        "prepaid_field_invalid",
        3,
        "amount_micros",
    );
    check_refused(
        &with_field(&file, 4, 2, "EUR"),
        "prepaid_field_invalid",
        4,
        "currency",
    );
    check_refused(
        &with_field(&file, 4, 3, "2026-02r1"),
        "prepaid_field_invalid",
        4,
        "run_id",
    );
    check_refused(
        &with_field(&file, 2, 0, "4111111111111111"),
        "prepaid_field_invalid",
        2,
        "card_reference",
    );
    check_refused(
        &with_field(&file, 1, 1, "amount"),
        "prepaid_field_invalid",
        1,
        "header",
    );
    check_refused(
        &file.replace(",USD,", ",USD,x,"),
        "prepaid_field_invalid",
        2,
        "row",
    );
    let without_checksum: String = file.lines().take(6).map(|l| format!("{l}\n")).collect();
    check_refused(&without_checksum, "prepaid_field_invalid", 7, "checksum");
    check_refused(&format!("{file}x\n"), "prepaid_field_invalid", 8, "end");
    check_refused(
        file.trim_end(),
        "prepaid_field_invalid",
        7,
        "line_terminator",
    );
    check_refused("", "prepaid_field_invalid", 1, "header");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Law: a load file reads back to exactly the lines it was written from (rule D4), and
    /// the same lines always give the same bytes.
    #[test]
    fn files_read_back_to_their_lines(seed in any::<u64>(), count in 1usize..120) {
        let lines = lines(seed, count, prepaid_destination, 10_000_000);
        check(&lines);
        let first = prepaid::write_file(run(), &lines).unwrap();
        let second = prepaid::write_file(run(), &lines).unwrap();
        prop_assert_eq!(first, second);
    }

    /// The reader never panics: any mutation of a valid file is read or refused with a
    /// located error (a cheap stand-in for a fuzz target).
    #[test]
    fn a_mutated_file_is_read_or_refused_never_a_panic(
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = small_file().into_bytes();
        for (position, byte) in mutations {
            let position = position.index(bytes.len());
            bytes[position] = byte;
        }
        if let Err(error) = prepaid::read_file(&bytes) {
            prop_assert!(error.location().is_some(), "{}", error);
        }
    }
}
