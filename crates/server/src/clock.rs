//! The server's clock, injectable (issue 7): real UTC time, simulated time that runs `speed`
//! times faster from a chosen start (demos), or a manual clock a test moves by hand. The engine
//! never reads it; the sequencer stamps each input with it.

use assay_core::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often an idle sequencer rereads a manual clock, which cannot say when it will move.
pub const MANUAL_POLL: Duration = Duration::from_millis(5);

#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Simulated {
        real_origin: Instant,
        start: Timestamp,
        speed: f64,
    },
    /// Stands still until [`Clock::advance`]: tests decide exactly when midnight comes.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn simulated(start: Timestamp, speed: f64) -> Clock {
        Clock::Simulated {
            real_origin: Instant::now(),
            start,
            speed: speed.max(f64::MIN_POSITIVE),
        }
    }

    /// A clock reading `start` until a clone of it is advanced.
    pub fn manual(start: Timestamp) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start.0)))
    }

    /// Moves a manual clock forward by `micros` (and every clone with it); other clocks ignore it.
    pub fn advance(&self, micros: i64) {
        if let Clock::Manual(now) = self {
            now.fetch_add(micros.max(0), Ordering::SeqCst);
        }
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::Manual(now) => Timestamp(now.load(Ordering::SeqCst)),
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
            Clock::Manual(_) if micros > 0.0 => return MANUAL_POLL,
            Clock::Manual(_) => return Duration::ZERO,
        };
        Duration::from_secs_f64(micros / 1e6 / speed)
    }
}
