//! The table: every refusal code the API can answer with, and how the test reaches it.
//!
//! The universe of codes is read from the code itself (`codes_in_source`): every `=> "code"`
//! arm of the `code()` functions of the engine's `Refusal`, of the error types it wraps
//! (market, coop, money, rules, log), of the store (whose codes the transparency routes pass
//! through) and of the server's own `ServerProblem`. A new code without a row here fails
//! `every_code_has_exactly_one_row`.

use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Area {
    Registration,
    Market,
    Governance,
    Enforcement,
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Reached over HTTP with this status; the state hash and log size are unchanged.
    Http(Area, u16),
    /// Reached over HTTP with this status, where no before/after comparison applies (why).
    HttpUnproven(Area, u16, &'static str),
    /// The engine records this outcome in the log by rule (how); the test sees the event.
    Logged(Area, &'static str),
    /// No client request can cause it (what kind of code it is, and why).
    Unreachable(Why, &'static str),
}

/// Why a code is unreachable through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    /// A refusal the server keeps clients from meeting: it sends that command itself, checks
    /// the input first with another code, or offers no route to it.
    Guarded,
    /// Reachable only past a limit no test budget meets (a full queue, a million inputs).
    Budget,
    /// A checked invariant of the rules; meeting it would be a bug.
    Invariant,
    /// A fault of the database or a torn store, never of a request.
    Fault,
    /// Raised only by library code no route calls with a client's input (proof and tile
    /// verifiers, the log writer).
    Elsewhere,
}

use Area::*;
use Way::*;
use Why::*;

const SEQUENCER_ONLY: &str =
    "only the exchange's key may send this command, and the sequencer sends it only when it is due";
const FAULT: &str =
    "a fault of the database or a torn store, never of a request (answered 503 or 500)";
const WRITER_ONLY: &str = "raised by the log writer's own appends, never by a read";
const VERIFIER_ONLY: &str = "raised when verifying proofs or tiles received from elsewhere (wallets, auditors); the server only builds them from its own store";
const PAYOUT_FILES: &str = "only the exchange's key may record a run's payout files (D6), a client's RecordPayoutFiles is refused not_exchange first; engine tests reach it (engine/tests/payout_files.rs)";
const GENESIS_KEY: &str = "only a Genesis command parses a verifier key from its input; the server writes genesis itself and refuses a client's with genesis_repeated first";

pub const TABLE: &[(&str, Way)] = &[
    // Engine: registration, signatures, sequencing.
    ("unsigned", Http(Registration, 401)),
    ("bad_signature", Http(Registration, 401)),
    ("sequence_replayed", Unreachable(Budget, "a resubmitted accepted envelope gets its original outcome and a different one gets sequence_reused; the engine's code surfaces only after the outcome left the server's window of IDEMPOTENT_OUTCOMES_MAX (1,000,000) accepted inputs")),
    ("sequence_gap", Http(Registration, 409)),
    ("no_genesis", Unreachable(Guarded, "the server writes the genesis entry before it listens")),
    ("genesis_repeated", Http(Registration, 409)),
    ("not_exchange", Http(Registration, 403)),
    ("not_member", Http(Registration, 403)),
    ("not_buyer", Http(Registration, 403)),
    ("already_registered", Http(Registration, 409)),
    ("device_in_use", Http(Registration, 409)),
    // Destination requests (issue 9).
    ("destination_invalid", Http(Registration, 422)),
    ("destination_signature_invalid", Http(Registration, 401)),
    ("destination_commitment_mismatch", Http(Registration, 422)),
    ("destination_member_unknown", Http(Registration, 404)),
    ("destinations_unavailable", Unreachable(Fault, FAULT)),
    ("founding_cohort_full", Unreachable(Guarded, "founding members are registered by the exchange's key (D7) and no route asks it to; the cap is 50,000")),
    ("founding_cohort_closed", Unreachable(Guarded, "founding members are registered by the exchange's key (D7) and no route asks it to")),
    ("clock_backwards", Unreachable(Guarded, "the sequencer's stamps strictly increase")),
    ("day_not_closed", Unreachable(Guarded, "the sequencer closes the open day before it stamps an input past midnight, even when a burst's stamps run ahead of the clock (checked by `registration::midnight_burst`)")),
    ("wrong_day", Unreachable(Guarded, SEQUENCER_ONLY)),
    ("run_pending", Unreachable(Guarded, "the sequencer runs a due month before any other input of the batch")),
    ("run_not_due", Unreachable(Guarded, SEQUENCER_ONLY)),
    ("payout_files_invalid", Unreachable(Guarded, PAYOUT_FILES)),
    ("payout_files_mismatch", Unreachable(Guarded, PAYOUT_FILES)),
    ("payout_files_repeated", Unreachable(Guarded, PAYOUT_FILES)),
    ("payout_files_missing", Unreachable(Guarded, "only the exchange's key settles payouts (D6), and the sequencer records the run's files in the same batch before it settles (issue 9); engine tests reach it (engine/tests/payout_files.rs)")),
    ("unknown_payout_root", Unreachable(Guarded, "only the exchange's key settles payouts (D6), and the sequencer settles the root the run just recorded")),
    // Engine: the market and money.
    ("unknown_basket", Http(Market, 404)),
    ("unknown_buyer", Http(Market, 404)),
    ("unknown_member", Http(Market, 404)),
    ("unknown_grant", Http(Market, 404)),
    ("window_closed", Http(Market, 422)),
    ("fee_unpaid", Http(Market, 402)),
    ("insufficient_balance", Http(Market, 402)),
    ("reserve_not_met", Http(Market, 422)),
    ("bad_attestation", Http(Market, 401)),
    ("bad_consent", Http(Market, 401)),
    ("receipt_repeated", Http(Market, 409)),
    ("nothing_to_pay", Http(Market, 422)),
    ("empty_agreement", Http(Market, 422)),
    ("frozen_category", Http(Market, 422)),
    ("below_floor", Http(Market, 422)),
    ("below_ladder_minimum", Http(Market, 422)),
    ("duplicate_offer", Http(Market, 409)),
    ("duplicate_bid", Http(Market, 409)),
    ("slots_out_of_range", Logged(Market, "rule M5: a basket that fails its checks is logged as BasketRefused with this code, and its fee is kept")),
    ("members_per_slot_out_of_range", Logged(Market, "rule M5: BasketRefused with this code, fee kept")),
    ("window_out_of_range", Logged(Market, "rule M5: BasketRefused with this code, fee kept")),
    ("unfillable", Logged(Market, "rule M7: the day's close logs BasketUnfillable when too few members offered (the engine checks the count before the lottery, which is what returns this code)")),
    ("bad_region", Unreachable(Guarded, "a region is checked as the JSON body is parsed (Region's Deserialize), so a bad one is answered malformed_body, whose detail quotes this rule")),
    ("no_ladder_step", Unreachable(Invariant, "valid rules give every tier a ladder step for each slot it allows (core's rules validation), and slots outside the tier are refused first")),
    ("money_overflow", Http(Market, 422)),
    ("money_underflow", Unreachable(Invariant, "every subtraction is preceded by the check that refuses it with its own code (balances, fees)")),
    ("money_zero_denominator", Unreachable(Invariant, "ratios divide by rule parameters that validation keeps above zero")),
    ("money_zero_total_weight", Unreachable(Invariant, "premium weights are at least 10,000 bps each (M14)")),
    ("conservation_broken", Unreachable(Invariant, "the run and termination check conservation (D9); failing it is a bug, proptested in coop and engine")),
    ("no_members", Unreachable(Invariant, "a slot clears only when enough members offered (M7), so it always has members to split its income")),
    // Engine: governance and rules changes.
    ("no_passed_vote", Http(Governance, 422)),
    ("rules_parse", Http(Governance, 422)),
    ("rules_invalid", Http(Governance, 422)),
    ("bad_presence", Http(Governance, 401)),
    ("ballot_repeated", Http(Governance, 409)),
    ("unknown_proposal", Http(Governance, 404)),
    ("voting_closed", Http(Governance, 422)),
    ("voting_open", Http(Governance, 422)),
    ("not_eligible", Http(Governance, 422)),
    ("already_standing", Http(Governance, 409)),
    ("not_an_election", Http(Governance, 422)),
    ("bad_choice", Http(Governance, 422)),
    ("not_voter", Http(Governance, 403)),
    ("unknown_seat", Http(Governance, 422)),
    ("seat_filled", Http(Governance, 422)),
    ("election_open", Http(Governance, 422)),
    ("immutable_clause", Http(Governance, 422)),
    ("empty_proposal", Http(Governance, 422)),
    ("proposal_too_large", Http(Governance, 422)),
    ("too_many_proposals", Http(Governance, 422)),
    ("too_many_candidates", Http(Governance, 422)),
    // Engine: enforcement and the pill.
    ("banned", Http(Enforcement, 403)),
    ("not_banned", Http(Enforcement, 422)),
    ("appeal_repeated", Http(Enforcement, 409)),
    ("unknown_party", Http(Enforcement, 403)),
    ("terminated", Http(Enforcement, 422)),
    // Log codes an equivocation proof (X1.4) can be refused with: its notes come from anyone.
    ("note_control_character", Http(Enforcement, 422)),
    ("note_no_signatures", Http(Enforcement, 422)),
    ("note_unterminated", Http(Enforcement, 422)),
    ("note_signature_line", Http(Enforcement, 422)),
    ("note_too_many_signatures", Http(Enforcement, 422)),
    ("note_unverified", Http(Enforcement, 422)),
    ("signature_invalid", Http(Enforcement, 422)),
    ("key_name", Http(Enforcement, 422)),
    ("checkpoint_line", Http(Enforcement, 422)),
    ("checkpoint_size", Http(Enforcement, 422)),
    ("checkpoint_root", Http(Enforcement, 422)),
    ("checkpoint_origin", Http(Enforcement, 422)),
    ("tree_size_range", Http(Enforcement, 422)),
    ("equivocation_sizes", Http(Enforcement, 422)),
    ("equivocation_same_root", Http(Enforcement, 422)),
    ("note_too_large", Unreachable(Guarded, "a note over NOTE_BYTES_MAX (1 MB) cannot fit in a request body; body_too_large answers first")),
    ("note_not_utf8", Unreachable(Guarded, "notes travel as JSON strings, which are always UTF-8")),
    ("note_text_end", Unreachable(Invariant, "a parsed note's text always ends at the newline before its blank line")),
    ("key_type", Unreachable(Invariant, "the log's own key, against which proofs are checked, is Ed25519 (checked at genesis)")),
    ("cosignature_timestamp", Unreachable(Invariant, "only witness cosignature keys read timestamps; proofs are checked against the log's key alone")),
    ("verifier_ambiguous", Unreachable(Invariant, "proofs are checked against one key, so no two keys can be ambiguous")),
    ("key_point", Unreachable(Guarded, GENESIS_KEY)),
    ("verifier_key_format", Unreachable(Guarded, GENESIS_KEY)),
    ("verifier_key_id", Unreachable(Guarded, GENESIS_KEY)),
    // Log and store codes of the transparency routes, and the rest of the log crate.
    ("tile_path", Http(Server, 404)),
    ("leaf_index_range", Http(Server, 400)),
    ("consistency_sizes", Http(Server, 400)),
    ("beyond_tree", Http(Server, 400)),
    ("hash_length", Unreachable(Elsewhere, VERIFIER_ONLY)),
    ("hash_base64", Unreachable(Guarded, "base64 hashes arrive only inside checkpoints, where a bad one is checkpoint_root")),
    ("stored_index_range", Unreachable(Guarded, "the routes check sizes against the tree first (beyond_tree, leaf_index_range)")),
    ("hash_missing", Unreachable(Fault, FAULT)),
    ("hash_reader_count", Unreachable(Fault, FAULT)),
    ("entry_too_large", Unreachable(Guarded, "an entry holds at most one request body (64 KiB, less its JSON overhead), under the 65,535-byte entry limit")),
    ("proof_too_long", Unreachable(Elsewhere, VERIFIER_ONLY)),
    ("proof_length", Unreachable(Elsewhere, VERIFIER_ONLY)),
    ("proof_root_mismatch", Unreachable(Elsewhere, VERIFIER_ONLY)),
    ("tile_level", Unreachable(Guarded, "a tile path whose level is out of range is not a canonical path: tile_path")),
    ("tile_width", Unreachable(Guarded, "a tile path whose width is out of range is not a canonical path: tile_path")),
    ("tile_kind_mismatch", Unreachable(Elsewhere, VERIFIER_ONLY)),
    ("tile_data_length", Unreachable(Elsewhere, VERIFIER_ONLY)),
    ("bundle_truncated", Unreachable(Elsewhere, VERIFIER_ONLY)),
    ("bundle_entry_count", Unreachable(Elsewhere, VERIFIER_ONLY)),
    ("database", Unreachable(Fault, FAULT)),
    ("migrate", Unreachable(Fault, FAULT)),
    ("data_directory", Unreachable(Fault, FAULT)),
    ("schema_name", Unreachable(Guarded, "the operator's --database option, checked at start")),
    ("torn_entries", Unreachable(Fault, FAULT)),
    ("torn_hashes", Unreachable(Fault, FAULT)),
    ("torn_root", Unreachable(Fault, FAULT)),
    ("row_missing", Unreachable(Fault, FAULT)),
    ("row_malformed", Unreachable(Fault, FAULT)),
    ("negative_value", Unreachable(Fault, FAULT)),
    ("size_conflict", Unreachable(Elsewhere, WRITER_ONLY)),
    ("batch_too_large", Unreachable(Elsewhere, WRITER_ONLY)),
    ("checkpoint_mismatch", Unreachable(Elsewhere, WRITER_ONLY)),
    ("read_too_large", Unreachable(Guarded, "the routes read at most one tile or proof, under every read limit")),
    ("range_outside_tree", Unreachable(Guarded, "the routes check sizes against the tree first (beyond_tree, leaf_index_range)")),
    // The server's own problems.
    ("malformed_body", Http(Server, 400)),
    ("malformed_query", Http(Server, 400)),
    ("body_too_large", Http(Server, 413)),
    ("admin_token", Http(Server, 401)),
    ("rate_limited", Http(Server, 429)),
    ("sequence_reused", Http(Registration, 409)),
    ("deposit_reference_reused", Http(Market, 409)),
    ("bad_month", Http(Server, 400)),
    ("unknown_run", Http(Server, 404)),
    ("no_payout_line", Http(Server, 404)),
    ("unknown_route", Http(Server, 404)),
    ("method_not_allowed", Http(Server, 405)),
    ("tile_not_served", Http(Server, 404)),
    ("timeout", HttpUnproven(Server, 408, "the stalled request runs alongside the other rows, which change the state meanwhile")),
    ("log_unavailable", HttpUnproven(Server, 503, "the test breaks the store under the server; the sequencer then stops, so there is no state left to read (the kill test covers restarts)")),
    ("shutting_down", HttpUnproven(Server, 503, "asked after the sequencer stopped")),
    ("queue_full", HttpUnproven(Server, 503, "the queue is full of other requests, held by a lock on the store; the test checks instead that the log grew by the one accepted input that held the writer")),
    ("no_log", Unreachable(Guarded, "run::start always opens a durable store; only a server built on a memory journal has no log")),
    ("no_checkpoint", Unreachable(Guarded, "the journal signs a checkpoint with its first append, the genesis, before the server listens")),
];

/// Every code the `code()` functions of the API's error types return, read from their source.
pub fn codes_in_source() -> BTreeSet<&'static str> {
    let refusal = include_str!("../../../engine/src/refusal.rs");
    // The nested types `Refusal::code` delegates to; a new one must be added below.
    let nested = refusal.matches("(error) => error.code()").count();
    assert_eq!(
        nested, 5,
        "Refusal wraps a new error type: read its codes here"
    );
    let sources = [
        refusal,
        include_str!("../../../market/src/error.rs"),
        include_str!("../../../coop/src/error.rs"),
        include_str!("../../../core/src/money.rs"),
        include_str!("../../../core/src/rules.rs"),
        include_str!("../../../log/src/error.rs"),
        include_str!("../../../store/src/error.rs"),
        include_str!("../../src/problem.rs"),
    ];
    let mut codes = BTreeSet::new();
    for source in sources {
        let body = source
            .split_once("fn code(")
            .expect("each source has a code() function")
            .1;
        let mut found = 0;
        for line in body.lines().take_while(|line| *line != "    }") {
            if let Some((_, rest)) = line.split_once("=> \"") {
                codes.insert(rest.split('"').next().expect("a closing quote"));
                found += 1;
            }
        }
        assert!(found > 0, "no codes found in a code() function");
    }
    codes
}

pub fn row(code: &str) -> Way {
    TABLE
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, way)| *way)
        .unwrap_or_else(|| panic!("`{code}` has no row in the refusal table"))
}
