//! Rules D4 and D6 at the run: ACH and prepaid members are paid whole cents with the sub-cent
//! rest carried, USDC members to the micro-dollar; and the files the rails wrote for a run are
//! recorded in the log once, only when their per-rail line counts and totals match the run's.

mod common;

use assay_core::{Micros, Month};
use assay_engine::{Command, Event, PayoutFile, Rail};
use common::scenario::{day, off_take};
use common::*;

const JANUARY: Month = Month {
    year: 2026,
    month: 1,
};

struct Run {
    h: Harness,
    root: [u8; 32],
    /// (member, amount, rail) per payout instruction.
    lines: Vec<(u64, u64, Rail)>,
}

/// January with one member per rail, each credited an amount that is not whole cents, run but
/// not settled.
fn january_run() -> Run {
    let mut h = Harness::starting(&default_rules(), day(20));
    let ach = h.member_on(1, true, Rail::Ach);
    let usdc = h.member_on(2, true, Rail::Usdc);
    let prepaid = h.member_on(3, true, Rail::Prepaid);
    let buyer = h.buyer(1, 1_000_000_000);
    // 90% of $10.000003, $20.000007 and $30.000011, rounded up for members (D3).
    off_take(&mut h, &buyer, &ach, 10_000_003).unwrap();
    off_take(&mut h, &buyer, &usdc, 20_000_007).unwrap();
    off_take(&mut h, &buyer, &prepaid, 30_000_011).unwrap();
    while h.state.run_pending.is_none() {
        let open = h.state.open_day;
        h.now = assay_core::TradingDay(open.0 + 1).start();
        h.exchange(Command::CloseTradingDay { day: open }).unwrap();
    }
    let events = h
        .exchange(Command::RunMonthlyDistribution { month: JANUARY })
        .unwrap();
    let lines = events
        .iter()
        .filter_map(|event| match event {
            Event::PayoutInstruction {
                member,
                amount,
                rail,
                ..
            } => Some((member.0, amount.get(), *rail)),
            _ => None,
        })
        .collect();
    let root = h.state.unsettled.as_ref().unwrap().payout_root;
    Run { h, root, lines }
}

fn total_on(run: &Run, rail: Rail) -> (u64, u64) {
    run.lines
        .iter()
        .filter(|line| line.2 == rail)
        .fold((0, 0), |(n, sum), line| (n + 1, sum + line.1))
}

fn file(name: &str, rail: Rail, lines: u64, total: u64) -> PayoutFile {
    PayoutFile {
        name: name.to_string(),
        sha256: [name.len() as u8; 32],
        rail,
        lines,
        total: Micros::new(total),
    }
}

/// The files a faithful rails run would list for `run`.
fn faithful(run: &Run) -> Vec<PayoutFile> {
    let mut files = Vec::new();
    for (name, rail) in [
        ("20260201-1.ach", Rail::Ach),
        ("usdc-distribution.json", Rail::Usdc),
        ("prepaid.csv", Rail::Prepaid),
    ] {
        let (n, total) = total_on(run, rail);
        files.push(file(name, rail, n, total));
    }
    files
}

#[test]
fn ach_and_prepaid_are_paid_whole_cents_and_usdc_to_the_micro_dollar() {
    // rule D4
    let run = january_run();
    assert_eq!(run.lines.len(), 3, "{:?}", run.lines);
    for &(member, amount, rail) in &run.lines {
        let balance = run.h.state.members[member as usize].balance;
        match rail {
            Rail::Ach | Rail::Prepaid => {
                assert_eq!(amount % 10_000, 0, "member {member} on {rail:?}: {amount}");
                assert!(balance.carried.get() < 10_000, "rest is under a cent");
            }
            Rail::Usdc => assert_eq!(balance.carried, Micros::ZERO),
        }
    }
    // Nothing is lost: what was paid plus what rolled over is what members were credited plus
    // the month's shared pool, and the run's own identities hold (D9).
    let report = run
        .h
        .events
        .iter()
        .find_map(|event| match event {
            Event::MonthlyRunRecorded { report, .. } => Some(report.clone()),
            _ => None,
        })
        .unwrap();
    report.check_conservation().unwrap();
    let carried: u64 = run
        .h
        .state
        .members
        .iter()
        .map(|m| m.balance.carried.get())
        .sum();
    assert_eq!(report.rollover_out.get(), carried);
    assert!(carried > 0, "the sub-cent rests roll over");
}

#[test]
fn a_mid_month_payout_on_ach_pays_whole_cents_and_keeps_the_rest() {
    // rules D4, D5
    let mut h = Harness::starting(&default_rules(), day(3));
    let ach = h.member_on(1, false, Rail::Ach);
    let buyer = h.buyer(1, 1_000_000_000);
    off_take(&mut h, &buyer, &ach, 10_000_003).unwrap();
    let events = h.submit(&ach.key, Command::RequestMidMonthPayout).unwrap();
    let Event::MidMonthPayout { amount, fee, .. } = events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(amount.get() % 10_000, 0);
    let member = &h.state.members[ach.id as usize];
    let credited = 9_000_003; // 90% of $10.000003, rounded up for the member (D3)
    assert_eq!(
        amount.get() + fee.get() + member.balance.carried.get(),
        credited
    );
    assert!(member.balance.carried.get() < 10_000);
}

#[test]
fn matching_files_are_recorded_once_and_then_the_run_settles() {
    // rule D6
    let mut run = january_run();
    let files = faithful(&run);
    let events = run
        .h
        .exchange(Command::RecordPayoutFiles {
            payout_root: run.root,
            files: files.clone(),
            held: Vec::new(),
        })
        .unwrap();
    assert_eq!(
        events,
        vec![Event::PayoutFilesRecorded {
            payout_root: run.root,
            files: files.clone(),
            held: Vec::new(),
        }]
    );
    let hash = run.h.state.hash();
    let again = run.h.exchange(Command::RecordPayoutFiles {
        payout_root: run.root,
        files,
        held: Vec::new(),
    });
    assert_eq!(again.unwrap_err().code(), "payout_files_repeated");
    assert_eq!(run.h.state.hash(), hash);
    run.h
        .exchange(Command::SettlePayouts {
            payout_root: run.root,
            settlement_reference: [7; 32],
        })
        .unwrap();
    // Settled: the run's files can no longer be (re)recorded.
    let late = run.h.exchange(Command::RecordPayoutFiles {
        payout_root: run.root,
        files: faithful(&run),
        held: Vec::new(),
    });
    assert_eq!(late.unwrap_err().code(), "unknown_payout_root");
}

#[test]
fn file_lists_that_do_not_match_the_run_are_refused_and_change_nothing() {
    // rules D4, D6
    let mut run = january_run();
    let good = faithful(&run);
    let (ach_lines, ach_total) = total_on(&run, Rail::Ach);
    let mut cases: Vec<(&str, [u8; 32], Vec<PayoutFile>)> = Vec::new();
    cases.push(("payout_files_invalid", run.root, Vec::new()));
    // A held line must leave its rail's files: holding the ACH member's line while the ACH
    // file still pays it is a mismatch, as is any held member without a line.
    let held_cases: Vec<(&str, Vec<assay_core::MemberId>)> = vec![
        (
            "payout_files_mismatch",
            vec![assay_core::MemberId(run.lines[0].0)],
        ),
        ("payout_files_invalid", vec![assay_core::MemberId(999)]),
        (
            "payout_files_invalid",
            vec![
                assay_core::MemberId(run.lines[1].0),
                assay_core::MemberId(run.lines[0].0),
            ],
        ),
    ];
    let mut bad_name = good.clone();
    bad_name[0].name = "../escape.ach".into();
    cases.push(("payout_files_invalid", run.root, bad_name));
    let mut repeated = good.clone();
    repeated[1].name = repeated[0].name.clone();
    cases.push(("payout_files_invalid", run.root, repeated));
    let mut empty_file = good.clone();
    empty_file.push(file("extra.ach", Rail::Ach, 0, 0));
    cases.push(("payout_files_invalid", run.root, empty_file));
    let mut one_micro_more = good.clone();
    one_micro_more[0].total = Micros::new(ach_total + 1);
    cases.push(("payout_files_mismatch", run.root, one_micro_more));
    let mut line_added = good.clone();
    line_added[0] = file("20260201-1.ach", Rail::Ach, ach_lines + 1, ach_total);
    cases.push(("payout_files_mismatch", run.root, line_added));
    let mut rail_missing = good.clone();
    rail_missing.remove(2);
    cases.push(("payout_files_mismatch", run.root, rail_missing));
    let mut wrong_rail = good.clone();
    wrong_rail[2].rail = Rail::Ach;
    cases.push(("payout_files_mismatch", run.root, wrong_rail));
    cases.push(("unknown_payout_root", [9; 32], good.clone()));

    let hash = run.h.state.hash();
    for (code, payout_root, files) in cases {
        let refused = run
            .h
            .exchange(Command::RecordPayoutFiles {
                payout_root,
                files: files.clone(),
                held: Vec::new(),
            })
            .unwrap_err();
        assert_eq!(refused.code(), code, "{files:?}");
        assert_eq!(run.h.state.hash(), hash, "{code} changed the state");
    }
    for (code, held) in held_cases {
        let refused = run
            .h
            .exchange(Command::RecordPayoutFiles {
                payout_root: run.root,
                files: good.clone(),
                held: held.clone(),
            })
            .unwrap_err();
        assert_eq!(refused.code(), code, "{held:?}");
        assert_eq!(run.h.state.hash(), hash, "{code} changed the state");
    }
    // Only the exchange records files.
    let member = run.h.member_on(9, false, Rail::Usdc);
    let hash = run.h.state.hash();
    let refused = run
        .h
        .submit(
            &member.key,
            Command::RecordPayoutFiles {
                payout_root: run.root,
                files: good,
                held: Vec::new(),
            },
        )
        .unwrap_err();
    assert_eq!(refused.code(), "not_exchange");
    assert_eq!(run.h.state.hash(), hash, "not_exchange changed the state");
}

#[test]
fn a_run_cannot_settle_before_its_files_are_recorded() {
    // rule D6, issue 9: the log names the files before it says the rails paid them.
    let mut run = january_run();
    let hash = run.h.state.hash();
    let settle = Command::SettlePayouts {
        payout_root: run.root,
        settlement_reference: [7; 32],
    };
    let refused = run.h.exchange(settle.clone()).unwrap_err();
    assert_eq!(refused.code(), "payout_files_missing");
    assert_eq!(run.h.state.hash(), hash, "the refusal changed the state");
    let files = faithful(&run);
    run.h
        .exchange(Command::RecordPayoutFiles {
            payout_root: run.root,
            files,
            held: Vec::new(),
        })
        .unwrap();
    run.h.exchange(settle).unwrap();
}

#[test]
fn a_held_line_rolls_over_to_the_micro_dollar_and_is_paid_next_month() {
    // rules D4, D6, D9, issue 9: a member with no destination is not paid, and not dropped.
    let mut run = january_run();
    let (ach_member, ach_amount, _) = *run.lines.iter().find(|line| line.2 == Rail::Ach).unwrap();
    let carried_before = run.h.state.members[ach_member as usize].balance.carried;
    let rollover_before = run.h.state.books.rollover_in;
    let files: Vec<PayoutFile> = faithful(&run)
        .into_iter()
        .filter(|file| file.rail != Rail::Ach)
        .collect();
    let held = vec![assay_core::MemberId(ach_member)];
    let events = run
        .h
        .exchange(Command::RecordPayoutFiles {
            payout_root: run.root,
            files,
            held,
        })
        .unwrap();
    let Event::PayoutFilesRecorded { held, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].amount, Micros::new(ach_amount));
    let member = &run.h.state.members[ach_member as usize];
    assert_eq!(
        member.balance.carried.get(),
        carried_before.get() + ach_amount
    );
    assert_eq!(
        run.h.state.books.rollover_in.get(),
        rollover_before.get() + ach_amount
    );
    // Σ rails' files + held + rollover = the run's member total, to the micro-dollar.
    let carried: u64 = run
        .h
        .state
        .members
        .iter()
        .map(|m| m.balance.carried.get())
        .sum();
    let (_, usdc) = total_on(&run, Rail::Usdc);
    let (_, prepaid) = total_on(&run, Rail::Prepaid);
    let report = run
        .h
        .events
        .iter()
        .find_map(|event| match event {
            Event::MonthlyRunRecorded { report, .. } => Some(report.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        usdc + prepaid + carried,
        report.payouts_total.get() + report.rollover_out.get()
    );
    run.h
        .exchange(Command::SettlePayouts {
            payout_root: run.root,
            settlement_reference: [7; 32],
        })
        .unwrap();
    // February's run pays the held line (the threshold is met again) and still conserves.
    run.h
        .advance_to(assay_core::TradingDay(run.h.state.open_day.0 + 29));
    let february = run
        .h
        .events
        .iter()
        .filter_map(|event| match event {
            Event::MonthlyRunRecorded { report, .. } => Some(report.clone()),
            _ => None,
        })
        .nth(1)
        .expect("February's run");
    february.check_conservation().unwrap();
    let paid_again = run.h.events.iter().rev().find_map(|event| match event {
        Event::PayoutInstruction { member, amount, .. } if member.0 == ach_member => {
            Some(amount.get())
        }
        _ => None,
    });
    // At least the held line (a founding member may also draw February's cohort share).
    assert!(
        paid_again.is_some_and(|paid| paid >= ach_amount),
        "{paid_again:?}"
    );
}
