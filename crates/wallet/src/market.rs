//! The market side of the wallet (M11, M12, M15, W4): decide eligibility on the device, offer
//! with a device-signed attestation, deliver sold data sealed to the buyer, keep the receipt.
//!
//! The exchange learns only what an offer says: the member's key, the basket, the reserve, a
//! coarse profile tag and the device's signature. The vault's records never leave the device
//! except sealed to a buyer who holds a grant.

use crate::delivery::{seal, DeliveryKey, SealedDelivery};
use crate::vault::{Record, Vault};
use crate::{Error, KeyRole, KeyStore};
use assay_core::{BasketId, Micros, PublicKey, TradingDay};
use assay_engine::command::{eligibility_message, signed_message, Digest};
use assay_engine::{Command, Envelope, Signature};
use assay_market::BasketSpec;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

const PROFILE_TAG_DOMAIN: &[u8] = b"assay/profile-tag/v1\n";
/// Reading of M11's "eligible": the vault holds records of the basket's category on at least
/// this share of the window's days. Buyers pay per member-day, so a mostly empty window is not
/// offered.
pub const WINDOW_COVERAGE_MIN_PERCENT: u64 = 50;
/// Records delivered for one grant at most (bounds the sealed payload).
pub const DELIVERY_RECORDS_MAX: usize = 200_000;

/// An open basket as the exchange publishes it (M11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenBasket {
    pub id: BasketId,
    pub spec: BasketSpec,
    /// Every slot pays at least this per unit (the engine refuses reserves above it).
    pub anchor_unit_price: Micros,
    /// Buyers competing for the basket so far: the anchor plus bidders (M12's thin market).
    pub competing_buyers: u32,
}

/// Why the wallet does not offer (each a member's rule or a fact of the vault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Ineligible {
    CategoryDeclined,
    RegionMismatch,
    AgeBandMismatch,
    NotEnoughData {
        days_with_data: u64,
        days_needed: u64,
    },
    ReserveAboveAnchor {
        reserve: Micros,
        anchor: Micros,
    },
    ThinMarket {
        competing_buyers: u32,
        minimum: u32,
    },
}

/// Rule M11/M12: decides on the device whether to offer for `basket`, whose window is the
/// `window_days` days before `today`.
pub fn eligibility<S: KeyStore>(
    vault: &Vault<S>,
    basket: &OpenBasket,
    today: TradingDay,
) -> Result<(), Ineligible> {
    let contents = &vault.contents;
    let spec = &basket.spec;
    if !contents.preferences.categories.contains(&spec.category) {
        return Err(Ineligible::CategoryDeclined);
    }
    if spec.filter.region.is_some() && spec.filter.region != contents.profile.region {
        return Err(Ineligible::RegionMismatch);
    }
    if spec.filter.age_band.is_some() && spec.filter.age_band != contents.profile.age_band {
        return Err(Ineligible::AgeBandMismatch);
    }
    let minimum = contents.preferences.competing_buyers_min;
    if basket.competing_buyers < minimum {
        return Err(Ineligible::ThinMarket {
            competing_buyers: basket.competing_buyers,
            minimum,
        });
    }
    let reserve = contents.preferences.reserve(spec.category);
    if reserve > basket.anchor_unit_price {
        return Err(Ineligible::ReserveAboveAnchor {
            reserve,
            anchor: basket.anchor_unit_price,
        });
    }
    let (from, until) = window(spec, today);
    let mut days: Vec<i32> = vault
        .records_in(spec.category, from, until)
        .map(|r| r.day().0)
        .collect();
    days.sort_unstable();
    days.dedup();
    let window_days = u64::from(spec.window_days);
    let needed = (window_days * WINDOW_COVERAGE_MIN_PERCENT).div_ceil(100);
    if (days.len() as u64) < needed {
        return Err(Ineligible::NotEnoughData {
            days_with_data: days.len() as u64,
            days_needed: needed,
        });
    }
    Ok(())
}

/// The basket's data window: the `window_days` days before `today` (today excluded).
pub fn window(spec: &BasketSpec, today: TradingDay) -> (TradingDay, TradingDay) {
    (TradingDay(today.0 - spec.window_days as i32), today)
}

/// The per-basket tag of the member's coarse profile class (M14). Members of the same class
/// get the same tag within a basket, so the exchange can count how rare a class is without
/// learning which class it is from the tag alone.
pub fn profile_tag<S: KeyStore>(vault: &Vault<S>, basket: BasketId) -> u64 {
    let profile = &vault.contents.profile;
    let class = format!(
        "{}|{}",
        profile.region.as_ref().map_or("-", |r| r.as_str()),
        profile
            .age_band
            .map(|a| format!("{a:?}"))
            .unwrap_or_else(|| "-".into())
    );
    let digest = Sha256::new()
        .chain_update(PROFILE_TAG_DOMAIN)
        .chain_update(basket.0.to_be_bytes())
        .chain_update(class.as_bytes())
        .finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 of 32 bytes"))
}

/// Signs `command` with the member's key through the key store (which never hands the key out,
/// so `Envelope::sign`, which takes a `SigningKey`, cannot be used).
pub fn sign_envelope<S: KeyStore>(
    store: &S,
    sequence: u64,
    command: Command,
) -> Result<Envelope, Error> {
    let signer = store.public_key(KeyRole::Member);
    let signature = store.sign(
        KeyRole::Member,
        &signed_message(&signer, sequence, &command),
    )?;
    Ok(Envelope {
        signer,
        sequence,
        command,
        signature: Some(Signature(signature)),
    })
}

/// Rule M11/M12: checks eligibility and builds the signed offer, consuming one sequence number.
pub fn make_offer<S: KeyStore>(
    vault: &mut Vault<S>,
    basket: &OpenBasket,
    today: TradingDay,
) -> Result<Envelope, Error> {
    eligibility(vault, basket, today).map_err(Error::Ineligible)?;
    let member = vault.member_key();
    let reserve = vault.contents.preferences.reserve(basket.spec.category);
    let attestation = vault.store().sign(
        KeyRole::Device,
        &eligibility_message(basket.id, &member, reserve),
    )?;
    let command = Command::Offer {
        basket: basket.id,
        device_key: vault.device_key(),
        reserve_unit_price: reserve,
        profile_tag: profile_tag(vault, basket.id),
        attestation: Signature(attestation),
    };
    let envelope = sign_envelope(vault.store(), vault.contents.next_sequence, command)?;
    vault.contents.next_sequence += 1;
    Ok(envelope)
}

/// A grant the wallet was picked for (from the exchange's `GrantIssued` event), with the
/// buyer's key as the log names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantNotice {
    pub grant: u64,
    pub basket: BasketId,
    pub spec: BasketSpec,
    pub buyer_key: PublicKey,
    /// The trading day the basket cleared: the window ends there.
    pub cleared_on: TradingDay,
}

/// What the wallet remembers of a delivery (W4, M15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptRecord {
    pub grant: u64,
    pub buyer_key: PublicKey,
    pub delivery_hash: Digest,
    pub records: u64,
    /// The buyer's signed `Receipt` command, once returned.
    pub receipt: Option<Envelope>,
}

/// Rule M15/W4: seals the grant's data (the basket category's records in its window) to the
/// buyer's delivery key, which must carry the grant's buyer's signature.
pub fn deliver<S: KeyStore>(
    vault: &mut Vault<S>,
    grant: &GrantNotice,
    buyer_delivery_key: &DeliveryKey,
) -> Result<SealedDelivery, Error> {
    buyer_delivery_key.verify(&grant.buyer_key)?;
    let (from, until) = window(&grant.spec, grant.cleared_on);
    let records: Vec<&Record> = vault
        .records_in(grant.spec.category, from, until)
        .take(DELIVERY_RECORDS_MAX)
        .collect();
    let plaintext = serde_json::to_vec(&records).map_err(|_| Error::VaultCorrupt)?;
    let sealed = seal(buyer_delivery_key, grant.grant, &plaintext)?;
    vault.contents.receipts.push(ReceiptRecord {
        grant: grant.grant,
        buyer_key: grant.buyer_key,
        delivery_hash: sealed.hash(),
        records: records.len() as u64,
        receipt: None,
    });
    Ok(sealed)
}

/// Rule M15: keeps the buyer's receipt after checking it is the grant's buyer's signature over
/// the hash of what this wallet delivered.
pub fn accept_receipt<S: KeyStore>(vault: &mut Vault<S>, receipt: Envelope) -> Result<(), Error> {
    let Command::Receipt {
        grant,
        delivery_hash,
    } = receipt.command
    else {
        return Err(Error::ReceiptInvalid);
    };
    let record = vault
        .contents
        .receipts
        .iter_mut()
        .find(|r| r.grant == grant)
        .ok_or(Error::ReceiptInvalid)?;
    let Some(signature) = receipt.signature else {
        return Err(Error::ReceiptInvalid);
    };
    let message = signed_message(&receipt.signer, receipt.sequence, &receipt.command);
    let valid = receipt.signer == record.buyer_key
        && ed25519_dalek::Verifier::verify(
            &receipt.signer.verifying_key(),
            &message,
            &ed25519_dalek::Signature::from_bytes(&signature.0),
        )
        .is_ok();
    if !valid {
        return Err(Error::ReceiptInvalid);
    }
    if delivery_hash != record.delivery_hash {
        return Err(Error::ReceiptHashMismatch);
    }
    record.receipt = Some(receipt);
    Ok(())
}
