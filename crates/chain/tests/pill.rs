//! The poison pill on chain (rules X1-X3): each trigger flips the treasury into termination by
//! itself, members withdraw pro rata, and no key can stop, pause or reverse it.

mod common;

use assay_chain::{
    unix_time, Address, Bytes, CheckpointAnchor, Deployment, MonthRun, TestUSDC, Treasury,
    CHAIN_ID, U256,
};
use common::*;

/// Trigger codes of `Treasury.Trigger`.
const MEMBER_SHARE: u8 = 1;
const MISSED_ROOT: u8 = 2;
const EQUIVOCATION: u8 = 3;

/// January's run (three members) submitted on 1 February, plus 1,000,001 units of cooperative
/// funds beyond the payouts.
fn january(deployment: &mut Deployment) -> (MonthRun, Vec<Address>) {
    let recorded = recorded_january(deployment, &[5_000_000, 10_000_000, 15_000_000]);
    deployment.deposit(OPERATOR, 1_000_001).unwrap();
    recorded
}

/// Every member withdraws; returns what each received.
fn withdraw_all(deployment: &mut Deployment, run: &MonthRun, accounts: &[Address]) -> Vec<u64> {
    accounts
        .iter()
        .enumerate()
        .map(|(index, &account)| {
            let before = deployment.balance_of(account).unwrap();
            ok(deployment.withdraw(account, run, index).unwrap());
            deployment.balance_of(account).unwrap() - before
        })
        .collect()
}

#[test]
fn an_equivocation_proven_by_anyone_fires_the_pill() {
    // rule X1.4
    let mut deployment = deployment();
    let (run, accounts) = january(&mut deployment);
    let exchange = deployment.exchange.clone();
    let (a, b) = (log_root(50), log_root(51));
    let call = CheckpointAnchor::proveEquivocationCall {
        size: 50,
        rootA: a,
        signatureA: exchange.sign_checkpoint(deployment.anchor, CHAIN_ID, 50, a),
        rootB: b,
        signatureB: exchange.sign_checkpoint(deployment.anchor, CHAIN_ID, 50, b),
    };
    let anchor = deployment.anchor;
    ok(deployment.chain.call(STRANGER, anchor, &call).unwrap());
    assert_eq!(
        deployment.trigger().unwrap(),
        0,
        "the treasury flips on the next call"
    );
    ok(deployment
        .chain
        .call(STRANGER, deployment.treasury, &Treasury::fireTriggerCall {})
        .unwrap());
    assert_eq!(deployment.trigger().unwrap(), EQUIVOCATION);
    // The pool is the cooperative funds; the payout lines stay the members' own.
    let pool = deployment.treasury_view(&Treasury::poolCall {}).unwrap();
    assert_eq!(pool, U256::from(1_000_001));
    let shares = withdraw_all(&mut deployment, &run, &accounts);
    assert_eq!(shares, vec![166_666, 333_333, 500_000]);
    ok(deployment.claim(accounts[2], &run, 2).unwrap());
    assert_eq!(deployment.balance_of(accounts[2]).unwrap(), 15_500_000);
}

#[test]
fn a_pair_with_one_root_or_a_foreign_signature_proves_nothing() {
    let mut deployment = deployment();
    let exchange = deployment.exchange.clone();
    let anchor = deployment.anchor;
    let same = CheckpointAnchor::proveEquivocationCall {
        size: 5,
        rootA: log_root(5),
        signatureA: exchange.sign_checkpoint(anchor, CHAIN_ID, 5, log_root(5)),
        rootB: log_root(5),
        signatureB: exchange.sign_checkpoint(anchor, CHAIN_ID, 5, log_root(5)),
    };
    let outcome = deployment.chain.call(STRANGER, anchor, &same).unwrap();
    assert!(
        outcome.reverted_with::<CheckpointAnchor::SameRoot>(),
        "{outcome:?}"
    );
    let other = assay_chain::ExchangeKey::from_seed(99);
    let forged = CheckpointAnchor::proveEquivocationCall {
        size: 5,
        rootA: log_root(5),
        signatureA: exchange.sign_checkpoint(anchor, CHAIN_ID, 5, log_root(5)),
        rootB: log_root(6),
        signatureB: other.sign_checkpoint(anchor, CHAIN_ID, 5, log_root(6)),
    };
    let outcome = deployment.chain.call(STRANGER, anchor, &forged).unwrap();
    assert!(
        outcome.reverted_with::<CheckpointAnchor::NotExchangeSignature>(),
        "{outcome:?}"
    );
    assert!(!deployment
        .chain
        .view(anchor, &CheckpointAnchor::equivocatedCall {})
        .unwrap());
}

#[test]
fn a_missed_root_fires_the_pill_at_00_00_utc_on_the_4th() {
    // rule X1.2: February's root is due before 4 March 00:00 UTC.
    let mut deployment = deployment();
    let (january_run, accounts) = january(&mut deployment);
    let treasury = deployment.treasury;
    deployment.chain.set_time(unix_time(2026, 3, 4) - 1);
    let early = deployment
        .chain
        .call(STRANGER, treasury, &Treasury::fireTriggerCall {})
        .unwrap();
    assert!(early.reverted_with::<Treasury::NoTrigger>(), "{early:?}");
    let late = prepare(
        &mut deployment,
        FEBRUARY,
        &accounts,
        &[5_000_000, 5_000_000, 5_000_000],
        20,
    );
    let early = deployment.withdraw(accounts[0], &january_run, 0).unwrap();
    assert!(
        early.reverted_with::<Treasury::NotTerminated>(),
        "{early:?}"
    );
    deployment.chain.set_time(unix_time(2026, 3, 4));
    ok(deployment
        .chain
        .call(STRANGER, treasury, &Treasury::fireTriggerCall {})
        .unwrap());
    assert_eq!(deployment.trigger().unwrap(), MISSED_ROOT);
    // The late root itself is refused now, and so is money for it: the pool is fixed.
    let pool = deployment.treasury_view(&Treasury::poolCall {}).unwrap();
    let refused = deployment.deposit(OPERATOR, 1_000_000).unwrap_err();
    let selector: String = <Treasury::AlreadyTerminated as alloy_sol_types::SolError>::SELECTOR
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert!(refused.to_string().contains(&selector), "{refused}");
    assert_eq!(
        deployment.treasury_view(&Treasury::poolCall {}).unwrap(),
        pool
    );
    let outcome = deployment.submit(&late).unwrap();
    assert!(
        outcome.reverted_with::<Treasury::AlreadyTerminated>(),
        "{outcome:?}"
    );
}

#[test]
fn a_late_root_fires_the_pill_instead_of_counting() {
    // rule X1.2, reached through the submission itself.
    let mut deployment = deployment();
    let (_, accounts) = january(&mut deployment);
    let late = prepare(
        &mut deployment,
        FEBRUARY,
        &accounts,
        &[5_000_000, 5_000_000, 5_000_000],
        20,
    );
    deployment.chain.set_time(unix_time(2026, 3, 4));
    ok(deployment.submit(&late).unwrap());
    assert_eq!(deployment.trigger().unwrap(), MISSED_ROOT);
    let outcome = deployment.claim(accounts[0], &late, 0).unwrap();
    assert!(
        outcome.reverted_with::<Treasury::UnknownMonth>(),
        "{outcome:?}"
    );
}

#[test]
fn a_root_under_90_percent_fires_the_pill() {
    // rule X1.1: 89.99% of income to members.
    let mut deployment = deployment();
    let accounts = members(2);
    let mut run = prepare(
        &mut deployment,
        JANUARY,
        &accounts,
        &[5_000_000, 8_999_000],
        10,
    );
    run.submission.income = U256::from(15_555_000u64);
    run.submission.memberShare = U256::from(13_999_000u64); // 89.9997% < 90%
    deployment.chain.set_time(unix_time(2026, 2, 1));
    ok(deployment.submit(&run).unwrap());
    assert_eq!(deployment.trigger().unwrap(), MEMBER_SHARE);
    // Its lines are members' own money and stay claimable; the pool is what is left (zero).
    ok(deployment.claim(accounts[1], &run, 1).unwrap());
    assert_eq!(deployment.balance_of(accounts[1]).unwrap(), 8_999_000);
    assert_eq!(
        deployment.treasury_view(&Treasury::poolCall {}).unwrap(),
        U256::ZERO
    );
}

#[test]
fn exactly_90_percent_does_not_fire() {
    let mut deployment = deployment();
    let mut run = prepare(&mut deployment, JANUARY, &members(1), &[9_000_000], 10);
    run.submission.income = U256::from(10_000_000u64);
    run.submission.memberShare = U256::from(9_000_000u64);
    deployment.chain.set_time(unix_time(2026, 2, 1));
    ok(deployment.submit(&run).unwrap());
    assert_eq!(deployment.trigger().unwrap(), 0);
}

#[test]
fn a_withdrawal_fires_a_due_trigger_itself() {
    let mut deployment = deployment();
    let (run, accounts) = january(&mut deployment);
    deployment.chain.set_time(unix_time(2026, 3, 10));
    let shares = withdraw_all(&mut deployment, &run, &accounts);
    assert_eq!(deployment.trigger().unwrap(), MISSED_ROOT);
    assert_eq!(shares.iter().sum::<u64>(), 999_999);
    let again = deployment.withdraw(accounts[0], &run, 0).unwrap();
    assert!(
        again.reverted_with::<Treasury::AlreadyWithdrawn>(),
        "{again:?}"
    );
}

/// Calls a contract with no such function might have had: an owner's, a pauser's, an
/// upgrader's, a rescuer's, a self-destructor's.
fn escape_hatches(target: Address) -> Vec<Bytes> {
    let signatures = [
        "pause()",
        "unpause()",
        "owner()",
        "transferOwnership(address)",
        "renounceOwnership()",
        "upgradeTo(address)",
        "upgradeToAndCall(address,bytes)",
        "setExchange(address)",
        "setAnchor(address)",
        "unterminate()",
        "reset()",
        "cancelTermination()",
        "rescue(address,uint256)",
        "sweep(address,uint256)",
        "withdrawAll(address)",
        "emergencyWithdraw()",
        "kill()",
        "destroy()",
    ];
    signatures
        .iter()
        .map(|signature| {
            let mut data = assay_chain::keccak256(signature.as_bytes())[..4].to_vec();
            data.extend_from_slice(&[0u8; 12]);
            data.extend_from_slice(target.as_slice());
            data.extend_from_slice(&[0u8; 64]);
            data.into()
        })
        .collect()
}

#[test]
fn no_privileged_key_can_stop_pause_or_reverse_the_pill() {
    // rule X3
    let mut deployment = deployment();
    let (run, accounts) = january(&mut deployment);
    // February's run is funded and signed but too late: funding is refused once terminated.
    let next = prepare(
        &mut deployment,
        FEBRUARY,
        &accounts,
        &[1_000_000, 1_000_000, 1_000_000],
        30,
    );
    deployment.chain.set_time(unix_time(2026, 3, 4));
    ok(deployment
        .chain
        .call(STRANGER, deployment.treasury, &Treasury::fireTriggerCall {})
        .unwrap());
    let pool = deployment.treasury_view(&Treasury::poolCall {}).unwrap();
    let treasury = deployment.treasury;

    for key in privileged(&deployment) {
        for data in escape_hatches(key) {
            for target in [treasury, deployment.anchor, deployment.usdc] {
                let outcome = deployment
                    .chain
                    .send(key, target, data.clone(), U256::ZERO)
                    .unwrap();
                assert!(
                    !outcome.is_success(),
                    "{key} escaped through {data} on {target}"
                );
            }
        }
        // Ether, a validly signed root, the trigger again.
        assert!(!deployment
            .chain
            .send(key, treasury, Bytes::new(), U256::ZERO)
            .unwrap()
            .is_success());
        let signature = deployment.sign(&next.submission);
        let outcome = deployment
            .submit_signed(key, &next.submission, signature)
            .unwrap();
        assert!(
            outcome.reverted_with::<Treasury::AlreadyTerminated>(),
            "{outcome:?}"
        );
        let outcome = deployment
            .chain
            .call(key, treasury, &Treasury::fireTriggerCall {})
            .unwrap();
        assert!(
            outcome.reverted_with::<Treasury::AlreadyTerminated>(),
            "{outcome:?}"
        );
        // A weight for itself, which no members' tree holds.
        let mut forged = Deployment::withdraw_call(&run, 0);
        forged.account = key;
        let outcome = deployment.chain.call(key, treasury, &forged).unwrap();
        assert!(
            outcome.reverted_with::<Treasury::InvalidProof>(),
            "{outcome:?}"
        );
    }
    // Moving the treasury's tokens needs the treasury to call; nobody else can.
    for key in privileged(&deployment) {
        let steal = TestUSDC::transferFromCall {
            from: treasury,
            to: key,
            value: U256::from(1),
        };
        assert!(!deployment
            .chain
            .call(key, deployment.usdc, &steal)
            .unwrap()
            .is_success());
    }
    assert_eq!(deployment.trigger().unwrap(), MISSED_ROOT);
    assert_eq!(
        deployment.treasury_view(&Treasury::poolCall {}).unwrap(),
        pool
    );
    let shares = withdraw_all(&mut deployment, &run, &accounts);
    assert_eq!(
        shares.iter().sum::<u64>(),
        3_999_999,
        "pool 4,000,001 (January's surplus and February's funding, which no root reserved) less dust under 3"
    );
}

/// Opcodes that would let anyone replace or remove the code.
const SELFDESTRUCT: u8 = 0xff;
const DELEGATECALL: u8 = 0xf4;
const CALLCODE: u8 = 0xf2;

#[test]
fn deployed_code_cannot_self_destruct_or_run_foreign_code() {
    // rule X3: no proxy, no escape hatch. Walks the runtime code opcode by opcode, skipping
    // PUSH data.
    let deployment = deployment();
    for address in [deployment.treasury, deployment.anchor] {
        let code = deployment.chain.code(address);
        assert!(!code.is_empty());
        let mut position = 0;
        while position < code.len() {
            let opcode = code[position];
            assert!(
                ![SELFDESTRUCT, DELEGATECALL, CALLCODE].contains(&opcode),
                "{address}: opcode {opcode:#x} at {position}"
            );
            position += 1 + if (0x60..=0x7f).contains(&opcode) {
                usize::from(opcode - 0x5f)
            } else {
                0
            };
        }
    }
}
