//! Rule D9 under random months (issue 5 acceptance, ≥ 1,000 cases): the run conserves money to
//! the micro-dollar and members' side is never below 90% of gross. The books are built the way
//! the engine builds them: sales credit members at clearing, mid-month payouts take a fee,
//! ballots earn the participation bonus (G3). The same month, terminated instead of run, pays
//! every member their own money and the cooperative's funds to active members exactly (X2).

use assay_coop::{
    member_part_of_sale, run_month, split_slot_income, terminate, MemberBalance, MonthBooks,
    PayoutLine, Standing, Trigger,
};
use assay_core::{MemberId, Micros, Rules};
use proptest::prelude::*;

fn rules() -> Rules {
    Rules::from_toml_str(include_str!("../../../rules/default.toml")).unwrap()
}

#[derive(Debug, Clone)]
struct Month {
    members: usize,
    founders: usize,
    cold_start_every: usize,
    /// (price, first member, members in slot)
    sales: Vec<(u64, usize, usize)>,
    fees: Vec<u64>,
    mid_month: Vec<usize>,
    costs: u64,
    costs_carried_in: u64,
    carried: Vec<u64>,
    ballots: Vec<u32>,
    /// 0 active, 1 inactive, 2 banned, per member.
    standing: Vec<u8>,
}

fn month() -> impl Strategy<Value = Month> {
    (0usize..40, 0usize..5, 1usize..5).prop_flat_map(|(members, founders, cold_start_every)| {
        let member = if members == 0 { 0..1 } else { 0..members };
        (
            proptest::collection::vec((1u64..50_000_000, member.clone(), 1usize..6), 0..30),
            proptest::collection::vec(0u64..100_000_000, 0..5),
            proptest::collection::vec(member, 0..5),
            0u64..20_000_000,
            0u64..5_000_000,
            proptest::collection::vec(0u64..5_000_000, members),
            proptest::collection::vec(0u32..4, members),
            proptest::collection::vec(0u8..3, members),
        )
            .prop_map(
                move |(
                    sales,
                    fees,
                    mid_month,
                    costs,
                    costs_carried_in,
                    carried,
                    ballots,
                    standing,
                )| Month {
                    members,
                    founders: founders.min(members),
                    cold_start_every,
                    sales: if members == 0 { Vec::new() } else { sales },
                    fees,
                    mid_month: if members == 0 { Vec::new() } else { mid_month },
                    costs,
                    costs_carried_in,
                    carried,
                    ballots,
                    standing,
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_500))]

    #[test]
    fn every_month_conserves_money_and_pays_members_at_least_90_percent(m in month()) {
        let rules = rules();
        let mut balances: Vec<MemberBalance> = (0..m.members)
            .map(|i| {
                let mut b = MemberBalance::new(MemberId(i as u64), i < m.founders);
                b.carried = Micros::new(m.carried[i]);
                b.cold_start = i % m.cold_start_every == 0 && i >= m.founders;
                b.ballots = m.ballots[i];
                // Rule D4: every third member is paid on a whole-cent rail (ACH, prepaid).
                b.paid_in_cents = (i + m.cold_start_every) % 3 == 0;
                b
            })
            .collect();
        let in_cents: Vec<bool> = balances.iter().map(|b| b.paid_in_cents).collect();
        let mut books = MonthBooks {
            rollover_in: Micros::sum(balances.iter().map(|b| b.carried)).unwrap(),
            operating_costs: Micros::new(m.costs),
            costs_carried_in: Micros::new(m.costs_carried_in),
            ..MonthBooks::default()
        };
        for &(price, first, count) in &m.sales {
            let price = Micros::new(price);
            books.gross_income = books.gross_income.checked_add(price).unwrap();
            let part = member_part_of_sale(price, rules.waterfall.members_bps).unwrap();
            let slot: Vec<usize> = (0..count.min(m.members)).map(|k| (first + k) % m.members).collect();
            let weights: Vec<u64> = slot.iter().map(|&i| 10_000 + (i as u64 % 3) * 2_500).collect();
            for (&i, share) in slot.iter().zip(split_slot_income(part, &weights).unwrap()) {
                balances[i].unpaid = balances[i].unpaid.checked_add(share).unwrap();
                balances[i].earned_month = balances[i].earned_month.checked_add(share).unwrap();
            }
            books.members_credited = books.members_credited.checked_add(part).unwrap();
        }
        for &fee in &m.fees {
            books.gross_income = books.gross_income.checked_add(Micros::new(fee)).unwrap();
        }
        for &i in &m.mid_month {
            // Rule D5: a mid-month payout pays the balance less the fee, when it covers the fee.
            let fee = rules.payout.mid_month_fee_micros;
            let held = balances[i].carried.checked_add(balances[i].unpaid).unwrap();
            if held > fee {
                books.member_fees = books.member_fees.checked_add(fee).unwrap();
                books.mid_month_payouts = books.mid_month_payouts.checked_add(held.checked_sub(fee).unwrap()).unwrap();
                balances[i].carried = Micros::ZERO;
                balances[i].unpaid = Micros::ZERO;
            }
        }

        check_termination(&books, &balances, &m.standing)?;
        let outcome = run_month(&books, &mut balances, &rules).unwrap();
        let r = &outcome.report;
        r.check_conservation().unwrap();
        prop_assert!(r.operations.bonuses_paid <= r.bonuses_owed);
        // D9 in the words: payouts + rollovers + operations + builders + cohort + architect.
        let lhs = Micros::sum([
            r.payouts_total, r.mid_month_payouts, r.rollover_out, r.shared_carried_out,
            r.operations.costs_paid, r.operations.builders, r.operations.architect, r.cohort_carried_out,
        ]).unwrap();
        // Cohort parts and top-ups are inside payouts and rollovers; member fees cancel (D5).
        let rhs = Micros::sum([r.gross_income, r.rollover_in, r.shared_carried_in]).unwrap();
        prop_assert_eq!(lhs, rhs);
        prop_assert!(u128::from(r.member_side.get()) * 10 >= u128::from(r.gross_income.get()) * 9);
        // Threshold (D4): everyone paid has at least $5; everyone else carries under $5.
        for line in &outcome.payouts {
            prop_assert!(line.amount >= rules.payout.threshold_micros);
            // ACH and prepaid lines are whole cents; the paid member keeps under a cent.
            if in_cents[line.member.0 as usize] {
                prop_assert_eq!(line.amount.get() % 10_000, 0);
                prop_assert!(balances[line.member.0 as usize].carried.get() < 10_000);
            } else {
                prop_assert!(balances[line.member.0 as usize].carried.is_zero());
            }
        }
        for b in &balances {
            prop_assert!(b.carried < rules.payout.threshold_micros);
            prop_assert!(b.unpaid.is_zero() && b.earned_month.is_zero());
        }
        let sum_payouts = Micros::sum(outcome.payouts.iter().map(|l| l.amount)).unwrap();
        prop_assert_eq!(sum_payouts, r.payouts_total);
        prop_assert_eq!(Micros::sum(balances.iter().map(|b| b.carried)).unwrap(), r.rollover_out);
    }
}

/// Rule X2 on the same month: every member's own money back, the pool to the active, nothing to
/// anyone else, every balance at zero.
fn check_termination(
    books: &MonthBooks,
    balances: &[MemberBalance],
    standing: &[u8],
) -> Result<(), TestCaseError> {
    let mut members = balances.to_vec();
    let standing: Vec<Standing> = standing
        .iter()
        .map(|s| match s {
            0 => Standing::Active,
            1 => Standing::Inactive,
            _ => Standing::Banned,
        })
        .collect();
    let trigger = Trigger::ImmutableAmendment { proposal: 0 };
    let unsettled: Vec<PayoutLine> = members
        .iter()
        .take(2)
        .map(|b| PayoutLine {
            member: b.member,
            amount: Micros::new(5_000_000),
        })
        .collect();
    let outcome = terminate(trigger, books, &mut members, &unsettled, &standing).unwrap();
    let r = &outcome.report;
    r.check_conservation().unwrap();
    prop_assert_eq!(
        Micros::sum(outcome.payouts.iter().map(|l| l.amount)).unwrap(),
        r.paid_total
    );
    let all_funds = Micros::sum([
        r.rollover_in,
        r.gross_income,
        r.shared_carried_in,
        r.unsettled_returned,
    ])
    .unwrap()
    .checked_sub(r.mid_month_payouts)
    .unwrap();
    prop_assert_eq!(
        r.paid_total.checked_add(r.pool_unclaimed).unwrap(),
        all_funds
    );
    if standing.iter().any(|s| *s != Standing::Banned) {
        prop_assert!(r.pool_unclaimed.is_zero());
    }
    for line in &outcome.payouts {
        prop_assert!(
            balances.iter().any(|m| m.member == line.member) && line.amount > Micros::ZERO
        );
    }
    prop_assert!(members
        .iter()
        .all(|b| b.carried.is_zero() && b.unpaid.is_zero() && b.ballots == 0));
    Ok(())
}
