//! The exchange as a deterministic state machine (SPEC M5–M16, D1–D9, G1–G6, E1–E4, X1–X3, L3).
//!
//! `apply(&mut State, &Input) -> Outcome`: a signed command stamped by the sequencer goes in;
//! events, or a refusal with a stable code, come out. A refusal changes nothing. [`replay`]
//! rebuilds the state from log entries; [`State::hash`] is equal on every machine that
//! replayed the same log. [`encode_snapshot`] and [`decode_snapshot`] turn a state into bytes
//! and back, so a restart replays only the log's tail.
//!
//! Invariant: no I/O, no clock, no randomness. Time is the sequencer's stamp on each input;
//! the selection lottery's seed is a hash of the members' own attestations.
//!
//! | command | handler |
//! |---|---|
//! | genesis, registration, deposits | `apply/registry.rs` |
//! | post basket, offer, bid, close basket, receipt | `apply/baskets.rs` |
//! | trading-day close | `apply/days.rs` |
//! | operating cost, off-take, mid-month payout, monthly run | `apply/money.rs` |
//! | ban, appeal | `apply/enforcement.rs` |
//! | proposals, candidacies, ballots, tallies, rule changes | `apply/governance.rs`, `apply/tally.rs` |
//! | pill triggers, termination, payout settlement | `apply/pill.rs` |

mod apply;
pub mod command;
mod entry;
mod event;
pub mod governance;
mod refusal;
mod snapshot;
mod state;

pub use apply::payout_leaf;
pub use apply::{apply, apply_verified, verify_signature, verify_signatures, Outcome};
pub use apply::{run_rail_totals, simulated_payout_files};
pub use command::{
    Choice, Command, Envelope, Input, Party, PayoutChoice, PayoutFile, ProposalKind, Rail,
    Signature,
};
pub use entry::{events_digest, execute, replay, replay_one, LogEntry, ReplayError, ENTRY_VERSION};
pub use event::{Event, HeldPayout, MemberShare};
pub use refusal::Refusal;
pub use snapshot::{
    decode_snapshot, encode_snapshot, read_snapshot_header, SnapshotError, SnapshotHeader,
    SNAPSHOT_HEADER_BYTES, SNAPSHOT_MAGIC, SNAPSHOT_PAYLOAD_BYTES_MAX, SNAPSHOT_VERSION,
};
pub use state::{Basket, Buyer, CategoryMarket, DepositRecord, Grant, Member, State};
