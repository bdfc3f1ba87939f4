//! Deposits by bank reference: one transfer credits a buyer once, however often it is sent
//! (money in is counted once, rule D9); the same deposit sent again is answered with its first
//! entry and changes nothing; another buyer or amount under a used reference is refused. The
//! record of what a reference credited survives a snapshot, so this holds after any restart.

mod common;

use assay_core::{BuyerId, Micros};
use assay_engine::{decode_snapshot, encode_snapshot, Command, DepositRecord, Event, State};
use common::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn fund(buyer: u64, amount: u64, reference: u8) -> Command {
    Command::FundBuyer {
        buyer: BuyerId(buyer),
        amount: Micros::new(amount),
        deposit_reference: [reference; 32],
    }
}

/// What a retry of `fund(buyer, amount, reference)` would repeat (see `State::repeated_deposit`).
fn repeat_of(
    state: &State,
    buyer: u64,
    amount: u64,
    reference: u8,
) -> Option<Result<DepositRecord, &'static str>> {
    state
        .repeated_deposit(BuyerId(buyer), Micros::new(amount), &[reference; 32])
        .map(|found| found.copied().map_err(|refusal| refusal.code()))
}

/// Applies `command` (which must be refused) and checks it changed nothing and logged nothing.
fn check_refused_unchanged(h: &mut Harness, command: Command) {
    let (before, entries) = (h.state.hash(), h.entries.len());
    let refusal = h
        .exchange(command)
        .expect_err("a used reference credits nothing");
    assert_eq!(refusal.code(), "deposit_reference_reused");
    assert_eq!(h.state.hash(), before);
    assert_eq!(h.entries.len(), entries);
}

#[test]
fn the_same_deposit_again_is_its_first_entry_and_another_is_refused() {
    let mut h = Harness::new(&default_rules());
    let buyer = h.buyer(1, 0);
    let other = h.buyer(2, 0);
    assert_eq!(repeat_of(&h.state, buyer.id, 5_000_000, 0xde), None);
    let index = h.entries.len() as u64;
    let events = h.exchange(fund(buyer.id, 5_000_000, 0xde)).unwrap();
    let first = DepositRecord {
        buyer: BuyerId(buyer.id),
        amount: Micros::new(5_000_000),
        index,
        at: h.now,
    };
    assert_eq!(first.events(&[0xde; 32]), events);

    // The same deposit again: its first entry, before and after a snapshot round trip; applying
    // it anyway credits nothing.
    let (_, restored) =
        decode_snapshot(&encode_snapshot(&h.state, h.entries.len() as u64)).unwrap();
    for state in [&h.state, &restored] {
        assert_eq!(repeat_of(state, buyer.id, 5_000_000, 0xde), Some(Ok(first)));
        // Another buyer or amount under the same reference is another deposit: refused.
        for (to, amount) in [(other.id, 5_000_000), (buyer.id, 1)] {
            assert_eq!(
                repeat_of(state, to, amount, 0xde),
                Some(Err("deposit_reference_reused"))
            );
        }
    }
    for (to, amount) in [(buyer.id, 5_000_000), (other.id, 5_000_000), (buyer.id, 1)] {
        check_refused_unchanged(&mut h, fund(to, amount, 0xde));
    }
    assert_eq!(h.state.buyers[buyer.id as usize].available.get(), 5_000_000);
    assert_eq!(h.state.buyers[other.id as usize].available.get(), 0);
    assert_eq!(
        repeat_of(&h.state, buyer.id, 5_000_000, 0xde),
        Some(Ok(first))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any stream of deposits, repeats and conflicting reuses among a few buyers, amounts and
    /// references: each reference credits once, with its first buyer and amount; a repeat of it
    /// is answered with that first entry; anything else under it is refused; nothing refused
    /// reaches the log; and a snapshot taken anywhere keeps every record.
    #[test]
    fn a_reference_credits_once_and_answers_with_its_first_entry(
        deposits in proptest::collection::vec((0u64..2, 1u64..3, 0u8..4), 1..40),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut h = Harness::new(&default_rules());
        let buyers = [h.buyer(1, 0).id, h.buyer(2, 0).id];
        let mut first: BTreeMap<u8, DepositRecord> = BTreeMap::new();
        let mut snapshot = None;
        let cut = cut.index(deposits.len());
        for (step, &(buyer, amount, reference)) in deposits.iter().enumerate() {
            let buyer = buyers[buyer as usize];
            if step == cut {
                snapshot = Some(encode_snapshot(&h.state, h.entries.len() as u64));
            }
            let expected = first.get(&reference).map(|record| {
                if (record.buyer, record.amount) == (BuyerId(buyer), Micros::new(amount)) {
                    Ok(*record)
                } else {
                    Err("deposit_reference_reused")
                }
            });
            prop_assert_eq!(repeat_of(&h.state, buyer, amount, reference), expected);
            let (before, entries) = (h.state.hash(), h.entries.len());
            match h.exchange(fund(buyer, amount, reference)) {
                Ok(events) => {
                    prop_assert!(!first.contains_key(&reference), "credited twice");
                    let record = DepositRecord {
                        buyer: BuyerId(buyer),
                        amount: Micros::new(amount),
                        index: entries as u64,
                        at: h.now,
                    };
                    prop_assert_eq!(&events, &record.events(&[reference; 32]));
                    first.insert(reference, record);
                }
                Err(refusal) => {
                    prop_assert!(first.contains_key(&reference));
                    prop_assert_eq!(refusal.code(), "deposit_reference_reused");
                    prop_assert_eq!(h.state.hash(), before);
                    prop_assert_eq!(h.entries.len(), entries);
                }
            }
        }
        // Balances are the first deposits' sums, and every record names its own entry.
        for buyer in buyers {
            let credited: u64 = first
                .values()
                .filter(|record| record.buyer == BuyerId(buyer))
                .map(|record| record.amount.get())
                .sum();
            prop_assert_eq!(h.state.buyers[buyer as usize].available.get(), credited);
        }
        prop_assert_eq!(h.state.deposits_total.get(), first.values().map(|r| r.amount.get()).sum::<u64>());
        let funded: Vec<&Event> = h.events.iter().filter(|e| matches!(e, Event::BuyerFunded { .. })).collect();
        prop_assert_eq!(funded.len(), first.len());
        // A snapshot taken before a step chosen at random, plus the rest replayed, keeps the same
        // records.
        let (header, mut state) = decode_snapshot(&snapshot.unwrap()).unwrap();
        for (index, entry) in h.entries.iter().enumerate().skip(header.log_size as usize) {
            assay_engine::replay_one(&mut state, index as u64, entry).unwrap();
        }
        prop_assert_eq!(&state.deposit_references, &h.state.deposit_references);
        for (reference, record) in &first {
            prop_assert_eq!(repeat_of(&state, record.buyer.0, record.amount.get(), *reference), Some(Ok(*record)));
        }
    }
}
