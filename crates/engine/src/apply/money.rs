//! Money outside baskets: operating costs, off-take agreements (M16), mid-month payouts (D5)
//! and the monthly run (D2–D8).

use super::{bounded, exchange_only, pill, signing_buyer, Context, Outcome};
use crate::command::{Digest, Rail};
use crate::governance::UnsettledRun;
use crate::state::Member;
use crate::{Event, Refusal, State};
use assay_coop::{
    member_part_of_sale, run_month as coop_run_month, MemberBalance, PayoutLine, Trigger,
};
use assay_core::{Category, MemberId, Micros, Month, Rounding, Rules};
use assay_log::Tree;
use serde::Serialize;

const PAYOUT_LEAF_DOMAIN: &[u8] = b"assay/payout/v1\n";

pub(super) fn record_operating_cost(
    state: &mut State,
    context: &Context,
    amount: Micros,
    invoice_hash: &Digest,
) -> Outcome {
    exchange_only(state, context)?;
    let costs = state.books.operating_costs.checked_add(amount)?;
    state.books.operating_costs = costs;
    Ok(vec![Event::OperatingCostRecorded {
        amount,
        invoice_hash: *invoice_hash,
    }])
}

pub(super) fn off_take(
    state: &mut State,
    context: &Context,
    member_id: MemberId,
    member_key: &assay_core::PublicKey,
    category: Category,
    months: u32,
    value: Micros,
) -> Outcome {
    let buyer_id = signing_buyer(state, context)?;
    let rules = state.rules().ok_or(Refusal::NoGenesis)?;
    let member = state.member(member_id).ok_or(Refusal::UnknownMember)?;
    if member.banned {
        return Err(Refusal::Banned);
    }
    if months == 0 || value.is_zero() {
        return Err(Refusal::EmptyAgreement);
    }
    // The consent's signature was checked with the envelope's; here, that it is this member's.
    if member.key != *member_key {
        return Err(Refusal::BadConsent);
    }
    let processing_fee =
        value.mul_bps(u64::from(rules.offtake.processing_fee_bps), Rounding::Down)?;
    let total = value.checked_add(processing_fee)?;
    let member_part = member_part_of_sale(value, rules.waterfall.members_bps)?;
    if state.buyers[buyer_id.0 as usize].available < total {
        return Err(Refusal::InsufficientBalance);
    }
    let buyer = &mut state.buyers[buyer_id.0 as usize];
    buyer.available = bounded(buyer.available.checked_sub(total));
    // Rule D1: the value and the processing fee are both buyer-side income; the member is
    // credited 90% of the value now, and 90% of the fee reaches members through the run.
    let books = &mut state.books;
    books.gross_income = bounded(books.gross_income.checked_add(total));
    books.members_credited = bounded(books.members_credited.checked_add(member_part));
    let balance = &mut state.members[member_id.0 as usize].balance;
    balance.unpaid = bounded(balance.unpaid.checked_add(member_part));
    balance.earned_month = bounded(balance.earned_month.checked_add(member_part));
    let agreement = state.next_agreement;
    state.next_agreement += 1;
    Ok(vec![Event::OffTakeCertified {
        agreement,
        buyer: buyer_id,
        member: member_id,
        category,
        months,
        value,
        processing_fee,
    }])
}

pub(super) fn mid_month_payout(state: &mut State, context: &Context) -> Outcome {
    // Rule E4: a banned member is still paid what they are owed, so no ban check here.
    let member_id = *state
        .member_by_key
        .get(&context.signer)
        .ok_or(Refusal::NotMember)?;
    let rules = state.rules().ok_or(Refusal::NoGenesis)?;
    let fee = rules.payout.mid_month_fee_micros;
    let member = &state.members[member_id.0 as usize];
    let held = member.balance.carried.checked_add(member.balance.unpaid)?;
    if held <= fee {
        return Err(Refusal::NothingToPay);
    }
    let rail = member.payout.rail;
    // Rule D4: ACH and prepaid move whole cents; the sub-cent rest stays in the balance.
    let amount = MemberBalance {
        paid_in_cents: pays_whole_cents(rail),
        ..member.balance
    }
    .payable(held.checked_sub(fee)?);
    if amount.is_zero() {
        return Err(Refusal::NothingToPay);
    }
    let rest = held.checked_sub(fee)?.checked_sub(amount)?;
    let member = &mut state.members[member_id.0 as usize];
    member.balance.carried = rest;
    member.balance.unpaid = Micros::ZERO;
    let books = &mut state.books;
    books.member_fees = bounded(books.member_fees.checked_add(fee));
    books.mid_month_payouts = bounded(books.mid_month_payouts.checked_add(amount));
    Ok(vec![Event::MidMonthPayout {
        member: member_id,
        amount,
        fee,
        rail,
    }])
}

/// Rails that pay whole cents only (D4): NACHA entries and card loads have no smaller unit.
fn pays_whole_cents(rail: Rail) -> bool {
    matches!(rail, Rail::Ach | Rail::Prepaid)
}

/// Rule D8: the member is in one of their first `months` months and among the first
/// `members` public members.
fn in_cold_start(member: &Member, month: Month, rules: &Rules) -> bool {
    let index = |m: Month| i64::from(m.year) * 12 + i64::from(m.month);
    let number_covered = member
        .public_number
        .is_some_and(|n| n <= rules.cold_start.members);
    let age = index(month) - index(member.joined);
    number_covered && (0..i64::from(rules.cold_start.months)).contains(&age)
}

/// A payout line as the payout root commits to it: each member can prove their own line.
#[derive(Serialize)]
struct PayoutLeaf<'a> {
    month: Month,
    member: MemberId,
    amount: Micros,
    rail: &'a crate::command::Rail,
    destination_commitment: &'a Digest,
}

/// One payout line's leaf bytes; the run's payout root is the RFC 6962 root over these leaves,
/// in member order.
pub fn payout_leaf(
    month: Month,
    member: MemberId,
    amount: Micros,
    rail: &crate::command::Rail,
    commitment: &Digest,
) -> Vec<u8> {
    let mut leaf = PAYOUT_LEAF_DOMAIN.to_vec();
    let leaf_body = PayoutLeaf {
        month,
        member,
        amount,
        rail,
        destination_commitment: commitment,
    };
    leaf.extend(postcard::to_allocvec(&leaf_body).expect("payout leaves encode with postcard"));
    leaf
}

pub(super) fn run_month(state: &mut State, context: &Context, month: Month) -> Outcome {
    exchange_only(state, context)?;
    if state.run_pending != Some(month) {
        return Err(Refusal::RunNotDue);
    }
    let rules = state.rules().ok_or(Refusal::NoGenesis)?;
    let mut balances: Vec<MemberBalance> = state
        .members
        .iter()
        .map(|member| MemberBalance {
            cold_start: in_cold_start(member, month, rules),
            // A banned founding member leaves the cohort: its share is for members in good
            // standing at the run (RULEBOOK E4).
            founding: member.founding && !member.banned,
            paid_in_cents: pays_whole_cents(member.payout.rail),
            ..member.balance
        })
        .collect();
    // Works on a copy: a refusal from the run (a broken identity) changes nothing.
    let outcome = coop_run_month(&state.books, &mut balances, rules)?;
    if !outcome.report.members_side_floor_met()? {
        // Rule X1.1: whatever the rules in force say, members under 90% swallows the pill.
        return pill::terminate(state, context, Trigger::MembersBelowNinety { month });
    }
    let (mut events, payout_root) = payout_events(state, month, &outcome.payouts)?;
    // The last run's payouts were settled before this run could be due (X1.3's deadline, the
    // 8th, comes before the next 1st).
    debug_assert!(state.unsettled.is_none());
    if !outcome.payouts.is_empty() {
        state.unsettled = Some(UnsettledRun {
            month,
            payout_root,
            lines: outcome.payouts,
            files: None,
        });
    }
    for (member, balance) in state.members.iter_mut().zip(balances) {
        member.balance = MemberBalance {
            cold_start: false,
            paid_in_cents: false,
            founding: member.founding,
            ..balance
        };
    }
    let report = outcome.report;
    state.books = assay_coop::MonthBooks {
        rollover_in: report.rollover_out,
        shared_carried_in: bounded(
            report
                .shared_carried_out
                .checked_add(report.cohort_carried_out),
        ),
        costs_carried_in: report.operations.costs_carried,
        ..Default::default()
    };
    state.month = Some(month.next());
    state.run_pending = None;
    events.push(Event::MonthlyRunRecorded {
        month,
        payout_root,
        payout_count: report.payout_count,
        report: Box::new(report),
    });
    Ok(events)
}

/// One `PayoutInstruction` per line, with each member's rail, and the RFC 6962 root over the
/// lines' leaves in member order (D4; the final payout of X2 uses the same form).
pub(super) fn payout_events(
    state: &State,
    month: Month,
    lines: &[PayoutLine],
) -> Result<(Vec<Event>, Digest), Refusal> {
    let mut events = Vec::with_capacity(lines.len() + 1);
    let mut tree = Tree::new();
    let mut stored = Vec::new();
    for line in lines {
        let member = &state.members[line.member.0 as usize];
        let rail = member.payout.rail;
        let commitment = member.payout.destination_commitment;
        let leaf = payout_leaf(month, line.member, line.amount, &rail, &commitment);
        stored.clear();
        tree.append(&leaf, &mut stored)
            .map_err(|_| Refusal::Money(assay_core::MoneyError::Overflow))?;
        events.push(Event::PayoutInstruction {
            member: line.member,
            amount: line.amount,
            rail,
            destination_commitment: commitment,
        });
    }
    Ok((events, *tree.root().as_bytes()))
}
