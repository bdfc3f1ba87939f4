//! Bans (E1, E2, E4) and rule changes (G6). The full governance (findings, appeals, votes) is
//! issue 6; what is here is what the engine needs to refuse banned parties and unvoted rules.

use super::{bounded, exchange_only, Context, Outcome};
use crate::command::{Digest, Party};
use crate::{Event, Refusal, State};
use assay_core::{BasketId, Micros, Rules};

pub(super) fn ban(
    state: &mut State,
    context: &Context,
    party: Party,
    evidence_hash: &Digest,
) -> Outcome {
    exchange_only(state, context)?;
    let mut events = vec![Event::PartyBanned {
        party,
        evidence_hash: *evidence_hash,
    }];
    match party {
        Party::Buyer(buyer) => {
            let record = state.buyer(buyer).ok_or(Refusal::UnknownBuyer)?;
            if record.banned {
                return Err(Refusal::Banned);
            }
            let key = record.key;
            state.buyers[buyer.0 as usize].banned = true;
            state.banned_keys.insert(key);
            // Rule E4: the buyer's open baskets are canceled (fee kept), its bids end, its
            // grants end; holds return to its balance, which the exchange refunds off-log.
            let own: Vec<BasketId> = state
                .baskets
                .iter()
                .filter(|(_, b)| b.buyer == buyer)
                .map(|(&id, _)| id)
                .collect();
            for id in own {
                let basket = state.baskets.remove(&id).expect("listed above");
                let units = basket.spec.units_per_slot();
                for bid in &basket.bids {
                    release(state, bid.buyer, bounded(bid.unit_price.checked_mul(units)));
                }
                release(state, buyer, basket.anchor_hold);
                events.push(Event::BasketCanceled { basket: id });
            }
            for (&id, basket) in state.baskets.iter_mut() {
                if let Some(position) = basket.bids.iter().position(|b| b.buyer == buyer) {
                    let bid = basket.bids.remove(position);
                    let amount = bounded(bid.unit_price.checked_mul(basket.spec.units_per_slot()));
                    release_in(&mut state.buyers, buyer, amount);
                    events.push(Event::BidEnded { basket: id, buyer });
                }
            }
            for (&id, grant) in state.grants.iter_mut() {
                if grant.buyer == buyer && grant.active {
                    grant.active = false;
                    events.push(Event::GrantEnded { grant: id });
                }
            }
        }
        Party::Member(member) => {
            let record = state.member(member).ok_or(Refusal::UnknownMember)?;
            if record.banned {
                return Err(Refusal::Banned);
            }
            let key = record.key;
            state.members[member.0 as usize].banned = true;
            state.banned_keys.insert(key);
            // Rule E4: open offers end; money owed is still paid at the run.
            for (&id, basket) in state.baskets.iter_mut() {
                if basket.offered.remove(&member) {
                    basket.offers.retain(|o| o.member != member);
                    events.push(Event::OfferEnded { basket: id, member });
                }
            }
        }
    }
    Ok(events)
}

fn release(state: &mut State, buyer: assay_core::BuyerId, amount: Micros) {
    release_in(&mut state.buyers, buyer, amount);
}

fn release_in(buyers: &mut [crate::state::Buyer], buyer: assay_core::BuyerId, amount: Micros) {
    let record = &mut buyers[buyer.0 as usize];
    record.held = bounded(record.held.checked_sub(amount));
    record.available = bounded(record.available.checked_add(amount));
}

/// Rule G6: a parameter change takes effect only through a passed member vote. Votes arrive
/// with governance (issue 6); until then every change is refused, after the new rules are
/// checked so a malformed file gets its own error.
pub(super) fn adopt_rules(rules_json: &str, _proposal: u64) -> Outcome {
    Rules::from_json_str(rules_json)?;
    Err(Refusal::NoPassedVote)
}
