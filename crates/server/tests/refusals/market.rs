//! Baskets, offers, bids, grants, off-take and payouts (M3–M16, D5), over four trading days.

use crate::common::{Party, FIRST_DAY};
use crate::Ctx;
use assay_core::{BasketId, Category, MemberId, Micros, TradingDay};
use assay_engine::command::{offtake_consent_message, sign_bytes};
use assay_engine::Command;
use assay_market::{BasketSpec, ProfileFilter};
use serde_json::Value;
use std::time::{Duration, Instant};

pub struct Market {
    anchor: Party,
    bidder: Party,
    members: Vec<Party>,
    /// Posted on day one, cleared at its close: the anchor's grant.
    cleared: BasketId,
    /// Posted on day one with no offers: unfillable at its close (M7).
    unfillable: BasketId,
}

fn spec(category: Category, members_per_slot: u32, slots: u8) -> BasketSpec {
    BasketSpec {
        category,
        filter: ProfileFilter::default(),
        window_days: 30,
        members_per_slot,
        slots,
    }
}

async fn buyer(ctx: &Ctx, label: &str, index: u64, deposit: u64) -> (Party, u64) {
    let mut buyer = Party::new(label, index);
    let events = ctx.api.accept(&buyer.sign(Command::RegisterBuyer)).await;
    let id = events[0]["BuyerRegistered"]["buyer"].as_u64().unwrap();
    if deposit > 0 {
        assert_eq!(ctx.api.deposit(id, deposit).await, 200);
    }
    (buyer, id)
}

async fn post(ctx: &Ctx, buyer: &mut Party, spec: BasketSpec) -> BasketId {
    let events = ctx
        .api
        .accept(&buyer.sign(Command::PostBasket { spec }))
        .await;
    BasketId(events[0]["BasketPosted"]["basket"].as_u64().unwrap())
}

/// A basket that fails M5's checks is logged with its code and its fee is kept.
async fn logged_refusal(ctx: &mut Ctx, buyer: &mut Party, spec: BasketSpec, code: &'static str) {
    let before = ctx.snapshot().await;
    let events = ctx
        .api
        .accept(&buyer.sign(Command::PostBasket { spec }))
        .await;
    assert_eq!(events[0]["BasketRefused"]["code"], code, "{events}");
    let after = ctx.snapshot().await;
    assert_eq!(after["log_size"], before["log_size"].as_u64().unwrap() + 1);
    ctx.logged(code);
}

/// An off-take agreement (M16) with the member's consent signature.
fn off_take(buyer: &Party, member: &Party, member_id: u64, months: u32) -> Command {
    let value = Micros::new(1_000_000);
    let message = offtake_consent_message(&buyer.public_key(), Category::Browsing, months, value);
    Command::OffTake {
        member: MemberId(member_id),
        member_key: member.public_key(),
        category: Category::Browsing,
        months,
        value,
        member_consent: sign_bytes(&member.key, &message),
    }
}

pub async fn first_day(ctx: &mut Ctx) -> Market {
    let (mut anchor, _) = buyer(ctx, "market-anchor", 0, 10_000_000_000).await;
    let (mut bidder, _) = buyer(ctx, "market-bidder", 0, 1_000_000_000).await;
    let (poor, _) = buyer(ctx, "market-poor", 0, 0).await;
    let mut members = Vec::new();
    let mut first_member_id = 0;
    for index in 0..8 {
        let mut member = Party::new("market-member", index);
        let events = ctx.api.accept(&member.sign(member.register_member())).await;
        if index == 0 {
            first_member_id = events[0]["MemberRegistered"]["member"].as_u64().unwrap();
        }
        members.push(member);
    }
    // Posted first, so its anchor slot is the first grant issued at the close (M15).
    let cleared = post(ctx, &mut anchor, spec(Category::Browsing, 1, 3)).await;
    for member in members.iter_mut().take(3) {
        ctx.api.accept(&member.offer(cleared)).await;
    }

    let twice = members[0].peek(members[0].offer_command(cleared, Micros::ZERO));
    ctx.refused_command(&twice, 409, "duplicate_offer").await;
    let greedy = members[4].peek(members[4].offer_command(cleared, Micros::new(1_000_000)));
    ctx.refused_command(&greedy, 422, "reserve_not_met").await;
    let mut forged = members[4].offer_command(cleared, Micros::ZERO);
    if let Command::Offer { attestation, .. } = &mut forged {
        attestation.0[0] ^= 1;
    }
    ctx.refused_command(&members[4].peek(forged), 401, "bad_attestation")
        .await;

    // Rules M3, M9: browsing starts at 20,000 per member-day; floor 19,000; slot 2 ≥ 22,000.
    let bid = |price: u64| Command::Bid {
        basket: cleared,
        unit_price: Micros::new(price),
    };
    ctx.refused_command(&bidder.peek(bid(1)), 422, "below_floor")
        .await;
    ctx.refused_command(&bidder.peek(bid(21_999)), 422, "below_ladder_minimum")
        .await;
    let elsewhere = bidder.peek(Command::Bid {
        basket: BasketId(999),
        unit_price: Micros::new(30_000),
    });
    ctx.refused_command(&elsewhere, 404, "unknown_basket").await;
    ctx.api.accept(&bidder.sign(bid(22_000))).await;
    ctx.refused_command(&bidder.peek(bid(23_000)), 409, "duplicate_bid")
        .await;
    // The hold (unit price × 30 member-days) does not fit in u64.
    ctx.refused_command(&poor.peek(bid(u64::MAX / 4)), 422, "money_overflow")
        .await;
    ctx.refused_command(&poor.peek(bid(30_000)), 402, "insufficient_balance")
        .await;
    let basket = poor.peek(Command::PostBasket {
        spec: spec(Category::Browsing, 1, 3),
    });
    ctx.refused_command(&basket, 402, "fee_unpaid").await;

    let payout = members[0].peek(Command::RequestMidMonthPayout);
    ctx.refused_command(&payout, 422, "nothing_to_pay").await;
    let stranger = anchor.peek(off_take(&anchor, &members[0], 999, 12));
    ctx.refused_command(&stranger, 404, "unknown_member").await;
    let empty = anchor.peek(off_take(&anchor, &members[0], first_member_id, 0));
    ctx.refused_command(&empty, 422, "empty_agreement").await;
    let mut unconsented = off_take(&anchor, &members[0], first_member_id, 12);
    if let Command::OffTake { member_consent, .. } = &mut unconsented {
        member_consent.0[0] ^= 1;
    }
    ctx.refused_command(&anchor.peek(unconsented), 401, "bad_consent")
        .await;
    let receipt = anchor.peek(Command::Receipt {
        grant: 999,
        delivery_hash: [4; 32],
    });
    ctx.refused_command(&receipt, 404, "unknown_grant").await;
    let deposit = ctx.api.deposit_request(999, 1_000_000);
    ctx.refused(deposit, 404, "unknown_buyer").await;
    // A bank reference already recorded, sent again for another amount: not a second deposit.
    let (status, _) = ctx.api.deposit_with(0, 7, [0xD7; 32]).await;
    assert_eq!(status, 200);
    let reused = ctx.api.deposit_request_with(0, 8, [0xD7; 32]);
    ctx.refused(reused, 409, "deposit_reference_reused").await;

    let mut bad = spec(Category::Browsing, 1, 99);
    logged_refusal(ctx, &mut anchor, bad.clone(), "slots_out_of_range").await;
    bad = spec(Category::Browsing, 0, 3);
    logged_refusal(
        ctx,
        &mut anchor,
        bad.clone(),
        "members_per_slot_out_of_range",
    )
    .await;
    bad = spec(Category::Browsing, 1, 3);
    bad.window_days = 0;
    logged_refusal(ctx, &mut anchor, bad, "window_out_of_range").await;

    let unfillable = post(ctx, &mut anchor, spec(Category::Browsing, 1, 3)).await;

    // Rule M4, first day: tos_interactions (tier D, 5–8 slots) clears eight slots with seven
    // bids at 4× spot.
    let spike = post(ctx, &mut anchor, spec(Category::TosInteractions, 1, 8)).await;
    for member in &mut members {
        ctx.api.accept(&member.offer(spike)).await;
    }
    for index in 0..7 {
        let (mut spiker, _) = buyer(ctx, "market-spiker", index, 1_000_000_000).await;
        let bid = spiker.sign(Command::Bid {
            basket: spike,
            unit_price: Micros::new(20_000),
        });
        ctx.api.accept(&bid).await;
    }
    Market {
        anchor,
        bidder,
        members,
        cleared,
        unfillable,
    }
}

/// Subscribes to the public event stream before the day's close, which logs the unfillable
/// basket (M7).
pub async fn watch_unfillable(ctx: &Ctx, _market: &mut Market) -> reqwest::Response {
    let response = ctx
        .api
        .http
        .get(format!("{}/v1/events", ctx.api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response
}

pub async fn second_day(ctx: &mut Ctx, market: &mut Market, mut stream: reqwest::Response) {
    let late = market.bidder.peek(Command::Bid {
        basket: market.cleared,
        unit_price: Micros::new(30_000),
    });
    ctx.refused_command(&late, 422, "window_closed").await;

    // The first basket's anchor slot was the first grant (M15).
    let receipt = Command::Receipt {
        grant: 0,
        delivery_hash: [4; 32],
    };
    ctx.api.accept(&market.anchor.sign(receipt.clone())).await;
    let again = market.anchor.peek(receipt);
    ctx.refused_command(&again, 409, "receipt_repeated").await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    let wanted = format!("\"basket\":{}", market.unfillable.0);
    loop {
        let found = text
            .lines()
            .any(|line| line.contains("basket_unfillable") && line.contains(&wanted));
        if found {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no basket_unfillable event: {text}"
        );
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .expect("the event stream went quiet")
            .unwrap()
            .expect("the event stream ended");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    ctx.logged("unfillable");

    // Rule M4, second day: the anchor alone; the seven unsold slots are marked at the floor.
    let spike = post(
        ctx,
        &mut market.anchor,
        spec(Category::TosInteractions, 1, 8),
    )
    .await;
    for member in &mut market.members {
        ctx.api.accept(&member.offer(spike)).await;
    }
}

pub async fn third_day(ctx: &mut Ctx, market: &mut Market) {
    // Rule M2: the second day weighed against the first day's volume, so spot fell 17%: open.
    assert_eq!(tos_market(ctx).await["frozen"], false);
    // Rule M4, third day: the anchor alone again takes spot 22% under the first day's close.
    let collapse = post(
        ctx,
        &mut market.anchor,
        spec(Category::TosInteractions, 1, 8),
    )
    .await;
    for member in &mut market.members {
        ctx.api.accept(&member.offer(collapse)).await;
    }
    ctx.advance_to(TradingDay(FIRST_DAY.0 + 3)).await;
    let tos = tos_market(ctx).await;
    assert_eq!(tos["frozen"], true, "the breaker did not trip: {tos}");
    let post = market.anchor.peek(Command::PostBasket {
        spec: spec(Category::TosInteractions, 1, 8),
    });
    ctx.refused_command(&post, 422, "frozen_category").await;
}

async fn tos_market(ctx: &Ctx) -> Value {
    let markets: Value = ctx.api.get("/v1/markets").await;
    markets
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["category"] == "tos_interactions")
        .unwrap()
        .clone()
}
