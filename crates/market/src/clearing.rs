//! Rules M8 (anchor), M9 (premium ladder) and M15 (clearing), plus the floor check of M3.
//!
//! Slot 1 is the anchor: the buyer who posted the basket takes it at spot. Slot k ≥ 2 has a
//! minimum of spot × (1 + ladder premium for k). Bids are unit prices (per member-day) and are
//! pay-as-bid. The highest bids win as many slots as can be filled: the largest n such that the
//! top n bids, lowest winner in slot 2 and highest in slot n + 1, each meet their slot's minimum
//! (RULEBOOK M9 gives the reading and why). No price is ever below the floor: each minimum is
//! max(ladder price, floor), so when a crash has pushed spot under the floor, the anchor pays the
//! floor (M3 wins over M8).

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

/// How many of the `ranked` bids (highest first) win, given the minimums of slots 2, 3, … in
/// order (M9): the largest n such that the top n, assigned in ascending order to slots 2..=n + 1,
/// each meet their slot's minimum.
///
/// Matching sorted bids to sorted minimums is the best assignment of any set of bids, and the
/// top n dominate every other n bids, so no larger set of bids could be sold. Feasibility is
/// monotone (dropping the lowest winner moves every other winner down a slot, to a lower
/// minimum), so the scan goes down from the most slots there are.
fn winning_count(ranked: &[&Bid], minimums: &[Micros]) -> usize {
    let most = ranked.len().min(minimums.len());
    (0..=most)
        .rev()
        .find(|&n| {
            // The top n ascending: ranked[n - 1] (lowest) to slot 2 … ranked[0] to slot n + 1.
            ranked[..n]
                .iter()
                .rev()
                .zip(minimums)
                .all(|(bid, &minimum)| bid.unit_price >= minimum)
        })
        .unwrap_or(0)
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
    // Highest first; equal bids keep arrival order (the sort is stable), so among equal bids
    // the earlier one wins.
    let mut ranked: Vec<&Bid> = bids.iter().collect();
    ranked.sort_by_key(|bid| std::cmp::Reverse(bid.unit_price));
    let minimums = (2..=slots_released)
        .map(|slot| slot_minimum(spot, floor, rules, slot))
        .collect::<Result<Vec<_>, _>>()?;
    let winners = winning_count(&ranked, &minimums);
    // Ascending bids to ascending minimums: the lowest winner takes slot 2, the highest the top
    // slot; equal bids keep arrival order, the earlier in the lower slot.
    let mut won: Vec<&Bid> = ranked[..winners].to_vec();
    won.sort_by_key(|bid| bid.unit_price);
    for (bid, slot) in won.into_iter().zip(2..) {
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
        // Pay-as-bid; ascending bids to ascending minimums: 112,000 ≥ 110,000 takes slot 2 and
        // 130,000 ≥ 115,000 slot 3. (Highest-first would put 130,000 in slot 2 and leave
        // 112,000 under slot 3's 115,000: one slot sold instead of two.)
        assert_eq!(
            prices(&clearing),
            vec![(1, 1, 100_000), (2, 2, 112_000), (3, 3, 130_000)]
        );
        assert_eq!(clearing.demanded, 3);
    }

    #[test]
    fn the_papers_bids_plus_20_and_plus_11_percent_sell_both_slots() {
        // rule M9: +20% and +11% over a 100,000 spot, three slots released. The +11% bid meets
        // slot 2 (+10%) and the +20% bid slot 3 (+15%); the highest-first reading sold one.
        let rules = rules();
        let spot = Micros::new(100_000);
        let bids = [bid(2, 120_000), bid(3, 111_000)];
        let clearing = clear(spot, Micros::ZERO, false, &rules, BuyerId(1), &bids, 3).unwrap();
        assert_eq!(
            prices(&clearing),
            vec![(1, 1, 100_000), (2, 3, 111_000), (3, 2, 120_000)]
        );
    }

    #[test]
    fn the_largest_fillable_set_wins_and_the_lowest_bids_lose() {
        // rule M9: minimums 110,000 / 115,000 / 120,000 / 125,000 for slots 2..5.
        let rules = rules();
        let spot = Micros::new(100_000);
        let check = |bids: &[Bid], released: u8, expect: Vec<(u8, u64, u64)>| {
            let clearing = clear(
                spot,
                Micros::ZERO,
                false,
                &rules,
                BuyerId(1),
                bids,
                released,
            )
            .unwrap();
            assert_eq!(prices(&clearing), expect);
        };
        // Four bids, four ladder slots: all four would put 119,000 in slot 4 (≥ 120,000), so
        // the lowest bid loses and the top three take slots 2..4.
        check(
            &[
                bid(2, 111_000),
                bid(3, 116_000),
                bid(4, 119_000),
                bid(5, 200_000),
            ],
            5,
            vec![
                (1, 1, 100_000),
                (2, 3, 116_000),
                (3, 4, 119_000),
                (4, 5, 200_000),
            ],
        );
        // Raise the third bid to the fourth slot's minimum and all four sell.
        check(
            &[
                bid(2, 111_000),
                bid(3, 116_000),
                bid(4, 120_000),
                bid(5, 200_000),
            ],
            5,
            vec![
                (1, 1, 100_000),
                (2, 2, 111_000),
                (3, 3, 116_000),
                (4, 4, 120_000),
                (5, 5, 200_000),
            ],
        );
        // Fewer released slots: the highest bids win them.
        check(
            &[
                bid(2, 111_000),
                bid(3, 116_000),
                bid(4, 120_000),
                bid(5, 200_000),
            ],
            3,
            vec![(1, 1, 100_000), (2, 4, 120_000), (3, 5, 200_000)],
        );
        // Nothing meets slot 3 beside another winner: one bid sells, the highest.
        check(
            &[bid(2, 112_000), bid(3, 113_000)],
            3,
            vec![(1, 1, 100_000), (2, 3, 113_000)],
        );
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
