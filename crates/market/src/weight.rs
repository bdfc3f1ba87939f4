//! Rule M14: differentiated profiles earn a premium weight.
//!
//! Reading: weight = 1 + bonus, where bonus = `uniqueness_bonus_max_bps` × the share of a slot's
//! pool that does *not* share the member's coarse profile class. A member alone in their class
//! earns nearly the whole bonus; a class everyone shares earns none. The weight scales the
//! member's part of the slot's income (D3); it never raises what the buyer pays.

use assay_core::BPS_ONE;

/// Premium weight in basis points (10,000 = weight 1).
///
/// `same_profile` counts the members in the pool with this member's class, the member included.
pub fn premium_weight_bps(same_profile: u64, pool: u64, bonus_max_bps: u32) -> u64 {
    if pool == 0 {
        return BPS_ONE;
    }
    let same_profile = same_profile.clamp(1, pool);
    let others = u128::from(pool - same_profile);
    // Rounded down: the bonus is never more than the rule gives.
    let bonus = u128::from(bonus_max_bps) * others / u128::from(pool);
    BPS_ONE + bonus as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rarer_profiles_weigh_more_within_the_bound() {
        // rule M14
        assert_eq!(premium_weight_bps(100, 100, 5_000), 10_000);
        assert_eq!(premium_weight_bps(50, 100, 5_000), 12_500);
        assert_eq!(premium_weight_bps(1, 100, 5_000), 14_950);
        assert_eq!(premium_weight_bps(1, 1, 5_000), 10_000);
        assert_eq!(premium_weight_bps(0, 0, 5_000), 10_000);
        assert!(premium_weight_bps(1, u64::MAX, 5_000) <= 15_000);
    }
}
