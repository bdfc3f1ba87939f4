//! The exchange's on-chain key: secp256k1, signing EIP-712 typed data that the contracts check
//! with `ecrecover`.

use crate::{Checkpoint, Treasury};
use alloy_sol_types::{Eip712Domain, SolStruct};
use k256::ecdsa::SigningKey;
use revm::primitives::{keccak256, Address, Bytes, B256, U256};
use std::borrow::Cow;

/// The EIP-712 domain names the contracts' constructors fix.
const ANCHOR_DOMAIN_NAME: &str = "Assay CheckpointAnchor";
const TREASURY_DOMAIN_NAME: &str = "Assay Treasury";
const DOMAIN_VERSION: &str = "1";

/// A secp256k1 signing key and the address it controls.
#[derive(Clone)]
pub struct ExchangeKey {
    key: SigningKey,
    address: Address,
}

impl std::fmt::Debug for ExchangeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeKey")
            .field("address", &self.address)
            .finish()
    }
}

impl ExchangeKey {
    /// The key whose scalar is `secret`; `None` if it is zero or not below the curve order.
    pub fn from_secret(secret: [u8; 32]) -> Option<ExchangeKey> {
        let key = SigningKey::from_bytes(&secret.into()).ok()?;
        let point = key.verifying_key().to_encoded_point(false);
        // The address is the last 20 bytes of keccak256 of the uncompressed point without its
        // 0x04 prefix.
        let address = Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..]);
        Some(ExchangeKey { key, address })
    }

    /// A key derived from a test seed (never zero, always below the order in practice).
    pub fn from_seed(seed: u64) -> ExchangeKey {
        let mut counter = 0u64;
        loop {
            let secret = keccak256([seed.to_be_bytes(), counter.to_be_bytes()].concat());
            if let Some(key) = ExchangeKey::from_secret(secret.0) {
                return key;
            }
            counter += 1;
        }
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs a 32-byte digest: `r ‖ s ‖ v` with low `s` and `v` ∈ {27, 28}, as OpenZeppelin's
    /// `ECDSA` accepts.
    pub fn sign_digest(&self, digest: B256) -> Bytes {
        let (signature, recovery) = self
            .key
            .sign_prehash_recoverable(digest.as_slice())
            .expect("a 32-byte prehash is always signable");
        // k256 already normalizes s to the lower half and adjusts the recovery id to match.
        let mut bytes = signature.to_bytes().to_vec();
        bytes.push(27 + recovery.to_byte());
        bytes.into()
    }

    /// Signs checkpoint (size, root) for the anchor at `anchor` on chain `chain_id`.
    pub fn sign_checkpoint(&self, anchor: Address, chain_id: u64, size: u64, root: B256) -> Bytes {
        let digest = Checkpoint { size, root }.eip712_signing_hash(&domain(
            ANCHOR_DOMAIN_NAME,
            chain_id,
            anchor,
        ));
        self.sign_digest(digest)
    }

    /// Signs a month's run root for the treasury at `treasury` on chain `chain_id`.
    pub fn sign_submission(
        &self,
        treasury: Address,
        chain_id: u64,
        submission: &Treasury::RootSubmission,
    ) -> Bytes {
        let digest =
            submission.eip712_signing_hash(&domain(TREASURY_DOMAIN_NAME, chain_id, treasury));
        self.sign_digest(digest)
    }
}

fn domain(name: &'static str, chain_id: u64, verifying_contract: Address) -> Eip712Domain {
    Eip712Domain {
        name: Some(Cow::Borrowed(name)),
        version: Some(Cow::Borrowed(DOMAIN_VERSION)),
        chain_id: Some(U256::from(chain_id)),
        verifying_contract: Some(verifying_contract),
        salt: None,
    }
}
