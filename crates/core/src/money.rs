//! Money: integer micro-USD (rule D1). No floats anywhere in money paths.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One whole in basis points (10,000 bps = 100%).
pub const BPS_ONE: u64 = 10_000;
/// One whole in parts per million.
pub const PPM_ONE: u64 = 1_000_000;

/// An amount of money in micro-USD (1 USD = 1,000,000), the same precision as USDC (rule D1).
///
/// Arithmetic is checked and returns [`MoneyError`]; there is no silent wrap or saturation.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Micros(u64);

/// How a division that does not come out even is rounded. Every rounding in a money path names
/// one of these, so a reader can see who gets the odd micro-dollar.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Toward zero (floor for non-negative amounts).
    Down,
    /// Away from zero (ceiling for non-negative amounts).
    Up,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("money overflow: the result exceeds u64 micro-USD")]
    Overflow,
    #[error("money underflow: the result would be negative")]
    Underflow,
    #[error("division by zero in a money ratio")]
    ZeroDenominator,
    #[error("cannot split an amount by weights that sum to zero")]
    ZeroTotalWeight,
}

impl MoneyError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MoneyError::Overflow => "money_overflow",
            MoneyError::Underflow => "money_underflow",
            MoneyError::ZeroDenominator => "money_zero_denominator",
            MoneyError::ZeroTotalWeight => "money_zero_total_weight",
        }
    }
}

impl Micros {
    pub const ZERO: Micros = Micros(0);
    pub const MAX: Micros = Micros(u64::MAX);

    pub const fn new(micros: u64) -> Micros {
        Micros(micros)
    }

    /// Whole dollars, checked.
    pub fn from_usd(usd: u64) -> Result<Micros, MoneyError> {
        usd.checked_mul(1_000_000)
            .map(Micros)
            .ok_or(MoneyError::Overflow)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn checked_add(self, other: Micros) -> Result<Micros, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Micros)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Micros) -> Result<Micros, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Micros)
            .ok_or(MoneyError::Underflow)
    }

    /// `self × factor`, checked. For quantities (slots × unit price), not rates.
    pub fn checked_mul(self, factor: u64) -> Result<Micros, MoneyError> {
        self.0
            .checked_mul(factor)
            .map(Micros)
            .ok_or(MoneyError::Overflow)
    }

    /// `self × numerator / denominator`, computed exactly in 128 bits and rounded as named.
    pub fn mul_ratio(
        self,
        numerator: u64,
        denominator: u64,
        rounding: Rounding,
    ) -> Result<Micros, MoneyError> {
        if denominator == 0 {
            return Err(MoneyError::ZeroDenominator);
        }
        let product = u128::from(self.0) * u128::from(numerator);
        let denominator = u128::from(denominator);
        let quotient = match rounding {
            Rounding::Down => product / denominator,
            Rounding::Up => product.div_ceil(denominator),
        };
        u64::try_from(quotient)
            .map(Micros)
            .map_err(|_| MoneyError::Overflow)
    }

    /// `self × bps / 10,000`.
    pub fn mul_bps(self, bps: u64, rounding: Rounding) -> Result<Micros, MoneyError> {
        self.mul_ratio(bps, BPS_ONE, rounding)
    }

    /// `self × ppm / 1,000,000`.
    pub fn mul_ppm(self, ppm: u64, rounding: Rounding) -> Result<Micros, MoneyError> {
        self.mul_ratio(ppm, PPM_ONE, rounding)
    }

    /// Sum of many amounts, checked.
    pub fn sum<I: IntoIterator<Item = Micros>>(amounts: I) -> Result<Micros, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Micros::ZERO, |total, amount| total.checked_add(amount))
    }
}

impl fmt::Display for Micros {
    /// Dollars with all six decimals, so no micro-dollar is hidden: `$12.000050`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// Splits `total` into parts proportional to `weights` by the largest-remainder method.
///
/// Each part first gets `floor(total × weight / Σweights)`; the micro-dollars left over go one
/// each to the parts with the largest remainders, ties to the lower index. The parts always sum
/// to `total` exactly (rule D9), a zero weight always gets zero, and no part differs from its
/// exact share by a whole micro-dollar or more.
pub fn split_largest_remainder(total: Micros, weights: &[u64]) -> Result<Vec<Micros>, MoneyError> {
    let weight_sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if weight_sum == 0 {
        return Err(MoneyError::ZeroTotalWeight);
    }
    let total_wide = u128::from(total.0);
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut allotted: u128 = 0;
    for (index, &weight) in weights.iter().enumerate() {
        let exact = total_wide * u128::from(weight);
        let part = exact / weight_sum;
        allotted += part;
        // The quotient is at most `total`, so it fits in u64.
        parts.push(Micros(part as u64));
        let remainder = exact % weight_sum;
        if remainder > 0 {
            remainders.push((remainder, index));
        }
    }
    let left_over = (total_wide - allotted) as usize;
    debug_assert!(
        left_over <= remainders.len(),
        "fractions sum to the left-over units"
    );
    if left_over > 0 {
        // Largest remainder first, then lower index; the keys are unique so an unstable sort
        // is deterministic.
        remainders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, index) in &remainders[..left_over] {
            parts[index].0 += 1;
        }
    }
    debug_assert_eq!(
        parts.iter().map(|p| u128::from(p.0)).sum::<u128>(),
        total_wide
    );
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checked_arithmetic_refuses_overflow_and_underflow() {
        assert_eq!(
            Micros::MAX.checked_add(Micros::new(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Micros::ZERO.checked_sub(Micros::new(1)),
            Err(MoneyError::Underflow)
        );
        assert_eq!(Micros::MAX.checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(Micros::from_usd(u64::MAX), Err(MoneyError::Overflow));
        assert_eq!(
            Micros::new(1).mul_ratio(1, 0, Rounding::Down),
            Err(MoneyError::ZeroDenominator)
        );
    }

    #[test]
    fn ratios_round_as_named() {
        let amount = Micros::new(1_000_001);
        assert_eq!(
            amount.mul_bps(9_500, Rounding::Down).unwrap(),
            Micros::new(950_000)
        );
        assert_eq!(
            amount.mul_bps(9_500, Rounding::Up).unwrap(),
            Micros::new(950_001)
        );
        assert_eq!(
            amount.mul_ppm(950_000, Rounding::Down).unwrap(),
            Micros::new(950_000)
        );
        // Exact results do not move under either rounding.
        assert_eq!(
            Micros::new(200).mul_bps(5_000, Rounding::Up).unwrap(),
            Micros::new(100)
        );
        // 128-bit intermediate: no overflow for a large amount times a large rate.
        assert_eq!(
            Micros::MAX.mul_bps(BPS_ONE, Rounding::Down).unwrap(),
            Micros::MAX
        );
    }

    #[test]
    fn display_shows_every_micro_dollar() {
        assert_eq!(Micros::new(12_000_050).to_string(), "$12.000050");
        assert_eq!(Micros::ZERO.to_string(), "$0.000000");
    }

    #[test]
    fn split_gives_left_over_to_largest_remainders_then_lower_index() {
        let parts = split_largest_remainder(Micros::new(10), &[1, 1, 1]).unwrap();
        assert_eq!(parts, vec![Micros::new(4), Micros::new(3), Micros::new(3)]);
        // 100 by 8:1:1 is exact.
        let parts = split_largest_remainder(Micros::new(100), &[8, 1, 1]).unwrap();
        assert_eq!(
            parts,
            vec![Micros::new(80), Micros::new(10), Micros::new(10)]
        );
        // 7 by 8:1:1: 5.6, 0.7, 0.7 → 5 + 1 + 1 (remainders .6 < .7 = .7, ties to lower index).
        let parts = split_largest_remainder(Micros::new(7), &[8, 1, 1]).unwrap();
        assert_eq!(parts, vec![Micros::new(5), Micros::new(1), Micros::new(1)]);
    }

    #[test]
    fn split_refuses_zero_total_weight() {
        assert_eq!(
            split_largest_remainder(Micros::new(5), &[]),
            Err(MoneyError::ZeroTotalWeight)
        );
        assert_eq!(
            split_largest_remainder(Micros::new(5), &[0, 0]),
            Err(MoneyError::ZeroTotalWeight)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        // Rule D9: the parts of a split always sum to the whole, zero weights get zero, and
        // each part is within one micro-dollar of its exact share.
        #[test]
        fn split_parts_sum_to_the_whole(
            total in any::<u64>(),
            weights in proptest::collection::vec(0u64..=u64::from(u32::MAX), 1..64),
        ) {
            prop_assume!(weights.iter().any(|&w| w > 0));
            let parts = split_largest_remainder(Micros::new(total), &weights).unwrap();
            prop_assert_eq!(parts.len(), weights.len());
            let sum: u128 = parts.iter().map(|p| u128::from(p.get())).sum();
            prop_assert_eq!(sum, u128::from(total));
            let weight_sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
            for (part, &weight) in parts.iter().zip(&weights) {
                if weight == 0 {
                    prop_assert_eq!(part.get(), 0);
                }
                let exact_floor = u128::from(total) * u128::from(weight) / weight_sum;
                let part = u128::from(part.get());
                prop_assert!(part == exact_floor || part == exact_floor + 1);
            }
        }
    }
}
