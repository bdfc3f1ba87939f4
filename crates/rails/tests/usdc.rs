//! Laws of the USDC distribution tree (rule D4): every proof verifies for every tree size,
//! and a proof proves only its own leaf.

mod common;

use assay_core::{MemberId, Micros};
use assay_rails::usdc::{self, Distribution, Leaf};
use assay_rails::{Destination, PayoutLine};
use common::{run, usdc_destination, Rng};
use proptest::prelude::*;

fn lines(seed: u64, count: usize) -> Vec<PayoutLine> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|i| PayoutLine {
            member: MemberId(i as u64 + 1),
            amount: Micros::new(1 + rng.below(1_000_000_000)),
            destination: usdc_destination(&mut rng),
        })
        .collect()
}

#[test]
fn a_single_leaf_is_its_own_root() {
    let lines = lines(1, 1);
    let distribution = Distribution::build(run(), &lines).unwrap();
    assert_eq!(distribution.root(), distribution.leaves()[0].hash());
    assert!(distribution.proof(0).unwrap().is_empty());
    assert!(distribution.proof(1).is_none());
}

#[test]
fn empty_and_foreign_lines_are_refused() {
    let error = Distribution::build(run(), &[]).unwrap_err();
    assert_eq!(error.code(), "usdc_empty");
    let mut wrong = lines(2, 3);
    wrong[1].destination = Destination::parse("prepaid:tok").unwrap();
    assert_eq!(
        Distribution::build(run(), &wrong).unwrap_err().code(),
        "rail_mismatch"
    );
    wrong[1] = lines(2, 3)[1].clone();
    wrong[1].amount = Micros::ZERO;
    assert_eq!(
        Distribution::build(run(), &wrong).unwrap_err().code(),
        "amount_zero"
    );
}

#[test]
fn leaf_hashes_follow_the_abi_encoding() {
    // keccak256(keccak256(abi.encode(uint256 0, address 0x…01, uint256 1))): each word is
    // 32 bytes, big-endian, left-padded. Value computed with OZ's standardLeafHash.
    let leaf = Leaf {
        index: 0,
        account: assay_rails::UsdcAddress::parse("0x0000000000000000000000000000000000000001")
            .unwrap(),
        amount: Micros::new(1),
    };
    assert_eq!(
        hex::encode(leaf.hash()),
        "9e74e1a06e87ae0e3d4fc3906c120d66aca9c96c8bca11cdb3b13d1dcb1334f9"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Law: for every size, every leaf's proof leads to the root, and not from another leaf.
    #[test]
    fn every_proof_verifies_for_every_tree_size(seed in any::<u64>(), count in 1usize..300) {
        let lines = lines(seed, count);
        let distribution = Distribution::build(run(), &lines).unwrap();
        let root = distribution.root();
        for (index, leaf) in distribution.leaves().iter().enumerate() {
            prop_assert_eq!(leaf.index, index as u64);
            prop_assert_eq!(leaf.amount, lines[index].amount);
            let proof = distribution.proof(index).unwrap();
            prop_assert!(usdc::verify(&root, leaf, &proof));
            let mut forged = *leaf;
            forged.amount = Micros::new(leaf.amount.get() + 1);
            prop_assert!(!usdc::verify(&root, &forged, &proof));
            // A balanced tree: proofs are ⌊log2 n⌋ or ⌈log2 n⌉ long.
            prop_assert!(proof.len() <= usize::BITS as usize - (count - 1).leading_zeros() as usize);
        }
    }
}
