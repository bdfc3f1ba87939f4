//! The member's local data vault (W4): behavioral records, preferences, the classifier's
//! decisions, receipts and what the checker last saw, all inside the key store's encrypted
//! records (so encrypted at rest by whatever [`KeyStore`] holds them).

use crate::checker::CheckerState;
use crate::classifier::Decision;
use crate::market::ReceiptRecord;
use crate::{Error, KeyRole, KeyStore};
use assay_core::{Category, MemberId, Micros, PublicKey, TradingDay};
use assay_market::{AgeBand, Region};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Records a vault holds at most; importers stop there with an error.
pub const RECORDS_MAX: usize = 2_000_000;
/// Classifier decisions kept (the newest win when the limit is reached).
pub const DECISIONS_MAX: usize = 10_000;

/// One behavioral record (M1's categories). Coordinates are in 1e-5 degrees (about 1 m).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Browsing {
        day: TradingDay,
        url: String,
        title: String,
    },
    Purchase {
        day: TradingDay,
        merchant: String,
        item: String,
        amount_micros: u64,
    },
    Location {
        day: TradingDay,
        latitude_e5: i32,
        longitude_e5: i32,
    },
    AppInteraction {
        day: TradingDay,
        app: String,
        action: String,
    },
    TosInteraction {
        day: TradingDay,
        service: String,
        accepted: bool,
    },
}

impl Record {
    pub fn category(&self) -> Category {
        match self {
            Record::Browsing { .. } => Category::Browsing,
            Record::Purchase { .. } => Category::Purchases,
            Record::Location { .. } => Category::Location,
            Record::AppInteraction { .. } => Category::AppInteractions,
            Record::TosInteraction { .. } => Category::TosInteractions,
        }
    }

    pub fn day(&self) -> TradingDay {
        match self {
            Record::Browsing { day, .. }
            | Record::Purchase { day, .. }
            | Record::Location { day, .. }
            | Record::AppInteraction { day, .. }
            | Record::TosInteraction { day, .. } => *day,
        }
    }
}

/// The member's coarse profile: the only attributes a basket may filter on (M5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub region: Option<Region>,
    pub age_band: Option<AgeBand>,
}

/// Rule M12: what the member sells, at what price, in which markets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// Categories the member sells; the default is all (M12: participate automatically).
    pub categories: Vec<Category>,
    /// Reserve unit price per category (per member-day); absent means zero.
    pub reserve_unit_price: BTreeMap<Category, Micros>,
    /// Decline baskets with fewer competing buyers than this (thin markets); 0 or 1 = never.
    pub competing_buyers_min: u32,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            categories: Category::ALL.to_vec(),
            reserve_unit_price: BTreeMap::new(),
            competing_buyers_min: 0,
        }
    }
}

impl Preferences {
    pub fn reserve(&self, category: Category) -> Micros {
        self.reserve_unit_price
            .get(&category)
            .copied()
            .unwrap_or(Micros::ZERO)
    }
}

/// Everything the vault keeps, serialized as JSON inside the key store's encrypted records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VaultContents {
    pub profile: Profile,
    pub preferences: Preferences,
    pub records: Vec<Record>,
    pub decisions: Vec<Decision>,
    pub receipts: Vec<ReceiptRecord>,
    pub checker: Option<CheckerState>,
    /// The member's next envelope sequence number at the exchange.
    pub next_sequence: u64,
    /// The member's id at the exchange, once registered.
    #[serde(default)]
    pub member: Option<MemberId>,
}

/// The vault: contents in memory, persisted through a [`KeyStore`].
pub struct Vault<S: KeyStore> {
    store: S,
    pub contents: VaultContents,
}

impl<S: KeyStore> Vault<S> {
    /// Opens the vault held by `store` (empty contents for a new store).
    pub fn open(store: S) -> Result<Self, Error> {
        let contents = if store.records().is_empty() {
            VaultContents::default()
        } else {
            serde_json::from_slice(store.records()).map_err(|_| Error::VaultCorrupt)?
        };
        Ok(Vault { store, contents })
    }

    /// Writes the contents back through the store (encrypted, atomic for the software store).
    pub fn save(&mut self) -> Result<(), Error> {
        let bytes = serde_json::to_vec(&self.contents).map_err(|_| Error::VaultCorrupt)?;
        self.store.save_records(bytes)
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn member_key(&self) -> PublicKey {
        self.store.public_key(KeyRole::Member)
    }

    pub fn device_key(&self) -> PublicKey {
        self.store.public_key(KeyRole::Device)
    }

    /// Adds records, refusing past [`RECORDS_MAX`] (nothing is added then).
    pub fn add_records(&mut self, records: Vec<Record>) -> Result<(), Error> {
        if self.contents.records.len() + records.len() > RECORDS_MAX {
            return Err(Error::TooManyRecords {
                max: RECORDS_MAX as u64,
            });
        }
        self.contents.records.extend(records);
        Ok(())
    }

    /// Records of `category` on days `from..until` (until exclusive).
    pub fn records_in(
        &self,
        category: Category,
        from: TradingDay,
        until: TradingDay,
    ) -> impl Iterator<Item = &Record> {
        self.contents
            .records
            .iter()
            .filter(move |r| r.category() == category && r.day() >= from && r.day() < until)
    }

    /// Remembers a classifier decision, dropping the oldest past [`DECISIONS_MAX`].
    pub fn add_decision(&mut self, decision: Decision) {
        if self.contents.decisions.len() >= DECISIONS_MAX {
            self.contents.decisions.remove(0);
        }
        self.contents.decisions.push(decision);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::{KdfParams, SoftwareStore};

    #[test]
    fn records_are_encrypted_at_rest() {
        // rule W4: nothing of a record is readable in the file.
        let dir = std::env::temp_dir().join(format!("assay-vault-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wallet");
        let store = SoftwareStore::create(&path, "pw", KdfParams::FAST_INSECURE).unwrap();
        let mut vault = Vault::open(store).unwrap();
        let canary = "canary-7f3a9b1c2d";
        vault
            .add_records(vec![Record::Browsing {
                day: TradingDay(20_000),
                url: format!("https://example.org/{canary}"),
                title: canary.into(),
            }])
            .unwrap();
        vault.save().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(canary.len()).any(|w| w == canary.as_bytes()));
        let reopened = Vault::open(SoftwareStore::open(&path, "pw").unwrap()).unwrap();
        assert_eq!(reopened.contents.records.len(), 1);
    }
}
