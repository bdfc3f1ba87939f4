//! Proof that a log equivocated: two checkpoints of the same origin and tree size, both validly
//! signed by the log's key, with different roots. Anyone may submit one; a valid proof triggers
//! the cooperative's poison pill (rule X1.4), so `verify` accepts nothing less.

use crate::{Error, Hash, Note, SignedCheckpoint, VerifierKey};

/// Two signed checkpoint notes, as received. Holding the notes (not just their bodies) keeps the
/// log's signatures, which are what make the proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EquivocationProof {
    first: Note,
    second: Note,
}

/// What a valid proof establishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equivocation {
    pub origin: String,
    pub size: u64,
    pub first_root: Hash,
    pub second_root: Hash,
}

impl EquivocationProof {
    pub fn new(first: Note, second: Note) -> EquivocationProof {
        EquivocationProof { first, second }
    }

    /// Parses two signed notes (each as served at `<prefix>/checkpoint`).
    pub fn parse(first: &[u8], second: &[u8]) -> Result<EquivocationProof, Error> {
        Ok(EquivocationProof::new(
            Note::parse(first)?,
            Note::parse(second)?,
        ))
    }

    pub fn first(&self) -> &Note {
        &self.first
    }

    pub fn second(&self) -> &Note {
        &self.second
    }

    /// Ok only when both notes are checkpoints of `origin` validly signed by `log_key`, of the
    /// same size, with different roots.
    pub fn verify(&self, origin: &str, log_key: &VerifierKey) -> Result<Equivocation, Error> {
        let first = SignedCheckpoint::from_note(self.first.clone(), origin, log_key)?;
        let second = SignedCheckpoint::from_note(self.second.clone(), origin, log_key)?;
        let (first, second) = (first.checkpoint(), second.checkpoint());
        if first.size() != second.size() {
            return Err(Error::EquivocationSizes {
                first: first.size(),
                second: second.size(),
            });
        }
        if first.root() == second.root() {
            return Err(Error::EquivocationSameRoot);
        }
        Ok(Equivocation {
            origin: origin.to_owned(),
            size: first.size(),
            first_root: first.root(),
            second_root: second.root(),
        })
    }
}
