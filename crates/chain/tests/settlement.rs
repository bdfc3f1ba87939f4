//! The monthly USDC settlement on chain (rules D4, L5): the exchange anchors its checkpoint,
//! funds the treasury and submits the run's root; members claim with the proofs `assay-rails`
//! builds. Everything refused changes nothing.

mod common;

use assay_chain::{
    month_number, unix_time, CheckpointAnchor, Deployment, ExchangeKey, Treasury, B256, CHAIN_ID,
    U256,
};
use common::*;

#[test]
fn every_member_claims_exactly_their_line() {
    let mut deployment = deployment();
    let accounts = members(5);
    let amounts = [5_000_000, 7_250_000, 12_000_001, 5_000_000, 99_999_999];
    let run = prepare(&mut deployment, JANUARY, &accounts, &amounts, 40);
    deployment.chain.set_time(unix_time(2026, 2, 1));
    ok(deployment.submit(&run).unwrap());
    assert_eq!(
        deployment
            .treasury_view(&Treasury::nextMonthCall {})
            .unwrap(),
        month_number(FEBRUARY)
    );
    // The root reserved everything `prepare` funded.
    assert_eq!(
        deployment
            .treasury_view(&Treasury::unreservedCall {})
            .unwrap(),
        U256::ZERO
    );

    for (index, (&account, &amount)) in accounts.iter().zip(&amounts).enumerate() {
        // Anyone may send the claim; the money goes to the line's account.
        let sender = if index % 2 == 0 { account } else { STRANGER };
        ok(deployment.claim(sender, &run, index).unwrap());
        assert_eq!(deployment.balance_of(account).unwrap(), amount);
        let claimed = Treasury::isClaimedCall {
            month: run.submission.month,
            index: U256::from(index),
        };
        assert!(deployment.treasury_view(&claimed).unwrap());
    }
    assert_eq!(deployment.balance_of(deployment.treasury).unwrap(), 0);
}

#[test]
fn a_second_claim_of_a_line_is_refused() {
    let mut deployment = deployment();
    let (run, accounts) = recorded_january(&mut deployment, &[6_000_000, 7_000_000, 8_000_000]);
    ok(deployment.claim(accounts[1], &run, 1).unwrap());
    let again = deployment.claim(accounts[1], &run, 1).unwrap();
    assert!(
        again.reverted_with::<Treasury::AlreadyClaimed>(),
        "{again:?}"
    );
    assert_eq!(deployment.balance_of(accounts[1]).unwrap(), 7_000_000);
    assert_eq!(
        deployment.balance_of(deployment.treasury).unwrap(),
        14_000_000
    );
}

#[test]
fn a_wrong_proof_amount_account_or_month_is_refused() {
    let mut deployment = deployment();
    let (run, _) = recorded_january(
        &mut deployment,
        &[6_000_000, 7_000_000, 8_000_000, 9_000_000],
    );
    let treasury = deployment.treasury;
    let before = deployment.balance_of(treasury).unwrap();

    let mut more = Deployment::claim_call(&run, 0);
    more.amount += U256::from(1);
    let mut elsewhere = Deployment::claim_call(&run, 0);
    elsewhere.account = STRANGER;
    let mut other_index = Deployment::claim_call(&run, 0);
    other_index.index = U256::from(1);
    let mut bad_sibling = Deployment::claim_call(&run, 0);
    bad_sibling.proof[0] = B256::repeat_byte(0x42);
    let mut short = Deployment::claim_call(&run, 0);
    short.proof.pop();
    for forged in [more, elsewhere, other_index, bad_sibling, short] {
        let outcome = deployment.chain.call(STRANGER, treasury, &forged).unwrap();
        assert!(
            outcome.reverted_with::<Treasury::InvalidProof>(),
            "{outcome:?}"
        );
    }
    let mut unknown_month = Deployment::claim_call(&run, 0);
    unknown_month.month += 1;
    let outcome = deployment
        .chain
        .call(STRANGER, treasury, &unknown_month)
        .unwrap();
    assert!(
        outcome.reverted_with::<Treasury::UnknownMonth>(),
        "{outcome:?}"
    );
    assert_eq!(deployment.balance_of(treasury).unwrap(), before);
    assert_eq!(deployment.balance_of(STRANGER).unwrap(), 0);
}

#[test]
fn bad_submissions_are_refused_and_change_nothing() {
    let mut deployment = deployment();
    let accounts = members(3);
    let run = prepare(
        &mut deployment,
        JANUARY,
        &accounts,
        &[6_000_000, 7_000_000, 8_000_000],
        10,
    );
    deployment.chain.set_time(unix_time(2026, 2, 1));
    let exchange = deployment.exchange.address();

    // Signed by another key.
    let impostor = ExchangeKey::from_seed(8);
    let signature = impostor.sign_submission(deployment.treasury, CHAIN_ID, &run.submission);
    let outcome = deployment
        .submit_signed(exchange, &run.submission, signature)
        .unwrap();
    assert!(
        outcome.reverted_with::<Treasury::NotExchangeSignature>(),
        "{outcome:?}"
    );
    // A field changed after signing.
    let mut changed = run.submission.clone();
    let signature = deployment.sign(&changed);
    changed.payoutTotal -= U256::from(1);
    let outcome = deployment
        .submit_signed(exchange, &changed, signature)
        .unwrap();
    assert!(
        outcome.reverted_with::<Treasury::NotExchangeSignature>(),
        "{outcome:?}"
    );
    // A checkpoint never anchored.
    let mut unanchored = run.submission.clone();
    unanchored.checkpointSize = 11;
    let signature = deployment.sign(&unanchored);
    let outcome = deployment
        .submit_signed(exchange, &unanchored, signature)
        .unwrap();
    assert!(
        outcome.reverted_with::<Treasury::CheckpointNotAnchored>(),
        "{outcome:?}"
    );
    // Not the month due.
    let mut later = run.submission.clone();
    later.month += 1;
    let signature = deployment.sign(&later);
    let outcome = deployment
        .submit_signed(exchange, &later, signature)
        .unwrap();
    assert!(
        outcome.reverted_with::<Treasury::WrongMonth>(),
        "{outcome:?}"
    );
    // More than the treasury holds.
    let mut unfunded = run.submission.clone();
    unfunded.payoutTotal += U256::from(1);
    let signature = deployment.sign(&unfunded);
    let outcome = deployment
        .submit_signed(exchange, &unfunded, signature)
        .unwrap();
    assert!(outcome.reverted_with::<Treasury::Unfunded>(), "{outcome:?}");

    assert_eq!(
        deployment
            .treasury_view(&Treasury::nextMonthCall {})
            .unwrap(),
        month_number(JANUARY)
    );
    assert_eq!(
        deployment
            .treasury_view(&Treasury::unreservedCall {})
            .unwrap(),
        run.submission.payoutTotal
    );
    assert_eq!(deployment.trigger().unwrap(), 0);
    // The genuine submission still goes through, from any sender.
    let signature = deployment.sign(&run.submission);
    ok(deployment
        .submit_signed(STRANGER, &run.submission, signature)
        .unwrap());
}

#[test]
fn the_anchor_records_only_newer_exchange_checkpoints() {
    let mut deployment = deployment();
    ok(deployment.anchor_checkpoint(100, log_root(100)).unwrap());
    for size in [100, 99, 0] {
        let outcome = deployment.anchor_checkpoint(size, log_root(size)).unwrap();
        assert!(
            outcome.reverted_with::<CheckpointAnchor::NotNewer>(),
            "{size}: {outcome:?}"
        );
    }
    let impostor = ExchangeKey::from_seed(9);
    let signature = impostor.sign_checkpoint(deployment.anchor, CHAIN_ID, 200, log_root(200));
    let call = CheckpointAnchor::anchorCall {
        size: 200,
        root: log_root(200),
        signature,
    };
    let outcome = deployment
        .chain
        .call(STRANGER, deployment.anchor, &call)
        .unwrap();
    assert!(
        outcome.reverted_with::<CheckpointAnchor::NotExchangeSignature>(),
        "{outcome:?}"
    );
    let latest = deployment
        .chain
        .view(deployment.anchor, &CheckpointAnchor::latestSizeCall {})
        .unwrap();
    assert_eq!(latest, 100);
    let anchored = CheckpointAnchor::isAnchoredCall {
        size: 100,
        root: log_root(100),
    };
    assert!(deployment.chain.view(deployment.anchor, &anchored).unwrap());
}

#[test]
fn rust_signs_the_digests_the_contracts_compute() {
    let mut deployment = deployment();
    let run = prepare(
        &mut deployment,
        JANUARY,
        &members(2),
        &[5_000_000, 6_000_000],
        3,
    );
    let contract_digest = deployment
        .treasury_view(&Treasury::submissionDigestCall {
            s: run.submission.clone(),
        })
        .unwrap();
    let signature = deployment.sign(&run.submission);
    let recovered = ecrecover(contract_digest, &signature);
    assert_eq!(recovered, deployment.exchange.address());
    let checkpoint_digest = deployment
        .chain
        .view(
            deployment.anchor,
            &CheckpointAnchor::checkpointDigestCall {
                size: 3,
                root: log_root(3),
            },
        )
        .unwrap();
    let signature =
        deployment
            .exchange
            .sign_checkpoint(deployment.anchor, CHAIN_ID, 3, log_root(3));
    assert_eq!(
        ecrecover(checkpoint_digest, &signature),
        deployment.exchange.address()
    );
}

/// Recovers the signer with k256, independently of the contracts.
fn ecrecover(digest: B256, signature: &[u8]) -> assay_chain::Address {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    let parsed = Signature::from_slice(&signature[..64]).unwrap();
    let recovery = RecoveryId::from_byte(signature[64] - 27).unwrap();
    let key = VerifyingKey::recover_from_prehash(digest.as_slice(), &parsed, recovery).unwrap();
    let point = key.to_encoded_point(false);
    let hash = assay_chain::keccak256(&point.as_bytes()[1..]);
    assay_chain::Address::from_slice(&hash[12..])
}

#[test]
fn unclaimed_lines_stay_claimable_months_later() {
    let mut deployment = deployment();
    let accounts = members(2);
    let january = prepare(
        &mut deployment,
        JANUARY,
        &accounts,
        &[5_000_000, 6_000_000],
        10,
    );
    deployment.chain.set_time(unix_time(2026, 2, 1));
    ok(deployment.submit(&january).unwrap());
    let february = prepare(
        &mut deployment,
        FEBRUARY,
        &accounts,
        &[7_000_000, 8_000_000],
        20,
    );
    deployment.chain.set_time(unix_time(2026, 3, 2));
    ok(deployment.submit(&february).unwrap());
    deployment.chain.set_time(unix_time(2029, 6, 1));
    ok(deployment.claim(accounts[0], &january, 0).unwrap());
    ok(deployment.claim(accounts[0], &february, 0).unwrap());
    assert_eq!(deployment.balance_of(accounts[0]).unwrap(), 12_000_000);
}

#[test]
fn only_funded_money_backs_a_root() {
    // rule D4: a root is recorded only when money that came in through `fund` covers it; USDC
    // sent by a plain transfer is not counted (the treasury keeps no total of unclaimed lines,
    // so it cannot tell such a transfer from reserved money).
    let mut deployment = deployment();
    let accounts = members(2);
    let run = prepare(
        &mut deployment,
        JANUARY,
        &accounts,
        &[3_000_000, 4_000_000],
        40,
    );
    deployment.chain.set_time(unix_time(2026, 2, 1));
    let mut larger = run.submission.clone();
    larger.payoutTotal += U256::from(1_000_000);
    let usdc = deployment.usdc;
    let treasury = deployment.treasury;
    deployment
        .chain
        .call(
            OPERATOR,
            usdc,
            &assay_chain::TestUSDC::mintCall {
                to: OPERATOR,
                amount: U256::from(1_000_000),
            },
        )
        .unwrap()
        .into_output()
        .unwrap();
    deployment
        .chain
        .call(
            OPERATOR,
            usdc,
            &assay_chain::TestUSDC::transferCall {
                to: treasury,
                value: U256::from(1_000_000),
            },
        )
        .unwrap()
        .into_output()
        .unwrap();
    assert_eq!(deployment.balance_of(treasury).unwrap(), 8_000_000);
    let signature = deployment.sign(&larger);
    let exchange = deployment.exchange.address();
    let outcome = deployment
        .submit_signed(exchange, &larger, signature)
        .unwrap();
    assert!(outcome.reverted_with::<Treasury::Unfunded>(), "{outcome:?}");
    // The genuine run is covered by what was funded, and reserves all of it.
    ok(deployment.submit(&run).unwrap());
    assert_eq!(
        deployment
            .treasury_view(&Treasury::unreservedCall {})
            .unwrap(),
        U256::ZERO
    );
}
