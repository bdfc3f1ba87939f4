//! What an accepted input did. Events are the engine's output; their digest is logged with the
//! input so a replay that produces different events is caught at the entry where it diverges.

use crate::command::{Digest, Party, PayoutFile, Rail};
use assay_coop::{ClauseChange, RunReport, TerminationReport};
use assay_core::{
    BasketId, BuyerId, Category, MemberId, Micros, Month, PublicKey, Timestamp, TradingDay,
};
use serde::{Deserialize, Serialize};

/// A run's line the rails did not pay (no matching destination): back in the member's carried
/// balance (issue 9; D4, D9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPayout {
    pub member: MemberId,
    pub amount: Micros,
}

/// A member's part of a grant's income (D3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberShare {
    pub member: MemberId,
    pub weight_bps: u64,
    pub amount: Micros,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    GenesisRecorded {
        rules_hash: Digest,
        exchange_key: PublicKey,
    },
    MemberRegistered {
        member: MemberId,
        founding: bool,
        public_number: Option<u32>,
        rail: Rail,
    },
    BuyerRegistered {
        buyer: BuyerId,
    },
    BuyerFunded {
        buyer: BuyerId,
        amount: Micros,
        deposit_reference: Digest,
    },
    /// Rule M5: the fee is charged whatever happens next.
    BasketPosted {
        basket: BasketId,
        buyer: BuyerId,
        category: Category,
        fee: Micros,
        anchor_unit_price: Micros,
        slots: u8,
    },
    /// Rule M5: an invalid spec is refused, and the fee kept.
    BasketRefused {
        basket: BasketId,
        buyer: BuyerId,
        fee: Micros,
        code: String,
    },
    OfferAccepted {
        basket: BasketId,
        member: MemberId,
    },
    BidAccepted {
        basket: BasketId,
        buyer: BuyerId,
        unit_price: Micros,
    },
    /// Rule M7: too few offers; the fee is kept, holds are released.
    BasketUnfillable {
        basket: BasketId,
        needed: u64,
        offered: u64,
    },
    /// Rule M15: a sold slot becomes a permission grant.
    GrantIssued {
        grant: u64,
        basket: BasketId,
        slot: u8,
        buyer: BuyerId,
        unit_price: Micros,
        price: Micros,
        seed: Digest,
        members: Vec<MemberShare>,
    },
    BasketClosed {
        basket: BasketId,
        demanded: u32,
        released: u8,
        sold: u8,
    },
    ReceiptRecorded {
        grant: u64,
        delivery_hash: Digest,
    },
    TradingDayClosed {
        category: Category,
        day: TradingDay,
        spot: Micros,
        floor: Micros,
        fee: Micros,
    },
    /// Rule M4: the breaker tripped; the board must meet.
    EmergencyMeeting {
        category: Category,
        day: TradingDay,
        reference: Micros,
        spot: Micros,
    },
    OperatingCostRecorded {
        amount: Micros,
        invoice_hash: Digest,
    },
    OffTakeCertified {
        agreement: u64,
        buyer: BuyerId,
        member: MemberId,
        category: Category,
        months: u32,
        value: Micros,
        processing_fee: Micros,
    },
    MidMonthPayout {
        member: MemberId,
        amount: Micros,
        fee: Micros,
        rail: Rail,
    },
    /// Rule D4: one per paid member at the monthly run.
    PayoutInstruction {
        member: MemberId,
        amount: Micros,
        rail: Rail,
        destination_commitment: Digest,
    },
    MonthlyRunRecorded {
        month: Month,
        report: Box<RunReport>,
        payout_root: Digest,
        payout_count: u64,
    },
    PartyBanned {
        party: Party,
        evidence_hash: Digest,
    },
    /// Rule E4: a banned party's open business ends at once.
    BidEnded {
        basket: BasketId,
        buyer: BuyerId,
    },
    OfferEnded {
        basket: BasketId,
        member: MemberId,
    },
    BasketCanceled {
        basket: BasketId,
    },
    GrantEnded {
        grant: u64,
    },
    /// Rule G3: a proposal is open for ballots until `closes`.
    ProposalOpened {
        proposal: u64,
        proposer: MemberId,
        closes: Timestamp,
    },
    /// Rule G2: an eligible member stands in an election.
    CandidateStood {
        proposal: u64,
        member: MemberId,
    },
    /// Rule G3: one ballot, on the log (the choice is in the logged command).
    BallotCast {
        proposal: u64,
        member: MemberId,
    },
    /// Rules G4, G6, E3: a motion's tally. `active` is the active membership an amendment or
    /// rules change needed 80% of; for an appeal, the board's five seats.
    ProposalDecided {
        proposal: u64,
        passed: bool,
        yes: u64,
        no: u64,
        active: u64,
    },
    /// Rule G1: an election's winner takes the seat until `term_ends`.
    BoardSeated {
        proposal: u64,
        seat: u8,
        member: MemberId,
        votes: u64,
        term_ends: TradingDay,
    },
    /// No eligible candidate got a vote: the seat stays vacant.
    ElectionFailed {
        proposal: u64,
        seat: u8,
    },
    /// Rule G4: the bylaws now hold these clause texts.
    AmendmentAdopted {
        proposal: u64,
        changes: Vec<ClauseChange>,
    },
    /// Rule G6: the rules in force changed; members see the new hash.
    RulesAdopted {
        proposal: u64,
        rules_hash: Digest,
    },
    /// Rule E4: a banned board member's seat is vacant at once.
    SeatVacated {
        seat: u8,
        member: MemberId,
    },
    /// Rule E4: a banned member's part in a grant ends; the buyer keeps the rest.
    GrantMemberEnded {
        grant: u64,
        member: MemberId,
    },
    /// Rule E3: the board hears the appeal until `closes`.
    AppealOpened {
        proposal: u64,
        party: Party,
        statement_hash: Digest,
        closes: Timestamp,
    },
    /// Rule E3: the board overturned the ban.
    BanLifted {
        proposal: u64,
        party: Party,
    },
    /// Rule D6: the rails executed the payouts under this root.
    PayoutsSettled {
        payout_root: Digest,
        settlement_reference: Digest,
    },
    /// Rules D4, D6: the files the rails wrote for the run under this root.
    PayoutFilesRecorded {
        payout_root: Digest,
        files: Vec<PayoutFile>,
        /// Lines not paid for want of a destination, returned to the members' carried balances.
        held: Vec<HeldPayout>,
    },
    /// Rule X2: a buyer's unspent prepaid money goes back to the buyer; it was never buyer-side
    /// income, so it is not the cooperative's.
    BuyerRefunded {
        buyer: BuyerId,
        amount: Micros,
    },
    /// Rules X1, X2: the pill was swallowed. The final `PayoutInstruction`s precede this event
    /// in the same entry; `payout_root` commits to them as a run's root does.
    Terminated {
        report: Box<TerminationReport>,
        payout_root: Digest,
        payout_count: u64,
    },
}
