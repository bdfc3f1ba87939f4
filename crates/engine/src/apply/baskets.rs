//! Baskets: post (M5, M6), offer (M11, M12), bid (M3, M4, M9), close (M7, M10, M13–M15),
//! receipt (M15). A basket lives within one trading day, so spot and floor (which move only at
//! the day's close) are the same from posting to clearing, and every hold is exact.

use super::{bounded, release_hold, signing_buyer, signing_member, Context, Outcome};
use crate::command::{Digest, Signature};
use crate::event::MemberShare;
use crate::state::{Basket, Grant, OfferRecord};
use crate::{Event, Refusal, State};
use assay_coop::{member_part_of_sale, split_slot_income};
use assay_core::{BasketId, MemberId, Micros};
use assay_market::{
    check_bid, clear, premium_weight_bps, select, slot_minimum, BasketSpec, Bid, Candidate,
    MarketError,
};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeSet, HashMap};

const SEED_DOMAIN: &[u8] = b"assay/selection-seed/v1\n";

/// The open basket `id`, or why it cannot be used.
pub(super) fn open_basket(state: &State, id: BasketId) -> Result<&Basket, Refusal> {
    match state.baskets.get(&id) {
        Some(basket) => Ok(basket),
        None if id.0 < state.next_basket => Err(Refusal::WindowClosed),
        None => Err(Refusal::UnknownBasket),
    }
}

/// Spot, floor and whether the category is frozen, now.
fn prices(state: &State, spec: &BasketSpec) -> Result<(Micros, Micros, bool), Refusal> {
    let rules = state.rules().ok_or(Refusal::NoGenesis)?;
    let market = state.market(spec.category);
    let floor = market.history.floor(&rules.floor)?;
    Ok((market.history.spot(), floor, market.history.is_frozen()))
}

pub(super) fn post(state: &mut State, context: &Context, spec: &BasketSpec) -> Outcome {
    let buyer_id = signing_buyer(state, context)?;
    let rules = state.rules().ok_or(Refusal::NoGenesis)?;
    let (spot, floor, frozen) = prices(state, spec)?;
    if frozen {
        return Err(MarketError::FrozenCategory.into());
    }
    let fee = state.market(spec.category).supply.fee();
    let available = state.buyers[buyer_id.0 as usize].available;
    if available < fee {
        return Err(Refusal::FeeUnpaid);
    }
    let basket_id = BasketId(state.next_basket);
    if let Err(error) = spec.validate(rules) {
        // Rule M5: the fee is non-refundable, refused or filled.
        charge_fee(state, buyer_id, fee);
        state.next_basket += 1;
        return Ok(vec![Event::BasketRefused {
            basket: basket_id,
            buyer: buyer_id,
            fee,
            code: error.code().to_string(),
        }]);
    }
    let anchor_unit_price = slot_minimum(spot, floor, rules, 1)?;
    let anchor_hold = anchor_unit_price.checked_mul(spec.units_per_slot())?;
    if available < fee.checked_add(anchor_hold)? {
        return Err(Refusal::InsufficientBalance);
    }
    charge_fee(state, buyer_id, fee);
    let buyer = &mut state.buyers[buyer_id.0 as usize];
    buyer.available = bounded(buyer.available.checked_sub(anchor_hold));
    buyer.held = bounded(buyer.held.checked_add(anchor_hold));
    state.baskets.insert(
        basket_id,
        Basket {
            buyer: buyer_id,
            spec: spec.clone(),
            fee,
            anchor_unit_price,
            anchor_hold,
            offers: Vec::new(),
            offered: BTreeSet::new(),
            bids: Vec::new(),
        },
    );
    state.next_basket += 1;
    Ok(vec![Event::BasketPosted {
        basket: basket_id,
        buyer: buyer_id,
        category: spec.category,
        fee,
        anchor_unit_price,
        slots: spec.slots,
    }])
}

fn charge_fee(state: &mut State, buyer: assay_core::BuyerId, fee: Micros) {
    let record = &mut state.buyers[buyer.0 as usize];
    record.available = bounded(record.available.checked_sub(fee));
    state.books.gross_income = bounded(state.books.gross_income.checked_add(fee));
}

pub(super) fn offer(
    state: &mut State,
    context: &Context,
    basket_id: BasketId,
    device_key: &assay_core::PublicKey,
    reserve: Micros,
    profile_tag: u64,
    attestation: &Signature,
) -> Outcome {
    let member_id = signing_member(state, context)?;
    let basket = open_basket(state, basket_id)?;
    let (_, _, frozen) = prices(state, &basket.spec)?;
    if frozen {
        return Err(MarketError::FrozenCategory.into());
    }
    // Every slot pays at least the anchor's price, so a reserve at or under it is met.
    if reserve > basket.anchor_unit_price {
        return Err(Refusal::ReserveNotMet);
    }
    if basket.offered.contains(&member_id) {
        return Err(MarketError::DuplicateOffer.into());
    }
    // The attestation's signature was checked with the envelope's (`verify_signature`); here,
    // that it came from this member's registered device.
    if state.members[member_id.0 as usize].device_key != *device_key {
        return Err(Refusal::BadAttestation);
    }
    let basket = state
        .baskets
        .get_mut(&basket_id)
        .expect("checked open above");
    basket.offered.insert(member_id);
    basket.offers.push(OfferRecord {
        member: member_id,
        profile_tag,
        attestation: *attestation,
    });
    Ok(vec![Event::OfferAccepted {
        basket: basket_id,
        member: member_id,
    }])
}

pub(super) fn bid(
    state: &mut State,
    context: &Context,
    basket_id: BasketId,
    unit_price: Micros,
) -> Outcome {
    let buyer_id = signing_buyer(state, context)?;
    let rules = state.rules().ok_or(Refusal::NoGenesis)?;
    let basket = open_basket(state, basket_id)?;
    if basket.buyer == buyer_id || basket.bids.iter().any(|b| b.buyer == buyer_id) {
        return Err(MarketError::DuplicateBid.into());
    }
    let (spot, floor, frozen) = prices(state, &basket.spec)?;
    check_bid(spot, floor, frozen, rules, unit_price)?;
    let hold = unit_price.checked_mul(basket.spec.units_per_slot())?;
    let buyer = &state.buyers[buyer_id.0 as usize];
    if buyer.available < hold {
        return Err(Refusal::InsufficientBalance);
    }
    let buyer = &mut state.buyers[buyer_id.0 as usize];
    buyer.available = bounded(buyer.available.checked_sub(hold));
    buyer.held = bounded(buyer.held.checked_add(hold));
    let basket = state
        .baskets
        .get_mut(&basket_id)
        .expect("checked open above");
    basket.bids.push(Bid {
        buyer: buyer_id,
        unit_price,
    });
    Ok(vec![Event::BidAccepted {
        basket: basket_id,
        buyer: buyer_id,
        unit_price,
    }])
}

/// Returns every hold of a basket to its buyer's available balance.
pub(super) fn release_holds(state: &mut State, basket: &Basket) {
    let units = basket.spec.units_per_slot();
    release_hold(&mut state.buyers, basket.buyer, basket.anchor_hold);
    for bid in &basket.bids {
        release_hold(
            &mut state.buyers,
            bid.buyer,
            bounded(bid.unit_price.checked_mul(units)),
        );
    }
}

/// The lottery seed (M13): SHA-256 over the basket id and every offer's attestation in order.
/// Members' devices produced those signatures, so the exchange cannot choose the seed.
fn selection_seed(basket_id: BasketId, basket: &Basket) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update(SEED_DOMAIN);
    hasher.update(basket_id.0.to_be_bytes());
    for offer in &basket.offers {
        hasher.update(offer.attestation.0);
    }
    hasher.finalize().into()
}

/// What closing a basket will do, computed before anything changes.
enum ClosePlan {
    Unfillable {
        needed: u64,
        offered: u64,
    },
    Canceled,
    Cleared {
        demanded: u32,
        released: u8,
        seed: Digest,
        sales: Vec<PlannedSale>,
        /// Slots the buyer opened that no bid wanted at their minimum, and the floor that
        /// marks them for spot (M2).
        unsold: u8,
        floor: Micros,
    },
}

struct PlannedSale {
    slot: u8,
    buyer: assay_core::BuyerId,
    unit_price: Micros,
    price: Micros,
    member_part: Micros,
    shares: Vec<MemberShare>,
}

/// Closes an open basket (M7, M10, M13, M14, M15). Caller checked that it is open.
pub(super) fn close(state: &mut State, basket_id: BasketId) -> Outcome {
    let plan = plan_close(state, basket_id)?;
    let basket = state
        .baskets
        .remove(&basket_id)
        .expect("caller checked the basket is open");
    release_holds(state, &basket);
    let (demanded, released, seed, sales, unsold, floor) = match plan {
        ClosePlan::Unfillable { needed, offered } => {
            return Ok(vec![Event::BasketUnfillable {
                basket: basket_id,
                needed,
                offered,
            }]);
        }
        ClosePlan::Canceled => return Ok(vec![Event::BasketCanceled { basket: basket_id }]),
        ClosePlan::Cleared {
            demanded,
            released,
            seed,
            sales,
            unsold,
            floor,
        } => (demanded, released, seed, sales, unsold, floor),
    };
    let rules = state.rules().expect("baskets exist only after genesis");
    let window = rules.selection.recent_sales_window_days;
    let supply_rules = rules.supply;
    let since = recent_since(state.open_day, window);
    let category = basket.spec.category.index();
    let units = basket.spec.units_per_slot();
    let mut events = Vec::with_capacity(sales.len() + 1);
    let sold = sales.len() as u8;
    for sale in sales {
        for share in &sale.shares {
            let record = &mut state.members[share.member.0 as usize];
            let balance = &mut record.balance;
            balance.unpaid = bounded(balance.unpaid.checked_add(share.amount));
            balance.earned_month = bounded(balance.earned_month.checked_add(share.amount));
            record.sale_days.push_back(state.open_day);
            while record.sale_days.front().is_some_and(|&day| day <= since) {
                record.sale_days.pop_front();
            }
        }
        // The winner's hold was released above; the price (equal to the hold) is paid from it.
        let buyer = &mut state.buyers[sale.buyer.0 as usize];
        buyer.available = bounded(buyer.available.checked_sub(sale.price));
        let books = &mut state.books;
        books.gross_income = bounded(books.gross_income.checked_add(sale.price));
        books.members_credited = bounded(books.members_credited.checked_add(sale.member_part));
        state.markets[category].today.record(sale.unit_price, units);
        let grant = state.next_grant;
        state.next_grant += 1;
        state.grants.insert(
            grant,
            Grant {
                buyer: sale.buyer,
                basket: basket_id,
                members: sale.shares.iter().map(|share| share.member).collect(),
                receipt: None,
                active: true,
            },
        );
        events.push(Event::GrantIssued {
            grant,
            basket: basket_id,
            slot: sale.slot,
            buyer: sale.buyer,
            unit_price: sale.unit_price,
            price: sale.price,
            seed,
            members: sale.shares,
        });
    }
    let market = &mut state.markets[category];
    // Units per slot ≤ members_per_slot_max × window_days_max, both u32: the product fits.
    market.today.record_unsold(floor, units * u64::from(unsold));
    market.supply.record_clearing(demanded, sold, &supply_rules);
    events.push(Event::BasketClosed {
        basket: basket_id,
        demanded,
        released,
        sold,
    });
    Ok(events)
}

/// Sales on days after this one count as recent (M13).
fn recent_since(open_day: assay_core::TradingDay, window_days: u32) -> assay_core::TradingDay {
    assay_core::TradingDay((i64::from(open_day.0) - i64::from(window_days)) as i32)
}

fn plan_close(state: &State, basket_id: BasketId) -> Result<ClosePlan, Refusal> {
    let basket = open_basket(state, basket_id)?;
    let rules = state.rules().ok_or(Refusal::NoGenesis)?;
    let spec = &basket.spec;
    let needed = spec.member_places();
    let offered = basket.offers.len() as u64;
    if offered < needed {
        return Ok(ClosePlan::Unfillable { needed, offered });
    }
    let (spot, floor, frozen) = prices(state, spec)?;
    let demanded = u32::try_from(basket.bids.len() + 1).unwrap_or(u32::MAX);
    let supply = &state.market(spec.category).supply;
    let released = supply.slots_to_release(spec.slots, demanded, &rules.supply);
    let Ok(clearing) = clear(
        spot,
        floor,
        frozen,
        rules,
        basket.buyer,
        &basket.bids,
        released,
    ) else {
        return Ok(ClosePlan::Canceled);
    };
    // What the bids would have bought with every asked slot open: the rest found no buyer at
    // its minimum, and marks spot down at the floor (M2).
    let wanted = clear(
        spot,
        floor,
        frozen,
        rules,
        basket.buyer,
        &basket.bids,
        spec.slots,
    )?;
    let unsold = spec.slots.saturating_sub(wanted.sales.len() as u8);

    // Selection (M13): fewest recent sales first, then the seeded lottery.
    let since = recent_since(state.open_day, rules.selection.recent_sales_window_days);
    let candidates: Vec<Candidate> = basket
        .offers
        .iter()
        .map(|offer| {
            let member = &state.members[offer.member.0 as usize];
            let recent = member.sale_days.iter().filter(|&&day| day > since).count();
            Candidate {
                member: offer.member,
                recent_sales: recent as u32,
            }
        })
        .collect();
    let members_per_slot = spec.members_per_slot as usize;
    let seed = selection_seed(basket_id, basket);
    let picked = select(
        &candidates,
        (clearing.sales.len() * members_per_slot) as u64,
        &seed,
    )?;

    // Premium weights (M14): how rare each member's profile tag is among all offers.
    let mut tag_counts: HashMap<u64, u64> = HashMap::new();
    for offer in &basket.offers {
        *tag_counts.entry(offer.profile_tag).or_default() += 1;
    }
    let tag_of: HashMap<MemberId, u64> = basket
        .offers
        .iter()
        .map(|o| (o.member, o.profile_tag))
        .collect();
    let bonus_max = rules.premium.uniqueness_bonus_max_bps;

    let units = spec.units_per_slot();
    let mut sales = Vec::with_capacity(clearing.sales.len());
    for (sale, members) in clearing.sales.iter().zip(picked.chunks(members_per_slot)) {
        let price = sale.unit_price.checked_mul(units)?;
        let weights: Vec<u64> = members
            .iter()
            .map(|m| premium_weight_bps(tag_counts[&tag_of[m]], offered, bonus_max))
            .collect();
        let member_part = member_part_of_sale(price, rules.waterfall.members_bps)?;
        let parts = split_slot_income(member_part, &weights)?;
        let shares = members
            .iter()
            .zip(&weights)
            .zip(parts)
            .map(|((&member, &weight_bps), amount)| MemberShare {
                member,
                weight_bps,
                amount,
            })
            .collect();
        sales.push(PlannedSale {
            slot: sale.slot,
            buyer: sale.buyer,
            unit_price: sale.unit_price,
            price,
            member_part,
            shares,
        });
    }
    Ok(ClosePlan::Cleared {
        demanded,
        released,
        seed,
        sales,
        unsold,
        floor,
    })
}

pub(super) fn receipt(
    state: &mut State,
    context: &Context,
    grant_id: u64,
    delivery_hash: &Digest,
) -> Outcome {
    let buyer = signing_buyer(state, context)?;
    let grant = state.grants.get(&grant_id).ok_or(Refusal::UnknownGrant)?;
    if grant.buyer != buyer || !grant.active {
        return Err(Refusal::UnknownGrant);
    }
    if grant.receipt.is_some() {
        return Err(Refusal::ReceiptRepeated);
    }
    state
        .grants
        .get_mut(&grant_id)
        .expect("checked above")
        .receipt = Some(*delivery_hash);
    Ok(vec![Event::ReceiptRecorded {
        grant: grant_id,
        delivery_hash: *delivery_hash,
    }])
}
