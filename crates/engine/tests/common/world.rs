//! Random well-formed governance and market streams for the pill's laws (`pill_laws.rs`): six
//! members, two buyers, and an exchange that closes every day, runs every month and settles its
//! payouts on time.

use super::scenario::{day, off_take};
use super::*;
use assay_coop::{Clause, ClauseChange};
use assay_engine::governance::Motion;
use assay_engine::{Party, ProposalKind};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub enum Step {
    Post {
        buyer: usize,
        category: usize,
    },
    Offer {
        member: usize,
        basket: usize,
    },
    Bid {
        buyer: usize,
        basket: usize,
        premium_bps: u64,
    },
    CloseBasket {
        basket: usize,
    },
    CloseDays {
        days: u8,
    },
    OffTake {
        buyer: usize,
        member: usize,
        value: u64,
    },
    MidMonth {
        member: usize,
    },
    Cost {
        amount: u64,
    },
    Election {
        member: usize,
        seat: u8,
    },
    Amendment {
        member: usize,
        clauses: Vec<u8>,
    },
    RulesChange {
        member: usize,
        members_bps: u32,
    },
    Stand {
        member: usize,
        proposal: usize,
    },
    Vote {
        member: usize,
        proposal: usize,
        choice: u8,
    },
    CloseProposal {
        proposal: usize,
    },
    Adopt {
        proposal: usize,
    },
    Ban {
        party: usize,
    },
    Appeal {
        party: usize,
    },
    BadEquivocation {
        kind: u8,
    },
    Settle {
        root: u8,
    },
    /// An election opened, a member standing and everyone voting for them.
    Campaign {
        member: usize,
        seat: u8,
    },
    /// An amendment with `yes` members for it and the rest against.
    Referendum {
        clauses: Vec<u8>,
        yes: usize,
    },
    /// Every proposal whose voting period ended is tallied.
    CloseDue,
}

pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (0usize..2, 0usize..5).prop_map(|(buyer, category)| Step::Post { buyer, category }),
        6 => (0usize..6, 0usize..4).prop_map(|(member, basket)| Step::Offer { member, basket }),
        2 => (0usize..2, 0usize..4, 1_000u64..20_000).prop_map(|(buyer, basket, premium_bps)| Step::Bid { buyer, basket, premium_bps }),
        1 => (0usize..4).prop_map(|basket| Step::CloseBasket { basket }),
        3 => (1u8..16).prop_map(|days| Step::CloseDays { days }),
        1 => (0usize..2, 0usize..6, 1u64..50_000_000).prop_map(|(buyer, member, value)| Step::OffTake { buyer, member, value }),
        1 => (0usize..6).prop_map(|member| Step::MidMonth { member }),
        1 => (0u64..20_000_000).prop_map(|amount| Step::Cost { amount }),
        2 => (0usize..6, 0u8..6).prop_map(|(member, seat)| Step::Election { member, seat }),
        3 => (0usize..6, proptest::collection::vec(0u8..8, 0..4)).prop_map(|(member, clauses)| Step::Amendment { member, clauses }),
        2 => (0usize..6, 8_500u32..9_800).prop_map(|(member, members_bps)| Step::RulesChange { member, members_bps }),
        2 => (0usize..6, 0usize..8).prop_map(|(member, proposal)| Step::Stand { member, proposal }),
        8 => (0usize..6, 0usize..8, 0u8..3).prop_map(|(member, proposal, choice)| Step::Vote { member, proposal, choice }),
        2 => (0usize..8).prop_map(|proposal| Step::CloseProposal { proposal }),
        1 => (0usize..8).prop_map(|proposal| Step::Adopt { proposal }),
        1 => (0usize..8).prop_map(|party| Step::Ban { party }),
        1 => (0usize..8).prop_map(|party| Step::Appeal { party }),
        1 => (0u8..3).prop_map(|kind| Step::BadEquivocation { kind }),
        1 => any::<u8>().prop_map(|root| Step::Settle { root }),
        2 => (0usize..6, 0u8..5).prop_map(|(member, seat)| Step::Campaign { member, seat }),
        2 => (proptest::collection::vec(0u8..8, 1..3), 3usize..7).prop_map(|(clauses, yes)| Step::Referendum { clauses, yes }),
        2 => Just(Step::CloseDue),
    ]
}

/// A clause from a small code: 0–2 are the principles, the rest bylaws.
pub fn clause(code: u8) -> Clause {
    match code {
        0 => Clause::Purpose,
        1 => Clause::NothingToCapture,
        2 => Clause::PoisonPill,
        n => Clause::Bylaw(u32::from(n)),
    }
}

/// A cooperative of 6 members (3 founding) and 2 funded buyers, doing `steps`; the exchange
/// closes every day, runs every month and settles its payouts on time (`Harness::close_day`).
pub struct World {
    pub h: Harness,
    pub members: Vec<Person>,
    pub buyers: Vec<Person>,
    rules_json: BTreeMap<u64, String>,
}

impl World {
    pub fn new() -> World {
        let mut h = Harness::starting(&default_rules(), day(20));
        let members = (0..6).map(|i| h.member(i, i < 3)).collect();
        let buyers = (0..2).map(|i| h.buyer(i, 10_000_000_000)).collect();
        World {
            h,
            members,
            buyers,
            rules_json: BTreeMap::new(),
        }
    }

    fn proposal(&self, index: usize) -> u64 {
        let next = self.h.state.governance.next_proposal;
        index as u64 % (next + 1)
    }

    fn basket(&self, index: usize) -> Option<BasketId> {
        let open: Vec<BasketId> = self.h.state.baskets.keys().copied().collect();
        (!open.is_empty()).then(|| open[index % open.len()])
    }

    pub fn play(&mut self, step: &Step) {
        let h = &mut self.h;
        let _ = match step {
            Step::Post { buyer, category } => {
                let category = Category::ALL[*category];
                let slots = h.rules().tier_of(category).slots_min;
                h.post(&self.buyers[*buyer], spec(category, 1, slots))
                    .map(|_| Vec::new())
            }
            Step::Offer { member, basket } => match self.basket(*basket) {
                Some(basket) => self
                    .h
                    .offer(&self.members[*member], basket, 0, *member as u64 % 2),
                None => Ok(Vec::new()),
            },
            Step::Bid {
                buyer,
                basket,
                premium_bps,
            } => match self.basket(*basket) {
                Some(basket) => {
                    let category = self.h.state.baskets[&basket].spec.category;
                    let spot = self.h.state.market(category).history.spot().get();
                    self.h.bid(
                        &self.buyers[*buyer],
                        basket,
                        spot + spot * premium_bps / 10_000,
                    )
                }
                None => Ok(Vec::new()),
            },
            Step::CloseBasket { basket } => match self.basket(*basket) {
                Some(basket) => self.h.exchange(Command::CloseBasket { basket }),
                None => Ok(Vec::new()),
            },
            Step::CloseDays { days } => {
                for _ in 0..*days {
                    h.close_day();
                }
                Ok(Vec::new())
            }
            Step::OffTake {
                buyer,
                member,
                value,
            } => off_take(h, &self.buyers[*buyer], &self.members[*member], *value),
            Step::MidMonth { member } => {
                h.submit(&self.members[*member].key, Command::RequestMidMonthPayout)
            }
            Step::Cost { amount } => h.exchange(Command::RecordOperatingCost {
                amount: Micros::new(*amount),
                invoice_hash: [0; 32],
            }),
            Step::Election { member, seat } => h
                .propose(
                    &self.members[*member],
                    ProposalKind::Election { seat: *seat },
                )
                .map(|_| Vec::new()),
            Step::Amendment { member, clauses } => {
                let changes = clauses
                    .iter()
                    .map(|&code| ClauseChange {
                        clause: clause(code),
                        text_hash: [code; 32],
                    })
                    .collect();
                h.propose(&self.members[*member], ProposalKind::Amendment { changes })
                    .map(|_| Vec::new())
            }
            Step::RulesChange {
                member,
                members_bps,
            } => {
                let mut rules = default_rules();
                rules.waterfall.members_bps = *members_bps;
                rules.waterfall.builders_bps = 10_000 - members_bps - 200;
                let rules_json = rules.canonical_json();
                let outcome = h.propose(
                    &self.members[*member],
                    ProposalKind::RulesChange {
                        rules_json: rules_json.clone(),
                    },
                );
                if let Ok(id) = outcome {
                    self.rules_json.insert(id, rules_json);
                    // Half the time the whole membership backs it.
                    if members_bps % 2 == 0 {
                        for voter in &self.members {
                            let _ = h.vote(voter, id, Choice::Yes);
                        }
                    }
                }
                Ok(Vec::new())
            }
            Step::Stand { member, proposal } => {
                let proposal = self.proposal(*proposal);
                self.h
                    .submit(&self.members[*member].key, Command::Stand { proposal })
            }
            Step::Vote {
                member,
                proposal,
                choice,
            } => {
                let proposal = self.proposal(*proposal);
                let choice = match choice {
                    0 => Choice::Yes,
                    1 => Choice::No,
                    _ => match self
                        .h
                        .state
                        .governance
                        .proposals
                        .get(&proposal)
                        .map(|p| &p.motion)
                    {
                        Some(Motion::Election { candidates, .. }) if !candidates.is_empty() => {
                            Choice::Candidate(candidates[*member % candidates.len()])
                        }
                        _ => Choice::Candidate(MemberId(*member as u64)),
                    },
                };
                let member = self.members[*member].clone();
                self.h.vote(&member, proposal, choice)
            }
            Step::CloseProposal { proposal } => {
                let proposal = self.proposal(*proposal);
                self.h.exchange(Command::CloseProposal { proposal })
            }
            Step::Adopt { proposal } => {
                let proposal = self.proposal(*proposal);
                let rules_json = self.rules_json.get(&proposal).cloned().unwrap_or_default();
                let signer = self.members[0].key.clone();
                self.h.submit(
                    &signer,
                    Command::AdoptRules {
                        rules_json,
                        proposal,
                    },
                )
            }
            Step::Ban { party } => {
                let party = if *party < 6 {
                    Party::Member(MemberId(*party as u64))
                } else {
                    Party::Buyer(BuyerId(*party as u64 - 6))
                };
                h.exchange(Command::Ban {
                    party,
                    evidence_hash: [0; 32],
                })
            }
            Step::Appeal { party } => {
                let signer = if *party < 6 {
                    self.members[*party].key.clone()
                } else {
                    self.buyers[*party - 6].key.clone()
                };
                h.submit(
                    &signer,
                    Command::Appeal {
                        statement_hash: [0; 32],
                    },
                )
            }
            Step::BadEquivocation { kind } => {
                let signer = log_signer();
                let impostor = assay_log::NoteSigner::new(LOG_ORIGIN, &[3; 32]).unwrap();
                let (first, second) = match kind {
                    0 => (
                        checkpoint_note(LOG_ORIGIN, 5, 1, &signer),
                        checkpoint_note(LOG_ORIGIN, 5, 1, &signer),
                    ),
                    1 => (
                        checkpoint_note(LOG_ORIGIN, 5, 1, &signer),
                        checkpoint_note(LOG_ORIGIN, 6, 2, &signer),
                    ),
                    _ => (
                        checkpoint_note(LOG_ORIGIN, 5, 1, &signer),
                        checkpoint_note(LOG_ORIGIN, 5, 2, &impostor),
                    ),
                };
                h.submit(
                    &key(55),
                    Command::ProveEquivocation {
                        first_note: first,
                        second_note: second,
                    },
                )
            }
            Step::Settle { root } => h.exchange(Command::SettlePayouts {
                payout_root: [*root; 32],
                settlement_reference: [0; 32],
            }),
            Step::Campaign { member, seat } => {
                let members = self.members.clone();
                let candidate = &members[*member];
                if let Ok(id) = h.propose(candidate, ProposalKind::Election { seat: *seat }) {
                    let _ = h.submit(&candidate.key, Command::Stand { proposal: id });
                    for voter in &members {
                        let _ = h.vote(voter, id, Choice::Candidate(member_id(candidate)));
                    }
                }
                Ok(Vec::new())
            }
            Step::Referendum { clauses, yes } => {
                let members = self.members.clone();
                let changes = clauses
                    .iter()
                    .map(|&code| ClauseChange {
                        clause: clause(code),
                        text_hash: [code; 32],
                    })
                    .collect();
                if let Ok(id) = h.propose(&members[0], ProposalKind::Amendment { changes }) {
                    for (index, voter) in members.iter().enumerate() {
                        let choice = if index < *yes {
                            Choice::Yes
                        } else {
                            Choice::No
                        };
                        let _ = h.vote(voter, id, choice);
                    }
                }
                Ok(Vec::new())
            }
            Step::CloseDue => {
                let now = h.now;
                let due: Vec<u64> = h
                    .state
                    .governance
                    .proposals
                    .iter()
                    .filter(|(_, p)| p.closes < now)
                    .map(|(&id, _)| id)
                    .collect();
                for proposal in due {
                    h.exchange(Command::CloseProposal { proposal }).unwrap();
                }
                // Anyone adopts what passed (G6).
                let passed: Vec<u64> = h.state.governance.passed_rules.keys().copied().collect();
                for proposal in passed {
                    let rules_json = self.rules_json[&proposal].clone();
                    let signer = self.members[5].key.clone();
                    h.submit(
                        &signer,
                        Command::AdoptRules {
                            rules_json,
                            proposal,
                        },
                    )
                    .unwrap();
                }
                Ok(Vec::new())
            }
        };
    }
}
