//! The exchange's state: a pure function of the log (rule L3).
//!
//! Maps that are looked up per input are `HashMap`s for speed; nothing in `apply` iterates them,
//! and [`State::hash`] sorts them, so their random iteration order never reaches an output.
//! They hash with foldhash (seeded per process, like std's `RandomState`, but several times
//! faster than SipHash on 32-byte keys): [`KeyMap`].

use crate::command::{Digest, PayoutChoice};
use crate::governance::{Governance, Termination, UnsettledRun};
use assay_coop::{MemberBalance, MonthBooks};
use assay_core::{
    BasketId, BuyerId, Category, MemberId, Micros, Month, PublicKey, Rules, Timestamp, TradingDay,
};
use assay_market::{BasketSpec, Bid, DayTrades, PriceHistory, RecentVolume, SupplyController};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferRecord {
    pub member: MemberId,
    pub profile_tag: u64,
    pub attestation: crate::command::Signature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub buyer: BuyerId,
    pub basket: BasketId,
    /// Members whose data the grant covers; a banned member leaves it (E4).
    pub members: Vec<MemberId>,
    pub receipt: Option<Digest>,
    pub active: bool,
}

/// One category's market: prices, breaker, supply controller and today's trades.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryMarket {
    pub history: PriceHistory,
    pub supply: SupplyController,
    pub today: DayTrades,
    /// Units of the last closes, carried into the next close at spot (M2).
    pub volume: RecentVolume,
}

/// What a recorded deposit credited, and the entry that did it: enough to answer the same
/// deposit sent again with its first outcome, whatever the server remembers after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositRecord {
    pub buyer: BuyerId,
    pub amount: Micros,
    /// Index of the log entry that credited it.
    pub index: u64,
    /// That entry's stamp.
    pub at: Timestamp,
}

impl DepositRecord {
    /// The events of the entry that credited it (`FundBuyer` records nothing else).
    pub fn events(&self, deposit_reference: &Digest) -> Vec<crate::Event> {
        vec![crate::Event::BuyerFunded {
            buyer: self.buyer,
            amount: self.amount,
            deposit_reference: *deposit_reference,
        }]
    }
}

/// Not `Deserialize`: `Rules` decodes only from names (JSON, TOML), so a snapshot carries the
/// exchange through `exchange_wire`, with the rules as their canonical JSON.
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

/// A map keyed by public keys, looked up on every input (see the module docs).
pub type KeyMap<V> = HashMap<PublicKey, V, foldhash::fast::RandomState>;

/// Serialized for snapshots (`crate::snapshot`): the key indexes are derived from `members` and
/// `buyers` and left out, and `sequences` is written sorted, so equal states encode equally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Set by the genesis entry.
    #[serde(with = "exchange_wire")]
    pub exchange: Option<Exchange>,
    #[serde(with = "sorted_sequences")]
    pub sequences: KeyMap<u64>,
    pub now: Option<assay_core::Timestamp>,
    /// Entries applied: the index of the next one (the sum of `sequences`).
    pub log_size: u64,
    pub open_day: TradingDay,
    /// The month whose books are open.
    pub month: Option<Month>,
    /// Set when the month's last day closed: only the run may come next (D4).
    pub run_pending: Option<Month>,
    pub books: MonthBooks,
    pub members: Vec<Member>,
    #[serde(skip)]
    pub member_by_key: KeyMap<MemberId>,
    /// Index of members' device keys: one device, one member.
    #[serde(skip)]
    pub member_by_device: KeyMap<MemberId>,
    pub buyers: Vec<Buyer>,
    #[serde(skip)]
    pub buyer_by_key: KeyMap<BuyerId>,
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
    /// Every recorded deposit by its bank reference: one bank transfer credits a buyer once,
    /// however often it is sent and whatever the server remembers after a restart.
    pub deposit_references: BTreeMap<Digest, DepositRecord>,
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

    /// The recorded deposit that a `FundBuyer` of `amount` to `buyer` under `deposit_reference`
    /// would repeat: `Some(Ok(record))` if it is that deposit sent again (its answer is the
    /// record's entry; applying it again is refused and credits nothing),
    /// `Some(Err(DepositReferenceReused))` if the reference was recorded for another buyer or
    /// amount, `None` if the reference is new.
    pub fn repeated_deposit(
        &self,
        buyer: BuyerId,
        amount: Micros,
        deposit_reference: &Digest,
    ) -> Option<Result<&DepositRecord, crate::Refusal>> {
        let record = self.deposit_references.get(deposit_reference)?;
        Some(if (record.buyer, record.amount) == (buyer, amount) {
            Ok(record)
        } else {
            Err(crate::Refusal::DepositReferenceReused)
        })
    }

    /// Rebuilds the key indexes from `members` and `buyers` (after decoding a snapshot). Fails,
    /// naming the index, if two parties share a key: registration never lets that happen.
    pub(crate) fn rebuild_indexes(&mut self) -> Result<(), &'static str> {
        self.member_by_key.clear();
        self.member_by_device.clear();
        self.buyer_by_key.clear();
        for (index, member) in self.members.iter().enumerate() {
            let id = MemberId(index as u64);
            if self.member_by_key.insert(member.key, id).is_some() {
                return Err("two members share a key");
            }
            if self
                .member_by_device
                .insert(member.device_key, id)
                .is_some()
            {
                return Err("two members share a device key");
            }
        }
        for (index, buyer) in self.buyers.iter().enumerate() {
            if self.member_by_key.contains_key(&buyer.key)
                || self
                    .buyer_by_key
                    .insert(buyer.key, BuyerId(index as u64))
                    .is_some()
            {
                return Err("a buyer shares a key with another party");
            }
        }
        Ok(())
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
        put(&(
            self.now,
            self.log_size,
            self.open_day,
            self.month,
            self.run_pending,
        ));
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
        put(&(&self.deposits_total, &self.deposit_references));
        put(&(&self.governance, &self.unsettled, &self.terminated));
        // `member_by_key`, `member_by_device` and `buyer_by_key` are indexes derived from
        // `members` and `buyers`.
        hasher.finalize().into()
    }
}

/// `State::exchange` in a snapshot: the rules as their canonical JSON (whose SHA-256 is the
/// rules hash), parsed and validated again when decoded.
mod exchange_wire {
    use super::Exchange;
    use crate::command::Digest;
    use assay_core::{PublicKey, Rules, TradingDay};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Wire {
        key: PublicKey,
        rules_json: String,
        rules_hash: Digest,
        log_origin: String,
        log_vkey: String,
        genesis_day: TradingDay,
    }

    pub fn serialize<S: Serializer>(
        exchange: &Option<Exchange>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        exchange
            .as_ref()
            .map(|e| Wire {
                key: e.key,
                rules_json: e.rules.canonical_json(),
                rules_hash: e.rules_hash,
                log_origin: e.log_origin.clone(),
                log_vkey: e.log_vkey.clone(),
                genesis_day: e.genesis_day,
            })
            .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Exchange>, D::Error> {
        let Some(wire) = Option::<Wire>::deserialize(deserializer)? else {
            return Ok(None);
        };
        let rules = Rules::from_json_str(&wire.rules_json).map_err(serde::de::Error::custom)?;
        Ok(Some(Exchange {
            key: wire.key,
            rules,
            rules_hash: wire.rules_hash,
            log_origin: wire.log_origin,
            log_vkey: wire.log_vkey,
            genesis_day: wire.genesis_day,
        }))
    }
}

/// `State::sequences` as a list sorted by key: a `HashMap`'s order would make two encodings of
/// one state differ.
mod sorted_sequences {
    use super::KeyMap;
    use assay_core::PublicKey;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        sequences: &KeyMap<u64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut sorted: Vec<(&PublicKey, &u64)> = sequences.iter().collect();
        sorted.sort_unstable();
        sorted.serialize(serializer)
    }

    /// Refuses a key listed twice: the list came from a map.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<KeyMap<u64>, D::Error> {
        let listed = Vec::<(PublicKey, u64)>::deserialize(deserializer)?;
        let count = listed.len();
        let sequences: KeyMap<u64> = listed.into_iter().collect();
        if sequences.len() != count {
            return Err(serde::de::Error::custom(
                "a signer's sequence is listed twice",
            ));
        }
        Ok(sequences)
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
