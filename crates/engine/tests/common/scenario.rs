//! A cooperative in normal operation, for the pill's tests: January 2026 from the 28th, run and
//! settled, and February under way. Every amount is chosen so the final payouts can be checked
//! by hand (see `pill.rs`).
//!
//! - Members: founding F1, F2; public P1 (in cold start). Buyer C with $1,000.
//! - Jan 29: C's $100 off-take with F1 (F1 credited $90; gross $102).
//! - January's run: F1 paid $92.060000, P1 paid $5.000000 (top-up), F2 carries $0.260000.
//! - Feb 2: C's off-takes with F2 ($10, F2 credited $9) and P1 ($30, P1 credited $27);
//!   operating costs $3. February's gross so far: $40.800000, credited $36.000000.

use super::*;
use assay_engine::command::offtake_consent_message;

pub fn day(offset_from_january_1: i32) -> TradingDay {
    TradingDay(FIRST_DAY.0 + offset_from_january_1)
}

pub const FEBRUARY_2: i32 = 32;
pub const FEBRUARY_28: i32 = 58;

#[derive(Clone)]
pub struct Coop {
    pub h: Harness,
    pub f1: Person,
    pub f2: Person,
    pub p1: Person,
    pub c: Person,
}

/// A buyer's off-take with a member, consented by the member (M16).
pub fn off_take(h: &mut Harness, buyer: &Person, member: &Person, value: u64) -> Outcome {
    let value = Micros::new(value);
    let buyer_key = buyer.key.verifying_key().into();
    let consent = sign_bytes(
        &member.key,
        &offtake_consent_message(&buyer_key, Category::Location, 12, value),
    );
    h.submit(
        &buyer.key,
        Command::OffTake {
            member: MemberId(member.id),
            member_key: member.key.verifying_key().into(),
            category: Category::Location,
            months: 12,
            value,
            member_consent: consent,
        },
    )
}

/// The cooperative on Feb 2, after the off-takes and the cost.
pub fn february() -> Coop {
    let mut h = Harness::starting(&default_rules(), day(27));
    let f1 = h.member(1, true);
    let f2 = h.member(2, true);
    let p1 = h.member(3, false);
    let c = h.buyer(1, 1_000_000_000);
    h.close_day();
    off_take(&mut h, &c, &f1, 100_000_000).unwrap();
    h.advance_to(day(FEBRUARY_2));
    off_take(&mut h, &c, &f2, 10_000_000).unwrap();
    off_take(&mut h, &c, &p1, 30_000_000).unwrap();
    h.exchange(Command::RecordOperatingCost {
        amount: Micros::new(3_000_000),
        invoice_hash: [0xC0; 32],
    })
    .unwrap();
    Coop { h, f1, f2, p1, c }
}

/// Closes February's last day without running the month: the run is due.
pub fn close_february(coop: &mut Coop) {
    coop.h.advance_to(day(FEBRUARY_28));
    coop.h.now = day(FEBRUARY_28 + 1).start();
    coop.h
        .exchange(Command::CloseTradingDay {
            day: day(FEBRUARY_28),
        })
        .unwrap();
    assert!(coop.h.state.run_pending.is_some());
}

/// The (member, amount) of every payout instruction among `events`.
pub fn payouts(events: &[Event]) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PayoutInstruction { member, amount, .. } => Some((member.0, amount.get())),
            _ => None,
        })
        .collect()
}
