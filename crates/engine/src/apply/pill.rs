//! The poison pill (X1–X3) and the settlement of payouts (D6).
//!
//! Triggers, each a fact of the log: X1.1 a run that would pay members under 90% of gross
//! (`money.rs`); X1.2 and X1.3 an input stamped past a deadline ([`time_trigger`]); X1.4 two
//! checkpoints of one size with different roots ([`prove_equivocation`]); X1.5 an amendment of
//! a principle that got past the gate (`governance.rs`, `tally.rs`). On any of them,
//! [`terminate`] pays everyone in the same entry, and from then on only the final payout's
//! files and settlement are accepted ([`after_termination`]): the final payout is the
//! unsettled run, so it goes to the rails like any monthly run (issue 9).

use super::governance::active_since;
use super::money::payout_events;
use super::{baskets, exchange_only, payout_files, Context, Outcome};
use crate::command::{Command, Digest};
use crate::governance::{Termination, UnsettledRun};
use crate::{Event, Refusal, State};
use assay_coop::{terminate as coop_terminate, MemberBalance, MonthBooks, Standing, Trigger};
use assay_core::{BasketId, Micros, Timestamp};
use assay_log::{EquivocationProof, VerifierKey};

/// Rules X1.2, X1.3: the deadline an input's stamp proves passed, if any.
pub(super) fn time_trigger(state: &State, now: Timestamp) -> Option<Trigger> {
    state.exchange.as_ref()?;
    let books_month = state.month?;
    let unsettled = state.unsettled.as_ref().map(|run| run.month);
    assay_coop::pill::time_trigger(now.trading_day(), books_month, unsettled)
}

/// Rule X1.4: anyone may submit two checkpoints of the exchange's log, signed by its key, for
/// the same size with different roots. An invalid proof is refused with the log crate's code.
pub(super) fn prove_equivocation(
    state: &mut State,
    context: &Context,
    first_note: &str,
    second_note: &str,
) -> Outcome {
    let exchange = state.exchange.as_ref().ok_or(Refusal::NoGenesis)?;
    let key = VerifierKey::parse(&exchange.log_vkey)?;
    let proof = EquivocationProof::parse(first_note.as_bytes(), second_note.as_bytes())?;
    let found = proof.verify(&exchange.log_origin, &key)?;
    let trigger = Trigger::Equivocation {
        size: found.size,
        first_root: *found.first_root.as_bytes(),
        second_root: *found.second_root.as_bytes(),
    };
    terminate(state, context, trigger)
}

/// Rule X2: termination, in one entry. Open baskets end and their holds return; grants end;
/// every member is paid their own money and active members the cooperative's funds (see
/// `coop::termination`); buyers get back their unspent prepaid money; builders, cohort and
/// architect get nothing. The final payout is checked for conservation before anything changes.
pub(super) fn terminate(state: &mut State, context: &Context, trigger: Trigger) -> Outcome {
    let since = active_since(state, context.now);
    let standing: Vec<Standing> = state
        .members
        .iter()
        .map(
            |member| match (member.banned, member.last_active >= since) {
                (true, _) => Standing::Banned,
                (false, true) => Standing::Active,
                (false, false) => Standing::Inactive,
            },
        )
        .collect();
    let mut balances: Vec<MemberBalance> = state.members.iter().map(|m| m.balance).collect();
    let unsettled = state.unsettled.as_ref().map_or(&[][..], |run| &run.lines);
    let outcome = coop_terminate(trigger, &state.books, &mut balances, unsettled, &standing)?;
    let month = state
        .month
        .unwrap_or_else(|| context.now.trading_day().month());
    let (payouts, payout_root) = payout_events(state, month, &outcome.payouts)?;

    // Everything that can refuse has been checked.
    let mut events = Vec::new();
    let open: Vec<BasketId> = state.baskets.keys().copied().collect();
    for id in open {
        let basket = state.baskets.remove(&id).expect("listed above");
        baskets::release_holds(state, &basket);
        events.push(Event::BasketCanceled { basket: id });
    }
    for (&id, grant) in state.grants.iter_mut() {
        if grant.active {
            grant.active = false;
            events.push(Event::GrantEnded { grant: id });
        }
    }
    for (member, balance) in state.members.iter_mut().zip(balances) {
        member.balance = balance;
    }
    events.extend(payouts);
    for (index, buyer) in state.buyers.iter_mut().enumerate() {
        debug_assert!(buyer.held.is_zero(), "every hold was released above");
        if !buyer.available.is_zero() {
            events.push(Event::BuyerRefunded {
                buyer: assay_core::BuyerId(index as u64),
                amount: buyer.available,
            });
            buyer.available = Micros::ZERO;
        }
    }
    state.books = MonthBooks::default();
    state.run_pending = None;
    // The final payout takes the place of any unsettled run, whose lines it includes: its
    // files are recorded and it is settled like a monthly run (D6, issue 9).
    state.unsettled = if outcome.payouts.is_empty() {
        None
    } else {
        Some(UnsettledRun {
            month,
            payout_root,
            lines: outcome.payouts,
            files: None,
        })
    };
    let payout_count = outcome.report.payout_count;
    debug_assert_eq!(
        payout_count,
        state
            .unsettled
            .as_ref()
            .map_or(0, |run| run.lines.len() as u64)
    );
    state.terminated = Some(Termination {
        trigger,
        at: context.now,
        payout_root,
        settled: payout_count == 0,
    });
    events.push(Event::Terminated {
        report: Box::new(outcome.report),
        payout_root,
        payout_count,
    });
    Ok(events)
}

/// Rule X3: after termination, only the final payout's files and then its settlement are
/// accepted, once each; no vote, board resolution or exchange command does anything else.
/// A line of the final payout held for want of a destination goes back to the member's
/// balance, as at a monthly run: the state then shows what the exchange still owes them,
/// though no later run will pay it.
pub(super) fn after_termination(
    state: &mut State,
    context: &Context,
    command: &Command,
) -> Outcome {
    match command {
        Command::RecordPayoutFiles {
            payout_root,
            files,
            held,
        } => payout_files::record(state, context, payout_root, files, held),
        Command::SettlePayouts {
            payout_root,
            settlement_reference,
        } => settle_payouts(state, context, payout_root, settlement_reference),
        _ => Err(Refusal::Terminated),
    }
}

/// Rule D6: the exchange records that the rails executed a run's payouts (or, after
/// termination, the final payout). Until it does, the money counts as held (X1.3).
pub(super) fn settle_payouts(
    state: &mut State,
    context: &Context,
    payout_root: &Digest,
    settlement_reference: &Digest,
) -> Outcome {
    exchange_only(state, context)?;
    if let Some(termination) = &state.terminated {
        if termination.settled {
            return Err(Refusal::Terminated);
        }
        if termination.payout_root != *payout_root {
            return Err(Refusal::UnknownPayoutRoot);
        }
    }
    match &state.unsettled {
        // Issue 9: the log must name the files the rails were given before it says they paid
        // them, for the final payout as for a monthly run.
        Some(run) if run.payout_root == *payout_root && run.files.is_none() => {
            return Err(Refusal::PayoutFilesMissing)
        }
        Some(run) if run.payout_root == *payout_root => state.unsettled = None,
        _ => return Err(Refusal::UnknownPayoutRoot),
    }
    if let Some(termination) = &mut state.terminated {
        termination.settled = true;
    }
    Ok(vec![Event::PayoutsSettled {
        payout_root: *payout_root,
        settlement_reference: *settlement_reference,
    }])
}
