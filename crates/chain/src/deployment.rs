//! The three contracts deployed and wired together, and the month's steps as typed calls.

use crate::{Chain, CheckpointAnchor, Error, ExchangeKey, Outcome, TestUSDC, Treasury};
use alloy_sol_types::{SolCall, SolConstructor};
use assay_core::{MemberId, Micros, Month};
use assay_rails::usdc::Distribution;
use assay_rails::{Destination, PayoutLine, RunId, UsdcAddress};
use revm::primitives::{Address, Bytes, B256, U256};

/// The chain id the EVM reports (`block.chainid`), part of every EIP-712 domain.
pub const CHAIN_ID: u64 = 1;

/// The month number the treasury uses: `year * 12 + (month - 1)`.
pub fn month_number(month: Month) -> u32 {
    // Months of the years 2000..2099 (RunId's range) fit easily.
    (month.year as u32) * 12 + u32::from(month.month) - 1
}

/// Unix seconds of 00:00 UTC on (year, month, day): Howard Hinnant's `days_from_civil`, the
/// calendar the treasury's deadline uses. Dates before 1970 are out of scope.
pub fn unix_time(year: i32, month: u8, day: u8) -> u64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    (days * 86_400) as u64
}

/// One USDC payout line: `amount` base units (micro-USD) to `account`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    pub account: Address,
    pub amount: u64,
}

/// One active member's weight in the final payout (rule X2).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Weight {
    pub account: Address,
    pub weight: u64,
}

/// A month's run as the exchange publishes it: the payout tree, the weights tree (both built by
/// `assay_rails::usdc`, the same StandardMerkleTree the contract checks) and the submission.
#[derive(Clone, Debug)]
pub struct MonthRun {
    pub payouts: Distribution,
    pub weights: Distribution,
    pub submission: Treasury::RootSubmission,
}

impl MonthRun {
    /// Builds both trees and the submission; `checkpoint` is the log checkpoint (size, root)
    /// holding the run, which must be anchored before the submission counts.
    pub fn build(
        month: Month,
        payouts: &[Payout],
        weights: &[Weight],
        income: u64,
        member_share: u64,
        checkpoint: (u64, B256),
    ) -> Result<MonthRun, Error> {
        let run = RunId::new(month, 1)?;
        let payouts = Distribution::build(
            run,
            &lines(payouts.iter().map(|payout| (payout.account, payout.amount)))?,
        )?;
        let weights = Distribution::build(
            run,
            &lines(weights.iter().map(|weight| (weight.account, weight.weight)))?,
        )?;
        let total_weight = weights.total().get();
        let submission = Treasury::RootSubmission {
            month: month_number(month),
            payoutRoot: payouts.root().into(),
            payoutTotal: U256::from(payouts.total().get()),
            income: U256::from(income),
            memberShare: U256::from(member_share),
            weightsRoot: weights.root().into(),
            totalWeight: U256::from(total_weight),
            checkpointSize: checkpoint.0,
            checkpointRoot: checkpoint.1,
        };
        Ok(MonthRun {
            payouts,
            weights,
            submission,
        })
    }
}

fn lines(items: impl Iterator<Item = (Address, u64)>) -> Result<Vec<PayoutLine>, Error> {
    items
        .enumerate()
        .map(|(index, (account, amount))| {
            Ok(PayoutLine {
                member: MemberId(index as u64),
                amount: Micros::new(amount),
                destination: Destination::Usdc(UsdcAddress::from_bytes(account.0 .0)?),
            })
        })
        .collect()
}

fn proof_words(proof: Vec<[u8; 32]>) -> Vec<B256> {
    proof.into_iter().map(B256::from).collect()
}

/// Test USDC, the anchor and the treasury, deployed by `deployer` on a fresh [`Chain`].
pub struct Deployment {
    pub chain: Chain,
    pub exchange: ExchangeKey,
    /// The key that deployed everything: the closest thing to an owner, with no powers.
    pub deployer: Address,
    pub usdc: Address,
    pub anchor: Address,
    pub treasury: Address,
}

impl Deployment {
    /// Deploys at time `now` (Unix seconds) with `first_month`'s root the first one due.
    pub fn new(exchange: ExchangeKey, first_month: Month, now: u64) -> Result<Deployment, Error> {
        let mut chain = Chain::new();
        chain.set_time(now);
        let deployer = Address::repeat_byte(0xd0);
        let usdc = chain.deploy(deployer, TestUSDC::BYTECODE.clone())?;
        let anchor = chain.deploy(
            deployer,
            init_code(
                &CheckpointAnchor::BYTECODE,
                CheckpointAnchor::constructorCall {
                    exchange_: exchange.address(),
                },
            ),
        )?;
        let treasury = chain.deploy(
            deployer,
            init_code(
                &Treasury::BYTECODE,
                Treasury::constructorCall {
                    usdc_: usdc,
                    checkpointAnchor_: anchor,
                    firstMonth: month_number(first_month),
                },
            ),
        )?;
        Ok(Deployment {
            chain,
            exchange,
            deployer,
            usdc,
            anchor,
            treasury,
        })
    }

    /// Anchors a checkpoint signed by the exchange, sent by the exchange.
    pub fn anchor_checkpoint(&mut self, size: u64, root: B256) -> Result<Outcome, Error> {
        let signature = self
            .exchange
            .sign_checkpoint(self.anchor, CHAIN_ID, size, root);
        let call = CheckpointAnchor::anchorCall {
            size,
            root,
            signature,
        };
        self.chain.call(self.exchange.address(), self.anchor, &call)
    }

    /// Mints `amount` test USDC to `from`, which approves the treasury and funds it (`fund`).
    pub fn deposit(&mut self, from: Address, amount: u64) -> Result<(), Error> {
        let amount = U256::from(amount);
        let mint = TestUSDC::mintCall { to: from, amount };
        self.chain.call(from, self.usdc, &mint)?.into_output()?;
        let approve = TestUSDC::approveCall {
            spender: self.treasury,
            value: amount,
        };
        self.chain.call(from, self.usdc, &approve)?.into_output()?;
        self.chain
            .call(from, self.treasury, &Treasury::fundCall { amount })?
            .into_output()?;
        Ok(())
    }

    /// Submits a run signed by the exchange, sent by the exchange.
    pub fn submit(&mut self, run: &MonthRun) -> Result<Outcome, Error> {
        let signature = self.sign(&run.submission);
        self.submit_signed(self.exchange.address(), &run.submission, signature)
    }

    pub fn sign(&self, submission: &Treasury::RootSubmission) -> Bytes {
        self.exchange
            .sign_submission(self.treasury, CHAIN_ID, submission)
    }

    pub fn submit_signed(
        &mut self,
        from: Address,
        submission: &Treasury::RootSubmission,
        signature: Bytes,
    ) -> Result<Outcome, Error> {
        let call = Treasury::submitRootCall {
            s: submission.clone(),
            signature,
        };
        self.chain.call(from, self.treasury, &call)
    }

    /// The claim call for line `index` of `run`, with the proof the rails crate built.
    pub fn claim_call(run: &MonthRun, index: usize) -> Treasury::claimCall {
        let leaf = run.payouts.leaves()[index];
        let proof = run
            .payouts
            .proof(index)
            .expect("index is a leaf of the run");
        Treasury::claimCall {
            month: run.submission.month,
            index: U256::from(leaf.index),
            account: Address::from(*leaf.account.as_bytes()),
            amount: U256::from(leaf.amount.get()),
            proof: proof_words(proof),
        }
    }

    /// Claims line `index` of `run`, sent by `from`.
    pub fn claim(&mut self, from: Address, run: &MonthRun, index: usize) -> Result<Outcome, Error> {
        self.chain
            .call(from, self.treasury, &Self::claim_call(run, index))
    }

    /// The withdraw call for weight `index` of `run`, with its proof.
    pub fn withdraw_call(run: &MonthRun, index: usize) -> Treasury::withdrawCall {
        let leaf = run.weights.leaves()[index];
        let proof = run
            .weights
            .proof(index)
            .expect("index is a leaf of the run");
        Treasury::withdrawCall {
            index: U256::from(leaf.index),
            account: Address::from(*leaf.account.as_bytes()),
            weight: U256::from(leaf.amount.get()),
            proof: proof_words(proof),
        }
    }

    /// Withdraws the pro-rata share of weight `index` of `run` (rule X2), sent by `from`.
    pub fn withdraw(
        &mut self,
        from: Address,
        run: &MonthRun,
        index: usize,
    ) -> Result<Outcome, Error> {
        self.chain
            .call(from, self.treasury, &Self::withdraw_call(run, index))
    }

    /// Test USDC held by `account`.
    pub fn balance_of(&mut self, account: Address) -> Result<u64, Error> {
        let balance = self
            .chain
            .view(self.usdc, &TestUSDC::balanceOfCall { account })?;
        balance
            .try_into()
            .map_err(|_| Error::CallFailed("balance past u64".to_string()))
    }

    /// A view of the treasury.
    pub fn treasury_view<C: SolCall>(&mut self, call: &C) -> Result<C::Return, Error> {
        self.chain.view(self.treasury, call)
    }

    /// The treasury's trigger: 0 none, 1 member share (X1.1), 2 missed root (X1.2),
    /// 3 equivocation (X1.4).
    pub fn trigger(&mut self) -> Result<u8, Error> {
        self.treasury_view(&Treasury::triggerCall {})
    }
}

fn init_code<C: SolConstructor>(bytecode: &Bytes, constructor: C) -> Bytes {
    let mut code = bytecode.to_vec();
    code.extend_from_slice(&constructor.abi_encode());
    code.into()
}
