//! Genesis, registration and deposits.

use super::{bounded, exchange_only, Context, Outcome};
use crate::command::{Digest, PayoutChoice};
use crate::state::{Buyer, CategoryMarket, DepositRecord, Exchange, Member};
use crate::{Event, Refusal, State};
use assay_coop::MemberBalance;
use assay_core::{BuyerId, Category, MemberId, Micros, PublicKey, Rules};
use assay_log::{Checkpoint, SignatureType, VerifierKey, EMPTY_ROOT};
use assay_market::{PriceHistory, SupplyController};
use std::collections::VecDeque;

pub(super) fn genesis(
    state: &mut State,
    context: &Context,
    rules_json: &str,
    log_origin: &str,
    log_vkey: &str,
) -> Outcome {
    let rules = Rules::from_json_str(rules_json)?;
    let rules_hash = rules.hash();
    // The log's key must be one an equivocation proof can be checked against (X1.4).
    let key = VerifierKey::parse(log_vkey)?;
    if key.signature_type() != SignatureType::Ed25519 {
        return Err(assay_log::Error::KeyType {
            byte: key.signature_type().byte(),
        }
        .into());
    }
    Checkpoint::new(log_origin, 0, EMPTY_ROOT)?;
    state.markets = Category::ALL
        .iter()
        .map(|&category| CategoryMarket {
            history: PriceHistory::new(rules.category(category).start_price_micros),
            supply: SupplyController::new(&rules.fee),
            today: Default::default(),
            volume: Default::default(),
        })
        .collect();
    state.open_day = context.now.trading_day();
    state.month = Some(state.open_day.month());
    state.exchange = Some(Exchange {
        key: context.signer,
        rules,
        rules_hash,
        log_origin: log_origin.to_owned(),
        log_vkey: log_vkey.to_owned(),
        genesis_day: state.open_day,
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

/// Identity binding (RULEBOOK E): a member's device key is the wallet's hardware key, unlocked
/// by the holder's biometrics. A new member must bring a device no banned member used and no
/// other member holds, so a banned person cannot return on the same phone with a fresh key.
fn check_new_member(
    state: &State,
    member_key: &PublicKey,
    device_key: &PublicKey,
) -> Result<(), Refusal> {
    check_new_key(state, member_key)?;
    if state.banned_keys.contains(device_key) {
        return Err(Refusal::Banned);
    }
    if state.member_by_device.contains_key(device_key) {
        return Err(Refusal::DeviceInUse);
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
    check_new_member(state, member_key, device_key)?;
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
    check_new_member(state, &context.signer, device_key)?;
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
        last_active: context.now.trading_day(),
        served: false,
        appealed: false,
    });
    state.member_by_key.insert(key, id);
    state.member_by_device.insert(device_key, id);
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
        appealed: false,
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
    // Refused even when it is the same deposit sent again: it credited once, and its answer is
    // the first entry's (the shell answers it from `State::repeated_deposit` without applying).
    if state.deposit_references.contains_key(deposit_reference) {
        return Err(Refusal::DepositReferenceReused);
    }
    // The bound every later sum relies on (see the module docs of `apply`).
    let deposits = state.deposits_total.checked_add(amount)?;
    state.deposits_total = deposits;
    // What an identical retry is answered with, after any restart (`State::repeated_deposit`).
    let credited = DepositRecord {
        buyer,
        amount,
        index: state.log_size,
        at: context.now,
    };
    state
        .deposit_references
        .insert(*deposit_reference, credited);
    let record = &mut state.buyers[buyer.0 as usize];
    record.available = bounded(record.available.checked_add(amount));
    Ok(vec![Event::BuyerFunded {
        buyer,
        amount,
        deposit_reference: *deposit_reference,
    }])
}
