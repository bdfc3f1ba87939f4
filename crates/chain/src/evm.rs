//! One in-process EVM with a settable clock.

use crate::Error;
use alloy_sol_types::{SolCall, SolError};
use revm::context::result::{ExecutionResult, Output};
use revm::context::{Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, TxKind, U256};
use revm::{ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

/// Gas limit of every transaction: far above any call here, below a block.
const TX_GAS_LIMIT: u64 = 30_000_000;

/// What a transaction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded, returned `output` and used `gas` (receipt gas: intrinsic, calldata and
    /// execution, after refunds).
    Success { output: Bytes, gas: u64 },
    /// It reverted with `data` (a custom error's selector and arguments, or empty).
    Revert { data: Bytes, gas: u64 },
    /// It halted (out of gas, invalid opcode …).
    Halt { reason: String, gas: u64 },
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success { .. })
    }

    pub fn gas(&self) -> u64 {
        match self {
            Outcome::Success { gas, .. }
            | Outcome::Revert { gas, .. }
            | Outcome::Halt { gas, .. } => *gas,
        }
    }

    /// Whether it reverted with custom error `E`.
    pub fn reverted_with<E: SolError>(&self) -> bool {
        matches!(self, Outcome::Revert { data, .. } if data.starts_with(&E::SELECTOR))
    }

    /// The gas of a success, or an error describing what happened instead.
    pub fn into_gas(self) -> Result<u64, Error> {
        match self {
            Outcome::Success { gas, .. } => Ok(gas),
            other => Err(Error::CallFailed(format!("{other:?}"))),
        }
    }

    /// The output of a success, or an error describing what happened instead.
    pub fn into_output(self) -> Result<Bytes, Error> {
        match self {
            Outcome::Success { output, .. } => Ok(output),
            other => Err(Error::CallFailed(format!("{other:?}"))),
        }
    }
}

/// An EVM at Cancun rules (the contracts' `evmVersion`) over an in-memory state. Gas is free
/// (base fee and gas price zero), so accounts need no ether; nonces are not checked.
pub struct Chain {
    evm: MainnetEvm<MainnetContext<CacheDB<EmptyDB>>>,
}

impl Default for Chain {
    fn default() -> Self {
        Chain::new()
    }
}

impl Chain {
    pub fn new() -> Chain {
        let context = Context::mainnet()
            .with_db(CacheDB::new(EmptyDB::default()))
            .modify_cfg_chained(|cfg| {
                cfg.spec = SpecId::CANCUN;
                cfg.disable_nonce_check = true;
            })
            .modify_block_chained(|block| {
                block.gas_limit = 2 * TX_GAS_LIMIT;
                block.basefee = 0;
            });
        Chain {
            evm: context.build_mainnet(),
        }
    }

    /// Sets the block time (Unix seconds) of every later transaction.
    pub fn set_time(&mut self, unix_seconds: u64) {
        self.evm.ctx.block.timestamp = U256::from(unix_seconds);
        self.evm.ctx.block.number += U256::from(1);
    }

    pub fn time(&self) -> u64 {
        self.evm.ctx.block.timestamp.saturating_to()
    }

    /// The runtime code at `address` (empty if none).
    pub fn code(&self, address: Address) -> Bytes {
        self.evm
            .ctx
            .journaled_state
            .database
            .cache
            .accounts
            .get(&address)
            .and_then(|account| account.info.code.as_ref())
            .map(|code| code.original_bytes())
            .unwrap_or_default()
    }

    /// Deploys `init_code` (creation bytecode with constructor arguments appended) from `from`.
    pub fn deploy(&mut self, from: Address, init_code: Bytes) -> Result<Address, Error> {
        let tx = Self::tx(from, TxKind::Create, init_code, U256::ZERO);
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|error| Error::Evm(format!("{error:?}")))?;
        match result {
            ExecutionResult::Success {
                output: Output::Create(_, Some(address)),
                ..
            } => Ok(address),
            other => Err(Error::CallFailed(format!("deploy: {other:?}"))),
        }
    }

    /// Sends a transaction and commits its effects (none if it reverted).
    pub fn send(
        &mut self,
        from: Address,
        to: Address,
        data: Bytes,
        value: U256,
    ) -> Result<Outcome, Error> {
        let tx = Self::tx(from, TxKind::Call(to), data, value);
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|error| Error::Evm(format!("{error:?}")))?;
        Ok(Self::outcome(result))
    }

    /// Sends a typed call and commits it.
    pub fn call<C: SolCall>(
        &mut self,
        from: Address,
        to: Address,
        call: &C,
    ) -> Result<Outcome, Error> {
        self.send(from, to, call.abi_encode().into(), U256::ZERO)
    }

    /// Runs a typed call without committing anything and decodes what it returns.
    pub fn view<C: SolCall>(&mut self, to: Address, call: &C) -> Result<C::Return, Error> {
        let tx = Self::tx(
            Address::ZERO,
            TxKind::Call(to),
            call.abi_encode().into(),
            U256::ZERO,
        );
        let result = self
            .evm
            .transact(tx)
            .map_err(|error| Error::Evm(format!("{error:?}")))?
            .result;
        let output = Self::outcome(result).into_output()?;
        Ok(C::abi_decode_returns(&output)?)
    }

    fn tx(from: Address, kind: TxKind, data: Bytes, value: U256) -> TxEnv {
        TxEnv {
            caller: from,
            kind,
            data,
            value,
            gas_limit: TX_GAS_LIMIT,
            gas_price: 0,
            chain_id: None,
            ..TxEnv::default()
        }
    }

    fn outcome(result: ExecutionResult) -> Outcome {
        let gas = result.tx_gas_used();
        match result {
            ExecutionResult::Success { output, .. } => Outcome::Success {
                output: output.into_data(),
                gas,
            },
            ExecutionResult::Revert { output, .. } => Outcome::Revert { data: output, gas },
            ExecutionResult::Halt { reason, .. } => Outcome::Halt {
                reason: format!("{reason:?}"),
                gas,
            },
        }
    }
}
