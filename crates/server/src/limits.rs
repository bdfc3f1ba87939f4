//! Per-key rate limits (issue 7): a token bucket per signer, refilled by real time.

use assay_core::PublicKey;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Keys tracked before the table is cleared (a bound on memory under a key-spraying attack).
pub const RATE_KEYS_MAX: usize = 1_000_000;

pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<PublicKey, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_second: u32) -> RateLimiter {
        let per_second = f64::from(per_second.max(1));
        RateLimiter {
            per_second,
            burst: per_second * 2.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; `Err(seconds)` says when to retry.
    pub fn check(&self, key: &PublicKey) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= RATE_KEYS_MAX {
            buckets.clear();
        }
        let (tokens, last) = buckets.entry(*key).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_second).ceil() as u64)
        }
    }
}
