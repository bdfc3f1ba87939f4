//! Rule D2: operations' 10% pays first; its surplus splits 8 : 1 : 1.
//!
//! Order inside operations' share (a Reading, in RULEBOOK.md): first the cold-start top-ups owed
//! to members (D8: members before vendors, and the paper pays them "from operations' share"),
//! then the participation bonuses of the month's ballots (G3), then operating costs, then the surplus to builders, cohort and architect by the rules'
//! weights. Costs that the share cannot cover carry to the next month as operations' debt, and a
//! loss month pays builders, cohort and architect nothing.

use crate::CoopError;
use assay_core::rules::WaterfallRules;
use assay_core::{split_largest_remainder, Micros};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationsSplit {
    /// Operations' gross share this month.
    pub gross: Micros,
    pub topups_paid: Micros,
    /// Participation bonuses paid to voters (G3).
    pub bonuses_paid: Micros,
    pub costs_paid: Micros,
    /// Costs still owed after this month (carried to the next).
    pub costs_carried: Micros,
    pub builders: Micros,
    pub cohort: Micros,
    pub architect: Micros,
}

/// Splits operations' gross share. Top-ups and bonuses must already be capped so that together
/// they fit in `gross`.
pub fn split_operations(
    gross: Micros,
    topups_paid: Micros,
    bonuses_paid: Micros,
    costs_due: Micros,
    rules: &WaterfallRules,
) -> Result<OperationsSplit, CoopError> {
    let after_members = gross.checked_sub(topups_paid.checked_add(bonuses_paid)?)?;
    let costs_paid = costs_due.min(after_members);
    let surplus = after_members.checked_sub(costs_paid)?;
    let weights = [
        u64::from(rules.builders_bps),
        u64::from(rules.cohort_bps),
        u64::from(rules.architect_bps),
    ];
    let parts = if surplus.is_zero() {
        vec![Micros::ZERO; 3]
    } else {
        split_largest_remainder(surplus, &weights)?
    };
    Ok(OperationsSplit {
        gross,
        topups_paid,
        bonuses_paid,
        costs_paid,
        costs_carried: costs_due.checked_sub(costs_paid)?,
        builders: parts[0],
        cohort: parts[1],
        architect: parts[2],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: WaterfallRules = WaterfallRules {
        members_bps: 9_000,
        builders_bps: 800,
        cohort_bps: 100,
        architect_bps: 100,
    };

    #[test]
    fn surplus_splits_8_1_1_after_topups_and_costs() {
        // rule D2
        let split = split_operations(
            Micros::new(1_000),
            Micros::new(60),
            Micros::new(40),
            Micros::new(400),
            &RULES,
        )
        .unwrap();
        assert_eq!(split.costs_paid, Micros::new(400));
        assert_eq!(
            (split.builders, split.cohort, split.architect),
            (Micros::new(400), Micros::new(50), Micros::new(50))
        );
        assert_eq!(split.costs_carried, Micros::ZERO);
    }

    #[test]
    fn a_loss_month_pays_builders_cohort_and_architect_nothing() {
        // rule D2
        let split = split_operations(
            Micros::new(1_000),
            Micros::new(300),
            Micros::ZERO,
            Micros::new(900),
            &RULES,
        )
        .unwrap();
        assert_eq!(split.costs_paid, Micros::new(700));
        assert_eq!(split.costs_carried, Micros::new(200));
        assert_eq!(
            (split.builders, split.cohort, split.architect),
            (Micros::ZERO, Micros::ZERO, Micros::ZERO)
        );
    }
}
