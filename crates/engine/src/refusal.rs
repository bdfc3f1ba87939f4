//! Why the engine refuses an input. A refusal changes no state and is not logged (DESIGN: the
//! log holds accepted inputs only); every variant has a stable code the API passes through.

use assay_coop::CoopError;
use assay_core::{MoneyError, RulesError};
use assay_market::MarketError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the request is not signed")]
    Unsigned,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("sequence number {got} was already used; next is {expected}")]
    SequenceReplayed { expected: u64, got: u64 },
    #[error("sequence number {got} skips ahead; next is {expected}")]
    SequenceGap { expected: u64, got: u64 },
    #[error("the log has no genesis entry yet")]
    NoGenesis,
    #[error("the log already has its genesis entry")]
    GenesisRepeated,
    #[error("only the exchange's key may sign this command")]
    NotExchange,
    #[error("the signer is not a registered member")]
    NotMember,
    #[error("the signer is not a registered buyer")]
    NotBuyer,
    #[error("this key is already registered")]
    AlreadyRegistered,
    #[error("this party is banned for life (rules E1, E2)")]
    Banned,
    #[error("the founding cohort is full (rule D7)")]
    FoundingCohortFull,
    #[error("the founding cohort closed when public registration began (rule D7)")]
    FoundingCohortClosed,
    #[error("no such basket")]
    UnknownBasket,
    #[error("no such buyer")]
    UnknownBuyer,
    #[error("a deposit with this bank reference was already recorded")]
    DepositReferenceReused,
    #[error("no such member")]
    UnknownMember,
    #[error("no such grant, or not this buyer's")]
    UnknownGrant,
    #[error("the basket's window is closed")]
    WindowClosed,
    #[error("the buyer's prepaid balance cannot pay the origination fee (rule M5)")]
    FeeUnpaid,
    #[error("the buyer's prepaid balance cannot cover this")]
    InsufficientBalance,
    #[error("the member's reserve price is above what this basket pays (rule M12)")]
    ReserveNotMet,
    #[error("the device attestation does not verify (rule M11)")]
    BadAttestation,
    #[error("the member's consent signature does not verify (rule M16)")]
    BadConsent,
    #[error("a receipt for this grant is already recorded")]
    ReceiptRepeated,
    #[error("the sequencer's time went backwards")]
    ClockBackwards,
    #[error("trading day {open} must be closed before inputs of a later day")]
    DayNotClosed { open: assay_core::TradingDay },
    #[error("that is not the open trading day, or its end has not come")]
    WrongDay,
    #[error("the monthly run is due: only it may come next (rule D4)")]
    RunPending,
    #[error("that month's run is not due")]
    RunNotDue,
    #[error("the balance does not cover the mid-month payout fee (rule D5)")]
    NothingToPay,
    #[error("a rules change needs a passed member vote (rule G6)")]
    NoPassedVote,
    #[error("a basket may not ask for zero months or an empty agreement")]
    EmptyAgreement,
    #[error("the ballot's user-presence signature is not by the member's device (rule G3)")]
    BadPresence,
    #[error("this member already cast a ballot on this proposal (rule G3)")]
    BallotRepeated,
    #[error("no such proposal")]
    UnknownProposal,
    #[error("the proposal's voting period is over")]
    VotingClosed,
    #[error("the proposal's voting period has not ended")]
    VotingOpen,
    #[error("this member may not stand: banned, inactive, served before, or a founding member is eligible (rule G2)")]
    NotEligible,
    #[error("this member already stands in this election")]
    AlreadyStanding,
    #[error("that proposal is not an election")]
    NotAnElection,
    #[error("that choice does not fit this proposal")]
    BadChoice,
    #[error("this member may not vote on this proposal (registered after it opened, or not on the board for an appeal)")]
    NotVoter,
    #[error("the board has seats 0 to 4 (rule G1)")]
    UnknownSeat,
    #[error("that seat is held until its term ends (rule G1)")]
    SeatFilled,
    #[error("an election for that seat is already open")]
    ElectionOpen,
    #[error("the principles P-purpose, P-nothing and P-pill cannot be amended (rule G5)")]
    ImmutableClause,
    #[error("the proposal changes nothing")]
    EmptyProposal,
    #[error("the proposal is larger than the engine accepts")]
    ProposalTooLarge,
    #[error("too many proposals are open at once")]
    TooManyProposals,
    #[error("too many candidates stand in this election")]
    TooManyCandidates,
    #[error("only a banned party may appeal")]
    NotBanned,
    #[error("one appeal per person per lifetime (rule E3)")]
    AppealRepeated,
    #[error("the signer is neither a member nor a buyer")]
    UnknownParty,
    #[error(
        "the exchange has terminated (rule X3): only the final payout's files and settlement are accepted"
    )]
    Terminated,
    #[error("this device key is already bound to a member")]
    DeviceInUse,
    #[error("no unsettled payouts have that root")]
    UnknownPayoutRoot,
    #[error("the payout file list is malformed: {0}")]
    PayoutFilesInvalid(&'static str),
    #[error("the payout files do not match the run's lines on rail {rail}: {what}")]
    PayoutFilesMismatch {
        rail: &'static str,
        what: &'static str,
    },
    #[error("this run's payout files are already recorded")]
    PayoutFilesRepeated,
    #[error("the run's payout files must be recorded before it is settled")]
    PayoutFilesMissing,
    #[error(transparent)]
    Log(#[from] assay_log::Error),
    #[error(transparent)]
    Market(#[from] MarketError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Coop(#[from] CoopError),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unsigned => "unsigned",
            Refusal::BadSignature => "bad_signature",
            Refusal::SequenceReplayed { .. } => "sequence_replayed",
            Refusal::SequenceGap { .. } => "sequence_gap",
            Refusal::NoGenesis => "no_genesis",
            Refusal::GenesisRepeated => "genesis_repeated",
            Refusal::NotExchange => "not_exchange",
            Refusal::NotMember => "not_member",
            Refusal::NotBuyer => "not_buyer",
            Refusal::AlreadyRegistered => "already_registered",
            Refusal::Banned => "banned",
            Refusal::DepositReferenceReused => "deposit_reference_reused",
            Refusal::FoundingCohortFull => "founding_cohort_full",
            Refusal::FoundingCohortClosed => "founding_cohort_closed",
            Refusal::UnknownBasket => "unknown_basket",
            Refusal::UnknownBuyer => "unknown_buyer",
            Refusal::UnknownMember => "unknown_member",
            Refusal::UnknownGrant => "unknown_grant",
            Refusal::WindowClosed => "window_closed",
            Refusal::FeeUnpaid => "fee_unpaid",
            Refusal::InsufficientBalance => "insufficient_balance",
            Refusal::ReserveNotMet => "reserve_not_met",
            Refusal::BadAttestation => "bad_attestation",
            Refusal::BadConsent => "bad_consent",
            Refusal::ReceiptRepeated => "receipt_repeated",
            Refusal::ClockBackwards => "clock_backwards",
            Refusal::DayNotClosed { .. } => "day_not_closed",
            Refusal::WrongDay => "wrong_day",
            Refusal::RunPending => "run_pending",
            Refusal::RunNotDue => "run_not_due",
            Refusal::NothingToPay => "nothing_to_pay",
            Refusal::NoPassedVote => "no_passed_vote",
            Refusal::EmptyAgreement => "empty_agreement",
            Refusal::BadPresence => "bad_presence",
            Refusal::BallotRepeated => "ballot_repeated",
            Refusal::UnknownProposal => "unknown_proposal",
            Refusal::VotingClosed => "voting_closed",
            Refusal::VotingOpen => "voting_open",
            Refusal::NotEligible => "not_eligible",
            Refusal::AlreadyStanding => "already_standing",
            Refusal::NotAnElection => "not_an_election",
            Refusal::BadChoice => "bad_choice",
            Refusal::NotVoter => "not_voter",
            Refusal::UnknownSeat => "unknown_seat",
            Refusal::SeatFilled => "seat_filled",
            Refusal::ElectionOpen => "election_open",
            Refusal::ImmutableClause => "immutable_clause",
            Refusal::EmptyProposal => "empty_proposal",
            Refusal::ProposalTooLarge => "proposal_too_large",
            Refusal::TooManyProposals => "too_many_proposals",
            Refusal::TooManyCandidates => "too_many_candidates",
            Refusal::NotBanned => "not_banned",
            Refusal::AppealRepeated => "appeal_repeated",
            Refusal::UnknownParty => "unknown_party",
            Refusal::Terminated => "terminated",
            Refusal::DeviceInUse => "device_in_use",
            Refusal::UnknownPayoutRoot => "unknown_payout_root",
            Refusal::PayoutFilesInvalid(_) => "payout_files_invalid",
            Refusal::PayoutFilesMismatch { .. } => "payout_files_mismatch",
            Refusal::PayoutFilesRepeated => "payout_files_repeated",
            Refusal::PayoutFilesMissing => "payout_files_missing",
            Refusal::Log(error) => error.code(),
            Refusal::Market(error) => error.code(),
            Refusal::Rules(error) => error.code(),
            Refusal::Coop(error) => error.code(),
            Refusal::Money(error) => error.code(),
        }
    }
}
