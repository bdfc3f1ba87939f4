//! Genesis, registration and deposits.

use super::{bounded, exchange_only, Context, Outcome};
use crate::command::{Digest, PayoutChoice};
use crate::state::{Buyer, CategoryMarket, Exchange, Member};
use crate::{Event, Refusal, State};
use assay_coop::MemberBalance;
use assay_core::{BuyerId, Category, MemberId, Micros, PublicKey, Rules};
use assay_market::{PriceHistory, SupplyController};
use std::collections::VecDeque;

pub(super) fn genesis(state: &mut State, context: &Context, rules_json: &str) -> Outcome {
    let rules = Rules::from_json_str(rules_json)?;
    let rules_hash = rules.hash();
    state.markets = Category::ALL
        .iter()
        .map(|&category| CategoryMarket {
            history: PriceHistory::new(rules.category(category).start_price_micros),
            supply: SupplyController::new(&rules.fee),
            today: Default::default(),
        })
        .collect();
    state.open_day = context.now.trading_day();
    state.month = Some(state.open_day.month());
    state.exchange = Some(Exchange {
        key: context.signer,
        rules,
        rules_hash,
    });
    Ok(vec![Event::GenesisRecorded {
        rules_hash,
        exchange_key: context.signer,
    }])
}

fn check_new_key(state: &State, key: &PublicKey) -> Result<(), Refusal> {
    if state.banned_keys.contains(key) {
        return Err(Refusal::Banned);
    }
    if state.member_by_key.contains_key(key) || state.buyer_by_key.contains_key(key) {
        return Err(Refusal::AlreadyRegistered);
    }
    Ok(())
}

pub(super) fn register_founding_member(
    state: &mut State,
    context: &Context,
    member_key: &PublicKey,
    device_key: &PublicKey,
    payout: &PayoutChoice,
) -> Outcome {
    exchange_only(state, context)?;
    check_new_key(state, member_key)?;
    if state.public_count > 0 {
        return Err(Refusal::FoundingCohortClosed);
    }
    let cap = state.rules().map_or(0, |r| r.cohort.founding_members_max);
    if state.founding_count >= cap {
        return Err(Refusal::FoundingCohortFull);
    }
    state.founding_count += 1;
    Ok(vec![add_member(
        state,
        context,
        *member_key,
        *device_key,
        *payout,
        true,
        None,
    )])
}

pub(super) fn register_member(
    state: &mut State,
    context: &Context,
    device_key: &PublicKey,
    payout: &PayoutChoice,
) -> Outcome {
    check_new_key(state, &context.signer)?;
    let number = state
        .public_count
        .checked_add(1)
        .ok_or(Refusal::AlreadyRegistered)?;
    state.public_count = number;
    Ok(vec![add_member(
        state,
        context,
        context.signer,
        *device_key,
        *payout,
        false,
        Some(number),
    )])
}

fn add_member(
    state: &mut State,
    context: &Context,
    key: PublicKey,
    device_key: PublicKey,
    payout: PayoutChoice,
    founding: bool,
    public_number: Option<u32>,
) -> Event {
    let id = MemberId(state.members.len() as u64);
    state.members.push(Member {
        key,
        device_key,
        founding,
        public_number,
        joined: context.now.trading_day().month(),
        payout,
        balance: MemberBalance::new(id, founding),
        sale_days: VecDeque::new(),
        banned: false,
    });
    state.member_by_key.insert(key, id);
    Event::MemberRegistered {
        member: id,
        founding,
        public_number,
        rail: payout.rail,
    }
}

pub(super) fn register_buyer(state: &mut State, context: &Context) -> Outcome {
    check_new_key(state, &context.signer)?;
    let id = BuyerId(state.buyers.len() as u64);
    state.buyers.push(Buyer {
        key: context.signer,
        available: Micros::ZERO,
        held: Micros::ZERO,
        banned: false,
    });
    state.buyer_by_key.insert(context.signer, id);
    Ok(vec![Event::BuyerRegistered { buyer: id }])
}

pub(super) fn fund_buyer(
    state: &mut State,
    context: &Context,
    buyer: BuyerId,
    amount: Micros,
    deposit_reference: &Digest,
) -> Outcome {
    exchange_only(state, context)?;
    let record = state.buyer(buyer).ok_or(Refusal::UnknownBuyer)?;
    if record.banned {
        return Err(Refusal::Banned);
    }
    // The bound every later sum relies on (see the module docs of `apply`).
    let deposits = state.deposits_total.checked_add(amount)?;
    state.deposits_total = deposits;
    let record = &mut state.buyers[buyer.0 as usize];
    record.available = bounded(record.available.checked_add(amount));
    Ok(vec![Event::BuyerFunded {
        buyer,
        amount,
        deposit_reference: *deposit_reference,
    }])
}
