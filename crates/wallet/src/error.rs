//! The crate's one error type. Each variant names a cause and has a stable `code()`, which the
//! CLI prints; the exchange's refusals keep the exchange's code ([`Error::Exchange`]).

use crate::market::Ineligible;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // Key store and vault (W1, W4).
    #[error("wrong passphrase (or the file's key-derivation header was altered)")]
    WrongPassphrase,
    #[error("the wallet file was tampered with: its contents fail authentication")]
    StoreTampered,
    #[error("the wallet file is not a readable Assay wallet")]
    StoreCorrupt,
    #[error("a wallet file already exists there; refusing to overwrite it")]
    StoreExists,
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the operating system's random source failed")]
    Randomness,
    #[error("the vault's records cannot be decoded")]
    VaultCorrupt,
    #[error("a vault holds at most {max} records")]
    TooManyRecords { max: u64 },

    // Importers and classifier (W2).
    #[error("not a HAR file: {reason}")]
    BadHar { reason: String },
    #[error("not an http(s) URL the wallet can read")]
    BadUrl,
    #[error("labelled data line {line} is malformed")]
    BadLabelledLine { line: usize },
    #[error("a policy text is read up to {max} bytes")]
    PolicyTooLarge { max: u64 },

    // Market side (M11, M12, M15).
    #[error("not eligible for this basket: {0:?}")]
    Ineligible(Ineligible),
    #[error("the delivery key is not signed by the grant's buyer")]
    DeliveryKeyUnsigned,
    #[error("the sealed delivery does not open with this key for this grant")]
    DeliveryOpen,
    #[error("the receipt is not the grant's buyer's signed receipt")]
    ReceiptInvalid,
    #[error("the receipt names a delivery hash this wallet did not send")]
    ReceiptHashMismatch,

    // Checking the exchange (W5).
    #[error("log: {code}")]
    Log { code: &'static str },
    #[error("checkpoint of size {offered} is older than the size {seen} already seen")]
    CheckpointRolledBack { seen: u64, offered: u64 },
    #[error("EQUIVOCATION: two signed checkpoints of size {size} with different roots")]
    Equivocation {
        size: u64,
        first: String,
        second: String,
    },
    #[error("a consistency proof is needed to accept a larger checkpoint")]
    ConsistencyProofMissing,
    #[error("checkpoint of size {new_size} is not consistent with the one of size {old_size}")]
    CheckpointInconsistent { old_size: u64, new_size: u64 },
    #[error("no checked checkpoint to cosign")]
    NothingToCosign,
    #[error("payout line of member m{member} for {month} is not in the run's payout root")]
    PayoutLineMissing { member: u64, month: String },
    #[error("entry {index} is not in the log as last checked")]
    EntryNotIncluded { index: u64 },
    #[error("no checkpoint has been checked yet")]
    NoCheckedCheckpoint,
    #[error(
        "grant {grant}: recorded share {recorded} micro-USD, the public rules give {expected}"
    )]
    EarningsMismatch {
        grant: u64,
        expected: u64,
        recorded: u64,
    },

    // Talking to the exchange (client).
    #[error("the exchange refused (HTTP {status}, {code}): {detail}")]
    Exchange {
        status: u16,
        /// The exchange's stable problem code (`below_floor`, `duplicate_offer` …).
        code: String,
        detail: String,
    },
    #[error("cannot reach the exchange: {detail}")]
    Transport { detail: String },
    #[error("the exchange's answer is malformed: {detail}")]
    BadResponse { detail: String },
    #[error("the vault's member is not registered at the exchange")]
    NotRegistered,
}

impl Error {
    /// The stable code: the crate's own, or the exchange's for [`Error::Exchange`].
    pub fn code(&self) -> &str {
        match self {
            Error::WrongPassphrase => "wrong_passphrase",
            Error::StoreTampered => "store_tampered",
            Error::StoreCorrupt => "store_corrupt",
            Error::StoreExists => "store_exists",
            Error::Io { .. } => "io",
            Error::Randomness => "randomness",
            Error::VaultCorrupt => "vault_corrupt",
            Error::TooManyRecords { .. } => "too_many_records",
            Error::BadHar { .. } => "bad_har",
            Error::BadUrl => "bad_url",
            Error::BadLabelledLine { .. } => "bad_labelled_line",
            Error::PolicyTooLarge { .. } => "policy_too_large",
            Error::Ineligible(_) => "ineligible",
            Error::DeliveryKeyUnsigned => "delivery_key_unsigned",
            Error::DeliveryOpen => "delivery_open",
            Error::ReceiptInvalid => "receipt_invalid",
            Error::ReceiptHashMismatch => "receipt_hash_mismatch",
            Error::Log { code } => code,
            Error::CheckpointRolledBack { .. } => "checkpoint_rolled_back",
            Error::Equivocation { .. } => "equivocation",
            Error::ConsistencyProofMissing => "consistency_proof_missing",
            Error::CheckpointInconsistent { .. } => "checkpoint_inconsistent",
            Error::NothingToCosign => "nothing_to_cosign",
            Error::PayoutLineMissing { .. } => "payout_line_missing",
            Error::EarningsMismatch { .. } => "earnings_mismatch",
            Error::EntryNotIncluded { .. } => "entry_not_included",
            Error::NoCheckedCheckpoint => "no_checked_checkpoint",
            Error::Exchange { code, .. } => code,
            Error::Transport { .. } => "transport",
            Error::BadResponse { .. } => "bad_response",
            Error::NotRegistered => "not_registered",
        }
    }

    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn log(error: assay_log::Error) -> Error {
        Error::Log { code: error.code() }
    }
}
