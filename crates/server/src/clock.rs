//! The server's clock, injectable (issue 7): real UTC time, or simulated time that runs `speed`
//! times faster from a chosen start, for demos and tests. The engine never reads it; the
//! sequencer stamps each input with it.

use assay_core::Timestamp;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Simulated {
        real_origin: Instant,
        start: Timestamp,
        speed: f64,
    },
}

impl Clock {
    pub fn simulated(start: Timestamp, speed: f64) -> Clock {
        Clock::Simulated {
            real_origin: Instant::now(),
            start,
            speed: speed.max(f64::MIN_POSITIVE),
        }
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => {
                let since_epoch = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                Timestamp(since_epoch.as_micros() as i64)
            }
            Clock::Simulated {
                real_origin,
                start,
                speed,
            } => {
                let elapsed = real_origin.elapsed().as_secs_f64() * speed;
                Timestamp(start.0 + (elapsed * 1e6) as i64)
            }
        }
    }

    /// Real time until the clock reads `at` (zero if it already has).
    pub fn until(&self, at: Timestamp) -> Duration {
        let micros = (at.0 - self.now().0).max(0) as f64;
        let speed = match self {
            Clock::System => 1.0,
            Clock::Simulated { speed, .. } => *speed,
        };
        Duration::from_secs_f64(micros / 1e6 / speed)
    }
}
