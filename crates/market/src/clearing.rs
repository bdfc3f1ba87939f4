//! Rules M8 (anchor), M9 (premium ladder) and M15 (clearing), plus the floor check of M3.
//!
//! Slot 1 is the anchor: the buyer who posted the basket takes it at spot. Slot k ≥ 2 has a
//! minimum of spot × (1 + ladder premium for k). Bids are unit prices (per member-day) and are
//! pay-as-bid: the k-th highest bid takes slot k + 1 if it meets that slot's minimum. No price is
//! ever below the floor: each minimum is max(ladder price, floor), so when a crash has pushed spot
//! under the floor, the anchor pays the floor (M3 wins over M8).

use crate::MarketError;
use assay_core::{BuyerId, Micros, Rounding, Rules, BPS_ONE};
use serde::{Deserialize, Serialize};

/// A competitive bid for a slot above the anchor, in the order the log admitted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bid {
    pub buyer: BuyerId,
    /// Price per member-day (the unit of spot, M2).
    pub unit_price: Micros,
}

/// One cleared slot: it becomes a permission grant (M15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotSale {
    /// 1-based; slot 1 is the anchor.
    pub slot: u8,
    pub buyer: BuyerId,
    pub unit_price: Micros,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clearing {
    /// Sold slots in slot order, the anchor first.
    pub sales: Vec<SlotSale>,
    /// Slots demanded: the anchor plus every competitive bid, winning or losing (M10).
    pub demanded: u32,
}

/// The least a slot may clear at: max(spot × (1 + premium), floor), rounded up.
pub fn slot_minimum(
    spot: Micros,
    floor: Micros,
    rules: &Rules,
    slot: u8,
) -> Result<Micros, MarketError> {
    let premium_bps = rules
        .ladder_premium_bps(slot)
        .ok_or(MarketError::NoLadderStep { slot })?;
    let ladder = spot.mul_ratio(BPS_ONE + u64::from(premium_bps), BPS_ONE, Rounding::Up)?;
    Ok(ladder.max(floor))
}

/// Checks a bid when it arrives (M3, M4, M9): a bid that could never win is refused at once,
/// with the reason, rather than left to lose at close.
pub fn check_bid(
    spot: Micros,
    floor: Micros,
    frozen: bool,
    rules: &Rules,
    unit_price: Micros,
) -> Result<(), MarketError> {
    if frozen {
        return Err(MarketError::FrozenCategory);
    }
    if unit_price < floor {
        return Err(MarketError::BelowFloor {
            bid: unit_price,
            floor,
        });
    }
    let minimum = slot_minimum(spot, floor, rules, 2)?;
    if unit_price < minimum {
        return Err(MarketError::BelowLadderMinimum {
            bid: unit_price,
            minimum,
        });
    }
    Ok(())
}

/// Clears a basket at close (M8, M9, M15) with `slots_released` slots for sale (the supply
/// controller's choice, M10; at least the anchor's).
///
/// `bids` must come from distinct buyers other than the anchor (the engine refuses the rest at
/// entry); a violation is refused here too rather than cleared.
pub fn clear(
    spot: Micros,
    floor: Micros,
    frozen: bool,
    rules: &Rules,
    anchor: BuyerId,
    bids: &[Bid],
    slots_released: u8,
) -> Result<Clearing, MarketError> {
    if frozen {
        return Err(MarketError::FrozenCategory);
    }
    let mut buyers: Vec<BuyerId> = bids.iter().map(|bid| bid.buyer).collect();
    buyers.push(anchor);
    buyers.sort_unstable();
    if buyers.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(MarketError::DuplicateBid);
    }

    let mut sales = Vec::with_capacity(usize::from(slots_released));
    sales.push(SlotSale {
        slot: 1,
        buyer: anchor,
        unit_price: slot_minimum(spot, floor, rules, 1)?,
    });
    // Highest first; equal bids keep arrival order (the sort is stable).
    let mut ranked: Vec<&Bid> = bids.iter().collect();
    ranked.sort_by_key(|bid| std::cmp::Reverse(bid.unit_price));
    for (bid, slot) in ranked.into_iter().zip(2..=slots_released) {
        // Minimums rise with the slot and bids fall with rank, so the first miss ends it.
        if bid.unit_price < slot_minimum(spot, floor, rules, slot)? {
            break;
        }
        sales.push(SlotSale {
            slot,
            buyer: bid.buyer,
            unit_price: bid.unit_price,
        });
    }
    let demanded = u32::try_from(bids.len() + 1).unwrap_or(u32::MAX);
    Ok(Clearing { sales, demanded })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::from_toml_str(include_str!("../../../rules/default.toml")).unwrap()
    }

    fn bid(buyer: u64, unit_price: u64) -> Bid {
        Bid {
            buyer: BuyerId(buyer),
            unit_price: Micros::new(unit_price),
        }
    }

    fn prices(clearing: &Clearing) -> Vec<(u8, u64, u64)> {
        clearing
            .sales
            .iter()
            .map(|s| (s.slot, s.buyer.0, s.unit_price.get()))
            .collect()
    }

    #[test]
    fn three_slot_basket_follows_the_papers_example() {
        // rules M8, M9: spot for the anchor, spot +10% for slot 2, spot +15% for slot 3.
        let rules = rules();
        let spot = Micros::new(100_000);
        let floor = Micros::new(95_000);
        assert_eq!(
            slot_minimum(spot, floor, &rules, 1).unwrap(),
            Micros::new(100_000)
        );
        assert_eq!(
            slot_minimum(spot, floor, &rules, 2).unwrap(),
            Micros::new(110_000)
        );
        assert_eq!(
            slot_minimum(spot, floor, &rules, 3).unwrap(),
            Micros::new(115_000)
        );
        let clearing = clear(
            spot,
            floor,
            false,
            &rules,
            BuyerId(1),
            &[bid(2, 112_000), bid(3, 130_000)],
            3,
        )
        .unwrap();
        // Pay-as-bid: the highest bid takes slot 2; 112,000 < 115,000 misses slot 3.
        assert_eq!(prices(&clearing), vec![(1, 1, 100_000), (2, 3, 130_000)]);
        assert_eq!(clearing.demanded, 3);
    }

    #[test]
    fn ties_keep_arrival_order_and_released_slots_cap_the_sale() {
        // rules M9, M10
        let rules = rules();
        let spot = Micros::new(100_000);
        let bids = [bid(2, 150_000), bid(3, 150_000), bid(4, 150_000)];
        let clearing = clear(spot, Micros::ZERO, false, &rules, BuyerId(1), &bids, 3).unwrap();
        assert_eq!(
            prices(&clearing),
            vec![(1, 1, 100_000), (2, 2, 150_000), (3, 3, 150_000)]
        );
        assert_eq!(clearing.demanded, 4);
    }

    #[test]
    fn anchor_pays_the_floor_when_spot_is_below_it() {
        // rules M3 over M8
        let rules = rules();
        let clearing = clear(
            Micros::new(80_000),
            Micros::new(90_000),
            false,
            &rules,
            BuyerId(1),
            &[],
            2,
        )
        .unwrap();
        assert_eq!(prices(&clearing), vec![(1, 1, 90_000)]);
    }

    #[test]
    fn bids_are_checked_on_arrival() {
        // rules M3, M4, M9
        let rules = rules();
        let spot = Micros::new(100_000);
        let floor = Micros::new(95_000);
        assert_eq!(
            check_bid(spot, floor, true, &rules, Micros::new(500_000))
                .unwrap_err()
                .code(),
            "frozen_category"
        );
        assert_eq!(
            check_bid(spot, floor, false, &rules, Micros::new(94_999))
                .unwrap_err()
                .code(),
            "below_floor"
        );
        assert_eq!(
            check_bid(spot, floor, false, &rules, Micros::new(109_999))
                .unwrap_err()
                .code(),
            "below_ladder_minimum"
        );
        assert!(check_bid(spot, floor, false, &rules, Micros::new(110_000)).is_ok());
    }

    #[test]
    fn frozen_category_and_duplicate_buyers_clear_nothing() {
        // rule M4
        let rules = rules();
        let spot = Micros::new(100_000);
        assert_eq!(
            clear(spot, spot, true, &rules, BuyerId(1), &[], 2)
                .unwrap_err()
                .code(),
            "frozen_category"
        );
        let twice = [bid(2, 200_000), bid(2, 300_000)];
        assert_eq!(
            clear(spot, spot, false, &rules, BuyerId(1), &twice, 3)
                .unwrap_err()
                .code(),
            "duplicate_bid"
        );
        let own = [bid(1, 200_000)];
        assert_eq!(
            clear(spot, spot, false, &rules, BuyerId(1), &own, 3)
                .unwrap_err()
                .code(),
            "duplicate_bid"
        );
    }
}
