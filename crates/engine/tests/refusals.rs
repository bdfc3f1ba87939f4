//! Each refusal has its own stable code and changes no state (issue 5 acceptance): the state
//! hash before the refused input equals the hash after it.

mod common;

use assay_core::{BasketId, Category, Micros};
use assay_engine::{Command, Envelope, Party, Signature};
use common::*;

/// Submits `envelope` and checks it is refused with `code`, leaving the state as it was.
fn check_refused(harness: &mut Harness, envelope: Envelope, code: &str) {
    let before = harness.state.hash();
    let entries = harness.entries.len();
    let refusal = harness
        .submit_envelope(envelope)
        .expect_err("must be refused");
    assert_eq!(refusal.code(), code, "{refusal}");
    assert_eq!(
        harness.state.hash(),
        before,
        "refusal `{code}` changed the state"
    );
    assert_eq!(
        harness.entries.len(),
        entries,
        "refusal `{code}` reached the log"
    );
}

fn refused(
    harness: &mut Harness,
    signer: &ed25519_dalek::SigningKey,
    command: Command,
    code: &str,
) {
    let envelope = harness.envelope(signer, command);
    check_refused(harness, envelope, code);
}

/// A market with a posted browsing basket, two members' offers and a bidding buyer.
fn market() -> (Harness, Person, Person, Person, BasketId) {
    let mut h = Harness::new(&default_rules());
    let anchor = h.buyer(1, 1_000_000_000);
    let bidder = h.buyer(2, 1_000_000_000);
    let member = h.member(1, true);
    let basket = h.post(&anchor, spec(Category::Browsing, 1, 3)).unwrap();
    h.offer(&member, basket, 0, 7).unwrap();
    (h, anchor, bidder, member, basket)
}

#[test]
fn unsigned_and_badly_signed_inputs_are_refused() {
    let (mut h, _, bidder, _, basket) = market();
    let mut envelope = h.envelope(
        &bidder.key,
        Command::Bid {
            basket,
            unit_price: Micros::new(30_000),
        },
    );
    envelope.signature = None;
    check_refused(&mut h, envelope, "unsigned");

    let mut envelope = h.envelope(
        &bidder.key,
        Command::Bid {
            basket,
            unit_price: Micros::new(30_000),
        },
    );
    envelope.signature = Some(Signature([7; 64]));
    check_refused(&mut h, envelope, "bad_signature");

    // A valid signature over a different command.
    let mut envelope = h.envelope(
        &bidder.key,
        Command::Bid {
            basket,
            unit_price: Micros::new(30_000),
        },
    );
    envelope.command = Command::Bid {
        basket,
        unit_price: Micros::new(31_000),
    };
    check_refused(&mut h, envelope, "bad_signature");
}

#[test]
fn replayed_and_skipped_sequence_numbers_are_refused() {
    let (mut h, _, bidder, _, basket) = market();
    let first = h.envelope(
        &bidder.key,
        Command::Bid {
            basket,
            unit_price: Micros::new(30_000),
        },
    );
    h.submit_envelope(first.clone()).unwrap();
    check_refused(&mut h, first, "sequence_replayed");
    let skipped = Envelope::sign(&bidder.key, 9, Command::RegisterBuyer);
    check_refused(&mut h, skipped, "sequence_gap");
}

#[test]
fn fee_unpaid_and_insufficient_balance_are_refused() {
    let (mut h, _, _, _, basket) = market();
    let poor = h.buyer(3, 1_000_000); // $1: under the $50 fee
    refused(
        &mut h,
        &poor.key,
        Command::PostBasket {
            spec: spec(Category::Browsing, 1, 3),
        },
        "fee_unpaid",
    );
    let fee_only = h.buyer(4, 50_000_000); // the fee, but not the anchor's slot
    refused(
        &mut h,
        &fee_only.key,
        Command::PostBasket {
            spec: spec(Category::Browsing, 1000, 3),
        },
        "insufficient_balance",
    );
    refused(
        &mut h,
        &poor.key,
        Command::Bid {
            basket,
            unit_price: Micros::new(1_000_000),
        },
        "insufficient_balance",
    );
}

#[test]
fn bids_below_floor_or_ladder_are_refused() {
    // rules M3, M9: browsing starts at 20,000 per member-day; floor 19,000; slot 2 ≥ 22,000.
    let (mut h, _, bidder, _, basket) = market();
    refused(
        &mut h,
        &bidder.key,
        Command::Bid {
            basket,
            unit_price: Micros::new(18_999),
        },
        "below_floor",
    );
    refused(
        &mut h,
        &bidder.key,
        Command::Bid {
            basket,
            unit_price: Micros::new(21_999),
        },
        "below_ladder_minimum",
    );
    h.bid(&bidder, basket, 22_000).unwrap();
}

#[test]
fn unknown_basket_and_closed_window_are_refused() {
    let (mut h, anchor, bidder, member, basket) = market();
    refused(
        &mut h,
        &bidder.key,
        Command::Bid {
            basket: BasketId(99),
            unit_price: Micros::new(30_000),
        },
        "unknown_basket",
    );
    let _ = anchor;
    h.exchange(Command::CloseBasket { basket }).unwrap();
    refused(
        &mut h,
        &bidder.key,
        Command::Bid {
            basket,
            unit_price: Micros::new(30_000),
        },
        "window_closed",
    );
    let offer = h.offer_command(&member, basket, 0, 1);
    refused(&mut h, &member.key, offer, "window_closed");
}

#[test]
fn banned_parties_are_refused() {
    let (mut h, _, bidder, member, basket) = market();
    h.exchange(Command::Ban {
        party: Party::Buyer(buyer_id(&bidder)),
        evidence_hash: [9; 32],
    })
    .unwrap();
    refused(
        &mut h,
        &bidder.key,
        Command::Bid {
            basket,
            unit_price: Micros::new(30_000),
        },
        "banned",
    );
    // A banned key cannot come back as a new party.
    refused(&mut h, &bidder.key, Command::RegisterBuyer, "banned");
    h.exchange(Command::Ban {
        party: Party::Member(member_id(&member)),
        evidence_hash: [9; 32],
    })
    .unwrap();
    let offer = h.offer_command(&member, basket, 0, 1);
    refused(&mut h, &member.key, offer, "banned");
}

#[test]
fn frozen_category_is_refused() {
    // rule M4: a spike that collapses trips the breaker. Day 1: tos_interactions (tier D,
    // 5–8 slots) clears with seven bids at 4× spot (spot 5,000 → 18,125); days 2 and 3: the
    // anchor alone, the other seven slots unsold and marked at the floor. Day 2 weighs against
    // day 1's volume (M2, `spot.window_days`), so spot falls 17% (to 15,002) and stays open;
    // day 3 takes it to 14,148, 22% under the high of day 1.
    let mut h = Harness::new(&default_rules());
    let anchor = h.buyer(1, 100_000_000_000);
    let members: Vec<Person> = (0..8).map(|i| h.member(i, true)).collect();
    let bidders: Vec<Person> = (0..7).map(|i| h.buyer(10 + i, 100_000_000_000)).collect();
    let basket = h
        .post(&anchor, spec(Category::TosInteractions, 1, 8))
        .unwrap();
    for member in &members {
        h.offer(member, basket, 0, 1).unwrap();
    }
    for bidder in &bidders {
        h.bid(bidder, basket, 20_000).unwrap();
    }
    h.close_day();
    let mut events = Vec::new();
    for _ in 0..2 {
        assert!(!events
            .iter()
            .any(|e| matches!(e, assay_engine::Event::EmergencyMeeting { .. })));
        let basket = h
            .post(&anchor, spec(Category::TosInteractions, 1, 8))
            .unwrap();
        for member in &members {
            h.offer(member, basket, 0, 1).unwrap();
        }
        events = h.close_day();
    }
    assert!(
        events.iter().any(|e| matches!(
            e,
            assay_engine::Event::EmergencyMeeting {
                category: Category::TosInteractions,
                ..
            }
        )),
        "{events:?}"
    );
    refused(
        &mut h,
        &anchor.key,
        Command::PostBasket {
            spec: spec(Category::TosInteractions, 1, 8),
        },
        "frozen_category",
    );
}

#[test]
fn out_of_order_and_unauthorised_commands_are_refused() {
    let (mut h, anchor, _, member, _) = market();
    refused(
        &mut h,
        &anchor.key,
        Command::RecordOperatingCost {
            amount: Micros::new(1),
            invoice_hash: [0; 32],
        },
        "not_exchange",
    );
    let day = h.state.open_day;
    let exchange = h.exchange.clone();
    refused(
        &mut h,
        &exchange,
        Command::CloseTradingDay { day },
        "wrong_day",
    );
    refused(
        &mut h,
        &member.key,
        Command::RequestMidMonthPayout,
        "nothing_to_pay",
    );
    let month = day.month();
    refused(
        &mut h,
        &exchange,
        Command::RunMonthlyDistribution { month },
        "run_not_due",
    );
    refused(
        &mut h,
        &anchor.key,
        Command::Genesis {
            rules_json: default_rules().canonical_json(),
            log_origin: LOG_ORIGIN.to_string(),
            log_vkey: log_signer().verifier_key().to_vkey(),
        },
        "genesis_repeated",
    );
}

#[test]
fn a_rule_change_without_a_recorded_vote_is_refused() {
    // rule G6
    let (mut h, anchor, _, _, _) = market();
    let mut changed = default_rules();
    changed.floor.ratio_bps = 9_000;
    refused(
        &mut h,
        &anchor.key,
        Command::AdoptRules {
            rules_json: changed.canonical_json(),
            proposal: 1,
        },
        "no_passed_vote",
    );
    let mut broken = default_rules();
    broken.waterfall.members_bps = 8_000;
    refused(
        &mut h,
        &anchor.key,
        Command::AdoptRules {
            rules_json: broken.canonical_json(),
            proposal: 1,
        },
        "rules_invalid",
    );
}

#[test]
fn attestations_must_come_from_the_members_registered_device() {
    // rule M11
    let (mut h, anchor, _, _, basket) = market();
    let member = h.member(2, true);
    // Signed by some other key: the signature check fails.
    let mut forged = h.offer_command(&member, basket, 0, 1);
    if let Command::Offer { attestation, .. } = &mut forged {
        attestation.0[0] ^= 1;
    }
    refused(&mut h, &member.key, forged, "bad_attestation");
    // A valid signature, but by a device that is not this member's.
    let impostor = Person {
        key: member.key.clone(),
        device: anchor.key.clone(),
        id: member.id,
    };
    let command = h.offer_command(&impostor, basket, 0, 1);
    refused(&mut h, &member.key, command, "bad_attestation");
    h.offer(&member, basket, 0, 1).unwrap();
}

#[test]
fn batch_verification_accepts_good_inputs_and_names_a_bad_one() {
    use assay_core::Timestamp;
    use assay_engine::{verify_signatures, Input};
    let (h, _, bidder, member, basket) = market();
    let mut inputs: Vec<Input> = (0..20)
        .map(|i| Input {
            envelope: Envelope::sign(
                &bidder.key,
                i,
                Command::Bid {
                    basket,
                    unit_price: Micros::new(30_000 + i),
                },
            ),
            timestamp: Timestamp(0),
        })
        .collect();
    let offer = h.offer_command(&member, basket, 0, 1);
    inputs.push(Input {
        envelope: h.envelope(&member.key, offer),
        timestamp: Timestamp(0),
    });
    assert!(verify_signatures(&inputs).iter().all(Result::is_ok));
    inputs[7].envelope.sequence += 1;
    let results = verify_signatures(&inputs);
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result.is_err(), index == 7, "input {index}: {result:?}");
    }
    assert_eq!(results[7].as_ref().unwrap_err().code(), "bad_signature");
}

#[test]
fn a_repeated_deposit_reference_is_refused() {
    // One bank transfer credits a buyer once (conservation, rule D9: money in is counted once),
    // even when it is sent again: the server answers the same deposit with its first entry
    // (`State::repeated_deposit`, tests/deposits.rs) and never applies it twice.
    let mut h = Harness::new(&default_rules());
    let buyer = h.buyer(1, 0);
    let other = h.buyer(2, 0);
    let deposit = |buyer: &Person, amount: u64| Command::FundBuyer {
        buyer: assay_core::BuyerId(buyer.id),
        amount: Micros::new(amount),
        deposit_reference: [0xde; 32],
    };
    h.exchange(deposit(&buyer, 5_000_000)).unwrap();
    let exchange = h.exchange.clone();
    // The same transfer again, to the same buyer or another, for the same amount or another.
    for (to, amount) in [(&buyer, 5_000_000), (&other, 5_000_000), (&buyer, 1)] {
        refused(
            &mut h,
            &exchange,
            deposit(to, amount),
            "deposit_reference_reused",
        );
    }
    assert_eq!(h.state.buyers[buyer.id as usize].available.get(), 5_000_000);
    assert_eq!(h.state.buyers[other.id as usize].available.get(), 0);
    // Another reference is another transfer.
    let mut second = deposit(&other, 2_000_000);
    if let Command::FundBuyer {
        deposit_reference, ..
    } = &mut second
    {
        deposit_reference[0] = 0xdf;
    }
    h.exchange(second).unwrap();
    assert_eq!(h.state.buyers[other.id as usize].available.get(), 2_000_000);
}
