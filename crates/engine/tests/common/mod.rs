//! A small driver for engine tests: keys from seeds, sequence numbers from the state, a clock
//! that only moves forward, and every accepted entry kept for replay.
#![allow(dead_code)] // Each test file uses a different part of the driver.

pub mod scenario;
pub mod world;

use assay_core::{BasketId, BuyerId, Category, MemberId, Micros, Rules, Timestamp, TradingDay};
use assay_engine::command::{ballot_message, eligibility_message, sign_bytes};
use assay_engine::{
    execute, Choice, Command, Envelope, Event, Input, Outcome, PayoutChoice, Rail, Refusal, State,
};
use assay_log::NoteSigner;
use assay_market::{BasketSpec, ProfileFilter};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

pub fn default_rules() -> Rules {
    Rules::from_toml_str(include_str!("../../../../rules/default.toml")).unwrap()
}

pub fn key(seed: u64) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(seed.to_be_bytes()).into())
}

/// 2026-01-01 (a Thursday), the first day of the test markets.
pub const FIRST_DAY: TradingDay = TradingDay(20_454);

/// The test log's checkpoint origin; its key is [`log_signer`].
pub const LOG_ORIGIN: &str = "assay.test/log";

/// The key that signs the test log's checkpoints (X1.4).
pub fn log_signer() -> NoteSigner {
    NoteSigner::new(LOG_ORIGIN, &[0x5A; 32]).unwrap()
}

/// A checkpoint note of `origin` for `size` whose root is the leaf hash of `[root_seed]`.
pub fn checkpoint_note(origin: &str, size: u64, root_seed: u8, signer: &NoteSigner) -> String {
    let root = assay_log::leaf_hash(&[root_seed]);
    assay_log::Checkpoint::new(origin, size, root)
        .unwrap()
        .sign(signer)
        .unwrap()
        .to_text()
}

/// Two checkpoints of the test log for one size with different roots: an equivocation (X1.4).
pub fn equivocation() -> Command {
    let signer = log_signer();
    Command::ProveEquivocation {
        first_note: checkpoint_note(LOG_ORIGIN, 10, 1, &signer),
        second_note: checkpoint_note(LOG_ORIGIN, 10, 2, &signer),
    }
}

#[derive(Clone)]
pub struct Person {
    pub key: SigningKey,
    pub device: SigningKey,
    pub id: u64,
}

#[derive(Clone)]
pub struct Harness {
    pub state: State,
    pub entries: Vec<Vec<u8>>,
    pub now: Timestamp,
    pub exchange: SigningKey,
    pub events: Vec<Event>,
}

impl Harness {
    pub fn new(rules: &Rules) -> Harness {
        Harness::starting(rules, FIRST_DAY)
    }

    /// A market whose genesis is on `day`.
    pub fn starting(rules: &Rules, day: TradingDay) -> Harness {
        let mut harness = Harness {
            state: State::new(),
            entries: Vec::new(),
            now: Timestamp(day.start().0 + 1_000_000),
            exchange: key(0),
            events: Vec::new(),
        };
        let exchange = harness.exchange.clone();
        harness
            .submit(
                &exchange,
                Command::Genesis {
                    rules_json: rules.canonical_json(),
                    log_origin: LOG_ORIGIN.to_string(),
                    log_vkey: log_signer().verifier_key().to_vkey(),
                },
            )
            .unwrap();
        harness
    }

    pub fn rules(&self) -> &Rules {
        self.state.rules().unwrap()
    }

    /// Signs `command` with the signer's next sequence number.
    pub fn envelope(&self, signer: &SigningKey, command: Command) -> Envelope {
        let public = assay_core::PublicKey::from(signer.verifying_key());
        let sequence = self.state.sequences.get(&public).copied().unwrap_or(0);
        Envelope::sign(signer, sequence, command)
    }

    pub fn input(&mut self, envelope: Envelope) -> Input {
        self.now = Timestamp(self.now.0 + 1);
        Input {
            envelope,
            timestamp: self.now,
        }
    }

    pub fn submit_envelope(&mut self, envelope: Envelope) -> Outcome {
        let input = self.input(envelope);
        let (events, entry) = execute(&mut self.state, input)?;
        self.entries.push(entry.encode());
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    pub fn submit(&mut self, signer: &SigningKey, command: Command) -> Outcome {
        let envelope = self.envelope(signer, command);
        self.submit_envelope(envelope)
    }

    pub fn exchange(&mut self, command: Command) -> Outcome {
        let exchange = self.exchange.clone();
        self.submit(&exchange, command)
    }

    pub fn member(&mut self, seed: u64, founding: bool) -> Person {
        self.member_on(seed, founding, Rail::Usdc)
    }

    /// A member paid on `rail` (D4).
    pub fn member_on(&mut self, seed: u64, founding: bool, rail: Rail) -> Person {
        let key = key(1_000_000 + seed);
        let device = key_device(seed);
        let payout = PayoutChoice {
            rail,
            destination_commitment: [seed as u8; 32],
        };
        let device_key = device.verifying_key().into();
        let events = if founding {
            let member_key = key.verifying_key().into();
            self.exchange(Command::RegisterFoundingMember {
                member_key,
                device_key,
                payout,
            })
        } else {
            self.submit(&key, Command::RegisterMember { device_key, payout })
        }
        .unwrap();
        let Event::MemberRegistered { member, .. } = events[0] else {
            panic!("{events:?}")
        };
        Person {
            key,
            device,
            id: member.0,
        }
    }

    pub fn buyer(&mut self, seed: u64, funds: u64) -> Person {
        let key = key(2_000_000 + seed);
        let events = self.submit(&key, Command::RegisterBuyer).unwrap();
        let Event::BuyerRegistered { buyer } = events[0] else {
            panic!("{events:?}")
        };
        if funds > 0 {
            // One bank reference per deposit (the engine refuses a repeat).
            let mut deposit_reference = [1; 32];
            deposit_reference[..8].copy_from_slice(&seed.to_be_bytes());
            self.exchange(Command::FundBuyer {
                buyer,
                amount: Micros::new(funds),
                deposit_reference,
            })
            .unwrap();
        }
        Person {
            device: key.clone(),
            key,
            id: buyer.0,
        }
    }

    pub fn post(&mut self, buyer: &Person, spec: BasketSpec) -> Result<BasketId, Refusal> {
        let events = self.submit(&buyer.key, Command::PostBasket { spec })?;
        match events[0] {
            Event::BasketPosted { basket, .. } | Event::BasketRefused { basket, .. } => Ok(basket),
            _ => panic!("{events:?}"),
        }
    }

    pub fn offer_command(
        &self,
        member: &Person,
        basket: BasketId,
        reserve: u64,
        tag: u64,
    ) -> Command {
        let member_key = member.key.verifying_key().into();
        let message = eligibility_message(basket, &member_key, Micros::new(reserve));
        Command::Offer {
            basket,
            device_key: member.device.verifying_key().into(),
            reserve_unit_price: Micros::new(reserve),
            profile_tag: tag,
            attestation: sign_bytes(&member.device, &message),
        }
    }

    pub fn offer(&mut self, member: &Person, basket: BasketId, reserve: u64, tag: u64) -> Outcome {
        let command = self.offer_command(member, basket, reserve, tag);
        self.submit(&member.key, command)
    }

    pub fn bid(&mut self, buyer: &Person, basket: BasketId, unit_price: u64) -> Outcome {
        self.submit(
            &buyer.key,
            Command::Bid {
                basket,
                unit_price: Micros::new(unit_price),
            },
        )
    }

    /// Closes the open trading day (and runs the month when it was the month's last day, and
    /// records the run's payouts as settled, as an exchange doing its duty does: D6).
    pub fn close_day(&mut self) -> Vec<Event> {
        let day = self.state.open_day;
        let next_start = TradingDay(day.0 + 1).start();
        if self.now < next_start {
            self.now = next_start;
        }
        let mut events = self.exchange(Command::CloseTradingDay { day }).unwrap();
        if let Some(month) = self.state.run_pending {
            events.extend(
                self.exchange(Command::RunMonthlyDistribution { month })
                    .unwrap(),
            );
            if let Some(run) = &self.state.unsettled {
                let payout_root = run.payout_root;
                let files = self.faithful_files();
                events.extend(
                    self.exchange(Command::RecordPayoutFiles {
                        payout_root,
                        files,
                        held: Vec::new(),
                    })
                    .unwrap(),
                );
                events.extend(
                    self.exchange(Command::SettlePayouts {
                        payout_root,
                        settlement_reference: [0x5E; 32],
                    })
                    .unwrap(),
                );
            }
        }
        events
    }

    /// One file per rail that has lines, as a faithful rails run would list the unsettled run.
    pub fn faithful_files(&self) -> Vec<assay_engine::PayoutFile> {
        assay_engine::run_rail_totals(&self.state, |_| false)
            .expect("a run is unsettled")
            .unwrap()
            .into_iter()
            .filter(|(_, lines, _)| *lines > 0)
            .map(|(rail, lines, total)| assay_engine::PayoutFile {
                name: format!("{rail:?}.test").to_lowercase(),
                sha256: [lines as u8; 32],
                rail,
                lines,
                total,
            })
            .collect()
    }

    /// Closes trading days until `day` is the open one.
    pub fn advance_to(&mut self, day: TradingDay) {
        while self.state.open_day < day {
            self.close_day();
        }
    }

    /// A ballot with a valid user-presence signature by the member's device.
    pub fn ballot_command(&self, member: &Person, proposal: u64, choice: Choice) -> Command {
        let member_key = member.key.verifying_key().into();
        let message = ballot_message(proposal, &member_key, choice);
        Command::CastBallot {
            proposal,
            choice,
            device_key: member.device.verifying_key().into(),
            presence: sign_bytes(&member.device, &message),
        }
    }

    pub fn vote(&mut self, member: &Person, proposal: u64, choice: Choice) -> Outcome {
        let command = self.ballot_command(member, proposal, choice);
        self.submit(&member.key, command)
    }

    /// Opens a proposal signed by `member` and returns its number.
    pub fn propose(
        &mut self,
        member: &Person,
        kind: assay_engine::ProposalKind,
    ) -> Result<u64, Refusal> {
        let events = self.submit(&member.key, Command::Propose { kind })?;
        match events[0] {
            Event::ProposalOpened { proposal, .. } => Ok(proposal),
            _ => panic!("{events:?}"),
        }
    }

    /// Moves the clock past `proposal`'s voting period (closing days on the way) and tallies.
    pub fn close_proposal(&mut self, proposal: u64) -> Outcome {
        let closes = self.state.governance.proposals[&proposal].closes;
        self.advance_to(TradingDay(closes.trading_day().0 + 1));
        let exchange = self.exchange.clone();
        self.submit(&exchange, Command::CloseProposal { proposal })
    }
}

fn key_device(seed: u64) -> SigningKey {
    key(3_000_000 + seed)
}

pub fn spec(category: Category, members_per_slot: u32, slots: u8) -> BasketSpec {
    BasketSpec {
        category,
        filter: ProfileFilter::default(),
        window_days: 30,
        members_per_slot,
        slots,
    }
}

pub fn member_id(person: &Person) -> MemberId {
    MemberId(person.id)
}

pub fn buyer_id(person: &Person) -> BuyerId {
    BuyerId(person.id)
}

/// The report of the first monthly run among `events`, if one was recorded.
pub fn run_report(events: &[Event]) -> Option<Box<assay_coop::RunReport>> {
    events.iter().find_map(|event| match event {
        Event::MonthlyRunRecorded { report, .. } => Some(report.clone()),
        _ => None,
    })
}
