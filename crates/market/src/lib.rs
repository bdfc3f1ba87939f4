//! The market rules (SPEC M1–M16) as pure functions over plain data.
//!
//! Invariant: nothing here does I/O, reads a clock, or draws randomness that is not a seed passed
//! in (the seed comes from the log). The engine owns state and calls these functions; they take
//! data and return data.
//!
//! | rule | where |
//! |---|---|
//! | M2 spot | [`spot`] |
//! | M3 floor, M4 circuit breaker | [`price`] |
//! | M5 basket, M6 slot range | [`basket`] |
//! | M7 fillability, M13 selection | [`selection`] |
//! | M8 anchor, M9 ladder, M15 clearing | [`clearing`] |
//! | M10 supply controller, dynamic fee | [`supply`] |
//! | M14 premium weight | [`weight`] |

pub mod basket;
pub mod clearing;
mod error;
pub mod price;
pub mod selection;
pub mod spot;
pub mod supply;
pub mod weight;

pub use basket::{AgeBand, BasketSpec, ProfileFilter, Region};
pub use clearing::{check_bid, clear, slot_minimum, Bid, Clearing, SlotSale};
pub use error::MarketError;
pub use price::{Breaker, PriceHistory};
pub use selection::{check_fillable, select, Candidate};
pub use spot::{DayTrades, RecentVolume};
pub use supply::{DayVolume, SupplyController};
pub use weight::premium_weight_bps;
