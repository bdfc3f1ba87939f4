//! The wallet's market side and checks against the engine itself (no server yet, issue 7):
//! members offer from their vaults (M11, M12), the basket clears (M15), the picked member's
//! wallet delivers sealed data that only the buyer opens, the buyer's receipt is recorded and
//! kept, and the wallet checks the log, its payout line and its earnings (W5).

use assay_core::{BasketId, Category, MemberId, Micros, PublicKey, Rules, Timestamp, TradingDay};
use assay_engine::{execute, Command, Envelope, Event, Input, PayoutChoice, Rail, State};
use assay_log::{
    prove_consistency, prove_inclusion, Checkpoint, Hash, NoteSigner, SignedCheckpoint, Tree,
    VerifierKey,
};
use assay_market::{BasketSpec, ProfileFilter};
use assay_wallet::checker::{
    recompute_earnings, verify_payout_line, witness_vkey, Checker, PayoutLine,
};
use assay_wallet::delivery::DeliverySecret;
use assay_wallet::market::{
    accept_receipt, deliver, eligibility, make_offer, sign_envelope, GrantNotice, Ineligible,
    OpenBasket,
};
use assay_wallet::{synthetic, KeyRole, KeyStore, MemoryStore, Vault};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

const ORIGIN: &str = "exchange.test/assay";
/// 2026-01-01.
const FIRST_DAY: TradingDay = TradingDay(20_454);

fn key(seed: u64) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(seed.to_be_bytes()).into())
}

/// The engine, its log as a Merkle tree, and a clock.
struct Exchange {
    state: State,
    key: SigningKey,
    now: Timestamp,
    tree: Tree,
    stored: Vec<Hash>,
    entries: Vec<Vec<u8>>,
    events: Vec<Event>,
    log_key: NoteSigner,
}

impl Exchange {
    fn new() -> Exchange {
        let rules = Rules::from_toml_str(include_str!("../../../rules/default.toml")).unwrap();
        let mut exchange = Exchange {
            state: State::new(),
            key: key(0),
            now: Timestamp(FIRST_DAY.start().0 + 1_000_000),
            tree: Tree::new(),
            stored: Vec::new(),
            entries: Vec::new(),
            events: Vec::new(),
            log_key: NoteSigner::new(ORIGIN, &[42; 32]).unwrap(),
        };
        let log_vkey = exchange.log_key.verifier_key().to_vkey();
        exchange.as_exchange(Command::Genesis {
            rules_json: rules.canonical_json(),
            log_origin: ORIGIN.to_string(),
            log_vkey,
        });
        exchange
    }

    fn submit(&mut self, envelope: Envelope) -> Result<Vec<Event>, assay_engine::Refusal> {
        self.now = Timestamp(self.now.0 + 1);
        let input = Input {
            envelope,
            timestamp: self.now,
        };
        let (events, entry) = execute(&mut self.state, input)?;
        let bytes = entry.encode();
        let mut stored = Vec::new();
        self.tree.append(&bytes, &mut stored).unwrap();
        self.stored.extend(stored);
        self.entries.push(bytes);
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    fn signed(&self, signer: &SigningKey, command: Command) -> Envelope {
        let public = PublicKey::from(signer.verifying_key());
        let sequence = self.state.sequences.get(&public).copied().unwrap_or(0);
        Envelope::sign(signer, sequence, command)
    }

    fn as_exchange(&mut self, command: Command) -> Vec<Event> {
        let envelope = self.signed(&self.key.clone(), command);
        self.submit(envelope).unwrap()
    }

    fn close_day(&mut self) {
        let day = self.state.open_day;
        let next = TradingDay(day.0 + 1).start();
        if self.now < next {
            self.now = next;
        }
        self.as_exchange(Command::CloseTradingDay { day });
        if let Some(month) = self.state.run_pending {
            self.as_exchange(Command::RunMonthlyDistribution { month });
        }
    }

    fn checkpoint(&self) -> String {
        Checkpoint::new(ORIGIN, self.tree.size(), self.tree.root())
            .unwrap()
            .sign(&self.log_key)
            .unwrap()
            .to_text()
    }

    fn open_basket(&self, id: BasketId) -> OpenBasket {
        let basket = &self.state.baskets[&id];
        OpenBasket {
            id,
            spec: basket.spec.clone(),
            anchor_unit_price: basket.anchor_unit_price,
            competing_buyers: 1 + basket.bids.len() as u32,
        }
    }
}

fn canary(member: u64) -> String {
    format!(
        "CANARY-{}",
        hex::encode(&Sha256::digest(member.to_be_bytes())[..8])
    )
}

/// A member's wallet with 40 days of synthetic records carrying its canary, registered.
fn member(exchange: &mut Exchange, seed: u64) -> Vault<MemoryStore> {
    let mut vault = Vault::open(MemoryStore::from_seed(seed)).unwrap();
    let records = synthetic::generate(seed, TradingDay(FIRST_DAY.0 - 40), 40, Some(&canary(seed)));
    vault.add_records(records).unwrap();
    let command = Command::RegisterMember {
        device_key: vault.device_key(),
        payout: PayoutChoice {
            rail: Rail::Usdc,
            destination_commitment: [seed as u8; 32],
        },
    };
    let envelope = sign_envelope(vault.store(), vault.contents.next_sequence, command).unwrap();
    vault.contents.next_sequence += 1;
    exchange.submit(envelope).unwrap();
    vault
}

fn member_id(exchange: &Exchange, vault: &Vault<MemoryStore>) -> MemberId {
    exchange.state.member_by_key[&vault.member_key()]
}

#[test]
fn offer_clear_deliver_receipt_and_check() {
    let mut exchange = Exchange::new();
    let mut wallets: Vec<Vault<MemoryStore>> = (1..=4).map(|s| member(&mut exchange, s)).collect();
    // Member 4 declines thin markets (M12): fewer than 2 competing buyers.
    wallets[3].contents.preferences.competing_buyers_min = 2;

    let buyer = key(77);
    let buyer_key = PublicKey::from(buyer.verifying_key());
    let envelope = exchange.signed(&buyer, Command::RegisterBuyer);
    exchange.submit(envelope).unwrap();
    let buyer_id = exchange.state.buyer_by_key[&buyer_key];
    exchange.as_exchange(Command::FundBuyer {
        buyer: buyer_id,
        amount: Micros::new(1_000_000_000),
        deposit_reference: [1; 32],
    });
    let spec = BasketSpec {
        category: Category::Browsing,
        filter: ProfileFilter::default(),
        window_days: 30,
        members_per_slot: 1,
        slots: 3,
    };
    let envelope = exchange.signed(&buyer, Command::PostBasket { spec });
    let events = exchange.submit(envelope).unwrap();
    let Event::BasketPosted { basket, .. } = events[0] else {
        panic!("{events:?}")
    };
    let today = exchange.state.open_day;
    let open = exchange.open_basket(basket);

    // M11/M12: eligibility is decided on the device; three offer, the fourth declines.
    for wallet in wallets.iter_mut() {
        match eligibility(wallet, &open, today) {
            Ok(()) => {
                let offer = make_offer(wallet, &open, today).unwrap();
                exchange.submit(offer).unwrap();
            }
            Err(reason) => assert_eq!(
                reason,
                Ineligible::ThinMarket {
                    competing_buyers: 1,
                    minimum: 2
                }
            ),
        }
    }
    let mut picky = Vault::open(MemoryStore::from_seed(99)).unwrap();
    picky.contents.preferences.categories = vec![Category::Location];
    assert_eq!(
        eligibility(&picky, &open, today),
        Err(Ineligible::CategoryDeclined)
    );
    assert!(matches!(
        eligibility(
            &Vault::open(MemoryStore::from_seed(98)).unwrap(),
            &open,
            today
        ),
        Err(Ineligible::NotEnoughData { .. })
    ));

    // M15: the basket clears into a grant.
    let events = exchange.as_exchange(Command::CloseBasket { basket });
    let (grant, picked) = events
        .iter()
        .find_map(|e| match e {
            Event::GrantIssued { grant, members, .. } => Some((*grant, members[0].member)),
            _ => None,
        })
        .expect("a grant");
    let wallet = wallets
        .iter_mut()
        .find(|w| exchange.state.member_by_key[&w.member_key()] == picked)
        .unwrap();
    let picked_seed = (1..=4u64)
        .find(|s| MemoryStore::from_seed(*s).public_key(KeyRole::Member) == wallet.member_key())
        .unwrap();

    // The buyer publishes a delivery key signed by its Ed25519 key; the wallet seals to it.
    let secret = DeliverySecret::from_ikm(&[5; 32]);
    let notice = GrantNotice {
        grant,
        basket,
        spec: open.spec.clone(),
        buyer_key,
        cleared_on: today,
    };
    let sealed = deliver(wallet, &notice, &secret.delivery_key(&buyer)).unwrap();
    let impostor = key(78);
    assert_eq!(
        deliver(wallet, &notice, &secret.delivery_key(&impostor))
            .unwrap_err()
            .code(),
        "delivery_key_unsigned"
    );
    let plaintext = secret.open(grant, &sealed).unwrap();
    let delivered: Vec<serde_json::Value> = serde_json::from_slice(&plaintext).unwrap();
    assert!(delivered.len() >= 15, "{} records", delivered.len());
    assert!(delivered.iter().all(|r| r["kind"] == "browsing"));
    let text = String::from_utf8(plaintext).unwrap();
    assert!(
        text.contains(&canary(picked_seed)),
        "the buyer gets the data"
    );

    // The buyer's receipt goes to the log and back to the wallet, which keeps it.
    let receipt = exchange.signed(
        &buyer,
        Command::Receipt {
            grant,
            delivery_hash: sealed.hash(),
        },
    );
    let events = exchange.submit(receipt.clone()).unwrap();
    assert!(matches!(events[0], Event::ReceiptRecorded { .. }));
    let forged = exchange.signed(
        &buyer,
        Command::Receipt {
            grant,
            delivery_hash: [0; 32],
        },
    );
    assert_eq!(
        accept_receipt(wallet, forged).unwrap_err().code(),
        "receipt_hash_mismatch"
    );
    accept_receipt(wallet, receipt).unwrap();
    assert!(wallet.contents.receipts[0].receipt.is_some());

    // Nothing to capture (P-nothing, engine level): no canary in any log entry or the state.
    let state_text = format!("{:?}", exchange.state);
    for seed in 1..=4 {
        let needle = canary(seed);
        assert!(!state_text.contains(&needle));
        for entry in &exchange.entries {
            assert!(!entry.windows(needle.len()).any(|w| w == needle.as_bytes()));
        }
    }

    // W5: checkpoints, consistency, witness cosignature.
    let log_vkey = exchange.log_key.verifier_key().to_vkey();
    let mut checker = Checker::new(ORIGIN, &log_vkey).unwrap();
    let first = exchange.checkpoint();
    let first_size = exchange.tree.size();
    checker.observe(first.as_bytes(), None).unwrap();

    // Earnings from the public rules (D2, D3), then the month runs.
    let rules = exchange.state.rules().unwrap().clone();
    let me = member_id(&exchange, wallet);
    let earned = recompute_earnings(&exchange.events, me, &rules).unwrap();
    assert_eq!(
        earned,
        Micros::new(540_000),
        "90% of 30 member-days at $0.02"
    );
    let mut doctored = exchange.events.clone();
    for event in &mut doctored {
        if let Event::GrantIssued { members, .. } = event {
            members[0].amount = Micros::new(members[0].amount.get() - 1);
        }
    }
    assert_eq!(
        recompute_earnings(&doctored, me, &rules)
            .unwrap_err()
            .code(),
        "earnings_mismatch"
    );
    while exchange.state.month == Some(FIRST_DAY.month()) {
        exchange.close_day();
    }

    let second = exchange.checkpoint();
    let proof = prove_consistency(first_size, exchange.tree.size(), &exchange.stored).unwrap();
    assert_eq!(
        checker.observe(second.as_bytes(), None).unwrap_err().code(),
        "consistency_proof_missing"
    );
    checker.observe(second.as_bytes(), Some(&proof)).unwrap();
    let witness = "witness.member.test";
    let cosignature = checker
        .cosign(wallet.store(), witness, 1_767_225_600)
        .unwrap();
    let mut cosigned =
        SignedCheckpoint::open(second.as_bytes(), ORIGIN, exchange.log_key.verifier_key()).unwrap();
    cosigned.add_cosignature(cosignature).unwrap();
    let witness_key = VerifierKey::parse(&witness_vkey(wallet.store(), witness).unwrap()).unwrap();
    assert_eq!(
        cosigned.verify_cosignatures(&[witness_key]).unwrap().len(),
        1
    );

    // A split view (same size, other root) and a rewritten history are refused loudly, and the
    // checker still holds the last good checkpoint.
    let forked_root = Hash([9; 32]);
    let fork = Checkpoint::new(ORIGIN, exchange.tree.size(), forked_root)
        .unwrap()
        .sign(&exchange.log_key)
        .unwrap()
        .to_text();
    assert_eq!(
        checker.observe(fork.as_bytes(), None).unwrap_err().code(),
        "equivocation"
    );
    let mut other = Tree::new();
    let mut other_stored = Vec::new();
    for index in 0..exchange.tree.size() + 3 {
        let mut buffer = Vec::new();
        other.append(&index.to_be_bytes(), &mut buffer).unwrap();
        other_stored.extend(buffer);
    }
    let rewritten = Checkpoint::new(ORIGIN, other.size(), other.root())
        .unwrap()
        .sign(&exchange.log_key)
        .unwrap()
        .to_text();
    let bogus = prove_consistency(exchange.tree.size(), other.size(), &other_stored).unwrap();
    assert_eq!(
        checker
            .observe(rewritten.as_bytes(), Some(&bogus))
            .unwrap_err()
            .code(),
        "checkpoint_inconsistent"
    );
    assert_eq!(checker.last().unwrap().to_text(), second);
    let stranger = NoteSigner::new(ORIGIN, &[43; 32]).unwrap();
    let unsigned = Checkpoint::new(ORIGIN, 1, forked_root)
        .unwrap()
        .sign(&stranger)
        .unwrap()
        .to_text();
    assert!(checker.observe(unsigned.as_bytes(), None).is_err());

    // W5: the member's payout line is in the run's payout root; a doctored one is not.
    let (payout_root, month) = exchange
        .events
        .iter()
        .find_map(|e| match e {
            Event::MonthlyRunRecorded {
                payout_root, month, ..
            } => Some((*payout_root, *month)),
            _ => None,
        })
        .expect("the run");
    let lines: Vec<PayoutLine> = exchange
        .events
        .iter()
        .filter_map(|e| match e {
            Event::PayoutInstruction {
                member,
                amount,
                rail,
                destination_commitment,
            } => Some(PayoutLine {
                month,
                member: *member,
                amount: *amount,
                rail: *rail,
                destination_commitment: *destination_commitment,
            }),
            _ => None,
        })
        .collect();
    let mut payout_tree = Tree::new();
    let mut payout_stored = Vec::new();
    for line in &lines {
        let leaf = assay_engine::payout_leaf(
            line.month,
            line.member,
            line.amount,
            &line.rail,
            &line.destination_commitment,
        );
        let mut buffer = Vec::new();
        payout_tree.append(&leaf, &mut buffer).unwrap();
        payout_stored.extend(buffer);
    }
    let index = lines.iter().position(|l| l.member == me).expect("paid");
    assert!(lines[index].amount >= earned, "{:?}", lines[index]);
    let proof = prove_inclusion(index as u64, lines.len() as u64, &payout_stored).unwrap();
    verify_payout_line(&lines[index], &proof, &payout_root).unwrap();
    let mut doctored = lines[index].clone();
    doctored.amount = Micros::new(doctored.amount.get() + 1);
    assert_eq!(
        verify_payout_line(&doctored, &proof, &payout_root)
            .unwrap_err()
            .code(),
        "payout_line_missing"
    );
}
