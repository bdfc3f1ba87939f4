//! Registration, signatures and sequence numbers.

use crate::common::{rules, Party, LOG_ORIGIN};
use crate::Ctx;
use assay_core::{BasketId, Micros};
use assay_engine::{Command, Envelope, Signature};

pub async fn rows(ctx: &mut Ctx) {
    let mut member = Party::new("registration-member", 0);
    let mut buyer = Party::new("registration-buyer", 0);
    let registered = member.sign(member.register_member());
    ctx.api.accept(&registered).await;
    ctx.api.accept(&buyer.sign(Command::RegisterBuyer)).await;

    let mut unsigned = member.peek(Command::RequestMidMonthPayout);
    unsigned.signature = None;
    ctx.refused_command(&unsigned, 401, "unsigned").await;
    let mut forged = member.peek(Command::RequestMidMonthPayout);
    forged.signature = Some(Signature([1; 64]));
    ctx.refused_command(&forged, 401, "bad_signature").await;
    let skipped = Envelope::sign(
        &member.key,
        member.sequence + 5,
        Command::RequestMidMonthPayout,
    );
    ctx.refused_command(&skipped, 409, "sequence_gap").await;
    // The same sequence number as an accepted envelope, with another command.
    let reused = Envelope::sign(&member.key, registered.sequence, Command::RegisterBuyer);
    ctx.refused_command(&reused, 409, "sequence_reused").await;

    let genesis = member.peek(Command::Genesis {
        rules_json: rules().canonical_json(),
        log_origin: LOG_ORIGIN.to_string(),
        log_vkey: crate::common::log_signer().verifier_key().to_vkey(),
    });
    ctx.refused_command(&genesis, 409, "genesis_repeated").await;
    let cost = member.peek(Command::RecordOperatingCost {
        amount: Micros::new(1),
        invoice_hash: [0; 32],
    });
    ctx.refused_command(&cost, 403, "not_exchange").await;
    let payout = buyer.peek(Command::RequestMidMonthPayout);
    ctx.refused_command(&payout, 403, "not_member").await;
    let bid = member.peek(Command::Bid {
        basket: BasketId(0),
        unit_price: Micros::new(30_000),
    });
    ctx.refused_command(&bid, 403, "not_buyer").await;
    let again = buyer.peek(Command::RegisterBuyer);
    ctx.refused_command(&again, 409, "already_registered").await;
    // A new key on a phone another member already holds (identity binding, RULEBOOK E).
    let mut newcomer = Party::new("registration-newcomer", 0);
    newcomer.device = member.device.clone();
    let same_device = newcomer.peek(newcomer.register_member());
    ctx.refused_command(&same_device, 409, "device_in_use")
        .await;
}

/// Destination requests (issue 9): each refusal leaves the state, and the private table, as
/// they were; the good request after them is accepted, and a replay of it changes nothing.
pub async fn destination_rows(ctx: &mut Ctx) {
    let member = Party::new("registration-destination", 0);
    let destination = member.destination();
    let mut signer = Party::new("registration-destination", 0);
    let events = ctx
        .api
        .accept(&signer.sign(member.register_member_paid_to(&destination)))
        .await;
    let id = events[0]["MemberRegistered"]["member"].as_u64().unwrap();
    let salt = member.salt();
    let text = destination.to_text();
    let good = member.destination_body(id, &text, &salt);

    let stranger = Party::new("registration-destination-stranger", 0);
    let forged = stranger.destination_body(id, &text, &salt);
    let request = ctx.api.destination_request(id, &forged);
    ctx.refused(request, 401, "destination_signature_invalid")
        .await;
    let other_salt = assay_rails::Salt([7; 32]);
    let mismatched = member.destination_body(id, &text, &other_salt);
    let request = ctx.api.destination_request(id, &mismatched);
    ctx.refused(request, 422, "destination_commitment_mismatch")
        .await;
    // A routing number whose check digit is wrong (021000021 is right).
    let bad_routing = text.replacen("021000021", "021000022", 1);
    let malformed = member.destination_body(id, &bad_routing, &salt);
    let request = ctx.api.destination_request(id, &malformed);
    let body = crate::problem(request, 422, "destination_invalid").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("routing_number_invalid"),
        "{body}"
    );
    let request = ctx.api.destination_request(id, &malformed);
    ctx.refused(request, 422, "destination_invalid").await;
    let request = ctx.api.destination_request(id + 1_000, &good);
    ctx.refused(request, 404, "destination_member_unknown")
        .await;

    for _ in 0..2 {
        let response = ctx.api.destination_request(id, &good).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let stored: serde_json::Value = response.json().await.unwrap();
        assert_eq!(stored["rail"], "ach");
        assert_eq!(
            stored["destination_commitment"],
            hex::encode(destination.commitment(&salt).0)
        );
    }
}

/// The guard behind the `day_not_closed` row: with the clock one microsecond before midnight,
/// a second input's stamp (one microsecond past the first) falls on the next day, so the
/// sequencer must close the day before it, not let the engine refuse it.
pub async fn midnight_burst(ctx: &mut Ctx, next_day: assay_core::TradingDay) {
    let now = ctx.clock.now();
    ctx.clock.advance(next_day.start().0 - 1 - now.0);
    for index in 0..2 {
        let mut buyer = Party::new("registration-midnight", index);
        ctx.api.accept(&buyer.sign(Command::RegisterBuyer)).await;
    }
    assert_eq!(ctx.snapshot().await["open_day"], next_day.to_string());
}
