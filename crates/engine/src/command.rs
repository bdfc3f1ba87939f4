//! Commands and their signed envelopes (SPEC §1: every state-changing request is signed).
//!
//! The signed message is `assay/command/v1\n` followed by the postcard encoding of
//! (signer, sequence, command). postcard is deterministic for these types (no maps, no floats),
//! so the bytes an auditor re-encodes from a parsed entry are the bytes that were signed.

use assay_coop::ClauseChange;
use assay_core::{BasketId, BuyerId, Category, MemberId, Micros, Month, PublicKey, TradingDay};
use assay_market::BasketSpec;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

const COMMAND_DOMAIN: &[u8] = b"assay/command/v1\n";
const ATTESTATION_DOMAIN: &[u8] = b"assay/eligibility/v1\n";
const CONSENT_DOMAIN: &[u8] = b"assay/offtake-consent/v1\n";
const BALLOT_DOMAIN: &[u8] = b"assay/ballot/v1\n";

/// A SHA-256 digest carried in a command (invoice, delivery, deposit, evidence).
pub type Digest = [u8; 32];

/// An Ed25519 signature as bytes; serde handles `[u8; 64]` as a tuple, so wrap it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature(#[serde(with = "sig_bytes")] pub [u8; 64]);

/// Hex in human-readable formats (the JSON API), raw bytes in binary ones (log entries).
mod sig_bytes {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 64], serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&hex::encode(bytes))
        } else {
            serializer.serialize_bytes(bytes)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 64], D::Error> {
        let bytes = if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            hex::decode(text).map_err(|_| D::Error::custom("signature is not hex"))?
        } else {
            <&[u8]>::deserialize(deserializer)?.to_vec()
        };
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| D::Error::invalid_length(bytes.len(), &"64 bytes"))
    }
}

/// The payout rail a member chose (D4) and a commitment to the destination details, which live
/// only in the exchange's private, encrypted table (issue 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rail {
    Ach,
    Usdc,
    Prepaid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutChoice {
    pub rail: Rail,
    pub destination_commitment: Digest,
}

/// A party that can be banned (E1, E2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Party {
    Member(MemberId),
    Buyer(BuyerId),
}

/// What members vote on (G1–G6). Appeals (E3) are opened by [`Command::Appeal`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposalKind {
    /// Rules G1, G2: fill a vacant board seat (0–4); candidates stand with [`Command::Stand`].
    Election { seat: u8 },
    /// Rules G4, G5: amend bylaws, each change naming a clause and its new text's SHA-256.
    Amendment { changes: Vec<ClauseChange> },
    /// Rule G6: new rule parameters, as their canonical JSON.
    RulesChange { rules_json: String },
}

/// A ballot's choice: yes or no on a motion, or a candidate in an election.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Choice {
    Yes,
    No,
    Candidate(MemberId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// The first entry: the rules in force, as their canonical JSON (whose SHA-256 is the rules
    /// hash), the exchange's key (the signer), and the log's origin and checkpoint verifier key
    /// (a C2SP vkey), against which equivocation proofs are checked (X1.4).
    Genesis {
        rules_json: String,
        log_origin: String,
        log_vkey: String,
    },
    /// Exchange-signed invitation into the founding cohort (D7).
    RegisterFoundingMember {
        member_key: PublicKey,
        device_key: PublicKey,
        payout: PayoutChoice,
    },
    /// A public member registers with their own key (signer).
    RegisterMember {
        device_key: PublicKey,
        payout: PayoutChoice,
    },
    RegisterBuyer,
    /// Exchange records a buyer's deposit; buyers pay from prepaid balances only.
    FundBuyer {
        buyer: BuyerId,
        amount: Micros,
        deposit_reference: Digest,
    },
    PostBasket {
        spec: BasketSpec,
    },
    /// A member's wallet offers for a basket (M11, M12). `attestation` is the signature of the
    /// member's registered `device_key` over [`eligibility_message`]; `profile_tag` is the
    /// wallet's per-basket salted tag of the member's coarse profile class (M14). The device key
    /// travels with the offer so its signature can be checked in a batch, without the state.
    Offer {
        basket: BasketId,
        device_key: PublicKey,
        reserve_unit_price: Micros,
        profile_tag: u64,
        attestation: Signature,
    },
    Bid {
        basket: BasketId,
        unit_price: Micros,
    },
    /// Exchange closes a basket within its trading day (M7, M13, M15).
    CloseBasket {
        basket: BasketId,
    },
    /// The buyer acknowledges delivery of a grant's data by its hash (M15).
    Receipt {
        grant: u64,
        delivery_hash: Digest,
    },
    /// Exchange closes the open trading day at 00:00 UTC (M2–M4, M10).
    CloseTradingDay {
        day: TradingDay,
    },
    RecordOperatingCost {
        amount: Micros,
        invoice_hash: Digest,
    },
    /// A buyer certifies an exclusive off-take agreement with a member (M16); `member_consent`
    /// is the signature of the member's key (`member_key`, checked against `member`) over
    /// [`offtake_consent_message`].
    OffTake {
        member: MemberId,
        member_key: PublicKey,
        category: Category,
        months: u32,
        value: Micros,
        member_consent: Signature,
    },
    /// A member asks to be paid now, for a fee returned at the next run (D5).
    RequestMidMonthPayout,
    /// Exchange runs the month's distribution (D2–D8).
    RunMonthlyDistribution {
        month: Month,
    },
    /// Exchange records a finding that bans a party for life (E1, E2, E4).
    Ban {
        party: Party,
        evidence_hash: Digest,
    },
    /// A change of rule parameters (G6): only with a passed member vote. Anyone may send it
    /// once the vote passed, so no operator can hold a passed change back.
    AdoptRules {
        rules_json: String,
        proposal: u64,
    },
    /// A member in good standing opens a proposal (G3–G6).
    Propose {
        kind: ProposalKind,
    },
    /// A member stands as a candidate in an open election (G2).
    Stand {
        proposal: u64,
    },
    /// A member's ballot (G3). `presence` is the signature of the member's registered device key
    /// over [`ballot_message`], made only after the wallet's on-device biometric check; the
    /// device key travels with the ballot so its signature can be checked in a batch.
    CastBallot {
        proposal: u64,
        choice: Choice,
        device_key: PublicKey,
        presence: Signature,
    },
    /// Anyone tallies a proposal whose voting period has ended.
    CloseProposal {
        proposal: u64,
    },
    /// A banned party appeals its ban, once per lifetime (E3); the statement lives off-log.
    Appeal {
        statement_hash: Digest,
    },
    /// Anyone submits two checkpoint notes of the log for the same size with different roots
    /// (X1.4), each as served at `<prefix>/checkpoint`.
    ProveEquivocation {
        first_note: String,
        second_note: String,
    },
    /// The exchange records that the rails executed the payouts committed to by `payout_root`
    /// (D6): a monthly run's, or the final payout after termination.
    SettlePayouts {
        payout_root: Digest,
        settlement_reference: Digest,
    },
    /// The exchange records the files the rails wrote for the unsettled run under
    /// `payout_root` (D4, D6): each file's hash, rail, line count and total, so that anyone can
    /// check the files a bank or card issuer received against the log. Once per run, before the
    /// run is settled (which requires it); the totals per rail must equal the run's lines on
    /// that rail, less the `held` lines.
    ///
    /// `held` lists, in ascending order, members whose line the exchange could not pay because
    /// it holds no destination for them matching their commitment (issue 9). A held line is
    /// never dropped: its amount goes back into the member's carried balance, like a
    /// sub-threshold balance, and is paid at a later run (D4, D6, D9).
    RecordPayoutFiles {
        payout_root: Digest,
        files: Vec<PayoutFile>,
        held: Vec<MemberId>,
    },
}

/// One file the rails wrote for a run (D6). The file itself stays in the exchange's data
/// directory (it names bank accounts); the log holds only what identifies and totals it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutFile {
    /// The file's name in the run's directory: 1–64 of `a-z 0-9 . _ -`, not starting with a dot.
    pub name: String,
    pub sha256: Digest,
    pub rail: Rail,
    /// Payout lines (entries, leaves, card loads) in the file.
    pub lines: u64,
    /// The sum of the file's lines: whole cents on ACH and prepaid, micro-dollars on USDC.
    pub total: Micros,
}

/// A command with its signer, per-key sequence number and signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub signer: PublicKey,
    /// Must equal the signer's next sequence number: replays and reorders are refused.
    pub sequence: u64,
    pub command: Command,
    /// `None` is an unsigned request, always refused.
    pub signature: Option<Signature>,
}

/// What the sequencer feeds the engine: an envelope and the time it stamped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub envelope: Envelope,
    pub timestamp: assay_core::Timestamp,
}

/// The bytes a command's signature covers.
pub fn signed_message(signer: &PublicKey, sequence: u64, command: &Command) -> Vec<u8> {
    let mut message = COMMAND_DOMAIN.to_vec();
    // postcard cannot fail on these types: they hold no maps of unknown length or floats.
    let body =
        postcard::to_allocvec(&(signer, sequence, command)).expect("commands encode with postcard");
    message.extend_from_slice(&body);
    message
}

/// The bytes a device's eligibility attestation covers (M11).
pub fn eligibility_message(basket: BasketId, member_key: &PublicKey, reserve: Micros) -> Vec<u8> {
    let mut message = ATTESTATION_DOMAIN.to_vec();
    message.extend_from_slice(&basket.0.to_be_bytes());
    message.extend_from_slice(member_key.as_bytes());
    message.extend_from_slice(&reserve.get().to_be_bytes());
    message
}

/// The bytes a ballot's user-presence signature covers (G3).
pub fn ballot_message(proposal: u64, member_key: &PublicKey, choice: Choice) -> Vec<u8> {
    let mut message = BALLOT_DOMAIN.to_vec();
    message.extend_from_slice(&proposal.to_be_bytes());
    message.extend_from_slice(member_key.as_bytes());
    match choice {
        Choice::Yes => message.push(0),
        Choice::No => message.push(1),
        Choice::Candidate(member) => {
            message.push(2);
            message.extend_from_slice(&member.0.to_be_bytes());
        }
    }
    message
}

/// The bytes a member's off-take consent covers (M16).
pub fn offtake_consent_message(
    buyer_key: &PublicKey,
    category: Category,
    months: u32,
    value: Micros,
) -> Vec<u8> {
    let mut message = CONSENT_DOMAIN.to_vec();
    message.extend_from_slice(buyer_key.as_bytes());
    message.extend_from_slice(category.as_str().as_bytes());
    message.push(b'\n');
    message.extend_from_slice(&months.to_be_bytes());
    message.extend_from_slice(&value.get().to_be_bytes());
    message
}

impl Envelope {
    /// Signs `command` as `key` with `sequence` (for wallets, buyers' SDKs, tests, the simulator).
    pub fn sign(key: &SigningKey, sequence: u64, command: Command) -> Envelope {
        let signer = PublicKey::from(key.verifying_key());
        let signature = key.sign(&signed_message(&signer, sequence, &command));
        Envelope {
            signer,
            sequence,
            command,
            signature: Some(Signature(signature.to_bytes())),
        }
    }
}

impl Command {
    /// Signatures inside the command besides the envelope's: (key, message, signature).
    pub fn inner_signatures(&self, signer: &PublicKey) -> Vec<(PublicKey, Vec<u8>, Signature)> {
        match self {
            Command::Offer {
                basket,
                device_key,
                reserve_unit_price,
                attestation,
                ..
            } => vec![(
                *device_key,
                eligibility_message(*basket, signer, *reserve_unit_price),
                *attestation,
            )],
            Command::OffTake {
                member_key,
                category,
                months,
                value,
                member_consent,
                ..
            } => vec![(
                *member_key,
                offtake_consent_message(signer, *category, *months, *value),
                *member_consent,
            )],
            Command::CastBallot {
                proposal,
                choice,
                device_key,
                presence,
            } => vec![(
                *device_key,
                ballot_message(*proposal, signer, *choice),
                *presence,
            )],
            _ => Vec::new(),
        }
    }
}

/// Signs arbitrary bytes (attestations, consents).
pub fn sign_bytes(key: &SigningKey, message: &[u8]) -> Signature {
    Signature(key.sign(message).to_bytes())
}
