//! `assay bench engine --inputs N`: the engine's apply rate over a realistic stream (members and
//! buyers register, baskets are posted, offered on, bid on and closed, days close), measured
//! three ways in one run: every signature checked one by one, checked in batches, and not
//! checked (the sequencer verified them earlier).

use super::{sha256_leaves_per_s, Lcg};
use anyhow::{ensure, Context};
use assay_core::{BasketId, BuyerId, Category, Micros, PublicKey, Rules, Timestamp, TradingDay};
use assay_engine::command::{eligibility_message, sign_bytes};
use assay_engine::{
    apply, apply_verified, verify_signatures, Command, Envelope, Event, Input, PayoutChoice, Rail,
    State,
};
use assay_market::{BasketSpec, ProfileFilter};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use std::time::Instant;

const BUYERS: u64 = 64;
const MEMBERS: u64 = 4_000;
const BASKETS_PER_DAY: u64 = 200;
const BATCH_INPUTS_MAX: usize = 512;

/// The workload's log origin; its checkpoint key is [`log_signer`], its exchange key `key(0)`.
pub(super) const ORIGIN: &str = "bench.assay/log";

pub(super) fn log_signer() -> anyhow::Result<assay_log::NoteSigner> {
    Ok(assay_log::NoteSigner::new(ORIGIN, &[1; 32])?)
}

pub(super) fn key(seed: u64) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(seed.to_be_bytes()).into())
}

/// Builds `count` accepted inputs by applying each to a scratch state as it is made.
struct Builder {
    state: State,
    inputs: Vec<Input>,
    now: Timestamp,
    exchange: SigningKey,
}

impl Builder {
    fn push(&mut self, signer: &SigningKey, command: Command) -> anyhow::Result<Vec<Event>> {
        let public = PublicKey::from(signer.verifying_key());
        let sequence = self.state.sequences.get(&public).copied().unwrap_or(0);
        self.now = Timestamp(self.now.0 + 1);
        let input = Input {
            envelope: Envelope::sign(signer, sequence, command),
            timestamp: self.now,
        };
        let events = apply_verified(&mut self.state, &input)
            .map_err(|r| anyhow::anyhow!("workload refused: {r}"))?;
        self.inputs.push(input);
        Ok(events)
    }

    fn exchange(&mut self, command: Command) -> anyhow::Result<Vec<Event>> {
        let exchange = self.exchange.clone();
        self.push(&exchange, command)
    }
}

/// `count` accepted inputs (members and buyers register, baskets are posted, offered on, bid on
/// and closed, days close and months run), genesis first.
pub(super) fn build(count: u64) -> anyhow::Result<Vec<Input>> {
    let rules = Rules::from_toml_str(crate::rules_cmd::DEFAULT_RULES)?;
    let first_day = TradingDay(20_454); // 2026-01-01
    let mut b = Builder {
        state: State::new(),
        inputs: Vec::with_capacity(count as usize),
        now: first_day.start(),
        exchange: key(0),
    };
    let log_key = log_signer()?;
    b.exchange(Command::Genesis {
        rules_json: rules.canonical_json(),
        log_origin: ORIGIN.to_string(),
        log_vkey: log_key.verifier_key().to_vkey(),
    })?;
    let buyers: Vec<SigningKey> = (0..BUYERS).map(|i| key(1_000_000 + i)).collect();
    for (index, buyer) in buyers.iter().enumerate() {
        b.push(buyer, Command::RegisterBuyer)?;
        let amount = Micros::new(1_000_000_000_000);
        let mut deposit_reference = [0; 32];
        deposit_reference[..8].copy_from_slice(&(index as u64).to_be_bytes());
        b.exchange(Command::FundBuyer {
            buyer: BuyerId(index as u64),
            amount,
            deposit_reference,
        })?;
    }
    let members: Vec<(SigningKey, SigningKey)> = (0..MEMBERS)
        .map(|i| (key(2_000_000 + i), key(3_000_000 + i)))
        .collect();
    for (member, device) in &members {
        let payout = PayoutChoice {
            rail: Rail::Ach,
            destination_commitment: [7; 32],
        };
        b.push(
            member,
            Command::RegisterMember {
                device_key: device.verifying_key().into(),
                payout,
            },
        )?;
    }
    let mut rng = Lcg::new(7);
    let mut next_member = 0usize;
    let mut baskets = 0u64;
    while (b.inputs.len() as u64) < count {
        let category = Category::ALL[rng.below(5) as usize];
        let tier = rules.tier_of(category);
        let slots =
            tier.slots_min + rng.below(u64::from(tier.slots_max - tier.slots_min) + 1) as u8;
        let spec = BasketSpec {
            category,
            filter: ProfileFilter::default(),
            window_days: 30,
            members_per_slot: 2,
            slots,
        };
        let anchor = rng.below(BUYERS) as usize;
        let events = b.push(&buyers[anchor], Command::PostBasket { spec: spec.clone() })?;
        let Some(Event::BasketPosted {
            basket,
            anchor_unit_price,
            ..
        }) = events.first().cloned()
        else {
            anyhow::bail!("basket not posted: {events:?}");
        };
        for _ in 0..spec.member_places() + 2 {
            let (member, device) = &members[next_member % members.len()];
            next_member += 1;
            let message = eligibility_message(basket, &member.verifying_key().into(), Micros::ZERO);
            b.push(
                member,
                Command::Offer {
                    basket,
                    device_key: device.verifying_key().into(),
                    reserve_unit_price: Micros::ZERO,
                    profile_tag: rng.below(4),
                    attestation: sign_bytes(device, &message),
                },
            )?;
        }
        for k in 1..=rng.below(u64::from(slots) + 1) {
            let bidder = (anchor + k as usize) % buyers.len();
            let premium = 1_500 + rng.below(6_000);
            let unit_price = anchor_unit_price.get() + anchor_unit_price.get() * premium / 10_000;
            b.push(
                &buyers[bidder],
                Command::Bid {
                    basket,
                    unit_price: Micros::new(unit_price),
                },
            )?;
        }
        b.exchange(Command::CloseBasket {
            basket: BasketId(basket.0),
        })?;
        baskets += 1;
        if baskets.is_multiple_of(BASKETS_PER_DAY) {
            let day = b.state.open_day;
            b.now = Timestamp(b.now.0.max(TradingDay(day.0 + 1).start().0));
            b.exchange(Command::CloseTradingDay { day })?;
            if let Some(month) = b.state.run_pending {
                b.exchange(Command::RunMonthlyDistribution { month })?;
                // Rule D6: the rails' execution is recorded, or the pill fires on the 8th.
                if let Some(run) = &b.state.unsettled {
                    let payout_root = run.payout_root;
                    let files = assay_engine::simulated_payout_files(&b.state);
                    b.exchange(Command::RecordPayoutFiles {
                        payout_root,
                        files,
                        held: Vec::new(),
                    })?;
                    b.exchange(Command::SettlePayouts {
                        payout_root,
                        settlement_reference: [2; 32],
                    })?;
                }
            }
        }
    }
    Ok(b.inputs)
}

pub fn run(count: u64, json: bool) -> anyhow::Result<()> {
    let build_start = Instant::now();
    let inputs = build(count).context("building the workload")?;
    let build_seconds = build_start.elapsed().as_secs_f64();
    let n = inputs.len() as f64;

    let mut state = State::new();
    let start = Instant::now();
    for input in &inputs {
        apply(&mut state, input).map_err(|r| anyhow::anyhow!("refused when signed: {r}"))?;
    }
    let signed_seconds = start.elapsed().as_secs_f64();
    let signed_hash = state.hash();

    let mut state = State::new();
    let start = Instant::now();
    for chunk in inputs.chunks(BATCH_INPUTS_MAX) {
        ensure!(
            verify_signatures(chunk).iter().all(Result::is_ok),
            "a batch failed to verify"
        );
        for input in chunk {
            apply_verified(&mut state, input)
                .map_err(|r| anyhow::anyhow!("refused in batch: {r}"))?;
        }
    }
    let batch_seconds = start.elapsed().as_secs_f64();
    ensure!(
        state.hash() == signed_hash,
        "batched replay reached a different state"
    );

    let mut state = State::new();
    let start = Instant::now();
    for input in &inputs {
        apply_verified(&mut state, input).map_err(|r| anyhow::anyhow!("refused unsigned: {r}"))?;
    }
    let unsigned_seconds = start.elapsed().as_secs_f64();
    ensure!(
        state.hash() == signed_hash,
        "unsigned replay reached a different state"
    );

    let sha_rate = sha256_leaves_per_s(1_000_000, 200);
    let summary = serde_json::json!({
        "inputs": inputs.len(),
        "workload_build_seconds": build_seconds,
        "inputs_per_s_signed": n / signed_seconds,
        "inputs_per_s_batch_signed": n / batch_seconds,
        "inputs_per_s_unsigned": n / unsigned_seconds,
        "sha256_leaves_per_s": sha_rate,
        "unsigned_ratio_to_sha256": n / unsigned_seconds / sha_rate,
        "state_hash": hex::encode(signed_hash),
    });
    if json {
        println!("{summary}");
    } else {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}
