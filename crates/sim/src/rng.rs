//! Seeded randomness for agents. Every stream is derived from the run's `u64` seed and a label,
//! so a component that draws more numbers never shifts another component's draws.
//!
//! Floats appear here and in agent behaviour only, never in money the engine sees: a draw becomes
//! a price through an explicit rounding to integer micro-USD at the call site.

use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;
use sha2::{Digest, Sha256};

pub struct Rng(Pcg64Mcg);

impl Rng {
    /// The stream `label` of the run seeded with `seed`.
    pub fn new(seed: u64, label: &str) -> Rng {
        let mut hasher = Sha256::new();
        hasher.update(b"assay/sim/rng/v1\n");
        hasher.update(seed.to_be_bytes());
        hasher.update(label.as_bytes());
        let digest: [u8; 32] = hasher.finalize().into();
        let mut state = [0u8; 16];
        state.copy_from_slice(&digest[..16]);
        Rng(Pcg64Mcg::from_seed(state))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2⁻³² for the n used here).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0, "below(0) has no value");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `ppm` / 1,000,000.
    pub fn chance_ppm(&mut self, ppm: u32) -> bool {
        self.below(1_000_000) < u64::from(ppm)
    }

    /// A standard normal draw (Box–Muller; one of the pair is dropped for simplicity).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // in (0, 1]: ln is finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given median and log-space standard deviation.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Log-uniform between `low` and `high` (both > 0).
    pub fn log_uniform(&mut self, low: f64, high: f64) -> f64 {
        (low.ln() + (high.ln() - low.ln()) * self.unit()).exp()
    }

    /// A Poisson draw: Knuth's product method for small means, a rounded normal above 30
    /// (arrivals per day here are counts of tens at most, where the normal is within 1%).
    pub fn poisson(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        if mean > 30.0 {
            let draw = mean + mean.sqrt() * self.normal();
            return draw.round().max(0.0) as u64;
        }
        let limit = (-mean).exp();
        let mut product = self.unit();
        let mut count = 0;
        while product > limit {
            product *= self.unit();
            count += 1;
        }
        count
    }

    /// An index drawn with probability proportional to `weights` (not all zero).
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        debug_assert!(total > 0, "weighted draw over zero weights");
        let mut pick = self.below(total);
        for (index, &weight) in weights.iter().enumerate() {
            if pick < weight {
                return index;
            }
            pick -= weight;
        }
        weights.len() - 1
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, "x").next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(7, "x").next_u64(), Rng::new(7, "y").next_u64());
        assert_ne!(Rng::new(7, "x").next_u64(), Rng::new(8, "x").next_u64());
    }

    #[test]
    fn poisson_and_lognormal_have_the_right_centre() {
        let mut rng = Rng::new(1, "test");
        let n = 20_000;
        let mean = (0..n).map(|_| rng.poisson(4.0)).sum::<u64>() as f64 / n as f64;
        assert!((mean - 4.0).abs() < 0.1, "{mean}");
        let mut draws: Vec<f64> = (0..n).map(|_| rng.lognormal(2.0, 0.5)).collect();
        draws.sort_by(f64::total_cmp);
        let median = draws[n / 2];
        assert!((median - 2.0).abs() < 0.05, "{median}");
    }
}
