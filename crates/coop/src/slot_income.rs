//! Rule D3 (with D2's 90%): a slot's members are credited when it clears.
//!
//! Reading: the members' part of a sale is 90% of its price rounded **up** (the odd micro-dollar
//! goes to members, never away from them), split among the slot's members by premium weight (M14)
//! with the largest-remainder method, so the parts sum to the members' part exactly.

use crate::CoopError;
use assay_core::{split_largest_remainder, Micros, Rounding};

/// The members' part of a sale price: `members_bps` of it, rounded up.
pub fn member_part_of_sale(price: Micros, members_bps: u32) -> Result<Micros, CoopError> {
    Ok(price.mul_bps(u64::from(members_bps), Rounding::Up)?)
}

/// Splits the members' part of a slot by premium weights (bps, 10,000 = weight 1).
pub fn split_slot_income(
    member_part: Micros,
    weights_bps: &[u64],
) -> Result<Vec<Micros>, CoopError> {
    if weights_bps.is_empty() {
        return Err(CoopError::NoMembers);
    }
    Ok(split_largest_remainder(member_part, weights_bps)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_get_90_percent_rounded_up_split_by_weight() {
        // rules D2, D3, M14
        assert_eq!(
            member_part_of_sale(Micros::new(1_000_001), 9_000).unwrap(),
            Micros::new(900_001)
        );
        let parts = split_slot_income(Micros::new(900_001), &[10_000, 10_000, 15_000]).unwrap();
        assert_eq!(
            parts,
            vec![
                Micros::new(257_143),
                Micros::new(257_143),
                Micros::new(385_715)
            ]
        );
        assert_eq!(Micros::sum(parts).unwrap(), Micros::new(900_001));
        assert_eq!(
            split_slot_income(Micros::new(1), &[]).unwrap_err().code(),
            "no_members"
        );
    }
}
