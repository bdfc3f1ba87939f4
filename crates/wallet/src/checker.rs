//! Rule W5: the wallet checks the exchange. Every mismatch is an [`Error`] with its own code,
//! and a failed check changes nothing the wallet remembers.
//!
//! * Checkpoints: each new signed checkpoint must verify under the log's key and be consistent
//!   with the last one this wallet saw (RFC 9162 consistency proof). The same size with another
//!   root is an equivocation, whose two notes are the proof for poison-pill trigger X1.4.
//! * Witness: the wallet cosigns (L4) only a checkpoint it has just checked.
//! * Payouts: the member's own payout line must be included in the run's payout root. What
//!   became of it at the rails (sent in a file, or held for want of a destination) is reported
//!   beside it as the exchange states it: [`PayoutDelivery`].
//! * Earnings: each grant's share for this member is recomputed from the public rules (D2, D3).

use crate::{Error, KeyRole, KeyStore};
use assay_coop::{member_part_of_sale, split_slot_income};
use assay_core::{MemberId, Micros, Month, Rules};
use assay_engine::command::Digest;
use assay_engine::{payout_leaf, Event, Rail};
use assay_log::{
    cosigned_message, key_id, leaf_hash, ConsistencyProof, Hash, InclusionProof, NoteSignature,
    SignatureType, SignedCheckpoint, VerifierKey,
};
use serde::{Deserialize, Serialize};

/// What the checker remembers between runs (kept in the vault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckerState {
    pub origin: String,
    /// The log's verifier key (vkey text).
    pub log_vkey: String,
    /// The last checkpoint that passed, as the signed note's text.
    pub last_checkpoint: Option<String>,
}

/// Checks checkpoints from one log.
#[derive(Debug)]
pub struct Checker {
    origin: String,
    log_key: VerifierKey,
    last: Option<SignedCheckpoint>,
}

impl Checker {
    pub fn new(origin: &str, log_vkey: &str) -> Result<Checker, Error> {
        Ok(Checker {
            origin: origin.to_string(),
            log_key: VerifierKey::parse(log_vkey).map_err(Error::log)?,
            last: None,
        })
    }

    pub fn from_state(state: &CheckerState) -> Result<Checker, Error> {
        let mut checker = Checker::new(&state.origin, &state.log_vkey)?;
        if let Some(text) = &state.last_checkpoint {
            checker.last = Some(checker.open(text.as_bytes())?);
        }
        Ok(checker)
    }

    pub fn state(&self) -> CheckerState {
        CheckerState {
            origin: self.origin.clone(),
            log_vkey: self.log_key.to_vkey(),
            last_checkpoint: self.last.as_ref().map(SignedCheckpoint::to_text),
        }
    }

    fn open(&self, bytes: &[u8]) -> Result<SignedCheckpoint, Error> {
        SignedCheckpoint::open(bytes, &self.origin, &self.log_key).map_err(Error::log)
    }

    pub fn last(&self) -> Option<&SignedCheckpoint> {
        self.last.as_ref()
    }

    /// Checks a new checkpoint against the last one seen and, if it passes, remembers it.
    /// `proof` is the consistency proof from the last seen size to the new one (ignored for the
    /// first checkpoint and for an unchanged one).
    pub fn observe(
        &mut self,
        note: &[u8],
        proof: Option<&ConsistencyProof>,
    ) -> Result<&SignedCheckpoint, Error> {
        let new = self.open(note)?;
        if let Some(last) = &self.last {
            let (old, next) = (last.checkpoint(), new.checkpoint());
            if next.size() < old.size() {
                return Err(Error::CheckpointRolledBack {
                    seen: old.size(),
                    offered: next.size(),
                });
            }
            if next.size() == old.size() {
                if next.root() != old.root() {
                    return Err(Error::Equivocation {
                        size: old.size(),
                        first: last.to_text(),
                        second: new.to_text(),
                    });
                }
            } else {
                let proof = proof.ok_or(Error::ConsistencyProofMissing)?;
                if proof.old_size() != old.size() || proof.new_size() != next.size() {
                    return Err(Error::CheckpointInconsistent {
                        old_size: old.size(),
                        new_size: next.size(),
                    });
                }
                proof.verify(&old.root(), &next.root()).map_err(|_| {
                    Error::CheckpointInconsistent {
                        old_size: old.size(),
                        new_size: next.size(),
                    }
                })?;
            }
        }
        Ok(self.last.insert(new))
    }

    /// Rule L4: the witness cosignature on the last checked checkpoint, as `name`, through the
    /// key store's witness key.
    pub fn cosign<S: KeyStore>(
        &self,
        store: &S,
        name: &str,
        timestamp_secs: u64,
    ) -> Result<NoteSignature, Error> {
        let last = self.last.as_ref().ok_or(Error::NothingToCosign)?;
        let public = *store.public_key(KeyRole::Witness).as_bytes();
        let message = cosigned_message(timestamp_secs, last.checkpoint().body().as_bytes());
        let mut signature = timestamp_secs.to_be_bytes().to_vec();
        signature.extend_from_slice(&store.sign(KeyRole::Witness, &message)?);
        NoteSignature::new(
            name,
            key_id(name, SignatureType::CosignatureV1, &public),
            signature,
        )
        .map_err(Error::log)
    }
}

/// The witness's verifier key (vkey) to publish, for `name`.
pub fn witness_vkey<S: KeyStore>(store: &S, name: &str) -> Result<String, Error> {
    let public = *store.public_key(KeyRole::Witness).as_bytes();
    VerifierKey::new(name, SignatureType::CosignatureV1, &public)
        .map(|key| key.to_vkey())
        .map_err(Error::log)
}

/// The member's own payout line as the monthly run commits to it (D4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutLine {
    pub month: Month,
    pub member: MemberId,
    pub amount: Micros,
    pub rail: Rail,
    pub destination_commitment: Digest,
}

/// What the exchange says became of a payout line at the rails (issue 9). The inclusion proof
/// covers the line, not this: the run's `PayoutFilesRecorded` log entry states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutDelivery {
    /// The run's files are not logged yet.
    Pending,
    /// In the named file the rails were given.
    Sent { file: String },
    /// Not paid: the exchange had no destination matching the member's commitment, so the
    /// amount went back to the member's balance, to be paid at a later run once the wallet has
    /// handed over the destination.
    Held,
}

/// A payout line that is in its run's payout root, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedPayout {
    pub line: PayoutLine,
    pub delivery: PayoutDelivery,
}

/// Checks that `line` is in the run's payout root (from `MonthlyRunRecorded`).
pub fn verify_payout_line(
    line: &PayoutLine,
    proof: &InclusionProof,
    payout_root: &Digest,
) -> Result<(), Error> {
    let leaf = payout_leaf(
        line.month,
        line.member,
        line.amount,
        &line.rail,
        &line.destination_commitment,
    );
    proof
        .verify(&leaf_hash(&leaf), &Hash(*payout_root))
        .map_err(|_| Error::PayoutLineMissing {
            member: line.member.0,
            month: format!("{}-{:02}", line.month.year, line.month.month),
        })
}

/// Rule W5, earnings: recomputes this member's share of every grant in `events` from the
/// grant's price, the members' premium weights and the public rules (D2's 90% rounded up, D3's
/// largest-remainder split), and returns the member's total. A share that differs is an error.
pub fn recompute_earnings(
    events: &[Event],
    member: MemberId,
    rules: &Rules,
) -> Result<Micros, Error> {
    let mut total = Micros::ZERO;
    for event in events {
        let Event::GrantIssued {
            grant,
            price,
            members,
            ..
        } = event
        else {
            continue;
        };
        let Some(position) = members.iter().position(|m| m.member == member) else {
            continue;
        };
        let bonus_max = u64::from(rules.premium.uniqueness_bonus_max_bps);
        let weights: Vec<u64> = members.iter().map(|m| m.weight_bps).collect();
        let weight = weights[position];
        let weight_ok = (10_000..=10_000 + bonus_max).contains(&weight);
        let expected = member_part_of_sale(*price, rules.waterfall.members_bps)
            .and_then(|part| split_slot_income(part, &weights))
            .map(|parts| parts[position])
            .map_err(|_| Error::EarningsMismatch {
                grant: *grant,
                expected: 0,
                recorded: members[position].amount.get(),
            })?;
        if !weight_ok || expected != members[position].amount {
            return Err(Error::EarningsMismatch {
                grant: *grant,
                expected: expected.get(),
                recorded: members[position].amount.get(),
            });
        }
        total = total
            .checked_add(expected)
            .map_err(|_| Error::EarningsMismatch {
                grant: *grant,
                expected: expected.get(),
                recorded: members[position].amount.get(),
            })?;
    }
    Ok(total)
}
