use assay_core::{Micros, MoneyError};

/// Why the market refuses something. Each variant has a stable code (`code()`), which the
/// engine and the HTTP API pass through unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketError {
    #[error("the category is frozen by the circuit breaker (rule M4)")]
    FrozenCategory,
    #[error("bid {bid} is below the floor {floor} (rule M3)")]
    BelowFloor { bid: Micros, floor: Micros },
    #[error("bid {bid} is below the lowest competitive slot's minimum {minimum} (rule M9)")]
    BelowLadderMinimum { bid: Micros, minimum: Micros },
    #[error("{slots} slots is outside this tier's range {min}..={max} (rule M6)")]
    SlotsOutOfRange { slots: u8, min: u8, max: u8 },
    #[error("{members} members per slot is outside 1..={max} (rule M5)")]
    MembersPerSlotOutOfRange { members: u32, max: u32 },
    #[error("a {days}-day window is outside 1..={max} days (rule M5)")]
    WindowOutOfRange { days: u32, max: u32 },
    #[error(
        "region must be an ISO 3166-1 alpha-2 code such as `US` (rule M5: coarse filters only)"
    )]
    BadRegion,
    #[error("{offered} qualifying offers cannot fill {needed} member places (rule M7)")]
    Unfillable { needed: u64, offered: u64 },
    #[error("member offered twice for the same basket")]
    DuplicateOffer,
    #[error("a buyer may hold one slot per basket: one bid, and none on its own basket")]
    DuplicateBid,
    #[error("the ladder has no premium for slot {slot} (rule M9)")]
    NoLadderStep { slot: u8 },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl MarketError {
    pub fn code(&self) -> &'static str {
        match self {
            MarketError::FrozenCategory => "frozen_category",
            MarketError::BelowFloor { .. } => "below_floor",
            MarketError::BelowLadderMinimum { .. } => "below_ladder_minimum",
            MarketError::SlotsOutOfRange { .. } => "slots_out_of_range",
            MarketError::MembersPerSlotOutOfRange { .. } => "members_per_slot_out_of_range",
            MarketError::WindowOutOfRange { .. } => "window_out_of_range",
            MarketError::BadRegion => "bad_region",
            MarketError::Unfillable { .. } => "unfillable",
            MarketError::DuplicateOffer => "duplicate_offer",
            MarketError::DuplicateBid => "duplicate_bid",
            MarketError::NoLadderStep { .. } => "no_ladder_step",
            MarketError::Money(error) => error.code(),
        }
    }
}
