//! The poison pill (issue 6 acceptance): one test per trigger of X1 drives the cooperative of
//! `common/scenario.rs` from normal operation into termination and checks the final payouts to
//! the micro-dollar (X2); afterwards everything but the final payout's files and settlement is
//! refused (X3).
//!
//! Triggers 2, 3 and 4 are reached by commands alone. Triggers 1 and 5 guard against faults the
//! engine's own gates prevent (rules under 90% cannot load; an immutable amendment is refused at
//! entry), so their tests inject the fault into the state, as a build with a broken gate would.

mod common;

use assay_coop::{Clause, ClauseChange, Trigger};
use assay_core::{Micros, Month, Timestamp};
use assay_engine::governance::{Motion, Proposal};
use assay_engine::{replay, Choice, Command, Event, Party};
use common::scenario::*;
use common::*;

const FEBRUARY: Month = Month {
    year: 2026,
    month: 2,
};

/// The final payout when February's books are terminated (triggers 1, 2, 4, 5):
/// the cooperative's funds are $40.8 gross − $36 credited = $4.8, split by February's sales
/// credits among active members (F2 $9 : P1 $27 → $1.2 : $3.6). F2 also gets back the $0.26
/// carried from January; F1 sold nothing in February and is owed nothing. Operating costs ($3),
/// builders, cohort and architect get nothing.
const FEBRUARY_FINAL: [(u64, u64); 2] = [(1, 10_460_000), (2, 30_600_000)];
/// C's unspent prepaid money: $1,000 − $102 − $10.2 − $30.6.
const C_REFUND: u64 = 857_200_000;

/// Whether the test put a fault into the state, which the log cannot reproduce.
#[derive(PartialEq)]
enum Fault {
    None,
    Injected,
}

/// Checks the terminating entry's events and everything after termination.
fn check_termination(
    coop: &mut Coop,
    events: &[Event],
    trigger: Trigger,
    final_payouts: &[(u64, u64)],
    fault: Fault,
) {
    assert_eq!(payouts(events), final_payouts, "{events:?}");
    let Some(Event::Terminated {
        report,
        payout_root,
        payout_count,
    }) = events.last()
    else {
        panic!("no termination: {events:?}")
    };
    assert_eq!(report.trigger, trigger);
    report.check_conservation().unwrap();
    let paid: u64 = final_payouts.iter().map(|(_, amount)| amount).sum();
    assert_eq!(report.paid_total, Micros::new(paid));
    assert_eq!(*payout_count, final_payouts.len() as u64);
    assert!(events.iter().any(|e| matches!(e,
        Event::BuyerRefunded { amount, .. } if *amount == Micros::new(C_REFUND))));
    let h = &mut coop.h;
    assert!(h
        .state
        .members
        .iter()
        .all(|m| m.balance.carried.is_zero() && m.balance.unpaid.is_zero()));
    assert!(h
        .state
        .buyers
        .iter()
        .all(|b| b.available.is_zero() && b.held.is_zero()));

    // Rule X3: no vote, board resolution or exchange command moves anything now.
    let state_hash = h.state.hash();
    let attempts: Vec<(&ed25519_dalek::SigningKey, Command)> = vec![
        (&coop.f2.key, Command::RequestMidMonthPayout),
        (
            &coop.f1.key,
            Command::Propose {
                kind: assay_engine::ProposalKind::Election { seat: 0 },
            },
        ),
        (
            &coop.c.key,
            Command::Appeal {
                statement_hash: [0; 32],
            },
        ),
        (&coop.c.key, Command::RegisterBuyer),
    ];
    for (signer, command) in attempts {
        let refusal = h.submit(signer, command).unwrap_err();
        assert_eq!(refusal.code(), "terminated");
    }
    for command in [
        Command::RunMonthlyDistribution { month: FEBRUARY },
        Command::Ban {
            party: Party::Member(member_id(&coop.p1)),
            evidence_hash: [1; 32],
        },
        Command::FundBuyer {
            buyer: buyer_id(&coop.c),
            amount: Micros::new(1),
            deposit_reference: [0; 32],
        },
        equivocation(),
    ] {
        assert_eq!(h.exchange(command).unwrap_err().code(), "terminated");
    }
    let ballot = h.ballot_command(&coop.p1, 0, Choice::Yes);
    assert_eq!(
        h.submit(&coop.p1.key, ballot).unwrap_err().code(),
        "terminated"
    );
    assert_eq!(
        h.state.hash(),
        state_hash,
        "a refusal after termination changed the state"
    );

    // Only the final payout's files and then its settlement complete it, once each (D6,
    // issue 9): like a run's, the settlement is refused until the files are logged.
    let wrong = Command::SettlePayouts {
        payout_root: [0; 32],
        settlement_reference: [1; 32],
    };
    assert_eq!(h.exchange(wrong).unwrap_err().code(), "unknown_payout_root");
    let settle = Command::SettlePayouts {
        payout_root: *payout_root,
        settlement_reference: [1; 32],
    };
    assert_eq!(
        h.exchange(settle.clone()).unwrap_err().code(),
        "payout_files_missing"
    );
    let record = Command::RecordPayoutFiles {
        payout_root: *payout_root,
        files: h.faithful_files(),
        held: Vec::new(),
    };
    h.exchange(record.clone()).unwrap();
    assert_eq!(
        h.exchange(record).unwrap_err().code(),
        "payout_files_repeated"
    );
    h.exchange(settle.clone()).unwrap();
    assert_eq!(h.exchange(settle).unwrap_err().code(), "terminated");
    assert!(h.state.unsettled.is_none());

    // Rule L3: the log replays to the same terminated state. An injected fault is not in the
    // log, so an auditor's replay parts from this state: that too would expose the fault.
    let replayed = replay(h.entries.iter().map(Vec::as_slice));
    match fault {
        Fault::None => assert_eq!(replayed.unwrap().hash(), h.state.hash()),
        Fault::Injected => assert!(replayed.is_err()),
    }
}

#[test]
fn the_scenario_runs_january_as_the_rulebook_says() {
    let coop = february();
    let january = run_report(&coop.h.events).unwrap();
    assert_eq!(january.gross_income, Micros::new(102_000_000));
    assert_eq!(
        payouts(&coop.h.events),
        vec![(0, 92_060_000), (2, 5_000_000)]
    );
    assert_eq!(
        coop.h.state.members[1].balance.carried,
        Micros::new(260_000)
    );
    assert!(coop.h.state.terminated.is_none());
}

#[test]
fn trigger_1_members_below_90_percent_terminates() {
    // rule X1.1: a fault puts rules giving members 85% in force (they cannot load normally).
    let mut coop = february();
    close_february(&mut coop);
    let exchange = coop.h.state.exchange.as_mut().unwrap();
    exchange.rules.waterfall.members_bps = 8_500;
    exchange.rules.waterfall.builders_bps = 1_300;
    let events = coop
        .h
        .exchange(Command::RunMonthlyDistribution { month: FEBRUARY })
        .unwrap();
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::MonthlyRunRecorded { .. })));
    let trigger = Trigger::MembersBelowNinety { month: FEBRUARY };
    check_termination(
        &mut coop,
        &events,
        trigger,
        &FEBRUARY_FINAL,
        Fault::Injected,
    );
}

#[test]
fn trigger_2_run_not_recorded_by_the_3rd_terminates() {
    // rule X1.2: February's run is due on March 1st; on the 3rd inputs are only refused
    // (`run_pending`), on the 4th any input proves the run late.
    let mut coop = february();
    close_february(&mut coop);
    // The next input is stamped March 3, 23:59:59.999999, the one after it March 4, 00:00.
    coop.h.now = Timestamp(day(FEBRUARY_28 + 4).start().0 - 2);
    let f2 = coop.f2.clone();
    let refusal = coop
        .h
        .submit(&f2.key, Command::RequestMidMonthPayout)
        .unwrap_err();
    assert_eq!(refusal.code(), "run_pending");
    let events = coop
        .h
        .submit(&f2.key, Command::RequestMidMonthPayout)
        .unwrap();
    assert_eq!(coop.h.now.trading_day(), day(FEBRUARY_28 + 4)); // March 4
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::MidMonthPayout { .. })));
    let trigger = Trigger::RunLate { month: FEBRUARY };
    check_termination(&mut coop, &events, trigger, &FEBRUARY_FINAL, Fault::None);
}

#[test]
fn trigger_3_payouts_not_settled_by_the_8th_terminates() {
    // rule X1.3: February's run pays F2 $9.494 and P1 $27.54 (F1 carries $0.054, its cohort
    // part), but the rails' execution is never recorded. On March 8 the money is held past
    // the schedule; the final payout instructs those payouts again, with F1's carried balance.
    let mut coop = february();
    close_february(&mut coop);
    let events = coop
        .h
        .exchange(Command::RunMonthlyDistribution { month: FEBRUARY })
        .unwrap();
    assert_eq!(payouts(&events), vec![(1, 9_494_000), (2, 27_540_000)]);
    coop.h.advance_to(day(FEBRUARY_28 + 7)); // March 7 is open; March 6 closed on the 7th
    assert!(coop.h.state.terminated.is_none());
    coop.h.now = day(FEBRUARY_28 + 8).start(); // March 8, 00:00
    let march_7 = day(FEBRUARY_28 + 7);
    let events = coop
        .h
        .exchange(Command::CloseTradingDay { day: march_7 })
        .unwrap();
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::TradingDayClosed { .. })));
    let trigger = Trigger::MemberMoneyHeld { month: FEBRUARY };
    let held = [(0, 54_000), (1, 9_494_000), (2, 27_540_000)];
    check_termination(&mut coop, &events, trigger, &held, Fault::None);
}

#[test]
fn trigger_4_equivocating_checkpoints_terminate() {
    // rule X1.4: anyone, even a key the exchange never registered, may submit the proof.
    let mut coop = february();
    let stranger = key(77);
    let signer = log_signer();
    let same = Command::ProveEquivocation {
        first_note: checkpoint_note(LOG_ORIGIN, 10, 1, &signer),
        second_note: checkpoint_note(LOG_ORIGIN, 10, 1, &signer),
    };
    assert_eq!(
        coop.h.submit(&stranger, same).unwrap_err().code(),
        "equivocation_same_root"
    );
    let impostor = assay_log::NoteSigner::new(LOG_ORIGIN, &[0x11; 32]).unwrap();
    let forged = Command::ProveEquivocation {
        first_note: checkpoint_note(LOG_ORIGIN, 10, 1, &signer),
        second_note: checkpoint_note(LOG_ORIGIN, 10, 2, &impostor),
    };
    assert!(coop.h.submit(&stranger, forged).is_err());
    let events = coop.h.submit(&stranger, equivocation()).unwrap();
    let found = Trigger::Equivocation {
        size: 10,
        first_root: assay_log::leaf_hash(&[1]).0,
        second_root: assay_log::leaf_hash(&[2]).0,
    };
    check_termination(&mut coop, &events, found, &FEBRUARY_FINAL, Fault::None);
}

#[test]
fn trigger_5_an_immutable_amendment_past_the_gate_terminates() {
    // rule X1.5: the gate refuses it at entry (G5) ...
    let mut coop = february();
    let f1 = coop.f1.clone();
    let kind = assay_engine::ProposalKind::Amendment {
        changes: vec![ClauseChange {
            clause: Clause::PoisonPill,
            text_hash: [0xBA; 32],
        }],
    };
    let refusal = coop.h.propose(&f1, kind).unwrap_err();
    assert_eq!(refusal.code(), "immutable_clause");
    // ... so a fault must put it in the state; the first ballot on it swallows the pill.
    let governance = &mut coop.h.state.governance;
    let id = governance.next_proposal;
    governance.next_proposal += 1;
    governance.proposals.insert(
        id,
        Proposal {
            motion: Motion::Amendment {
                changes: vec![ClauseChange {
                    clause: Clause::PoisonPill,
                    text_hash: [0xBA; 32],
                }],
            },
            opened: coop.h.now,
            closes: Timestamp(coop.h.now.0 + 1_000_000),
            members_at_open: 3,
            ballots: Default::default(),
        },
    );
    let f2 = coop.f2.clone();
    let events = coop.h.vote(&f2, id, Choice::Yes).unwrap();
    let trigger = Trigger::ImmutableAmendment { proposal: id };
    check_termination(
        &mut coop,
        &events,
        trigger,
        &FEBRUARY_FINAL,
        Fault::Injected,
    );
}

#[test]
fn nothing_delays_an_equivocation_proof() {
    // P-pill: while the run is due (every other input waits for it) and on a day the exchange
    // has not closed, the proof is still accepted.
    let mut coop = february();
    close_february(&mut coop);
    coop.h.now = day(FEBRUARY_28 + 2).start(); // March 2: March 1 is not closed either
    let events = coop.h.submit(&key(78), equivocation()).unwrap();
    assert!(
        matches!(events.last(), Some(Event::Terminated { report, .. })
        if report.trigger.number() == 4)
    );
    assert_eq!(payouts(&events), FEBRUARY_FINAL);
}
