//! The member's permission wallet (SPEC W1–W5, M11, M12, M15; whitepaper §IV–V).
//!
//! Everything but [`client`] takes data and returns data, and the market side is tested
//! against the engine directly; [`client`] talks to the exchange over HTTP.
//!
//! | rule | module |
//! |---|---|
//! | W1 key store (software store; hardware stores documented) | [`keystore`] |
//! | W4 encrypted vault, HAR importer, synthetic records | [`vault`], [`har`], [`synthetic`] |
//! | W2 request classifier and its evaluation | [`classifier`], [`eval`] |
//! | W3 terms-of-service auditor and its evaluation | [`tos`] |
//! | M11, M12 eligibility and offers; M15 sealed delivery and receipts | [`market`], [`delivery`] |
//! | W5 checkpoints, witness cosigning, payout inclusion, earnings | [`checker`] |
//! | the exchange's HTTP API, as a member's wallet uses it | [`client`] |

pub mod checker;
pub mod classifier;
pub mod client;
pub mod delivery;
mod error;
pub mod eval;
pub mod har;
pub mod keystore;
pub mod market;
pub mod synthetic;
pub mod tos;
pub mod vault;

pub use error::Error;
pub use keystore::{KdfParams, KeyRole, KeyStore, MemoryStore, SoftwareStore};
pub use vault::{Record, Vault};
