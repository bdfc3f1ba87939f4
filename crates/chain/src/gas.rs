//! Gas of each settlement step, measured by running the deployed contracts (`assay bench chain`).
//!
//! A claim's cost depends on its proof's length, not on how the rest of the tree was built, so
//! a proof of depth `d` is measured on a tree whose two claimed leaves are siblings and whose
//! other `d − 1` levels are random hashes: exactly what a tree of 2^d leaves gives a member.
//! Each depth is one month's root. Two figures per depth: the first claim in its 256-line bitmap
//! word (which pays for a fresh storage slot, 1 in 256 claims) and the next one (the rest);
//! both pay a recipient that held no USDC, the dearer case for the token's storage.

use crate::{month_number, unix_time, Deployment, Error, ExchangeKey, TestUSDC, Treasury};
use assay_core::{Micros, Month};
use assay_rails::usdc::{node_hash, Leaf};
use assay_rails::UsdcAddress;
use revm::primitives::{keccak256, Address, B256, U256};

/// Proof depths measured; 24 levels hold 16.7 million leaves, past the 10-million-member target.
pub const DEPTHS: [u32; 5] = [1, 10, 17, 20, 24];
/// The depth the budget is stated for.
pub const DEPTH_TARGET: u32 = 24;

/// Gas of one claim at one proof depth.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ClaimGas {
    pub depth: u32,
    /// First claim in its bitmap word.
    pub first_in_word: u64,
    /// A later claim in the same word: 255 of every 256 claims.
    pub typical: u64,
}

/// Every measured figure; gas as a receipt reports it (intrinsic 21,000 and calldata included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GasReport {
    pub claims: Vec<ClaimGas>,
    /// `submitRoot` in a month after the first.
    pub root: u64,
    /// `anchor` of a new checkpoint.
    pub anchor: u64,
    /// `withdraw` after termination with a proof of depth 24.
    pub withdraw: u64,
    /// `transfer` of test USDC to an account that held none: the baseline a claim wraps.
    pub erc20_transfer: u64,
}

impl GasReport {
    /// The claim figures at `depth`, if measured.
    pub fn claim(&self, depth: u32) -> Option<ClaimGas> {
        self.claims
            .iter()
            .copied()
            .find(|claim| claim.depth == depth)
    }
}

/// Runs every step on a fresh deployment and records its gas.
pub fn measure() -> Result<GasReport, Error> {
    let mut deployment =
        Deployment::new(ExchangeKey::from_seed(1), month(0), unix_time(2026, 1, 15))?;
    let funder = Address::repeat_byte(0xf0);
    let mut anchor_gas = 0;
    let mut root_gas = 0;
    let mut claims = Vec::new();
    let mut weights = None;
    for (step, &depth) in DEPTHS.iter().enumerate() {
        let size = 1_000 * (step as u64 + 1);
        let checkpoint = B256::from(keccak256(size.to_be_bytes()));
        anchor_gas = deployment.anchor_checkpoint(size, checkpoint)?.into_gas()?;
        // A $250 line: four bytes of amount, more than most members' month.
        let tree = SyntheticTree::new(depth, step as u64, 250_000_000)?;
        let weight_tree = SyntheticTree::new(DEPTH_TARGET, 100 + step as u64, 1)?;
        deployment.deposit(funder, tree.total() + 10_000_000)?;
        let this_month = month(step as u32);
        let following = month(step as u32 + 1);
        deployment
            .chain
            .set_time(unix_time(following.year, following.month, 1));
        let submission = Treasury::RootSubmission {
            month: month_number(this_month),
            payoutRoot: tree.root,
            payoutTotal: U256::from(tree.total()),
            income: U256::from(tree.total() * 10 / 9),
            memberShare: U256::from(tree.total()),
            weightsRoot: weight_tree.root,
            totalWeight: U256::from(weight_tree.total() + 1_000),
            checkpointSize: size,
            checkpointRoot: checkpoint,
        };
        let signature = deployment.sign(&submission);
        let sender = deployment.exchange.address();
        root_gas = deployment
            .submit_signed(sender, &submission, signature)?
            .into_gas()?;
        let treasury = deployment.treasury;
        let mut gas = [0u64; 2];
        for (slot, leaf) in tree.leaves.iter().enumerate() {
            let call = Treasury::claimCall {
                month: submission.month,
                index: U256::from(leaf.index),
                account: Address::from(*leaf.account.as_bytes()),
                amount: U256::from(leaf.amount.get()),
                proof: tree.proofs[slot].clone(),
            };
            gas[slot] = deployment.chain.call(funder, treasury, &call)?.into_gas()?;
        }
        claims.push(ClaimGas {
            depth,
            first_in_word: gas[0],
            typical: gas[1],
        });
        weights = Some(weight_tree);
    }

    // Termination: let the next root's deadline pass, then withdraw with a depth-24 proof.
    let weight_tree = weights.expect("DEPTHS is not empty");
    let late = month(DEPTHS.len() as u32 + 1);
    deployment
        .chain
        .set_time(unix_time(late.year, late.month, 4));
    let treasury = deployment.treasury;
    deployment
        .chain
        .call(funder, treasury, &Treasury::fireTriggerCall {})?
        .into_gas()?;
    let leaf = weight_tree.leaves[0];
    let withdraw = Treasury::withdrawCall {
        index: U256::from(leaf.index),
        account: Address::from(*leaf.account.as_bytes()),
        weight: U256::from(leaf.amount.get()),
        proof: weight_tree.proofs[0].clone(),
    };
    let withdraw_gas = deployment
        .chain
        .call(funder, treasury, &withdraw)?
        .into_gas()?;

    // The baseline: a plain token transfer from a holder to an account that held none.
    let usdc = deployment.usdc;
    deployment
        .chain
        .call(
            funder,
            usdc,
            &TestUSDC::mintCall {
                to: funder,
                amount: U256::from(10_000_000),
            },
        )?
        .into_gas()?;
    let transfer = TestUSDC::transferCall {
        to: Address::repeat_byte(0xee),
        value: U256::from(5_000_000),
    };
    let erc20_transfer = deployment.chain.call(funder, usdc, &transfer)?.into_gas()?;

    Ok(GasReport {
        claims,
        root: root_gas,
        anchor: anchor_gas,
        withdraw: withdraw_gas,
        erc20_transfer,
    })
}

/// Month `offset` after January 2026.
fn month(offset: u32) -> Month {
    let index = 2026 * 12 + offset;
    Month {
        year: (index / 12) as i32,
        month: (index % 12 + 1) as u8,
    }
}

/// Index of the first measured line: the first of a 256-line bitmap word near the top of a
/// 10-million-member run, so the index costs the calldata bytes a real one there does.
const FIRST_INDEX: u64 = 39_061 * 256;

/// Two sibling leaves (claim indexes `FIRST_INDEX` and the next, one bitmap word) under
/// `depth − 1` random levels. Accounts are 20 pseudo-random bytes, as real addresses are: a zero
/// byte of calldata costs 4 gas and any other 16, so an address with zero bytes would flatter
/// the figure.
struct SyntheticTree {
    root: B256,
    leaves: [Leaf; 2],
    proofs: [Vec<B256>; 2],
}

impl SyntheticTree {
    fn new(depth: u32, seed: u64, amount: u64) -> Result<SyntheticTree, Error> {
        let leaf = |index: u64| -> Result<Leaf, Error> {
            let digest = keccak256(
                [
                    b"account".as_slice(),
                    &seed.to_be_bytes(),
                    &index.to_be_bytes(),
                ]
                .concat(),
            );
            let mut account = [0u8; 20];
            account.copy_from_slice(&digest[12..]);
            Ok(Leaf {
                index,
                account: UsdcAddress::from_bytes(account)?,
                amount: Micros::new(amount + index),
            })
        };
        let leaves = [leaf(FIRST_INDEX)?, leaf(FIRST_INDEX + 1)?];
        let hashes = [leaves[0].hash(), leaves[1].hash()];
        let mut node = node_hash(&hashes[0], &hashes[1]);
        let mut shared = Vec::new();
        for level in 1..depth {
            let sibling =
                keccak256([seed.to_be_bytes(), u64::from(level).to_be_bytes()].concat()).0;
            node = node_hash(&node, &sibling);
            shared.push(B256::from(sibling));
        }
        let proof = |other: [u8; 32]| {
            let mut proof = vec![B256::from(other)];
            proof.extend_from_slice(&shared);
            proof
        };
        Ok(SyntheticTree {
            root: B256::from(node),
            proofs: [proof(hashes[1]), proof(hashes[0])],
            leaves,
        })
    }

    fn total(&self) -> u64 {
        self.leaves.iter().map(|leaf| leaf.amount.get()).sum()
    }
}
