//! Shared fixtures: a deployment in January 2026, members, months, privileged keys.
#![allow(dead_code)] // each test binary uses a different part of this module

use assay_chain::{
    unix_time, Address, Deployment, ExchangeKey, MonthRun, Outcome, Payout, Weight, B256,
};
use assay_core::Month;

pub const JANUARY: Month = Month {
    year: 2026,
    month: 1,
};
pub const FEBRUARY: Month = Month {
    year: 2026,
    month: 2,
};
pub const MARCH: Month = Month {
    year: 2026,
    month: 3,
};

/// The board's key and the operator's key: neither has any role in the contracts, which is the
/// point (rule X3); tests try them anyway.
pub const BOARD: Address = Address::repeat_byte(0xb0);
pub const OPERATOR: Address = Address::repeat_byte(0x0e);
pub const STRANGER: Address = Address::repeat_byte(0x5a);

/// Deployed on 15 January 2026 with January's root the first due.
pub fn deployment() -> Deployment {
    Deployment::new(ExchangeKey::from_seed(7), JANUARY, unix_time(2026, 1, 15)).unwrap()
}

/// Every key with any standing off chain: owner (deployer), board, operator, exchange.
pub fn privileged(deployment: &Deployment) -> [Address; 4] {
    [
        deployment.deployer,
        BOARD,
        OPERATOR,
        deployment.exchange.address(),
    ]
}

/// `count` distinct member accounts (never a privileged one, never zero).
pub fn members(count: usize) -> Vec<Address> {
    (0..count)
        .map(|i| {
            let mut bytes = [0u8; 20];
            bytes[0] = 0x4d;
            bytes[12..20].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            Address::from(bytes)
        })
        .collect()
}

/// A checkpoint root standing for the log at `size`.
pub fn log_root(size: u64) -> B256 {
    let mut root = [0x11u8; 32];
    root[24..].copy_from_slice(&size.to_be_bytes());
    B256::from(root)
}

/// Builds `month`'s run paying `amounts` to `accounts` (weights = amounts), with member share
/// exactly 90% of income, anchors its checkpoint at `size` and funds the treasury.
pub fn prepare(
    deployment: &mut Deployment,
    month: Month,
    accounts: &[Address],
    amounts: &[u64],
    size: u64,
) -> MonthRun {
    let payouts: Vec<Payout> = accounts
        .iter()
        .zip(amounts)
        .map(|(&account, &amount)| Payout { account, amount })
        .collect();
    let weights: Vec<Weight> = payouts
        .iter()
        .map(|payout| Weight {
            account: payout.account,
            weight: payout.amount,
        })
        .collect();
    let share: u64 = amounts.iter().sum();
    let income = share / 9 * 10;
    let run = MonthRun::build(
        month,
        &payouts,
        &weights,
        income,
        share,
        (size, log_root(size)),
    )
    .unwrap();
    assert!(deployment
        .anchor_checkpoint(size, log_root(size))
        .unwrap()
        .is_success());
    deployment.deposit(OPERATOR, share).unwrap();
    run
}

/// January's run paying `amounts` to fresh members, funded and recorded on 1 February (the
/// setup most tests start from). Returns the run and the members' accounts.
pub fn recorded_january(deployment: &mut Deployment, amounts: &[u64]) -> (MonthRun, Vec<Address>) {
    let accounts = members(amounts.len());
    let run = prepare(deployment, JANUARY, &accounts, amounts, 10);
    deployment.chain.set_time(unix_time(2026, 2, 1));
    ok(deployment.submit(&run).unwrap());
    (run, accounts)
}

/// Asserts a success and returns its gas.
pub fn ok(outcome: Outcome) -> u64 {
    assert!(outcome.is_success(), "expected success, got {outcome:?}");
    outcome.gas()
}
