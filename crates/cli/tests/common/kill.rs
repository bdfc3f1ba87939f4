//! What the kill tests (`kill_log.rs`, `kill_serve/`) share: the seed every random choice comes
//! from, printed so a failing run can be replayed, and the generator drawing from it.

use std::time::{SystemTime, UNIX_EPOCH};

/// The run's seed: `ASSAY_KILL_SEED` if set, the clock otherwise; printed either way.
pub fn seed() -> u64 {
    let seed = std::env::var("ASSAY_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("the clock is after 1970")
                .as_nanos() as u64
        });
    eprintln!("kill test seed: {seed} (replay with ASSAY_KILL_SEED={seed})");
    seed
}

/// SplitMix64: the tests' only randomness, reproducible from the seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// True with probability `percent` / 100.
    #[allow(dead_code)] // kill_log draws only moments
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
