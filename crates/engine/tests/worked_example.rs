//! RULEBOOK.md's worked example, reproduced to the micro-dollar (issue 5). If this test fails,
//! either the rules changed or the rulebook is wrong: fix the one that is.

mod common;

use assay_core::{Category, MemberId, Micros, TradingDay};
use assay_engine::command::{offtake_consent_message, sign_bytes};
use assay_engine::{Command, Event};
use common::*;

fn micros(value: u64) -> Micros {
    Micros::new(value)
}

/// January 2026 from the 28th: the month in RULEBOOK.md's "Worked example".
fn run_example() -> Harness {
    let mut h = Harness::starting(&default_rules(), TradingDay(FIRST_DAY.0 + 27));
    let f1 = h.member(1, true);
    let f2 = h.member(2, true);
    let f3 = h.member(3, true);
    let p1 = h.member(4, false);
    let p2 = h.member(5, false);
    let a = h.buyer(1, 5_000_000_000);
    let b = h.buyer(2, 5_000_000_000);
    let c = h.buyer(3, 5_000_000_000);

    // Jan 28: A's browsing basket, 3 slots of 1 member over 30 days; everyone offers.
    let basket = h.post(&a, spec(Category::Browsing, 1, 3)).unwrap();
    for (member, tag) in [(&f1, 1), (&f2, 1), (&f3, 2), (&p1, 3), (&p2, 3)] {
        h.offer(member, basket, 0, tag).unwrap();
    }
    h.bid(&b, basket, 26_000).unwrap();
    h.bid(&c, basket, 30_000).unwrap();
    h.close_day();

    // Jan 29: C certifies a $100, 12-month location off-take with F3.
    let value = micros(100_000_000);
    let c_key = c.key.verifying_key().into();
    let consent = sign_bytes(
        &f3.key,
        &offtake_consent_message(&c_key, Category::Location, 12, value),
    );
    h.submit(
        &c.key,
        Command::OffTake {
            member: MemberId(f3.id),
            member_key: f3.key.verifying_key().into(),
            category: Category::Location,
            months: 12,
            value,
            member_consent: consent,
        },
    )
    .unwrap();
    h.close_day();

    // Jan 30: $30 of operating costs; F3 takes a mid-month payout.
    h.exchange(Command::RecordOperatingCost {
        amount: micros(30_000_000),
        invoice_hash: [0xC0; 32],
    })
    .unwrap();
    h.submit(&f3.key, Command::RequestMidMonthPayout).unwrap();
    h.close_day();

    // Jan 31 closes, and January's run follows.
    h.close_day();
    h
}

/// (slot, buyer, price, [(member, weight, credit)]) of every grant.
type GrantLine = (u8, u64, u64, Vec<(u64, u64, u64)>);

fn grants(h: &Harness) -> Vec<GrantLine> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::GrantIssued {
                slot,
                buyer,
                price,
                members,
                ..
            } => Some((
                *slot,
                buyer.0,
                price.get(),
                members
                    .iter()
                    .map(|m| (m.member.0, m.weight_bps, m.amount.get()))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn worked_example_reproduces_to_the_micro_dollar() {
    let h = run_example();
    // Step 1–2: A pays the $50 fee; slot 1 (A, anchor at spot $0.02 × 30 member-days) and slot 2
    // (C's $0.03 bid × 30) clear; B's bid loses because 95% of 3 demanded releases 2 slots.
    // The lottery picked F1 (member 0) and P2 (member 4); both have weight 1.3.
    assert_eq!(
        grants(&h),
        vec![
            (1, 0, 600_000, vec![(0, 13_000, 540_000)]),
            (2, 2, 900_000, vec![(4, 13_000, 810_000)])
        ]
    );
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::BasketClosed {
            demanded: 3,
            released: 2,
            sold: 2,
            ..
        }
    )));
    // Step 3: spot and floor after Jan 28.
    assert!(h.events.iter().any(|e| matches!(e,
        Event::TradingDayClosed { category: Category::Browsing, spot, floor, fee, .. }
            if *spot == micros(25_000) && *floor == micros(21_375) && *fee == micros(51_860_000))));
    // Step 4–5: the off-take and the mid-month payout.
    assert!(h.events.iter().any(|e| matches!(e,
        Event::OffTakeCertified { processing_fee, .. } if *processing_fee == micros(2_000_000))));
    assert!(h.events.iter().any(|e| matches!(e,
        Event::MidMonthPayout { amount, fee, .. } if *amount == micros(89_000_000) && *fee == micros(1_000_000))));

    // Step 6: the run.
    let report = run_report(&h.events).expect("January's run");
    assert_eq!(report.gross_income, micros(153_500_000));
    assert_eq!(report.member_side, micros(138_150_000));
    assert_eq!(report.members_credited, micros(91_350_000));
    assert_eq!(report.operations.gross, micros(15_350_000));
    assert_eq!(report.operations.topups_paid, micros(8_766_158));
    assert_eq!(report.operations.costs_paid, micros(6_583_842));
    assert_eq!(report.operations.costs_carried, micros(23_416_158));
    assert_eq!(
        (
            report.operations.builders,
            report.operations.cohort,
            report.operations.architect
        ),
        (Micros::ZERO, Micros::ZERO, Micros::ZERO),
        "a loss month pays builders, cohort and architect nothing"
    );
    assert_eq!(report.rollover_out, micros(822_562));
    let payouts: Vec<(u64, u64)> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::PayoutInstruction { member, amount, .. } => Some((member.0, amount.get())),
            _ => None,
        })
        .collect();
    assert_eq!(
        payouts,
        vec![(2, 47_093_596), (3, 5_000_000), (4, 5_000_000)]
    );
    report.check_conservation().unwrap();
}
