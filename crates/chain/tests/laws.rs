//! Laws of the treasury under random member sets and random malicious calls (rules D4, X1-X3):
//! - claims and withdrawals together never pay out more than was funded;
//! - no payout line is paid twice;
//! - after the pill, no call by a privileged key (owner, board, operator, exchange) to the
//!   treasury succeeds, and nothing any of them sends elsewhere changes the treasury's state;
//! - once every member withdrew and every line was claimed, the withdrawals equal the pool
//!   (the treasury balance minus the lines still unclaimed when the pill fired, which is the
//!   funded money no root reserved) less rounding dust below one unit per member, and that dust
//!   is all the treasury still holds.

mod common;

use assay_chain::{
    unix_time, Address, Bytes, CheckpointAnchor, Deployment, ExchangeKey, MonthRun, Outcome,
    Payout, Treasury, Weight, B256, CHAIN_ID, U256,
};
use assay_core::Month;
use common::*;
use proptest::prelude::*;

/// Cases run; each deploys the contracts and sends up to a few dozen transactions.
const CASES: u32 = 256;

#[derive(Clone, Debug)]
struct Member {
    amounts: [u64; 2],
    weight: u64,
}

#[derive(Clone, Debug)]
enum Attack {
    /// Claim a line already claimed, or skip if it is not.
    ClaimAgain { line: usize },
    /// Claim a line for more than it says.
    InflatedAmount { line: usize, extra: u64 },
    /// Claim a line to another account.
    Redirect { line: usize, key: usize },
    /// Claim a line with another line's proof.
    ForeignProof { line: usize, other: usize },
    /// A root signed by a privileged key that is not the exchange's.
    ImpostorRoot { key: usize },
    /// Replay the last genuine submission.
    ReplayRoot { key: usize },
    /// A function an owner, pauser or upgrader would have.
    EscapeHatch { key: usize, hatch: usize },
    /// Fire the pill when it is not due, or again.
    Trigger { key: usize },
    /// Withdraw with a weight the tree does not hold.
    ForgedWeight {
        line: usize,
        key: usize,
        weight: u64,
    },
    /// Arbitrary calldata.
    Garbage { key: usize, data: Vec<u8> },
}

fn attack() -> impl Strategy<Value = Attack> {
    prop_oneof![
        any::<usize>().prop_map(|line| Attack::ClaimAgain { line }),
        (any::<usize>(), 1u64..1_000_000)
            .prop_map(|(line, extra)| Attack::InflatedAmount { line, extra }),
        (any::<usize>(), 0usize..4).prop_map(|(line, key)| Attack::Redirect { line, key }),
        (any::<usize>(), any::<usize>())
            .prop_map(|(line, other)| Attack::ForeignProof { line, other }),
        (0usize..3).prop_map(|key| Attack::ImpostorRoot { key }),
        (0usize..4).prop_map(|key| Attack::ReplayRoot { key }),
        (0usize..4, 0usize..HATCHES.len())
            .prop_map(|(key, hatch)| Attack::EscapeHatch { key, hatch }),
        (0usize..4).prop_map(|key| Attack::Trigger { key }),
        (any::<usize>(), 0usize..4, 1u64..u64::MAX)
            .prop_map(|(line, key, weight)| Attack::ForgedWeight { line, key, weight }),
        (0usize..4, prop::collection::vec(any::<u8>(), 0..100))
            .prop_map(|(key, data)| Attack::Garbage { key, data }),
    ]
}

const HATCHES: [&str; 8] = [
    "pause()",
    "unpause()",
    "transferOwnership(address)",
    "upgradeToAndCall(address,bytes)",
    "setExchange(address)",
    "sweep(address,uint256)",
    "unterminate()",
    "kill()",
];

#[derive(Copy, Clone, Debug)]
enum Pill {
    Equivocation,
    MissedRoot,
    MemberShare,
}

fn pill() -> impl Strategy<Value = Pill> {
    prop_oneof![
        Just(Pill::Equivocation),
        Just(Pill::MissedRoot),
        Just(Pill::MemberShare)
    ]
}

fn member() -> impl Strategy<Value = Member> {
    (1u64..50_000_000, 1u64..50_000_000, 1u64..1_000_000).prop_map(|(a, b, weight)| Member {
        amounts: [a, b],
        weight,
    })
}

/// The world the property drives, with its own books to compare with the chain's.
struct World {
    deployment: Deployment,
    accounts: Vec<Address>,
    runs: Vec<MonthRun>,
    /// claimed[run][line]
    claimed: Vec<Vec<bool>>,
    funded: u64,
    /// Sum of the recorded roots' totals.
    reserved: u64,
    paid: u64,
}

impl World {
    fn key(&self, key: usize) -> Address {
        privileged(&self.deployment)[key % 4]
    }

    fn month_run(
        &mut self,
        month: Month,
        members: &[Member],
        which: usize,
        under_90: bool,
        size: u64,
    ) -> MonthRun {
        let payouts: Vec<Payout> = self
            .accounts
            .iter()
            .zip(members)
            .map(|(&account, member)| Payout {
                account,
                amount: member.amounts[which],
            })
            .collect();
        let weights: Vec<Weight> = self
            .accounts
            .iter()
            .zip(members)
            .map(|(&account, member)| Weight {
                account,
                weight: member.weight,
            })
            .collect();
        let share: u64 = payouts.iter().map(|payout| payout.amount).sum();
        // Income with the share at 90% or just above (rounding down income), or at 50%.
        let income = if under_90 { share * 2 } else { share * 10 / 9 };
        let run = MonthRun::build(
            month,
            &payouts,
            &weights,
            income,
            share,
            (size, log_root(size)),
        )
        .unwrap();
        assert!(self
            .deployment
            .anchor_checkpoint(size, log_root(size))
            .unwrap()
            .is_success());
        run
    }

    fn fund(&mut self, amount: u64) {
        self.deployment.deposit(OPERATOR, amount).unwrap();
        self.funded += amount;
    }

    fn submit(&mut self, run: MonthRun) {
        let outcome = self.deployment.submit(&run).unwrap();
        assert!(outcome.is_success(), "{outcome:?}");
        self.reserved += run.payouts.total().get();
        self.claimed.push(vec![false; run.payouts.len()]);
        self.runs.push(run);
    }

    fn claim(&mut self, run: usize, line: usize) {
        let account = self.accounts[line];
        let outcome = self
            .deployment
            .claim(account, &self.runs[run], line)
            .unwrap();
        if self.claimed[run][line] {
            assert!(
                outcome.reverted_with::<Treasury::AlreadyClaimed>(),
                "{outcome:?}"
            );
        } else {
            assert!(outcome.is_success(), "{outcome:?}");
            self.claimed[run][line] = true;
            self.paid += self.runs[run].payouts.leaves()[line].amount.get();
        }
    }

    /// What must not change when an attack fails or lands elsewhere.
    fn snapshot(&mut self) -> (u8, U256, U256, U256, u64, u32) {
        let d = &mut self.deployment;
        (
            d.trigger().unwrap(),
            d.treasury_view(&Treasury::poolCall {}).unwrap(),
            d.treasury_view(&Treasury::unreservedCall {}).unwrap(),
            d.treasury_view(&Treasury::withdrawnTotalCall {}).unwrap(),
            d.balance_of(d.treasury).unwrap(),
            d.treasury_view(&Treasury::nextMonthCall {}).unwrap(),
        )
    }

    /// Runs one attack; asserts it failed and changed nothing.
    fn attack(&mut self, attack: &Attack) {
        let before = self.snapshot();
        let treasury = self.deployment.treasury;
        let runs = self.runs.len();
        let lines = self.accounts.len();
        let run = &self.runs[runs - 1];
        let (sender, target, data): (Address, Address, Bytes) = match *attack {
            Attack::ClaimAgain { line } => {
                let line = line % lines;
                if !self.claimed[runs - 1][line] {
                    return;
                }
                let call = Deployment::claim_call(run, line);
                (self.accounts[line], treasury, encode(&call))
            }
            Attack::InflatedAmount { line, extra } => {
                let mut call = Deployment::claim_call(run, line % lines);
                call.amount += U256::from(extra);
                (self.accounts[line % lines], treasury, encode(&call))
            }
            Attack::Redirect { line, key } => {
                let mut call = Deployment::claim_call(run, line % lines);
                call.account = self.key(key);
                (self.key(key), treasury, encode(&call))
            }
            Attack::ForeignProof { line, other } => {
                let (line, other) = (line % lines, other % lines);
                let mut call = Deployment::claim_call(run, line);
                if line == other || call.proof.is_empty() {
                    call.proof.push(B256::repeat_byte(0x77));
                } else {
                    call.proof = Deployment::claim_call(run, other).proof;
                }
                (self.accounts[line], treasury, encode(&call))
            }
            Attack::ImpostorRoot { key } => {
                let impostor = ExchangeKey::from_seed(1_000 + key as u64);
                let mut submission = run.submission.clone();
                submission.month += 1;
                let signature = impostor.sign_submission(treasury, CHAIN_ID, &submission);
                let call = Treasury::submitRootCall {
                    s: submission,
                    signature,
                };
                (self.key(key), treasury, encode(&call))
            }
            Attack::ReplayRoot { key } => {
                let call = Treasury::submitRootCall {
                    s: run.submission.clone(),
                    signature: self.deployment.sign(&run.submission),
                };
                (self.key(key), treasury, encode(&call))
            }
            Attack::EscapeHatch { key, hatch } => {
                let mut data = assay_chain::keccak256(HATCHES[hatch].as_bytes())[..4].to_vec();
                data.extend_from_slice(&[0u8; 12]);
                data.extend_from_slice(self.key(key).as_slice());
                data.extend_from_slice(&[0u8; 64]);
                (self.key(key), treasury, data.into())
            }
            Attack::Trigger { key } => (
                self.key(key),
                treasury,
                encode(&Treasury::fireTriggerCall {}),
            ),
            Attack::ForgedWeight { line, key, weight } => {
                let mut call = Deployment::withdraw_call(run, line % lines);
                call.account = self.key(key);
                call.weight = U256::from(weight);
                (self.key(key), treasury, encode(&call))
            }
            Attack::Garbage { key, ref data } => {
                // Views answer; only calls that could change state are attacks.
                self.deployment
                    .chain
                    .send(self.key(key), treasury, data.clone().into(), U256::ZERO)
                    .unwrap();
                assert_eq!(
                    self.snapshot(),
                    before,
                    "garbage {data:?} changed the treasury"
                );
                return;
            }
        };
        let outcome = self
            .deployment
            .chain
            .send(sender, target, data, U256::ZERO)
            .unwrap();
        assert!(!outcome.is_success(), "{attack:?} succeeded: {outcome:?}");
        assert!(
            matches!(outcome, Outcome::Revert { .. }),
            "{attack:?}: {outcome:?}"
        );
        assert_eq!(self.snapshot(), before, "{attack:?} changed the treasury");
    }
}

fn encode<C: alloy_sol_types::SolCall>(call: &C) -> Bytes {
    call.abi_encode().into()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn money_follows_the_roots_and_the_pill_cannot_be_stopped(
        members in prop::collection::vec(member(), 1..25),
        extra_funds in 0u64..20_000_000,
        claim_first in prop::collection::vec(any::<bool>(), 24),
        before_pill in prop::collection::vec(attack(), 0..12),
        after_pill in prop::collection::vec(attack(), 0..12),
        pill in pill(),
    ) {
        let accounts = common::members(members.len());
        let mut world = World {
            deployment: deployment(),
            accounts,
            runs: Vec::new(),
            claimed: Vec::new(),
            funded: 0,
            reserved: 0,
            paid: 0,
        };

        // January: fund, anchor, submit on 1 February; some members claim at once.
        let january = world.month_run(JANUARY, &members, 0, false, 10);
        world.fund(january.payouts.total().get() + extra_funds);
        world.deployment.chain.set_time(unix_time(2026, 2, 1));
        world.submit(january);
        for (line, &first) in claim_first.iter().enumerate().take(members.len()) {
            if first {
                world.claim(0, line);
            }
        }
        for attack in &before_pill {
            world.attack(attack);
        }
        prop_assert!(world.paid <= world.funded);

        // The pill.
        let treasury = world.deployment.treasury;
        match pill {
            Pill::Equivocation => {
                let exchange = world.deployment.exchange.clone();
                let anchor = world.deployment.anchor;
                let (a, b) = (log_root(7), log_root(8));
                let proof = CheckpointAnchor::proveEquivocationCall {
                    size: 7,
                    rootA: a,
                    signatureA: exchange.sign_checkpoint(anchor, CHAIN_ID, 7, a),
                    rootB: b,
                    signatureB: exchange.sign_checkpoint(anchor, CHAIN_ID, 7, b),
                };
                prop_assert!(world.deployment.chain.call(STRANGER, anchor, &proof).unwrap().is_success());
                let fire = world.deployment.chain.call(STRANGER, treasury, &Treasury::fireTriggerCall {}).unwrap();
                prop_assert!(fire.is_success());
            }
            Pill::MissedRoot => {
                world.deployment.chain.set_time(unix_time(2026, 3, 4));
                let fire = world.deployment.chain.call(STRANGER, treasury, &Treasury::fireTriggerCall {}).unwrap();
                prop_assert!(fire.is_success());
            }
            Pill::MemberShare => {
                let february = world.month_run(FEBRUARY, &members, 1, true, 20);
                world.fund(february.payouts.total().get());
                world.deployment.chain.set_time(unix_time(2026, 3, 1));
                world.submit(february);
            }
        }
        prop_assert_ne!(world.deployment.trigger().unwrap(), 0);
        let pool: u64 = world.deployment.treasury_view(&Treasury::poolCall {}).unwrap().to();
        // The pool is what no root reserved; with the lines still unclaimed it is all the
        // treasury holds.
        prop_assert_eq!(pool, world.funded - world.reserved);
        let unclaimed = world.reserved - world.paid;
        prop_assert_eq!(world.deployment.balance_of(treasury).unwrap(), pool + unclaimed);

        for attack in &after_pill {
            world.attack(attack);
        }

        // Every member withdraws (rule X2) and claims what is left of their lines.
        let last = world.runs.len() - 1;
        let total_weight: u64 = members.iter().map(|member| member.weight).sum();
        let mut withdrawn = 0u64;
        for (line, &account) in world.accounts.clone().iter().enumerate() {
            let before = world.deployment.balance_of(account).unwrap();
            let outcome = world.deployment.withdraw(account, &world.runs[last], line).unwrap();
            prop_assert!(outcome.is_success(), "{:?}", outcome);
            let share = world.deployment.balance_of(account).unwrap() - before;
            let expected = u128::from(pool) * u128::from(members[line].weight) / u128::from(total_weight);
            prop_assert_eq!(u128::from(share), expected);
            withdrawn += share;
            let again = world.deployment.withdraw(account, &world.runs[last], line).unwrap();
            prop_assert!(again.reverted_with::<Treasury::AlreadyWithdrawn>());
        }
        for run in 0..world.runs.len() {
            for line in 0..members.len() {
                world.claim(run, line);
                world.claim(run, line);
            }
        }
        world.paid += withdrawn;
        prop_assert!(world.paid <= world.funded);
        let dust = pool - withdrawn;
        prop_assert!(dust < members.len() as u64, "dust {} for {} members", dust, members.len());
        let left = world.deployment.balance_of(treasury).unwrap();
        prop_assert_eq!(left, dust);
        prop_assert_eq!(world.funded - world.paid, dust);
    }
}
