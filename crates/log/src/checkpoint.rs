//! C2SP tlog-checkpoint: the note body `origin\nsize\nbase64(root)\n[extension lines]`, and
//! checkpoints signed by the log's key (rule L2).

use crate::tile::parse_decimal;
use crate::{Error, Hash, Note, NoteSigner, VerifiedSignature, VerifierKey};

/// A log's tree head: origin, size and root hash, plus optional opaque extension lines.
///
/// Invariant: the origin and every extension line are non-empty and hold no control character
/// (so no newline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

fn check_line(line: &str) -> Result<(), Error> {
    if line.is_empty() || line.bytes().any(|b| b < 0x20) {
        return Err(Error::CheckpointLine);
    }
    Ok(())
}

impl Checkpoint {
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Checkpoint, Error> {
        check_line(origin)?;
        crate::stored::check_size(size)?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// Adds extension lines (each non-empty; NOT RECOMMENDED by the spec, but allowed).
    pub fn with_extensions(mut self, lines: &[&str]) -> Result<Checkpoint, Error> {
        for line in lines {
            check_line(line)?;
            self.extensions.push((*line).to_owned());
        }
        Ok(self)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn root(&self) -> Hash {
        self.root
    }

    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text: every line newline-terminated.
    pub fn body(&self) -> String {
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for line in &self.extensions {
            body.push_str(line);
            body.push('\n');
        }
        body
    }

    /// Parses a note text as a checkpoint body: at least three non-empty lines, each ending in
    /// a newline; size in decimal without leading zeros; root as canonical base64 of 32 bytes.
    pub fn parse_body(text: &str) -> Result<Checkpoint, Error> {
        if text.len() > crate::NOTE_BYTES_MAX {
            return Err(Error::NoteTooLarge { length: text.len() });
        }
        let body = text.strip_suffix('\n').ok_or(Error::CheckpointLine)?;
        let mut lines = body.split('\n');
        let mut next = || lines.next().ok_or(Error::CheckpointLine);
        let origin = next()?;
        let size_text = next()?;
        let root_text = next()?;
        let size = parse_decimal(size_text).ok_or(Error::CheckpointSize)?;
        let root = Hash::from_base64(root_text).map_err(|_| Error::CheckpointRoot)?;
        let extensions: Vec<&str> = lines.collect();
        Checkpoint::new(origin, size, root)?.with_extensions(&extensions)
    }

    /// A note over this checkpoint, signed by the log.
    pub fn sign(&self, log_key: &NoteSigner) -> Result<SignedCheckpoint, Error> {
        let mut note = Note::new(&self.body())?;
        log_key.sign(&mut note)?;
        Ok(SignedCheckpoint {
            checkpoint: self.clone(),
            note,
        })
    }
}

/// A checkpoint in a note that carries a valid signature by the log's key. Other signatures
/// (witness cosignatures, unknown keys) ride along untouched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
}

impl SignedCheckpoint {
    /// Parses a signed note, requires a valid signature by `log_key` and a body that is a
    /// checkpoint of `origin`.
    pub fn open(bytes: &[u8], origin: &str, log_key: &VerifierKey) -> Result<Self, Error> {
        let note = Note::parse(bytes)?;
        SignedCheckpoint::from_note(note, origin, log_key)
    }

    /// As [`SignedCheckpoint::open`], for a note already parsed.
    pub fn from_note(note: Note, origin: &str, log_key: &VerifierKey) -> Result<Self, Error> {
        if log_key.signature_type() != crate::SignatureType::Ed25519 {
            return Err(Error::KeyType {
                byte: log_key.signature_type().byte(),
            });
        }
        note.verify(std::slice::from_ref(log_key))?;
        let checkpoint = Checkpoint::parse_body(note.text())?;
        if checkpoint.origin != origin {
            return Err(Error::CheckpointOrigin);
        }
        Ok(SignedCheckpoint { checkpoint, note })
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    pub fn note(&self) -> &Note {
        &self.note
    }

    /// The signed note as served at `<prefix>/checkpoint`.
    pub fn to_text(&self) -> String {
        // Cannot fail: a SignedCheckpoint's note holds at least the log's signature.
        self.note
            .to_text()
            .expect("a signed checkpoint carries the log's signature")
    }

    /// Adds a witness cosignature (see [`crate::Cosigner::cosign`]).
    pub fn add_cosignature(&mut self, signature: crate::NoteSignature) -> Result<(), Error> {
        self.note.add_signature(signature)
    }

    /// The cosignatures by `witnesses` that verify; errs if a known witness's cosignature is
    /// invalid or none is present. Counting a quorum is the caller's policy.
    pub fn verify_cosignatures(
        &self,
        witnesses: &[VerifierKey],
    ) -> Result<Vec<VerifiedSignature>, Error> {
        if let Some(key) = witnesses
            .iter()
            .find(|k| k.signature_type() != crate::SignatureType::CosignatureV1)
        {
            return Err(Error::KeyType {
                byte: key.signature_type().byte(),
            });
        }
        self.note.verify(witnesses)
    }
}
