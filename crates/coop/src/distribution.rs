//! The monthly run (rules D2–D9): on the 1st, every member's month is settled.
//!
//! Readings (RULEBOOK.md states them for members):
//! - Members' side of the month = 90% of gross buyer-side income, rounded up, or what was already
//!   credited at clearing if that is more (each sale rounds up for members, D3). The part not yet
//!   credited (90% of origination fees, off-take fees and other buyer charges) forms the **shared
//!   pool** together with the member fees paid this month (D5).
//! - The shared pool is split among members by what they earned from sales this month (so fees
//!   return "according to monthly distribution outcome", §IX); in a month with no sales, equally
//!   among all members; with no members at all it carries to the next month.
//! - Cold start (D8): a member in one of their first 6 months whose new money this month (sales +
//!   shared pool) is under $5.00 is topped up to $5.00 from operations' share. If operations'
//!   share cannot cover every top-up, it is split among them in proportion to need.
//! - Participation bonus (G3): each ballot a member cast this month on a members' vote earns
//!   `governance.participation_bonus_micros`, paid from operations' share after the top-ups
//!   (members before vendors); if the share cannot cover every bonus, it is split among them in
//!   proportion to what each is owed, and the rest lapses.
//! - Cohort (D7): the cohort's part of the surplus is split equally among founding members; with
//!   no founding member it goes to members like the shared pool.
//! - Threshold (D4): a member whose balance (carried + this month) reaches $5.00 is paid all of
//!   it; below that, it rolls to next month. ACH and prepaid cards move whole cents (NACHA and
//!   card loads have no smaller unit), so a member paid on those rails is paid the balance rounded
//!   down to the cent and the sub-cent remainder rolls to next month like any balance; USDC has
//!   six decimals, one micro-dollar, and is paid exactly.

use crate::{split_operations, CoopError, OperationsSplit};
use assay_core::{split_largest_remainder, MemberId, Micros, Rounding, Rules};
use serde::{Deserialize, Serialize};

/// A member's money at the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberBalance {
    pub member: MemberId,
    /// Carried from earlier runs (D4), less what mid-month payouts took from it.
    pub carried: Micros,
    /// Credited this month and not yet paid out by a mid-month payout.
    pub unpaid: Micros,
    /// Credited from sales this month: the member's weight in the shared pool.
    pub earned_month: Micros,
    pub founding: bool,
    /// This month is one of the member's cold-start months (D8).
    pub cold_start: bool,
    /// Ballots cast this month on members' votes, each earning the participation bonus (G3).
    pub ballots: u32,
    /// The member's rail pays whole cents only (ACH, prepaid; D4): set by the engine for the run.
    pub paid_in_cents: bool,
}

/// One cent in micro-dollars: the smallest amount ACH and prepaid loads can carry.
pub const CENT: Micros = Micros::new(10_000);

impl MemberBalance {
    pub fn new(member: MemberId, founding: bool) -> MemberBalance {
        MemberBalance {
            member,
            carried: Micros::ZERO,
            unpaid: Micros::ZERO,
            earned_month: Micros::ZERO,
            founding,
            cold_start: false,
            ballots: 0,
            paid_in_cents: false,
        }
    }

    /// What the member's rail can pay of `amount` (D4): all of it on USDC, whole cents on ACH
    /// and prepaid. The rest stays in the member's balance.
    pub fn payable(&self, amount: Micros) -> Micros {
        if self.paid_in_cents {
            Micros::new(amount.get() - amount.get() % CENT.get())
        } else {
            amount
        }
    }
}

/// The month's books, kept by the engine as inputs are applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthBooks {
    /// Every buyer payment this month (D1).
    pub gross_income: Micros,
    /// Members' parts of sales, credited to members at clearing (D3).
    pub members_credited: Micros,
    /// Fees members paid this month (D5).
    pub member_fees: Micros,
    /// Paid to members by mid-month payouts (fees excluded).
    pub mid_month_payouts: Micros,
    /// Σ members' carried balances right after the previous run.
    pub rollover_in: Micros,
    /// Shared pool carried from a month that had no members.
    pub shared_carried_in: Micros,
    pub operating_costs: Micros,
    /// Operating costs a previous month could not pay.
    pub costs_carried_in: Micros,
}

/// One member paid at the run (D4); the rail is the engine's to attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutLine {
    pub member: MemberId,
    pub amount: Micros,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    pub gross_income: Micros,
    /// Members' side of gross (≥ 90%): credited at clearing + the buyer part of the shared pool.
    pub member_side: Micros,
    pub members_credited: Micros,
    /// Member fees returned through the shared pool (D5).
    pub member_fees_returned: Micros,
    pub shared_carried_in: Micros,
    /// Shared pool carried to next month (only when there are no members).
    pub shared_carried_out: Micros,
    /// Cohort share carried to next month's shared pool (no members and no founders).
    pub cohort_carried_out: Micros,
    pub operations: OperationsSplit,
    /// Top-ups owed before any cap (D8); `operations.topups_paid` is what was paid.
    pub topups_owed: Micros,
    /// Participation bonuses owed before any cap (G3); `operations.bonuses_paid` was paid.
    pub bonuses_owed: Micros,
    /// Cohort share paid to founding members (or to members when there are none).
    pub cohort_to_members: Micros,
    pub founding_members: u64,
    pub rollover_in: Micros,
    pub rollover_out: Micros,
    pub mid_month_payouts: Micros,
    pub payouts_total: Micros,
    pub payout_count: u64,
    pub members_rolled_over: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub report: RunReport,
    /// In the order of `members` given to [`run_month`].
    pub payouts: Vec<PayoutLine>,
}

impl RunReport {
    /// Rule D9, as two identities that must hold to the micro-dollar, plus the 90% floor:
    /// 1. gross = members' side + top-ups + bonuses + costs paid + builders + cohort + architect;
    /// 2. paid to members this month (run + mid-month) + rollover out
    ///    = rollover in + members' side + top-ups + bonuses + cohort paid to members
    ///    + shared pool carried in − carried out.
    ///
    /// Member fees cancel out of (2): they leave balances at a mid-month payout and return
    /// through the shared pool. Together the two say: member payouts + rollovers + operations +
    /// builders + cohort + architect = buyer-side income.
    pub fn check_conservation(&self) -> Result<(), CoopError> {
        self.check_identities()?;
        if !self.members_side_floor_met()? {
            return Err(CoopError::Conservation(
                "members' side is below 90% of gross",
            ));
        }
        Ok(())
    }

    /// X1.1, checked against the rule's fixed 90%, whatever the rules file says.
    pub fn members_side_floor_met(&self) -> Result<bool, CoopError> {
        Ok(self.member_side >= self.gross_income.mul_bps(9_000, Rounding::Up)?)
    }

    /// The two identities of D9 alone: a failure is a bug in the books, never a trigger.
    pub fn check_identities(&self) -> Result<(), CoopError> {
        let ops = &self.operations;
        let allocated = Micros::sum([
            self.member_side,
            ops.topups_paid,
            ops.bonuses_paid,
            ops.costs_paid,
            ops.builders,
            ops.cohort,
            ops.architect,
        ])?;
        if allocated != self.gross_income {
            return Err(CoopError::Conservation(
                "gross income is not exactly allocated",
            ));
        }
        let paid = Micros::sum([
            self.payouts_total,
            self.mid_month_payouts,
            self.rollover_out,
        ])?;
        let owed = Micros::sum([
            self.rollover_in,
            self.member_side,
            ops.topups_paid,
            ops.bonuses_paid,
            self.cohort_to_members,
            self.shared_carried_in,
        ])?
        .checked_sub(self.shared_carried_out)?;
        if paid != owed {
            return Err(CoopError::Conservation("member balances do not add up"));
        }
        Ok(())
    }
}

/// Runs the month (D2–D8, G3) over every member's balance, updating balances in place: paid
/// members end at zero, the rest carry their balance. Returns the payout lines and the report,
/// whose D9 identities are checked; the caller checks the 90% floor
/// ([`RunReport::members_side_floor_met`]), because breaking it is a pill trigger (X1.1), not
/// a refusal.
pub fn run_month(
    books: &MonthBooks,
    members: &mut [MemberBalance],
    rules: &Rules,
) -> Result<RunOutcome, CoopError> {
    check_books(books, members)?;
    let gross = books.gross_income;
    let members_exact = gross.mul_bps(u64::from(rules.waterfall.members_bps), Rounding::Up)?;
    let member_side = members_exact.max(books.members_credited);
    let shared_buyer = member_side.checked_sub(books.members_credited)?;
    let operations_gross = gross.checked_sub(member_side)?;
    let shared_pool = Micros::sum([shared_buyer, books.member_fees, books.shared_carried_in])?;

    // Shared pool (D2, D5): by this month's sales, or equally when nobody sold.
    let weights = pool_weights(members);
    let (shared, shared_carried_out) = match &weights {
        Some(weights) => (split_largest_remainder(shared_pool, weights)?, Micros::ZERO),
        None => (Vec::new(), shared_pool),
    };
    let part = |parts: &[Micros], index: usize| parts.get(index).copied().unwrap_or(Micros::ZERO);

    // Cold-start top-ups (D8), capped at operations' share.
    let guarantee = rules.cold_start.guarantee_micros;
    let mut needs = Vec::with_capacity(members.len());
    for (index, member) in members.iter().enumerate() {
        let new_money = member.earned_month.checked_add(part(&shared, index))?;
        let need = if member.cold_start && new_money < guarantee {
            guarantee.checked_sub(new_money)?
        } else {
            Micros::ZERO
        };
        needs.push(need.get());
    }
    let (topups, topups_owed, topups_paid) = capped_claims(&needs, operations_gross)?;

    // Participation bonuses (G3), from what operations has left after the top-ups.
    let bonus = rules.governance.participation_bonus_micros;
    let mut bonus_needs = Vec::with_capacity(members.len());
    for member in members.iter() {
        bonus_needs.push(bonus.checked_mul(u64::from(member.ballots))?.get());
    }
    let after_topups = operations_gross.checked_sub(topups_paid)?;
    let (bonuses, bonuses_owed, bonuses_paid) = capped_claims(&bonus_needs, after_topups)?;

    let costs_due = books.operating_costs.checked_add(books.costs_carried_in)?;
    let operations = split_operations(
        operations_gross,
        topups_paid,
        bonuses_paid,
        costs_due,
        &rules.waterfall,
    )?;

    // Cohort (D7): equally among founders; with none, to members like the shared pool.
    let founding_members = members.iter().filter(|m| m.founding).count() as u64;
    let cohort_weights: Option<Vec<u64>> = if founding_members > 0 {
        Some(members.iter().map(|m| u64::from(m.founding)).collect())
    } else {
        weights
    };
    let (cohort, cohort_carried) = match (&cohort_weights, operations.cohort.is_zero()) {
        (_, true) => (Vec::new(), Micros::ZERO),
        (Some(weights), false) => (
            split_largest_remainder(operations.cohort, weights)?,
            Micros::ZERO,
        ),
        (None, false) => (Vec::new(), operations.cohort),
    };

    // Threshold and rollover (D4).
    let threshold = rules.payout.threshold_micros;
    let mut payouts = Vec::new();
    let mut report = RunReport {
        gross_income: gross,
        member_side,
        members_credited: books.members_credited,
        member_fees_returned: books.member_fees,
        shared_carried_in: books.shared_carried_in,
        shared_carried_out,
        cohort_carried_out: cohort_carried,
        operations,
        topups_owed,
        bonuses_owed,
        cohort_to_members: operations.cohort.checked_sub(cohort_carried)?,
        founding_members,
        rollover_in: books.rollover_in,
        mid_month_payouts: books.mid_month_payouts,
        ..RunReport::default()
    };
    for (index, member) in members.iter_mut().enumerate() {
        let balance = Micros::sum([
            member.carried,
            member.unpaid,
            part(&shared, index),
            part(&topups, index),
            part(&bonuses, index),
            part(&cohort, index),
        ])?;
        member.unpaid = Micros::ZERO;
        member.earned_month = Micros::ZERO;
        member.ballots = 0;
        if balance >= threshold {
            // The threshold is whole cents (rules validation), so `paid` ≥ threshold > 0.
            let paid = member.payable(balance);
            let remainder = balance.checked_sub(paid)?;
            payouts.push(PayoutLine {
                member: member.member,
                amount: paid,
            });
            report.payouts_total = report.payouts_total.checked_add(paid)?;
            report.rollover_out = report.rollover_out.checked_add(remainder)?;
            member.carried = remainder;
        } else {
            member.carried = balance;
            report.rollover_out = report.rollover_out.checked_add(balance)?;
            if !balance.is_zero() {
                report.members_rolled_over += 1;
            }
        }
    }
    report.payout_count = payouts.len() as u64;
    report.check_identities()?;
    Ok(RunOutcome { report, payouts })
}

/// Claims on operations' share (top-ups, bonuses): all paid when `available` covers them, else
/// `available` split in proportion to need. Returns (parts, owed, paid).
fn capped_claims(
    needs: &[u64],
    available: Micros,
) -> Result<(Vec<Micros>, Micros, Micros), CoopError> {
    let owed = Micros::sum(needs.iter().map(|&n| Micros::new(n)))?;
    let parts = if owed <= available {
        needs.iter().map(|&n| Micros::new(n)).collect()
    } else {
        split_largest_remainder(available, needs)?
    };
    Ok((parts, owed, owed.min(available)))
}

/// Shared-pool weights: sales this month, or one each if nobody sold; `None` without members.
fn pool_weights(members: &[MemberBalance]) -> Option<Vec<u64>> {
    if members.is_empty() {
        return None;
    }
    let by_sales: Vec<u64> = members.iter().map(|m| m.earned_month.get()).collect();
    if by_sales.iter().any(|&w| w > 0) {
        Some(by_sales)
    } else {
        Some(vec![1; members.len()])
    }
}

/// The engine's books must agree with the balances it hands over: Σ(carried + unpaid) =
/// rollover in + credited − mid-month payouts − member fees.
pub(crate) fn check_books(books: &MonthBooks, members: &[MemberBalance]) -> Result<(), CoopError> {
    let held = members.iter().try_fold(Micros::ZERO, |sum, m| {
        Micros::sum([sum, m.carried, m.unpaid])
    })?;
    let earned = Micros::sum(members.iter().map(|m| m.earned_month))?;
    let expected = Micros::sum([books.rollover_in, books.members_credited])?
        .checked_sub(Micros::sum([books.mid_month_payouts, books.member_fees])?)
        .map_err(|_| CoopError::Conservation("more paid out mid-month than was held"))?;
    if held != expected {
        return Err(CoopError::Conservation(
            "books disagree with member balances",
        ));
    }
    if earned != books.members_credited {
        return Err(CoopError::Conservation(
            "credited total disagrees with members' earnings",
        ));
    }
    Ok(())
}
