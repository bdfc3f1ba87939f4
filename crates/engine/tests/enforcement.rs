//! Enforcement (issue 6 acceptance): a finding bans for life and ends the party's open bids,
//! offers and grants in the same entry, while money owed to members is still paid (E1, E2,
//! E4); one appeal per lifetime, decided by the board (E3); banned keys and devices cannot
//! come back (identity binding, RULEBOOK E).

mod common;

use assay_core::{Category, Micros};
use assay_engine::{Choice, Command, Event, Party, PayoutChoice, ProposalKind, Rail};
use common::scenario::{day, off_take, payouts};
use common::*;

fn ban(h: &mut Harness, party: Party) -> Vec<Event> {
    h.exchange(Command::Ban {
        party,
        evidence_hash: [0xEE; 32],
    })
    .unwrap()
}

/// The grant ids held by `buyer` and their members, from `GrantIssued` events.
fn grants_of(h: &Harness, buyer: u64) -> Vec<(u64, Vec<u64>)> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::GrantIssued {
                grant,
                buyer: b,
                members,
                ..
            } if b.0 == buyer => Some((*grant, members.iter().map(|m| m.member.0).collect())),
            _ => None,
        })
        .collect()
}

/// Seats `members[i]` on seat i by election (all voting for themselves).
fn elect_board(h: &mut Harness, members: &[Person]) {
    let elections: Vec<u64> = (0..members.len())
        .map(|seat| {
            h.propose(&members[0], ProposalKind::Election { seat: seat as u8 })
                .unwrap()
        })
        .collect();
    for (member, &election) in members.iter().zip(&elections) {
        h.submit(&member.key, Command::Stand { proposal: election })
            .unwrap();
        h.vote(member, election, Choice::Candidate(member_id(member)))
            .unwrap();
    }
    h.close_proposal(elections[0]).unwrap();
    for &election in &elections[1..] {
        h.exchange(Command::CloseProposal { proposal: election })
            .unwrap();
    }
}

#[test]
fn a_ban_ends_open_bids_offers_and_grants_in_the_same_entry() {
    // rules E1, E2, E4
    let mut h = Harness::new(&default_rules());
    let anchor = h.buyer(1, 1_000_000_000);
    let banned = h.buyer(2, 1_000_000_000);
    let other = h.buyer(3, 1_000_000_000);
    let members: Vec<Person> = (0..4).map(|i| h.member(i, true)).collect();

    // A cleared basket: the banned buyer's bid wins slot 2, so it holds a grant.
    let cleared = h.post(&anchor, spec(Category::Browsing, 1, 3)).unwrap();
    for member in &members[..3] {
        h.offer(member, cleared, 0, 1).unwrap();
    }
    h.bid(&banned, cleared, 30_000).unwrap();
    h.bid(&other, cleared, 26_000).unwrap();
    h.exchange(Command::CloseBasket { basket: cleared })
        .unwrap();
    let banned_grants = grants_of(&h, banned.id);
    let anchor_grants = grants_of(&h, anchor.id);
    assert_eq!((banned_grants.len(), anchor_grants.len()), (1, 1));
    let credited_before: Vec<Micros> = h.state.members.iter().map(|m| m.balance.unpaid).collect();

    // Open business: the banned buyer's own basket with an offer, and its bid on another.
    let own = h.post(&banned, spec(Category::Browsing, 1, 3)).unwrap();
    h.offer(&members[3], own, 0, 1).unwrap();
    let elsewhere = h.post(&anchor, spec(Category::Purchases, 1, 2)).unwrap();
    h.bid(&banned, elsewhere, 60_000).unwrap();
    for member in &members {
        h.offer(member, elsewhere, 0, 1).unwrap();
    }

    let events = ban(&mut h, Party::Buyer(buyer_id(&banned)));
    assert!(events.contains(&Event::BasketCanceled { basket: own }));
    assert!(events.contains(&Event::BidEnded {
        basket: elsewhere,
        buyer: buyer_id(&banned)
    }));
    assert!(events.contains(&Event::GrantEnded {
        grant: banned_grants[0].0
    }));
    assert!(!h.state.baskets.contains_key(&own));
    assert!(h.state.baskets[&elsewhere].bids.is_empty());
    assert!(!h.state.grants[&banned_grants[0].0].active);
    assert!(h.state.grants[&anchor_grants[0].0].active);
    let buyer = &h.state.buyers[banned.id as usize];
    assert!(buyer.held.is_zero() && buyer.banned);
    // Members keep what the banned buyer's grant credited them (E4).
    let credited_after: Vec<Micros> = h.state.members.iter().map(|m| m.balance.unpaid).collect();
    assert_eq!(credited_before, credited_after);

    // A member in the anchor's grant, with an open offer, is banned.
    let member = anchor_grants[0].1[0];
    let events = ban(&mut h, Party::Member(assay_core::MemberId(member)));
    let member_id = assay_core::MemberId(member);
    assert!(events.contains(&Event::OfferEnded {
        basket: elsewhere,
        member: member_id
    }));
    assert!(events.contains(&Event::GrantMemberEnded {
        grant: anchor_grants[0].0,
        member: member_id
    }));
    assert!(!h.state.baskets[&elsewhere].offered.contains(&member_id));
    assert!(!h.state.grants[&anchor_grants[0].0]
        .members
        .contains(&member_id));
    let refusal = h
        .exchange(Command::Ban {
            party: Party::Member(member_id),
            evidence_hash: [0; 32],
        })
        .unwrap_err();
    assert_eq!(refusal.code(), "banned");
}

#[test]
fn members_owed_money_are_paid_at_the_next_run() {
    // rule E4: X is credited $90 from an off-take, then banned. January's run pays X all that
    // X is owed ($90 + the $1.80 buyer part of the shared pool, X being the only seller); the
    // cohort's $1.02 goes to the founding members still in good standing (Y).
    let mut h = Harness::starting(&default_rules(), day(27));
    let x = h.member(1, true);
    let y = h.member(2, true);
    let buyer = h.buyer(1, 1_000_000_000);
    off_take(&mut h, &buyer, &x, 100_000_000).unwrap();
    ban(&mut h, Party::Member(member_id(&x)));
    h.advance_to(day(31));
    assert_eq!(payouts(&h.events), vec![(x.id, 91_800_000)]);
    assert_eq!(
        h.state.members[y.id as usize].balance.carried,
        Micros::new(1_020_000)
    );
}

#[test]
fn a_banned_board_member_loses_the_seat_in_the_same_entry() {
    // rule E4
    let mut h = Harness::new(&default_rules());
    let members: Vec<Person> = (0..2).map(|i| h.member(i, true)).collect();
    elect_board(&mut h, &members[..1]);
    let events = ban(&mut h, Party::Member(member_id(&members[0])));
    assert!(events.contains(&Event::SeatVacated {
        seat: 0,
        member: member_id(&members[0])
    }));
    assert_eq!(h.state.governance.holder(0, h.state.open_day), None);
}

#[test]
fn one_appeal_per_lifetime_heard_by_the_board_with_the_burden_on_the_accused() {
    // rule E3: three seated board members. An appeal with two overturn votes fails (a
    // majority of all five seats is needed); one with three lifts the ban.
    let mut h = Harness::new(&default_rules());
    let members: Vec<Person> = (0..5).map(|i| h.member(i, true)).collect();
    let buyer = h.buyer(1, 1_000_000_000);
    elect_board(&mut h, &members[..3]);
    let accused = &members[4];
    ban(&mut h, Party::Member(member_id(accused)));
    ban(&mut h, Party::Buyer(buyer_id(&buyer)));

    let appeal = Command::Appeal {
        statement_hash: [0xA1; 32],
    };
    let not_banned = h.submit(&members[3].key, appeal.clone()).unwrap_err();
    assert_eq!(not_banned.code(), "not_banned");
    let stranger = key(99);
    let unknown = h.submit(&stranger, appeal.clone()).unwrap_err();
    assert_eq!(unknown.code(), "unknown_party");

    let events = h.submit(&accused.key, appeal.clone()).unwrap();
    let Event::AppealOpened { proposal, .. } = events[0] else {
        panic!("{events:?}")
    };
    let outsider = h.ballot_command(&members[3], proposal, Choice::Yes);
    assert_eq!(
        h.submit(&members[3].key, outsider).unwrap_err().code(),
        "not_voter"
    );
    h.vote(&members[0], proposal, Choice::Yes).unwrap();
    h.vote(&members[1], proposal, Choice::Yes).unwrap();
    h.vote(&members[2], proposal, Choice::No).unwrap();
    let events = h.close_proposal(proposal).unwrap();
    assert!(matches!(
        events[0],
        Event::ProposalDecided {
            passed: false,
            yes: 2,
            ..
        }
    ));
    assert!(h.state.members[accused.id as usize].banned);
    let again = h.submit(&accused.key, appeal.clone()).unwrap_err();
    assert_eq!(again.code(), "appeal_repeated");

    let events = h.submit(&buyer.key, appeal.clone()).unwrap();
    let Event::AppealOpened { proposal, .. } = events[0] else {
        panic!("{events:?}")
    };
    for board in &members[..3] {
        h.vote(board, proposal, Choice::Yes).unwrap();
    }
    let events = h.close_proposal(proposal).unwrap();
    assert_eq!(
        events[1],
        Event::BanLifted {
            proposal,
            party: Party::Buyer(buyer_id(&buyer))
        }
    );
    h.post(&buyer, spec(Category::Browsing, 1, 3)).unwrap();
    // Banned again, there is no second appeal.
    ban(&mut h, Party::Buyer(buyer_id(&buyer)));
    assert_eq!(
        h.submit(&buyer.key, appeal).unwrap_err().code(),
        "appeal_repeated"
    );
}

#[test]
fn banned_keys_and_their_devices_cannot_register_again() {
    // Identity binding (RULEBOOK E): a new member key must come with a device no banned member
    // used and no member holds.
    let mut h = Harness::new(&default_rules());
    let banned = h.member(1, false);
    let other = h.member(2, false);
    ban(&mut h, Party::Member(member_id(&banned)));
    let payout = PayoutChoice {
        rail: Rail::Ach,
        destination_commitment: [0; 32],
    };
    let register = |device: &ed25519_dalek::SigningKey| Command::RegisterMember {
        device_key: device.verifying_key().into(),
        payout,
    };
    let same_key = h.submit(&banned.key, register(&key(500))).unwrap_err();
    assert_eq!(same_key.code(), "banned");
    let fresh = key(501);
    let same_device = h.submit(&fresh, register(&banned.device)).unwrap_err();
    assert_eq!(same_device.code(), "banned");
    let shared = h.submit(&fresh, register(&other.device)).unwrap_err();
    assert_eq!(shared.code(), "device_in_use");
    let buyer_key = h.submit(&banned.key, Command::RegisterBuyer).unwrap_err();
    assert_eq!(buyer_key.code(), "banned");
    h.submit(&fresh, register(&key(502))).unwrap();
}
