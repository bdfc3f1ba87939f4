//! The load: buyers register, deposit, post baskets and bid (some bids deliberately below the
//! floor, to be refused); members register and offer on open baskets (some offers repeat, to be
//! refused as duplicates). Now and then a client sends an acknowledged input again to check it
//! gets the same outcome. Choices come from each client's seeded `Rng`.

use crate::client::{Api, ClientLog, Party, Verdict};
use crate::{Rng, Shared};
use assay_core::{BasketId, Category, Micros, Rules};
use assay_engine::command::{eligibility_message, sign_bytes};
use assay_engine::{Command, PayoutChoice, Rail};
use assay_market::{BasketSpec, ProfileFilter};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Members one member client registers at most.
const MEMBERS_PER_CLIENT_MAX: u64 = 40;
/// A buyer's deposits: the first, and one more every this many actions.
const DEPOSIT_MICROS: u64 = 2_000_000_000;
const ACTIONS_PER_DEPOSIT: u64 = 30;
/// How long a client trusts its copy of the open baskets.
const BASKETS_FRESH_FOR: Duration = Duration::from_millis(300);
/// Pauses between a client's actions, so the test measures durability, not saturation.
const BUYER_PAUSE_MS_MAX: u64 = 40;
const MEMBER_PAUSE_MS_MAX: u64 = 12;

fn rules() -> Rules {
    Rules::from_toml_str(include_str!("../../../../rules/default.toml")).expect("default rules")
}

fn stopping(shared: &Shared) -> bool {
    shared.stop.load(Ordering::SeqCst)
}

fn event_field(body: &Value, variant: &str, field: &str) -> Option<u64> {
    body["events"]
        .as_array()?
        .iter()
        .find_map(|event| event[variant][field].as_u64())
}

/// An open basket as the public view shows it.
#[derive(Clone, Copy)]
struct Open {
    basket: u64,
    buyer: u64,
    anchor_unit_price: u64,
}

/// Open baskets, refreshed when stale; the last list read while the server is down.
struct Baskets {
    open: Vec<Open>,
    read_at: Option<Instant>,
}

impl Baskets {
    fn new() -> Baskets {
        Baskets {
            open: Vec::new(),
            read_at: None,
        }
    }

    async fn refresh(&mut self, api: &Api) -> &[Open] {
        if self
            .read_at
            .is_none_or(|at| at.elapsed() >= BASKETS_FRESH_FOR)
        {
            if let Some(Value::Array(list)) = api.get("/v1/baskets").await {
                self.open = list
                    .iter()
                    .filter_map(|b| {
                        Some(Open {
                            basket: b["basket"].as_u64()?,
                            buyer: b["buyer"].as_u64()?,
                            anchor_unit_price: b["anchor_unit_price_micros"].as_u64()?,
                        })
                    })
                    .collect();
                self.read_at = Some(Instant::now());
            }
        }
        &self.open
    }
}

async fn pause(rng: &mut Rng, max_ms: u64) {
    tokio::time::sleep(Duration::from_millis(rng.below(max_ms + 1))).await;
}

/// Sometimes sends one of the client's acknowledged inputs again.
async fn maybe_repeat(api: &Api, log: &mut ClientLog, rng: &mut Rng) {
    if !log.acks.is_empty() && rng.chance(3) {
        let ack = log.acks[rng.below(log.acks.len() as u64) as usize].clone();
        api.repeat(&ack, log).await;
    }
}

async fn deposit(api: &Api, client: u64, buyer: u64, count: &mut u64, log: &mut ClientLog) {
    let reference: [u8; 32] = Sha256::digest(format!("kill-test wire {client}/{count}")).into();
    *count += 1;
    let index = api
        .deposit(buyer, DEPOSIT_MICROS, reference, log)
        .await
        .unwrap_or_else(|code| panic!("a deposit for a registered buyer was refused: {code}"));
    // Repeating the deposit returns the same entry instead of crediting the buyer again.
    let mut scratch = ClientLog::default();
    let again = api
        .deposit(buyer, DEPOSIT_MICROS, reference, &mut scratch)
        .await;
    assert_eq!(again, Ok(index), "a repeated deposit was applied again");
    api.acked.fetch_sub(1, Ordering::SeqCst);
    log.repeats += 1;
}

/// A buyer's system: register, deposit, then post baskets and bid on other buyers' baskets.
pub async fn buyer(
    client: u64,
    api: Api,
    shared: std::sync::Arc<Shared>,
    mut rng: Rng,
) -> ClientLog {
    let rules = rules();
    let mut log = ClientLog::default();
    let mut me = Party::new("kill-test buyer", client);
    let registered = me.submit(&api, Command::RegisterBuyer, &mut log).await;
    let Verdict::Acked(body) = registered else {
        panic!("a new buyer's registration was refused");
    };
    let buyer = event_field(&body, "BuyerRegistered", "buyer").expect("a buyer id");
    let mut deposits = 0;
    deposit(&api, client, buyer, &mut deposits, &mut log).await;
    let mut baskets = Baskets::new();
    let mut actions = 0u64;
    while !stopping(&shared) {
        actions += 1;
        if actions.is_multiple_of(ACTIONS_PER_DEPOSIT) {
            deposit(&api, client, buyer, &mut deposits, &mut log).await;
        }
        let open = baskets.refresh(&api).await.to_vec();
        let own = open.iter().filter(|o| o.buyer == buyer).count();
        let others: Vec<Open> = open.into_iter().filter(|o| o.buyer != buyer).collect();
        if own < 2 || others.is_empty() || rng.chance(15) {
            let category = Category::ALL[rng.below(Category::ALL.len() as u64) as usize];
            let spec = BasketSpec {
                category,
                filter: ProfileFilter::default(),
                window_days: 7 + rng.below(24) as u32,
                members_per_slot: 1 + rng.below(3) as u32,
                slots: rules.tier_of(category).slots_max,
            };
            me.submit(&api, Command::PostBasket { spec }, &mut log)
                .await;
        } else {
            let target = others[rng.below(others.len() as u64) as usize];
            // One bid in ten is below any floor and must be refused, and never logged; the
            // others bid 1.05× to 1.6× the anchor's price.
            let unit_price = if rng.chance(10) {
                1
            } else {
                target.anchor_unit_price * (10_500 + rng.below(5_500)) / 10_000
            };
            let command = Command::Bid {
                basket: BasketId(target.basket),
                unit_price: Micros::new(unit_price),
            };
            me.submit(&api, command, &mut log).await;
        }
        maybe_repeat(&api, &mut log, &mut rng).await;
        pause(&mut rng, BUYER_PAUSE_MS_MAX).await;
    }
    log
}

/// Members' wallets: register members one by one and offer them on open baskets.
pub async fn members(
    client: u64,
    api: Api,
    shared: std::sync::Arc<Shared>,
    mut rng: Rng,
) -> ClientLog {
    let mut log = ClientLog::default();
    let mut parties: Vec<Party> = Vec::new();
    let mut next_member = 0u64;
    let mut baskets = Baskets::new();
    while !stopping(&shared) {
        let open = baskets.refresh(&api).await.to_vec();
        let register = parties.len() < 2
            || (next_member < MEMBERS_PER_CLIENT_MAX && (open.is_empty() || rng.chance(20)));
        if register && next_member < MEMBERS_PER_CLIENT_MAX {
            let mut member = Party::new("kill-test member", client * 1_000 + next_member);
            next_member += 1;
            let payout = PayoutChoice {
                rail: [Rail::Usdc, Rail::Ach, Rail::Prepaid][rng.below(3) as usize],
                destination_commitment: Sha256::digest(member.key.to_bytes()).into(),
            };
            let command = Command::RegisterMember {
                device_key: member.device.verifying_key().into(),
                payout,
            };
            if member
                .submit(&api, command, &mut log)
                .await
                .accepted()
                .is_some()
            {
                parties.push(member);
            }
        } else if !open.is_empty() && !parties.is_empty() {
            let basket = BasketId(open[rng.below(open.len() as u64) as usize].basket);
            let chosen = rng.below(parties.len() as u64) as usize;
            let member = &mut parties[chosen];
            let message = eligibility_message(basket, &member.public(), Micros::ZERO);
            let command = Command::Offer {
                basket,
                device_key: member.device.verifying_key().into(),
                reserve_unit_price: Micros::ZERO,
                profile_tag: rng.below(4),
                attestation: sign_bytes(&member.device, &message),
            };
            member.submit(&api, command, &mut log).await;
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        maybe_repeat(&api, &mut log, &mut rng).await;
        pause(&mut rng, MEMBER_PAUSE_MS_MAX).await;
    }
    log
}

/// Samples (log size, state hash) from `/v1/health` until the load stops.
pub async fn monitor(
    api: Api,
    shared: std::sync::Arc<Shared>,
    every: Duration,
) -> Vec<(u64, String)> {
    let mut samples = Vec::new();
    while !stopping(&shared) {
        if let Some(sample) = api.health().await {
            samples.push(sample);
        }
        tokio::time::sleep(every).await;
    }
    samples
}
