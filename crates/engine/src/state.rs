//! The exchange's state: a pure function of the log (rule L3).
//!
//! Maps that are looked up per input are `HashMap`s for speed; nothing in `apply` iterates them,
//! and [`State::hash`] sorts them, so their random iteration order never reaches an output.

use crate::command::{Digest, PayoutChoice};
use crate::governance::{Governance, Termination, UnsettledRun};
use assay_coop::{MemberBalance, MonthBooks};
use assay_core::{
    BasketId, BuyerId, Category, MemberId, Micros, Month, PublicKey, Rules, TradingDay,
};
use assay_market::{BasketSpec, Bid, DayTrades, PriceHistory, SupplyController};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub key: PublicKey,
    pub device_key: PublicKey,
    pub founding: bool,
    /// 1-based number among public members, for the cold-start guarantee (D8).
    pub public_number: Option<u32>,
    pub joined: Month,
    pub payout: PayoutChoice,
    pub balance: MemberBalance,
    /// Trading days of recent sales, oldest first (M13's "fewest recent sales first").
    pub sale_days: VecDeque<TradingDay>,
    pub banned: bool,
    /// The last day the member signed an accepted input (RULEBOOK G4's "active").
    pub last_active: TradingDay,
    /// Has held a board seat: one term per lifetime (G2).
    pub served: bool,
    /// Has used their one appeal (E3).
    pub appealed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Buyer {
    pub key: PublicKey,
    /// Prepaid money free to spend.
    pub available: Micros,
    /// Money held for open anchors and bids.
    pub held: Micros,
    pub banned: bool,
    /// Has used its one appeal (E3).
    pub appealed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferRecord {
    pub member: MemberId,
    pub profile_tag: u64,
    pub attestation: crate::command::Signature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Basket {
    pub buyer: BuyerId,
    pub spec: BasketSpec,
    pub fee: Micros,
    pub anchor_unit_price: Micros,
    /// Held from the buyer for the anchor slot: anchor unit price × units.
    pub anchor_hold: Micros,
    pub offers: Vec<OfferRecord>,
    pub offered: BTreeSet<MemberId>,
    pub bids: Vec<Bid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub buyer: BuyerId,
    pub basket: BasketId,
    /// Members whose data the grant covers; a banned member leaves it (E4).
    pub members: Vec<MemberId>,
    pub receipt: Option<Digest>,
    pub active: bool,
}

/// One category's market: prices, breaker, supply controller and today's trades.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryMarket {
    pub history: PriceHistory,
    pub supply: SupplyController,
    pub today: DayTrades,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange {
    pub key: PublicKey,
    pub rules: Rules,
    pub rules_hash: Digest,
    /// The log's checkpoint origin and verifier key (a C2SP vkey), for X1.4.
    pub log_origin: String,
    pub log_vkey: String,
    /// Board terms are counted from it (G1).
    pub genesis_day: TradingDay,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Set by the genesis entry.
    pub exchange: Option<Exchange>,
    pub sequences: HashMap<PublicKey, u64>,
    pub now: Option<assay_core::Timestamp>,
    pub open_day: TradingDay,
    /// The month whose books are open.
    pub month: Option<Month>,
    /// Set when the month's last day closed: only the run may come next (D4).
    pub run_pending: Option<Month>,
    pub books: MonthBooks,
    pub members: Vec<Member>,
    pub member_by_key: HashMap<PublicKey, MemberId>,
    /// Index of members' device keys: one device, one member.
    pub member_by_device: HashMap<PublicKey, MemberId>,
    pub buyers: Vec<Buyer>,
    pub buyer_by_key: HashMap<PublicKey, BuyerId>,
    /// Keys that can never register again (E1, E2).
    pub banned_keys: BTreeSet<PublicKey>,
    pub founding_count: u32,
    pub public_count: u32,
    pub markets: Vec<CategoryMarket>,
    pub baskets: BTreeMap<BasketId, Basket>,
    pub next_basket: u64,
    pub grants: BTreeMap<u64, Grant>,
    pub next_grant: u64,
    pub next_agreement: u64,
    /// Σ recorded deposits: every amount in the system is bounded by it (see `apply`).
    pub deposits_total: Micros,
    pub governance: Governance,
    /// The last run's payouts until the rails' execution is recorded (D6, X1.3).
    pub unsettled: Option<UnsettledRun>,
    /// Set once, when the pill is swallowed; never unset (X3).
    pub terminated: Option<Termination>,
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    pub fn rules(&self) -> Option<&Rules> {
        self.exchange.as_ref().map(|e| &e.rules)
    }

    pub fn market(&self, category: Category) -> &CategoryMarket {
        &self.markets[category.index()]
    }

    pub fn member(&self, id: MemberId) -> Option<&Member> {
        self.members.get(id.0 as usize)
    }

    pub fn buyer(&self, id: BuyerId) -> Option<&Buyer> {
        self.buyers.get(id.0 as usize)
    }

    /// SHA-256 over a canonical encoding of the whole state: equal on every machine that
    /// replayed the same log (invariant 1). Costs O(state); call it at checkpoints, not per input.
    pub fn hash(&self) -> Digest {
        let mut hasher = Sha256::new();
        let mut put = |value: &dyn erased::Encode| hasher.update(value.encode());
        put(&self.exchange);
        let mut sequences: Vec<(&PublicKey, &u64)> = self.sequences.iter().collect();
        sequences.sort_unstable();
        put(&sequences);
        put(&(self.now, self.open_day, self.month, self.run_pending));
        put(&self.books);
        put(&self.members);
        put(&self.buyers);
        put(&self.banned_keys);
        put(&(self.founding_count, self.public_count));
        put(&self.markets);
        put(&self.baskets);
        put(&(
            self.next_basket,
            &self.grants,
            self.next_grant,
            self.next_agreement,
        ));
        put(&self.deposits_total);
        put(&(&self.governance, &self.unsettled, &self.terminated));
        // `member_by_key`, `member_by_device` and `buyer_by_key` are indexes derived from
        // `members` and `buyers`.
        hasher.finalize().into()
    }
}

mod erased {
    use serde::Serialize;

    /// Object-safe postcard encoding, so `State::hash` can feed differently typed parts.
    pub trait Encode {
        fn encode(&self) -> Vec<u8>;
    }

    impl<T: Serialize> Encode for T {
        fn encode(&self) -> Vec<u8> {
            // State holds no floats or unsized maps, so postcard encoding cannot fail.
            postcard::to_allocvec(self).expect("state encodes with postcard")
        }
    }
}
