//! Laws of the pill and the principles (issue 6 acceptance, proptest ≥ 500 cases each):
//! - after termination, no sequence of commands by any actor (exchange, board, members voting
//!   as a majority, buyers, strangers) reverts it or pays anyone;
//! - before any trigger, no sequence of well-formed commands, an exchange that runs and settles
//!   every month on time, swallows the pill by accident;
//! - the three immutable clauses survive every amendment sequence.

mod common;

use assay_coop::governance::{clause_text_hash, IMMUTABLE_CLAUSES};
use assay_coop::{Clause, ClauseChange};
use assay_core::{BasketId, BuyerId, Category, MemberId, Micros, Month, Timestamp, MICROS_PER_DAY};
use assay_engine::governance::{Motion, Proposal};
use assay_engine::{replay, Choice, Command, Event, Party, ProposalKind};
use common::scenario::*;
use common::world::*;
use common::*;
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The February cooperative terminated by triggers 2, 3, 4 and 5.
fn terminated_bases() -> &'static Vec<Coop> {
    static BASES: OnceLock<Vec<Coop>> = OnceLock::new();
    BASES.get_or_init(|| {
        let mut bases = Vec::new();
        // X1.4
        let mut coop = february();
        coop.h.submit(&key(77), equivocation()).unwrap();
        bases.push(coop);
        // X1.2
        let mut coop = february();
        close_february(&mut coop);
        coop.h.now = day(FEBRUARY_28 + 4).start();
        let f2 = coop.f2.clone();
        coop.h
            .submit(&f2.key, Command::RequestMidMonthPayout)
            .unwrap();
        bases.push(coop);
        // X1.3
        let mut coop = february();
        close_february(&mut coop);
        let month = coop.h.state.run_pending.unwrap();
        coop.h
            .exchange(Command::RunMonthlyDistribution { month })
            .unwrap();
        coop.h.now = day(FEBRUARY_28 + 8).start();
        let f1 = coop.f1.clone();
        coop.h
            .submit(&f1.key, Command::RequestMidMonthPayout)
            .unwrap();
        bases.push(coop);
        // X1.5, injected (see pill.rs)
        let mut coop = february();
        let governance = &mut coop.h.state.governance;
        let id = governance.next_proposal;
        governance.next_proposal += 1;
        governance.proposals.insert(
            id,
            Proposal {
                motion: Motion::Amendment {
                    changes: vec![ClauseChange {
                        clause: Clause::Purpose,
                        text_hash: [1; 32],
                    }],
                },
                opened: coop.h.now,
                closes: Timestamp(coop.h.now.0 + MICROS_PER_DAY),
                members_at_open: 3,
                ballots: Default::default(),
            },
        );
        let exchange = coop.h.exchange.clone();
        coop.h
            .submit(&exchange, Command::CloseProposal { proposal: id })
            .unwrap();
        bases.push(coop);
        for coop in &bases {
            assert!(coop.h.state.terminated.is_some());
        }
        bases
    })
}

/// Any command at all, built from small numbers.
fn any_command(coop: &Coop, kind: u8, arg: u64) -> Command {
    let h = &coop.h;
    let member = [&coop.f1, &coop.f2, &coop.p1][arg as usize % 3];
    let rules = default_rules();
    match kind % 22 {
        0 => Command::Genesis {
            rules_json: rules.canonical_json(),
            log_origin: LOG_ORIGIN.to_string(),
            log_vkey: log_signer().verifier_key().to_vkey(),
        },
        1 => Command::RegisterBuyer,
        2 => Command::FundBuyer {
            buyer: BuyerId(0),
            amount: Micros::new(arg),
            deposit_reference: Sha256::digest(arg.to_be_bytes()).into(),
        },
        3 => Command::PostBasket {
            spec: spec(Category::Browsing, 1, 3),
        },
        4 => h.offer_command(member, BasketId(arg % 3), 0, 1),
        5 => Command::Bid {
            basket: BasketId(arg % 3),
            unit_price: Micros::new(30_000),
        },
        6 => Command::CloseTradingDay {
            day: h.state.open_day,
        },
        7 => Command::RecordOperatingCost {
            amount: Micros::new(arg),
            invoice_hash: [0; 32],
        },
        8 => Command::RequestMidMonthPayout,
        9 => Command::RunMonthlyDistribution {
            month: Month {
                year: 2026,
                month: 2 + (arg % 2) as u8,
            },
        },
        10 => Command::Ban {
            party: Party::Member(MemberId(arg % 3)),
            evidence_hash: [0; 32],
        },
        11 => Command::AdoptRules {
            rules_json: rules.canonical_json(),
            proposal: arg % 3,
        },
        12 => Command::Propose {
            kind: ProposalKind::Election { seat: 0 },
        },
        13 => Command::Propose {
            kind: ProposalKind::Amendment {
                changes: vec![ClauseChange {
                    clause: Clause::PoisonPill,
                    text_hash: [0; 32],
                }],
            },
        },
        14 => Command::Stand { proposal: arg % 3 },
        15 => h.ballot_command(member, arg % 3, Choice::Yes),
        16 => Command::CloseProposal { proposal: arg % 3 },
        17 => Command::Appeal {
            statement_hash: [0; 32],
        },
        18 => equivocation(),
        19 => Command::SettlePayouts {
            payout_root: [arg as u8; 32],
            settlement_reference: [0; 32],
        },
        20 => Command::RegisterMember {
            device_key: key(9_000 + arg).verifying_key().into(),
            payout: assay_engine::PayoutChoice {
                rail: assay_engine::Rail::Usdc,
                destination_commitment: [0; 32],
            },
        },
        _ => Command::Receipt {
            grant: arg % 3,
            delivery_hash: [0; 32],
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Rules X2, X3.
    #[test]
    fn after_termination_nothing_reverts_it_or_pays_anyone(
        base in 0usize..4,
        steps in proptest::collection::vec((0u8..7, 0u8..22, 0u64..1_000, 0u16..400), 1..40),
        settle_at in proptest::option::of(0usize..40),
    ) {
        let mut coop = terminated_bases()[base].clone();
        let termination = coop.h.state.terminated.clone().unwrap();
        let events_before = coop.h.events.len();
        for (index, &(actor, kind, arg, days)) in steps.iter().enumerate() {
            // Time passes freely, even for years: no deadline can fire twice.
            coop.h.now = Timestamp(coop.h.now.0 + i64::from(days) * MICROS_PER_DAY);
            let command = if settle_at == Some(index) {
                // The final payout's files, then its settlement (D6, issue 9).
                if coop.h.state.unsettled.is_some() {
                    let record = Command::RecordPayoutFiles {
                        payout_root: termination.payout_root,
                        files: coop.h.faithful_files(),
                        held: Vec::new(),
                    };
                    let events = coop.h.exchange(record).unwrap();
                    prop_assert!(matches!(events.as_slice(), [Event::PayoutFilesRecorded { .. }]), "{events:?}");
                }
                Command::SettlePayouts {
                    payout_root: termination.payout_root,
                    settlement_reference: [9; 32],
                }
            } else {
                any_command(&coop, kind, arg)
            };
            let signer = match actor {
                0 => coop.h.exchange.clone(),
                1 => coop.f1.key.clone(),
                2 => coop.f2.key.clone(),
                3 => coop.p1.key.clone(),
                4 => coop.c.key.clone(),
                _ => key(u64::from(actor) * 1_000 + arg),
            };
            let before = coop.h.state.hash();
            match coop.h.submit(&signer, command) {
                Ok(events) => {
                    prop_assert!(matches!(events.as_slice(), [Event::PayoutsSettled { .. }]), "{events:?}");
                }
                Err(refusal) => {
                    // Signatures are checked before the state is read: a ballot or offer
                    // signed for another member fails there.
                    let allowed = ["terminated", "unknown_payout_root", "not_exchange", "bad_attestation", "bad_presence", "payout_files_missing"];
                    prop_assert!(allowed.contains(&refusal.code()), "{refusal}");
                    prop_assert_eq!(coop.h.state.hash(), before);
                }
            }
            let now = coop.h.state.terminated.as_ref().unwrap();
            prop_assert_eq!(now.trigger, termination.trigger);
            prop_assert_eq!(now.payout_root, termination.payout_root);
        }
        for event in &coop.h.events[events_before..] {
            prop_assert!(matches!(event, Event::PayoutFilesRecorded { held, .. } if held.is_empty()) || matches!(event, Event::PayoutsSettled { .. }), "{event:?}");
        }
        let state = &coop.h.state;
        prop_assert!(state.members.iter().all(|m| m.balance.carried.is_zero() && m.balance.unpaid.is_zero()));
        prop_assert!(state.buyers.iter().all(|b| b.available.is_zero() && b.held.is_zero()));
        prop_assert!(state.books.gross_income.is_zero());
    }
}

/// The principles' text hashes are the founding ones.
fn principles_intact(h: &Harness) -> bool {
    IMMUTABLE_CLAUSES.iter().all(|&(clause, text)| {
        h.state.governance.bylaws.get(&clause) == Some(&clause_text_hash(text))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Rule X1 ("never accidental"), G5, L3.
    #[test]
    fn no_well_formed_sequence_swallows_the_pill_by_accident(
        steps in proptest::collection::vec(step(), 1..80),
    ) {
        let mut world = World::new();
        for step in &steps {
            world.play(step);
            prop_assert!(world.h.state.terminated.is_none(), "after {step:?}");
            prop_assert!(principles_intact(&world.h));
        }
        let terminated = world.h.events.iter().any(|e| matches!(e, Event::Terminated { .. }));
        prop_assert!(!terminated);
        for event in &world.h.events {
            if let Event::MonthlyRunRecorded { report, .. } = event {
                report.check_conservation().unwrap();
            }
        }
        let replayed = replay(world.h.entries.iter().map(Vec::as_slice)).unwrap();
        prop_assert_eq!(replayed.hash(), world.h.state.hash());
    }

    /// Rule G5: whatever amendments are proposed and however members vote, the principles keep
    /// their founding text, and every passed amendment of a bylaw takes effect.
    #[test]
    fn the_immutable_clauses_survive_every_amendment_sequence(
        rounds in proptest::collection::vec(
            proptest::collection::vec((proptest::collection::vec(0u8..6, 1..4), 0usize..7), 1..4),
            1..4,
        ),
    ) {
        let mut h = Harness::new(&default_rules());
        let members: Vec<Person> = (0..6).map(|i| h.member(i, true)).collect();
        let mut expected: BTreeMap<Clause, [u8; 32]> = h.state.governance.bylaws.clone();
        for round in &rounds {
            let mut opened = Vec::new();
            for (number, (clauses, yes_votes)) in round.iter().enumerate() {
                let changes: Vec<ClauseChange> = clauses
                    .iter()
                    .map(|&code| ClauseChange { clause: clause(code), text_hash: [code * 16 + number as u8; 32] })
                    .collect();
                let touches = clauses.iter().any(|&code| code < 3);
                match h.propose(&members[0], ProposalKind::Amendment { changes: changes.clone() }) {
                    Ok(id) => {
                        prop_assert!(!touches);
                        for member in &members[..*yes_votes.min(&6)] {
                            h.vote(member, id, Choice::Yes).unwrap();
                        }
                        opened.push((id, changes, *yes_votes >= 5));
                    }
                    Err(refusal) => {
                        prop_assert!(touches);
                        prop_assert_eq!(refusal.code(), "immutable_clause");
                    }
                }
            }
            for (index, (id, changes, passes)) in opened.iter().enumerate() {
                let events = if index == 0 {
                    h.close_proposal(*id).unwrap()
                } else {
                    h.exchange(Command::CloseProposal { proposal: *id }).unwrap()
                };
                let adopted = events.iter().any(|e| matches!(e, Event::AmendmentAdopted { .. }));
                prop_assert_eq!(adopted, *passes);
                if adopted {
                    for change in changes {
                        expected.insert(change.clause, change.text_hash);
                    }
                }
            }
            prop_assert!(principles_intact(&h));
            prop_assert_eq!(&h.state.governance.bylaws, &expected);
        }
        prop_assert!(h.state.terminated.is_none());
    }
}

#[test]
fn random_governance_streams_reach_runs_seats_and_passed_votes() {
    // Guards the generator: the law above must see months run and settled, seats filled,
    // amendments and rules changes passed, not only refusals.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    for _ in 0..200 {
        let steps = proptest::collection::vec(step(), 60..80)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut world = World::new();
        for step in &steps {
            world.play(step);
        }
        let mut count = |name, found: bool| *seen.entry(name).or_default() += u32::from(found);
        let any = |f: &dyn Fn(&Event) -> bool| world.h.events.iter().any(f);
        count(
            "run",
            any(&|e| matches!(e, Event::MonthlyRunRecorded { .. })),
        );
        count(
            "settled",
            any(&|e| matches!(e, Event::PayoutsSettled { .. })),
        );
        count("seated", any(&|e| matches!(e, Event::BoardSeated { .. })));
        count(
            "amended",
            any(&|e| matches!(e, Event::AmendmentAdopted { .. })),
        );
        count(
            "repriced",
            any(&|e| matches!(e, Event::RulesAdopted { .. })),
        );
        count(
            "decided",
            any(&|e| matches!(e, Event::ProposalDecided { .. })),
        );
        count("banned", any(&|e| matches!(e, Event::PartyBanned { .. })));
        count(
            "appealed",
            any(&|e| matches!(e, Event::AppealOpened { .. })),
        );
    }
    eprintln!("{seen:?}");
    for (name, streams) in &seen {
        assert!(*streams >= 10, "only {streams} of 200 streams: {name}");
    }
}
