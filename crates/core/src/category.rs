//! Data categories and value tiers (rule M1).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A category of behavioral data (rule M1). The set is closed: adding one is a code change and
/// a rules change, because wallets must know how to assay it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Browsing,
    Purchases,
    Location,
    AppInteractions,
    TosInteractions,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Browsing,
        Category::Purchases,
        Category::Location,
        Category::AppInteractions,
        Category::TosInteractions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Browsing => "browsing",
            Category::Purchases => "purchases",
            Category::Location => "location",
            Category::AppInteractions => "app_interactions",
            Category::TosInteractions => "tos_interactions",
        }
    }

    /// Dense index, for per-category arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value tier (rule M6): A is the most valuable and opens the fewest slots per basket.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    A,
    B,
    C,
    D,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::A, Tier::B, Tier::C, Tier::D];
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}
