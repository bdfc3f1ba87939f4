//! A whole run across the three rails (rules D4, D6): the files pay exactly the members'
//! total, every file reads back, and the same lines give the same bytes.

mod common;

use assay_core::{MemberId, Micros};
use assay_rails::ach::{self, AchLimits};
use assay_rails::usdc::DocumentOptions;
use assay_rails::{check_sum, prepaid, write_run, PayoutLine, Rail, RailTotals};
use common::{ach_destination, config, prepaid_destination, run, usdc_destination, Rng};

/// Mixed lines: ACH and prepaid in whole cents, USDC to the micro-dollar.
fn mixed_lines(seed: u64, count: usize) -> Vec<PayoutLine> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|i| {
            let (destination, amount) = match rng.below(3) {
                0 => (
                    ach_destination(&mut rng),
                    (5_00 + rng.below(100_000)) * 10_000,
                ),
                1 => (
                    usdc_destination(&mut rng),
                    5_000_000 + rng.below(100_000_000),
                ),
                _ => (
                    prepaid_destination(&mut rng),
                    (5_00 + rng.below(100_000)) * 10_000,
                ),
            };
            PayoutLine {
                member: MemberId(2 * i as u64 + 1),
                amount: Micros::new(amount),
                destination,
            }
        })
        .collect()
}

#[test]
fn a_run_pays_exactly_the_member_total_across_rails() {
    // rules D4, D6: each member is paid on the chosen rail; the rails together pay the whole
    // member total and nothing more, to the micro-dollar.
    let lines = mixed_lines(21, 3_000);
    let expected = Micros::sum(lines.iter().map(|line| line.amount)).unwrap();
    let limits = AchLimits {
        batch_entries_max: 300,
        file_entries_max: 700,
        ..AchLimits::NACHA
    };
    let options = DocumentOptions { proofs: false };
    let files = write_run(Some(&config()), &limits, run(), &lines, expected, options).unwrap();
    assert!(files.ach.len() > 1);

    let by_rail = |rail: Rail| -> Vec<PayoutLine> {
        lines
            .iter()
            .filter(|line| line.destination.rail() == rail)
            .cloned()
            .collect()
    };
    let (ach_lines, usdc_lines, prepaid_lines) = (
        by_rail(Rail::Ach),
        by_rail(Rail::Usdc),
        by_rail(Rail::Prepaid),
    );
    let from_lines = RailTotals::of_lines(&ach_lines, &usdc_lines, &prepaid_lines).unwrap();
    assert_eq!(RailTotals::of_files(files.files()).unwrap(), from_lines);
    check_sum(expected, &from_lines).unwrap();

    // What the files say when read back, not what the writers counted.
    let mut read_total = Micros::ZERO;
    let mut ach_members = Vec::new();
    for file in &files.ach {
        let read = ach::read_file(file.bytes()).unwrap();
        read_total = read_total.checked_add(read.total().unwrap()).unwrap();
        ach_members.extend(read.entries().map(|entry| entry.member().unwrap()));
    }
    assert_eq!(
        ach_members,
        ach_lines.iter().map(|line| line.member).collect::<Vec<_>>()
    );
    let prepaid_file = prepaid::read_file(files.prepaid.as_ref().unwrap().bytes()).unwrap();
    read_total = read_total.checked_add(prepaid_file.total).unwrap();
    let document: serde_json::Value =
        serde_json::from_slice(files.usdc_document.as_ref().unwrap().bytes()).unwrap();
    let usdc_total = Micros::new(document["totalMicros"].as_str().unwrap().parse().unwrap());
    let distribution = files.usdc.as_ref().unwrap();
    assert_eq!(distribution.total(), usdc_total);
    assert_eq!(distribution.claims().count(), usdc_lines.len());
    for claim in distribution.claims().step_by(97) {
        assert!(assay_rails::usdc::verify(
            &distribution.root(),
            &claim.leaf,
            &claim.proof
        ));
    }
    read_total = read_total.checked_add(usdc_total).unwrap();
    assert_eq!(read_total, expected);

    for wrong in [
        expected.checked_add(Micros::new(1)).unwrap(),
        expected.checked_sub(Micros::new(1)).unwrap(),
    ] {
        let error = write_run(Some(&config()), &limits, run(), &lines, wrong, options).unwrap_err();
        assert_eq!(error.code(), "sum_mismatch");
    }
}

#[test]
fn the_same_run_gives_the_same_files() {
    // Idempotence: a run rebuilt from the log reproduces every file and its SHA-256.
    let lines = mixed_lines(22, 500);
    let expected = Micros::sum(lines.iter().map(|line| line.amount)).unwrap();
    let options = DocumentOptions { proofs: true };
    let first = write_run(
        Some(&config()),
        &AchLimits::NACHA,
        run(),
        &lines,
        expected,
        options,
    )
    .unwrap();
    let second = write_run(
        Some(&config()),
        &AchLimits::NACHA,
        run(),
        &lines,
        expected,
        options,
    )
    .unwrap();
    let digests = |files: &assay_rails::RunFiles| -> Vec<(String, [u8; 32])> {
        files
            .files()
            .map(|file| (file.name().to_string(), file.sha256()))
            .collect()
    };
    assert_eq!(digests(&first), digests(&second));
    assert_eq!(first.files().count(), 3);
    for file in first.files() {
        assert_eq!(
            file.sha256(),
            <sha2::Sha256 as sha2::Digest>::digest(file.bytes()).as_slice()
        );
    }
}

#[test]
fn a_run_refuses_members_out_of_order_or_twice() {
    let mut lines = mixed_lines(23, 10);
    let expected = Micros::sum(lines.iter().map(|line| line.amount)).unwrap();
    lines[5].member = lines[4].member;
    let options = DocumentOptions { proofs: false };
    let error = write_run(
        Some(&config()),
        &AchLimits::NACHA,
        run(),
        &lines,
        expected,
        options,
    )
    .unwrap_err();
    assert_eq!(error.code(), "lines_not_ascending");
    let error = write_run(
        Some(&config()),
        &AchLimits::NACHA,
        run(),
        &[],
        Micros::new(1),
        options,
    )
    .unwrap_err();
    assert_eq!(error.code(), "sum_mismatch");
    let empty = write_run(
        Some(&config()),
        &AchLimits::NACHA,
        run(),
        &[],
        Micros::ZERO,
        options,
    )
    .unwrap();
    assert_eq!(empty.files().count(), 0);
}

#[test]
fn a_run_without_an_ach_originator_pays_the_other_rails_and_refuses_ach_lines() {
    let lines = mixed_lines(29, 60);
    let options = DocumentOptions { proofs: false };
    let others: Vec<PayoutLine> = lines
        .iter()
        .filter(|line| line.destination.rail() != Rail::Ach)
        .cloned()
        .collect();
    assert!(others.len() < lines.len() && !others.is_empty());
    let others_total = Micros::sum(others.iter().map(|line| line.amount)).unwrap();
    let files = write_run(
        None,
        &AchLimits::NACHA,
        run(),
        &others,
        others_total,
        options,
    )
    .unwrap();
    assert!(files.ach.is_empty());
    assert_eq!(files.files().count(), 2);

    let total = Micros::sum(lines.iter().map(|line| line.amount)).unwrap();
    let error = write_run(None, &AchLimits::NACHA, run(), &lines, total, options).unwrap_err();
    assert_eq!(error.code(), "ach_not_configured", "{error}");
}
