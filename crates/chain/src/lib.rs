//! Dev-only: the settlement contracts of `contracts/` (rule L5) running in an in-process EVM.
//!
//! The contracts are compiled by `contracts/build.sh` into `contracts/artifacts/*.json`; this
//! crate deploys exactly those bytes in `revm` (Cancun rules, as compiled), calls them through
//! `alloy-sol-types` bindings generated from the same JSON, and signs for the exchange with a
//! secp256k1 key as EIP-712 typed data (the EVM has no Ed25519 precompile, so the log's Ed25519
//! checkpoint key cannot sign on chain).
//!
//! - [`Chain`]: one EVM with a clock; transactions commit, views do not.
//! - [`ExchangeKey`]: the exchange's signing key, for checkpoints and run roots.
//! - [`Deployment`]: the three contracts deployed and wired together, with the month's steps
//!   (anchor, fund, submit, claim, withdraw) as typed calls.
//!
//! Tests live in `tests/`; `assay bench chain` measures gas with the same code.

mod deployment;
mod evm;
mod exchange;
pub mod gas;

pub use deployment::{month_number, unix_time, Deployment, MonthRun, Payout, Weight, CHAIN_ID};
pub use evm::{Chain, Outcome};
pub use exchange::ExchangeKey;
pub use revm::primitives::{keccak256, Address, Bytes, B256, U256};

use alloy_sol_types::sol;

sol!(
    #[sol(all_derives)]
    TestUSDC,
    "../../contracts/artifacts/TestUSDC.json"
);
sol!(
    #[sol(all_derives)]
    CheckpointAnchor,
    "../../contracts/artifacts/CheckpointAnchor.json"
);
sol!(
    #[sol(all_derives)]
    Treasury,
    "../../contracts/artifacts/Treasury.json"
);

sol! {
    /// The checkpoint the exchange signs for the anchor (EIP-712 type `Checkpoint`).
    struct Checkpoint {
        uint64 size;
        bytes32 root;
    }
}

/// What went wrong driving the EVM. Reverts are not errors here: they are an [`Outcome`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The EVM refused the transaction itself (not a revert): a harness bug.
    #[error("the EVM refused the transaction: {0}")]
    Evm(String),
    /// A call expected to succeed reverted or halted.
    #[error("call failed: {0}")]
    CallFailed(String),
    /// A return value did not decode as the ABI says.
    #[error("undecodable return data: {0}")]
    Decode(#[from] alloy_sol_types::Error),
    /// A payout or weight list the rails crate refused.
    #[error(transparent)]
    Rails(#[from] assay_rails::Error),
}

impl Error {
    /// A stable machine-readable code per variant.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Evm(_) => "evm",
            Error::CallFailed(_) => "call_failed",
            Error::Decode(_) => "decode",
            Error::Rails(error) => error.code(),
        }
    }
}
