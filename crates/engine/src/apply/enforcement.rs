//! Findings that ban for life (E1, E2, E4) and appeals (E3).
//!
//! Reading (RULEBOOK.md E): the exchange's key records a finding, with the hash of its evidence;
//! the accused may appeal once in a lifetime, and the board hears it (`tally.rs`).

use super::governance::open;
use super::{bounded, exchange_only, release_hold, Context, Outcome};
use crate::command::{Digest, Party};
use crate::governance::{Motion, OPEN_PROPOSALS_MAX};
use crate::{Event, Refusal, State};
use assay_core::BasketId;

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
                super::baskets::release_holds(state, &basket);
                events.push(Event::BasketCanceled { basket: id });
            }
            for (&id, basket) in state.baskets.iter_mut() {
                if let Some(position) = basket.bids.iter().position(|b| b.buyer == buyer) {
                    let bid = basket.bids.remove(position);
                    let amount = bounded(bid.unit_price.checked_mul(basket.spec.units_per_slot()));
                    release_hold(&mut state.buyers, buyer, amount);
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
            let (key, device) = (record.key, record.device_key);
            state.members[member.0 as usize].banned = true;
            // Identity binding (RULEBOOK E): the member's device is banned with their key.
            state.banned_keys.insert(key);
            state.banned_keys.insert(device);
            // Rule E4: open offers end, the member leaves every grant and any board seat;
            // money owed is still paid at the run.
            for (&id, basket) in state.baskets.iter_mut() {
                if basket.offered.remove(&member) {
                    basket.offers.retain(|o| o.member != member);
                    events.push(Event::OfferEnded { basket: id, member });
                }
            }
            for (&id, grant) in state.grants.iter_mut() {
                if grant.active && grant.members.contains(&member) {
                    grant.members.retain(|&m| m != member);
                    events.push(Event::GrantMemberEnded { grant: id, member });
                }
            }
            let today = context.now.trading_day();
            if let Some(seat) = state.governance.seat_of(member, today) {
                state.governance.seats[seat] = None;
                events.push(Event::SeatVacated {
                    seat: seat as u8,
                    member,
                });
            }
        }
    }
    Ok(events)
}

/// Rule E3: the banned party appeals, once per lifetime; the board votes for `voting_days`.
pub(super) fn appeal(state: &mut State, context: &Context, statement_hash: &Digest) -> Outcome {
    let party = if let Some(&member) = state.member_by_key.get(&context.signer) {
        let record = &state.members[member.0 as usize];
        check_appeal(record.banned, record.appealed)?;
        Party::Member(member)
    } else if let Some(&buyer) = state.buyer_by_key.get(&context.signer) {
        let record = &state.buyers[buyer.0 as usize];
        check_appeal(record.banned, record.appealed)?;
        Party::Buyer(buyer)
    } else {
        return Err(Refusal::UnknownParty);
    };
    if state.governance.proposals.len() >= OPEN_PROPOSALS_MAX {
        return Err(Refusal::TooManyProposals);
    }
    match party {
        Party::Member(member) => state.members[member.0 as usize].appealed = true,
        Party::Buyer(buyer) => state.buyers[buyer.0 as usize].appealed = true,
    }
    let (proposal, closes) = open(state, context.now, Motion::Appeal { party });
    Ok(vec![Event::AppealOpened {
        proposal,
        party,
        statement_hash: *statement_hash,
        closes,
    }])
}

fn check_appeal(banned: bool, appealed: bool) -> Result<(), Refusal> {
    if !banned {
        return Err(Refusal::NotBanned);
    }
    if appealed {
        return Err(Refusal::AppealRepeated);
    }
    Ok(())
}
