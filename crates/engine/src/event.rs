//! What an accepted input did. Events are the engine's output; their digest is logged with the
//! input so a replay that produces different events is caught at the entry where it diverges.

use crate::command::{Digest, Party, Rail};
use assay_coop::RunReport;
use assay_core::{BasketId, BuyerId, Category, MemberId, Micros, Month, PublicKey, TradingDay};
use serde::{Deserialize, Serialize};

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
}
