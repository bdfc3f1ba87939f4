//! Governance (issue 6 acceptance): the board and its terms (G1, G2), signed ballots with the
//! wallet's user presence, one per member, on the log, with a bonus at the next run (G3), the
//! 80% of active membership (G4), the immutable clauses (G5) and rules changes (G6).

mod common;

use assay_coop::governance::{clause_text_hash, IMMUTABLE_CLAUSES};
use assay_coop::{Clause, ClauseChange};
use assay_core::{Micros, TradingDay};
use assay_engine::{Choice, Command, Event, ProposalKind, Signature};
use common::scenario::{day, payouts};
use common::*;

fn amendment(bylaw: u32) -> ProposalKind {
    ProposalKind::Amendment {
        changes: vec![ClauseChange {
            clause: Clause::Bylaw(bylaw),
            text_hash: [bylaw as u8; 32],
        }],
    }
}

/// Submits `command` as `signer` and checks it is refused with `code` and changes nothing.
fn check_refused(
    h: &mut Harness,
    signer: &ed25519_dalek::SigningKey,
    command: Command,
    code: &str,
) {
    let before = h.state.hash();
    let refusal = h.submit(signer, command).expect_err("must be refused");
    assert_eq!(refusal.code(), code, "{refusal}");
    assert_eq!(h.state.hash(), before, "refusal `{code}` changed the state");
}

/// The `ProposalDecided` among `events`: (passed, yes, active).
fn decided(events: &[Event]) -> (bool, u64, u64) {
    events
        .iter()
        .find_map(|e| match e {
            Event::ProposalDecided {
                passed,
                yes,
                active,
                ..
            } => Some((*passed, *yes, *active)),
            _ => None,
        })
        .expect("a decision")
}

#[test]
fn bylaw_amendments_need_80_percent_of_active_members_79_99_fails() {
    // rule G4, with 10,000 active members: 7,999 yes fails, 8,000 passes.
    let mut h = Harness::new(&default_rules());
    let members: Vec<Person> = (0..10_000).map(|i| h.member(i, false)).collect();
    let short = h.propose(&members[0], amendment(1)).unwrap();
    let enough = h.propose(&members[0], amendment(2)).unwrap();
    for member in &members[..7_999] {
        h.vote(member, short, Choice::Yes).unwrap();
    }
    for member in &members[..8_000] {
        h.vote(member, enough, Choice::Yes).unwrap();
    }
    // The other members vote no on both; only yes ballots count toward the 80%.
    for member in &members[8_000..] {
        h.vote(member, short, Choice::No).unwrap();
        h.vote(member, enough, Choice::No).unwrap();
    }
    let events = h.close_proposal(short).unwrap();
    assert_eq!(decided(&events), (false, 7_999, 10_000));
    let events = h
        .exchange(Command::CloseProposal { proposal: enough })
        .unwrap();
    assert_eq!(decided(&events), (true, 8_000, 10_000));
    assert_eq!(
        h.state.governance.bylaws.get(&Clause::Bylaw(2)),
        Some(&[2; 32])
    );
    assert_eq!(h.state.governance.bylaws.get(&Clause::Bylaw(1)), None);
}

#[test]
fn the_80_percent_counts_active_members_not_votes_cast_nor_all_members() {
    // rule G4: ten members; five go dormant for over 90 days. Of the five active, four yes
    // ballots are 80% of active membership (though 40% of all members); one yes and nobody
    // against is 100% of votes cast but 20% of active membership.
    let mut h = Harness::new(&default_rules());
    let members: Vec<Person> = (0..10).map(|i| h.member(i, true)).collect();
    h.advance_to(TradingDay(FIRST_DAY.0 + 100));
    let passes = h.propose(&members[0], amendment(1)).unwrap();
    let fails = h.propose(&members[0], amendment(2)).unwrap();
    for member in &members[1..5] {
        h.vote(member, passes, Choice::Yes).unwrap();
    }
    h.vote(&members[0], passes, Choice::No).unwrap();
    h.vote(&members[1], fails, Choice::Yes).unwrap();
    let events = h.close_proposal(passes).unwrap();
    assert_eq!(decided(&events), (true, 4, 5));
    let events = h
        .exchange(Command::CloseProposal { proposal: fails })
        .unwrap();
    assert_eq!(decided(&events), (false, 1, 5));
}

#[test]
fn a_ballot_needs_valid_signatures_and_a_member_votes_once() {
    // rule G3: each refusal has its own code and changes nothing.
    let mut h = Harness::new(&default_rules());
    let alice = h.member(1, true);
    let bob = h.member(2, true);
    let proposal = h.propose(&alice, amendment(1)).unwrap();

    // The member's own signature over the ballot is bad.
    let ballot = h.ballot_command(&alice, proposal, Choice::Yes);
    let mut envelope = h.envelope(&alice.key, ballot);
    envelope.signature = Some(Signature([3; 64]));
    let before = h.state.hash();
    assert_eq!(
        h.submit_envelope(envelope).unwrap_err().code(),
        "bad_signature"
    );
    assert_eq!(h.state.hash(), before);

    // The device's user-presence signature is tampered with.
    let mut ballot = h.ballot_command(&alice, proposal, Choice::Yes);
    if let Command::CastBallot { presence, .. } = &mut ballot {
        presence.0[5] ^= 1;
    }
    check_refused(&mut h, &alice.key, ballot, "bad_presence");

    // Presence signed by a device that is not the member's (bob's), though valid.
    let impostor = Person {
        key: alice.key.clone(),
        device: bob.device.clone(),
        id: alice.id,
    };
    let ballot = h.ballot_command(&impostor, proposal, Choice::Yes);
    check_refused(&mut h, &alice.key, ballot, "bad_presence");

    // A presence signature over another choice does not carry over.
    let mut ballot = h.ballot_command(&alice, proposal, Choice::Yes);
    if let Command::CastBallot { choice, .. } = &mut ballot {
        *choice = Choice::No;
    }
    check_refused(&mut h, &alice.key, ballot, "bad_presence");

    let events = h.vote(&alice, proposal, Choice::Yes).unwrap();
    assert!(matches!(events[0], Event::BallotCast { .. }));
    let again = h.ballot_command(&alice, proposal, Choice::No);
    check_refused(&mut h, &alice.key, again, "ballot_repeated");

    // Not a candidate choice on a motion; unknown proposals; after the period.
    let candidate = h.ballot_command(&bob, proposal, Choice::Candidate(member_id(&alice)));
    check_refused(&mut h, &bob.key, candidate, "bad_choice");
    let unknown = h.ballot_command(&bob, 99, Choice::Yes);
    check_refused(&mut h, &bob.key, unknown, "unknown_proposal");
    // Someone who registered after the proposal opened may not vote on it.
    let late = h.member(3, true);
    let ballot = h.ballot_command(&late, proposal, Choice::Yes);
    check_refused(&mut h, &late.key, ballot, "not_voter");
    let exchange = h.exchange.clone();
    check_refused(
        &mut h,
        &exchange,
        Command::CloseProposal { proposal },
        "voting_open",
    );
    h.close_proposal(proposal).unwrap();
    let ballot = h.ballot_command(&bob, proposal, Choice::Yes);
    check_refused(&mut h, &bob.key, ballot, "voting_closed");
}

#[test]
fn voters_earn_the_participation_bonus_at_the_next_run() {
    // rule G3: two founding members, one votes. January's only income is a $50 fee of a basket
    // nobody offered on; members' side $45 splits equally; operations' $5 pays the $0.10 bonus
    // first, and the $4.90 surplus splits 8 : 1 : 1, the cohort's $0.49 equally.
    let mut h = Harness::starting(&default_rules(), day(27));
    let voter = h.member(1, true);
    let abstainer = h.member(2, true);
    let buyer = h.buyer(1, 100_000_000);
    let basket = h
        .post(&buyer, spec(assay_core::Category::Browsing, 1, 3))
        .unwrap();
    h.exchange(Command::CloseBasket { basket }).unwrap();
    let proposal = h.propose(&voter, amendment(1)).unwrap();
    h.vote(&voter, proposal, Choice::Yes).unwrap();
    h.advance_to(day(31)); // January's run, on February 1
    let report = run_report(&h.events).unwrap();
    assert_eq!(report.bonuses_owed, Micros::new(100_000));
    assert_eq!(report.operations.bonuses_paid, Micros::new(100_000));
    assert_eq!(report.operations.builders, Micros::new(3_920_000));
    report.check_conservation().unwrap();
    assert_eq!(
        payouts(&h.events),
        vec![
            (voter.id, 22_500_000 + 245_000 + 100_000),
            (abstainer.id, 22_500_000 + 245_000)
        ]
    );
    assert_eq!(h.state.members[voter.id as usize].balance.ballots, 0);
}

#[test]
fn the_gate_refuses_any_amendment_of_a_principle() {
    // rule G5
    let mut h = Harness::new(&default_rules());
    let member = h.member(1, true);
    for (clause, _) in IMMUTABLE_CLAUSES {
        let kind = ProposalKind::Amendment {
            changes: vec![
                ClauseChange {
                    clause: Clause::Bylaw(4),
                    text_hash: [4; 32],
                },
                ClauseChange {
                    clause,
                    text_hash: [0; 32],
                },
            ],
        };
        check_refused(
            &mut h,
            &member.key,
            Command::Propose { kind },
            "immutable_clause",
        );
    }
    let empty = ProposalKind::Amendment { changes: vec![] };
    check_refused(
        &mut h,
        &member.key,
        Command::Propose { kind: empty },
        "empty_proposal",
    );
    for (clause, text) in IMMUTABLE_CLAUSES {
        assert_eq!(h.state.governance.bylaws[&clause], clause_text_hash(text));
    }
}

#[test]
fn a_rules_change_takes_effect_only_through_a_passed_vote_and_its_hash_is_logged() {
    // rule G6
    let mut h = Harness::new(&default_rules());
    let members: Vec<Person> = (0..5).map(|i| h.member(i, true)).collect();
    let mut changed = default_rules();
    changed.floor.ratio_bps = 9_000;
    let json = changed.canonical_json();

    // Rules members could not be given (X1.1) cannot even be proposed.
    let mut broken = default_rules();
    broken.waterfall.members_bps = 8_900;
    broken.waterfall.builders_bps = 900;
    let kind = ProposalKind::RulesChange {
        rules_json: broken.canonical_json(),
    };
    check_refused(
        &mut h,
        &members[0].key,
        Command::Propose { kind },
        "rules_invalid",
    );

    // A vote that fails leaves the rules as they are.
    let kind = ProposalKind::RulesChange {
        rules_json: json.clone(),
    };
    let failed = h.propose(&members[0], kind.clone()).unwrap();
    for member in &members[..3] {
        h.vote(member, failed, Choice::Yes).unwrap();
    }
    assert!(!decided(&h.close_proposal(failed).unwrap()).0);
    let adopt = |proposal| Command::AdoptRules {
        rules_json: json.clone(),
        proposal,
    };
    check_refused(&mut h, &members[1].key, adopt(failed), "no_passed_vote");

    let passed = h.propose(&members[0], kind).unwrap();
    for member in &members[..4] {
        h.vote(member, passed, Choice::Yes).unwrap();
    }
    assert!(decided(&h.close_proposal(passed).unwrap()).0);
    // Only exactly the voted parameters.
    let mut other = changed.clone();
    other.floor.ratio_bps = 8_000;
    let wrong = Command::AdoptRules {
        rules_json: other.canonical_json(),
        proposal: passed,
    };
    check_refused(&mut h, &members[1].key, wrong, "no_passed_vote");
    // Anyone may adopt it: here a member who voted against nothing at all.
    let events = h.submit(&members[4].key, adopt(passed)).unwrap();
    assert_eq!(
        events,
        vec![Event::RulesAdopted {
            proposal: passed,
            rules_hash: changed.hash()
        }]
    );
    assert_eq!(
        h.state.exchange.as_ref().unwrap().rules_hash,
        changed.hash()
    );
    assert_eq!(h.rules().floor.ratio_bps, 9_000);
    check_refused(&mut h, &members[4].key, adopt(passed), "no_passed_vote");
}

#[test]
fn the_board_is_elected_founders_first_one_term_each_with_staggered_terms() {
    // rules G1, G2
    let mut h = Harness::new(&default_rules());
    let founders: Vec<Person> = (0..3).map(|i| h.member(i, true)).collect();
    let public = h.member(10, false);

    let seat_0 = h
        .propose(&public, ProposalKind::Election { seat: 0 })
        .unwrap();
    let stand = |proposal| Command::Stand { proposal };
    check_refused(&mut h, &public.key, stand(seat_0), "not_eligible");
    for founder in &founders[..2] {
        h.submit(&founder.key, stand(seat_0)).unwrap();
    }
    check_refused(&mut h, &founders[0].key, stand(seat_0), "already_standing");
    let kind = ProposalKind::Election { seat: 0 };
    check_refused(
        &mut h,
        &public.key,
        Command::Propose { kind },
        "election_open",
    );
    let kind = ProposalKind::Election { seat: 5 };
    check_refused(
        &mut h,
        &public.key,
        Command::Propose { kind },
        "unknown_seat",
    );
    let no_candidate = h.ballot_command(&public, seat_0, Choice::Candidate(member_id(&public)));
    check_refused(&mut h, &public.key, no_candidate, "bad_choice");
    let f1 = member_id(&founders[1]);
    for voter in [&founders[0], &founders[1], &public] {
        h.vote(voter, seat_0, Choice::Candidate(f1)).unwrap();
    }
    h.vote(
        &founders[2],
        seat_0,
        Choice::Candidate(member_id(&founders[0])),
    )
    .unwrap();
    let events = h.close_proposal(seat_0).unwrap();
    // Genesis is 2026-01-01: seat 0's first term ends after one year.
    let first_term_end = TradingDay::from_civil(2027, 1, 1);
    assert_eq!(
        events,
        vec![Event::BoardSeated {
            proposal: seat_0,
            seat: 0,
            member: f1,
            votes: 3,
            term_ends: first_term_end,
        }]
    );
    let kind = ProposalKind::Election { seat: 0 };
    check_refused(
        &mut h,
        &public.key,
        Command::Propose { kind },
        "seat_filled",
    );

    // One term per lifetime: F1 may not stand again. F3 is banned, F0 serves on seat 1: no
    // founding member is eligible any more, so the public member may stand.
    let seat_1 = h
        .propose(&public, ProposalKind::Election { seat: 1 })
        .unwrap();
    check_refused(&mut h, &founders[1].key, stand(seat_1), "not_eligible");
    h.submit(&founders[0].key, stand(seat_1)).unwrap();
    h.vote(&public, seat_1, Choice::Candidate(member_id(&founders[0])))
        .unwrap();
    h.close_proposal(seat_1).unwrap();
    h.exchange(Command::Ban {
        party: assay_engine::Party::Member(member_id(&founders[2])),
        evidence_hash: [1; 32],
    })
    .unwrap();
    let seat_2 = h
        .propose(&public, ProposalKind::Election { seat: 2 })
        .unwrap();
    h.submit(&public.key, stand(seat_2)).unwrap();
    h.vote(&founders[0], seat_2, Choice::Candidate(member_id(&public)))
        .unwrap();
    let events = h.close_proposal(seat_2).unwrap();
    assert!(
        matches!(events[0], Event::BoardSeated { seat: 2, term_ends, .. }
        if term_ends == TradingDay::from_civil(2029, 1, 1))
    );

    // Each year the most senior seat is replaced: on 2027-01-01 seat 0 is vacant, and its next
    // term runs five years.
    h.advance_to(first_term_end);
    assert_eq!(h.state.governance.holder(0, first_term_end), None);
    assert!(h.state.governance.holder(1, first_term_end).is_some());
    let newcomer = h.member(11, false);
    let seat_0 = h
        .propose(&newcomer, ProposalKind::Election { seat: 0 })
        .unwrap();
    h.submit(&newcomer.key, stand(seat_0)).unwrap();
    h.vote(&newcomer, seat_0, Choice::Candidate(member_id(&newcomer)))
        .unwrap();
    let events = h.close_proposal(seat_0).unwrap();
    assert!(
        matches!(events[0], Event::BoardSeated { seat: 0, term_ends, .. }
        if term_ends == TradingDay::from_civil(2032, 1, 1))
    );
}
