//! Plain data shared by every Assay crate.
//!
//! Invariant: this crate never does I/O and never reads the clock. Time, seeds and ids arrive as
//! arguments; rule parameters arrive as text that the shell has read.

mod category;
mod ids;
mod money;
pub mod rules;
mod time;

pub use category::{Category, Tier};
pub use ids::{BasketId, BuyerId, KeyError, MemberId, PublicKey};
pub use money::{split_largest_remainder, Micros, MoneyError, Rounding, BPS_ONE, PPM_ONE};
pub use rules::{Rules, RulesError};
pub use time::{Month, Timestamp, TradingDay, MICROS_PER_DAY};
