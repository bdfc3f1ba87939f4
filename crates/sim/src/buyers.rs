//! Buyers: valuations per category, needs for data sets, and the choice between anchoring a new
//! basket and bidding on an open one.
//!
//! A buyer with a need compares what each route costs per unit (member-day) of data:
//! - **post**: the anchor's price (spot, or the floor if higher, M8) plus the origination fee
//!   spread over the basket's units (M5);
//! - **bid** on an open basket with the same profile filter: at least the minimum of the slot
//!   the bid would take there (slot 2 at spot + 10%, slot 3 at + 15% …, M9), plus a share of
//!   whatever its valuation leaves above that. Bidders go to the open basket with the fewest
//!   bids, and never to one whose slots are all bid for: a bid there could only lose.
//!
//! It takes the cheaper route its valuation allows, or waits (for `patience_days`) when neither
//! is worth it, which is how demand answers price: the higher spot is over a buyer's valuation,
//! the fewer bids and baskets it makes.

use assay_core::{BuyerId, Category, Micros, PublicKey};
use assay_market::ProfileFilter;

pub struct Buyer {
    pub key: PublicKey,
    pub id: BuyerId,
    pub sequence: u64,
    /// Valuation per member-day by category index, micro-USD; zero: not interested.
    pub valuation: [u64; 5],
}

#[derive(Debug, Clone)]
pub struct Need {
    pub buyer: u32,
    pub category: Category,
    pub filter: ProfileFilter,
    pub window_days: u32,
    pub sample_share_ppm: u32,
    /// Last simulated day on which the buyer still tries.
    pub expires_day: u32,
}

/// One category's prices as buyers see them at the start of a day.
#[derive(Debug, Clone, Copy)]
pub struct PriceView {
    pub spot: Micros,
    pub floor: Micros,
    pub anchor: Micros,
    pub fee: Micros,
    pub frozen: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Post,
    Bid { unit_price: Micros },
    Wait,
}

/// The bid a buyer valuing a unit at `valuation` makes over `minimum` (valuation-driven premium).
pub fn bid_price(valuation: u64, minimum: Micros, premium_share: f64) -> Micros {
    let headroom = valuation.saturating_sub(minimum.get()) as f64;
    // Rounded down: the bid never exceeds the valuation.
    Micros::new(minimum.get() + (headroom * premium_share).floor() as u64)
}

/// The route a need takes. `units` is the basket it would post; `bid_minimum` is the minimum of
/// the slot a bid would take in the best open basket with its filter, if there is one.
pub fn choose(
    valuation: u64,
    prices: &PriceView,
    units: u64,
    bid_minimum: Option<Micros>,
    premium_share: f64,
) -> Choice {
    if prices.frozen || valuation == 0 {
        return Choice::Wait;
    }
    let units = u128::from(units.max(1));
    let post_cost = u128::from(prices.anchor.get()) * units + u128::from(prices.fee.get());
    let post_ok = u128::from(valuation) * units >= post_cost;
    let bid_minimum = bid_minimum.filter(|m| valuation >= m.get());
    if let Some(minimum) = bid_minimum {
        let bid = bid_price(valuation, minimum, premium_share);
        if !post_ok || u128::from(bid.get()) * units < post_cost {
            return Choice::Bid { unit_price: bid };
        }
    }
    if post_ok {
        Choice::Post
    } else {
        Choice::Wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOT2: Option<Micros> = Some(Micros::new(110));
    const PRICES: PriceView = PriceView {
        spot: Micros::new(100),
        floor: Micros::new(95),
        anchor: Micros::new(100),
        fee: Micros::new(50_000),
        frozen: false,
    };

    #[test]
    fn the_fee_decides_between_posting_and_bidding() {
        // Big basket: the fee is 0.5 per unit, under the 10% premium (10 per unit): post.
        assert_eq!(choose(200, &PRICES, 100_000, SLOT2, 0.3), Choice::Post);
        // Small basket: the fee is 50 per unit: bid, at 110 + 30% of (200 − 110) = 137.
        assert_eq!(
            choose(200, &PRICES, 1_000, SLOT2, 0.3),
            Choice::Bid {
                unit_price: Micros::new(137)
            }
        );
        // No open basket to bid on, and posting costs more than it is worth: wait.
        assert_eq!(choose(120, &PRICES, 1_000, None, 0.3), Choice::Wait);
        // Spot above the valuation: nothing.
        assert_eq!(choose(90, &PRICES, 100_000, SLOT2, 0.3), Choice::Wait);
        let frozen = PriceView {
            frozen: true,
            ..PRICES
        };
        assert_eq!(choose(500, &frozen, 100_000, SLOT2, 0.3), Choice::Wait);
    }
}
