//! Termination (X2): when the pill is swallowed, every member is paid at once and the
//! cooperative's funds go to active members; builders, founding cohort and architect get
//! nothing.
//!
//! Readings (RULEBOOK.md X2 states them for members):
//! - **Members' own money** — each member's carried sub-threshold balance and this month's
//!   credits, and any payout of an earlier run the rails never settled — goes back to that
//!   member, banned or not (E4: money owed to members is still paid).
//! - **The cooperative's funds** are this month's buyer-side income not yet credited to
//!   members (the shared pool's buyer part and the whole of operations' share), the member fees
//!   held for return (D5), and any shared pool carried from an earlier month. No operating
//!   cost, builder, cohort or architect share is paid from them.
//! - They go **pro rata to active members** by the compensation algorithm's own weights: what
//!   each earned from sales this month, or equally when none did. With no active member they go
//!   equally to members in good standing; with none, they are reported unclaimed.
//! - No payout threshold: every member with money is paid, to the micro-dollar.

use crate::distribution::check_books;
use crate::pill::Trigger;
use crate::{CoopError, MemberBalance, MonthBooks, PayoutLine};
use assay_core::{split_largest_remainder, Micros};
use serde::{Deserialize, Serialize};

/// Where a member stands at termination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// In good standing and active (RULEBOOK G4): shares in the cooperative's funds.
    Active,
    /// In good standing, not active.
    Inactive,
    /// Banned: paid what they are owed, no share of the cooperative's funds.
    Banned,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminationReport {
    pub trigger: Trigger,
    pub gross_income: Micros,
    pub members_credited: Micros,
    pub member_fees: Micros,
    pub shared_carried_in: Micros,
    pub rollover_in: Micros,
    pub mid_month_payouts: Micros,
    /// Carried balances and this month's credits, each returned to its member.
    pub balances_returned: Micros,
    /// Payouts of an earlier run never settled, instructed again (X1.3).
    pub unsettled_returned: Micros,
    /// The cooperative's funds: gross − credited + member fees + shared pool carried in.
    pub pool: Micros,
    pub pool_paid: Micros,
    /// Only when there is no member in good standing to receive the pool.
    pub pool_unclaimed: Micros,
    pub pool_members: u64,
    /// Operating costs (this month's and carried) that go unpaid: the pill pays members only.
    pub costs_unpaid: Micros,
    pub paid_total: Micros,
    pub payout_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminationOutcome {
    pub report: TerminationReport,
    /// Final payout lines, in member order, one per member with money.
    pub payouts: Vec<PayoutLine>,
}

impl TerminationReport {
    /// Rule X2 with D9's exactness: the pool is exactly the cooperative's funds and is paid or
    /// reported unclaimed; every payout is members' own money or pool; nothing else is paid.
    pub fn check_conservation(&self) -> Result<(), CoopError> {
        let pool = self
            .gross_income
            .checked_sub(self.members_credited)?
            .checked_add(self.member_fees)?
            .checked_add(self.shared_carried_in)?;
        if pool != self.pool || self.pool != self.pool_paid.checked_add(self.pool_unclaimed)? {
            return Err(CoopError::Conservation(
                "the cooperative's funds are not exactly distributed",
            ));
        }
        let own = Micros::sum([self.rollover_in, self.members_credited])?
            .checked_sub(Micros::sum([self.mid_month_payouts, self.member_fees])?)?;
        if own != self.balances_returned {
            return Err(CoopError::Conservation(
                "returned balances disagree with the books",
            ));
        }
        let paid = Micros::sum([
            self.balances_returned,
            self.unsettled_returned,
            self.pool_paid,
        ])?;
        if paid != self.paid_total {
            return Err(CoopError::Conservation(
                "final payouts do not add up to what members are owed",
            ));
        }
        Ok(())
    }
}

/// Computes the final payout. `unsettled` lists an earlier run's payouts the rails never
/// settled; `standing[i]` belongs to `members[i]`. Every balance ends at zero.
pub fn terminate(
    trigger: Trigger,
    books: &MonthBooks,
    members: &mut [MemberBalance],
    unsettled: &[PayoutLine],
    standing: &[Standing],
) -> Result<TerminationOutcome, CoopError> {
    debug_assert_eq!(members.len(), standing.len());
    check_books(books, members)?;
    let pool = books
        .gross_income
        .checked_sub(books.members_credited)?
        .checked_add(books.member_fees)?
        .checked_add(books.shared_carried_in)?;
    let weights = pool_weights(members, standing);
    let (shares, pool_unclaimed) = match &weights {
        Some(weights) => (split_largest_remainder(pool, weights)?, Micros::ZERO),
        None => (Vec::new(), pool),
    };
    let pool_members = weights
        .as_ref()
        .map_or(0, |w| w.iter().filter(|&&w| w > 0).count() as u64);

    let mut report = TerminationReport {
        trigger,
        gross_income: books.gross_income,
        members_credited: books.members_credited,
        member_fees: books.member_fees,
        shared_carried_in: books.shared_carried_in,
        rollover_in: books.rollover_in,
        mid_month_payouts: books.mid_month_payouts,
        balances_returned: Micros::ZERO,
        unsettled_returned: Micros::ZERO,
        pool,
        pool_paid: pool.checked_sub(pool_unclaimed)?,
        pool_unclaimed,
        pool_members,
        costs_unpaid: books.operating_costs.checked_add(books.costs_carried_in)?,
        paid_total: Micros::ZERO,
        payout_count: 0,
    };
    let mut owed_unsettled = vec![Micros::ZERO; members.len()];
    for line in unsettled {
        let index =
            members
                .iter()
                .position(|m| m.member == line.member)
                .ok_or(CoopError::Conservation(
                    "an unsettled payout names no member",
                ))?;
        owed_unsettled[index] = owed_unsettled[index].checked_add(line.amount)?;
        report.unsettled_returned = report.unsettled_returned.checked_add(line.amount)?;
    }
    let mut payouts = Vec::new();
    for (index, member) in members.iter_mut().enumerate() {
        let own = member.carried.checked_add(member.unpaid)?;
        report.balances_returned = report.balances_returned.checked_add(own)?;
        let share = shares.get(index).copied().unwrap_or(Micros::ZERO);
        let amount = Micros::sum([own, owed_unsettled[index], share])?;
        *member = MemberBalance {
            carried: Micros::ZERO,
            unpaid: Micros::ZERO,
            earned_month: Micros::ZERO,
            ballots: 0,
            cold_start: false,
            ..*member
        };
        if !amount.is_zero() {
            payouts.push(PayoutLine {
                member: member.member,
                amount,
            });
            report.paid_total = report.paid_total.checked_add(amount)?;
        }
    }
    report.payout_count = payouts.len() as u64;
    report.check_conservation()?;
    Ok(TerminationOutcome { report, payouts })
}

/// Active members by this month's sales (equally when none sold); with none active, members in
/// good standing equally; `None` when nobody may receive the pool.
fn pool_weights(members: &[MemberBalance], standing: &[Standing]) -> Option<Vec<u64>> {
    let active: Vec<bool> = standing.iter().map(|s| *s == Standing::Active).collect();
    if active.iter().any(|&a| a) {
        let by_sales: Vec<u64> = members
            .iter()
            .zip(&active)
            .map(|(m, &a)| if a { m.earned_month.get() } else { 0 })
            .collect();
        if by_sales.iter().any(|&w| w > 0) {
            return Some(by_sales);
        }
        return Some(active.iter().map(|&a| u64::from(a)).collect());
    }
    let standing_ok: Vec<u64> = standing
        .iter()
        .map(|s| u64::from(*s != Standing::Banned))
        .collect();
    standing_ok.iter().any(|&w| w > 0).then_some(standing_ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_core::{MemberId, Month};

    fn balance(id: u64, carried: u64, earned: u64) -> MemberBalance {
        MemberBalance {
            carried: Micros::new(carried),
            unpaid: Micros::new(earned),
            earned_month: Micros::new(earned),
            ..MemberBalance::new(MemberId(id), id == 0)
        }
    }

    #[test]
    fn members_get_their_own_money_and_active_members_the_pool() {
        // rule X2: $100 gross, $60 credited to member 1 from sales; member 2 is banned with $3
        // carried; member 0 is active and sold nothing.
        let mut members = vec![
            balance(0, 0, 0),
            balance(1, 1_000_000, 60_000_000),
            balance(2, 3_000_000, 0),
        ];
        let books = MonthBooks {
            gross_income: Micros::new(100_000_000),
            members_credited: Micros::new(60_000_000),
            rollover_in: Micros::new(4_000_000),
            operating_costs: Micros::new(9_000_000),
            ..MonthBooks::default()
        };
        let trigger = Trigger::RunLate {
            month: Month {
                year: 2026,
                month: 1,
            },
        };
        let standing = [Standing::Active, Standing::Active, Standing::Banned];
        let outcome = terminate(trigger, &books, &mut members, &[], &standing).unwrap();
        // The pool ($40) goes by sales: all to member 1, the only one who sold.
        assert_eq!(
            outcome.payouts,
            vec![
                PayoutLine {
                    member: MemberId(1),
                    amount: Micros::new(101_000_000)
                },
                PayoutLine {
                    member: MemberId(2),
                    amount: Micros::new(3_000_000)
                },
            ]
        );
        assert_eq!(outcome.report.costs_unpaid, Micros::new(9_000_000));
        assert!(members
            .iter()
            .all(|m| m.carried.is_zero() && m.unpaid.is_zero()));
    }
}
