//! C2SP signed-note: text signed by one or more named keys, and the Ed25519 keys that sign
//! and verify it (vkey strings `name+hex(key ID)+base64(type || public key)`).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::Error;

/// Largest note this crate parses (Go's `note` and azul's `signed_note` use the same bound).
pub const NOTE_BYTES_MAX: usize = 1_000_000;
/// Most signature lines a note may carry; the spec asks verifiers to accept at least 16.
pub const NOTE_SIGNATURES_MAX: usize = 100;

const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// Signature type identifier bytes assigned by the signed-note spec that this crate handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureType {
    /// 0x01: Ed25519 over the note text (log signatures).
    Ed25519,
    /// 0x04: timestamped Ed25519 witness cosignature, c2sp.org/tlog-cosignature.
    CosignatureV1,
}

impl SignatureType {
    pub fn byte(self) -> u8 {
        match self {
            SignatureType::Ed25519 => 0x01,
            SignatureType::CosignatureV1 => 0x04,
        }
    }

    fn from_byte(byte: u8) -> Result<SignatureType, Error> {
        match byte {
            0x01 => Ok(SignatureType::Ed25519),
            0x04 => Ok(SignatureType::CosignatureV1),
            other => Err(Error::KeyType { byte: other }),
        }
    }
}

/// Key ID = first 4 bytes, big-endian, of SHA-256(name || 0x0A || type || public key).
pub fn key_id(name: &str, signature_type: SignatureType, public_key: &[u8; 32]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', signature_type.byte()]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Key names are non-empty and hold no Unicode space and no `+`.
pub fn check_key_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(Error::KeyName);
    }
    Ok(())
}

/// One signature line: key name, key ID and the signature bytes after the key ID.
///
/// Invariant: the name passes `check_key_name` and the signature is non-empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    name: String,
    key_id: u32,
    signature: Vec<u8>,
}

impl NoteSignature {
    pub fn new(name: &str, key_id: u32, signature: Vec<u8>) -> Result<NoteSignature, Error> {
        check_key_name(name)?;
        if signature.is_empty() {
            return Err(Error::NoteSignatureLine);
        }
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id,
            signature,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature bytes, without the 4-byte key ID.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Parses `— <name> <base64(key ID || signature)>` (without the newline).
    fn parse_line(line: &str) -> Result<NoteSignature, Error> {
        let rest = line
            .strip_prefix(SIGNATURE_LINE_PREFIX)
            .ok_or(Error::NoteSignatureLine)?;
        let (name, encoded) = rest.split_once(' ').ok_or(Error::NoteSignatureLine)?;
        check_key_name(name)?;
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| Error::NoteSignatureLine)?;
        if bytes.len() < 5 {
            return Err(Error::NoteSignatureLine);
        }
        let (id, signature) = bytes.split_at(4);
        let key_id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
        NoteSignature::new(name, key_id, signature.to_vec())
    }

    fn push_line(&self, out: &mut String) {
        let mut bytes = Vec::with_capacity(4 + self.signature.len());
        bytes.extend_from_slice(&self.key_id.to_be_bytes());
        bytes.extend_from_slice(&self.signature);
        out.push_str(SIGNATURE_LINE_PREFIX);
        out.push_str(&self.name);
        out.push(' ');
        out.push_str(&BASE64.encode(bytes));
        out.push('\n');
    }
}

/// A signed note: text ending in a newline, and its signatures.
///
/// Invariant: the text is at most `NOTE_BYTES_MAX` bytes, ends with `\n`, has no ASCII control
/// character but `\n`; there are at most `NOTE_SIGNATURES_MAX` signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

fn check_text(text: &str) -> Result<(), Error> {
    if text.len() > NOTE_BYTES_MAX {
        return Err(Error::NoteTooLarge { length: text.len() });
    }
    if text.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(Error::NoteControlCharacter);
    }
    Ok(())
}

impl Note {
    /// An unsigned note over `text`.
    pub fn new(text: &str) -> Result<Note, Error> {
        check_text(text)?;
        if !text.ends_with('\n') {
            return Err(Error::NoteTextEnd);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note. Refuses, without panicking, anything that is not one: oversize,
    /// invalid UTF-8, control characters, no blank line before the signatures, no signature,
    /// a signature block not ending in a newline, or a malformed signature line.
    pub fn parse(bytes: &[u8]) -> Result<Note, Error> {
        if bytes.len() > NOTE_BYTES_MAX {
            return Err(Error::NoteTooLarge {
                length: bytes.len(),
            });
        }
        let message = std::str::from_utf8(bytes).map_err(|_| Error::NoteNotUtf8)?;
        check_text(message)?;
        // The last blank line separates the text (which keeps its final newline) from the
        // signature block.
        let split = message.rfind("\n\n").ok_or(Error::NoteNoSignatures)?;
        let (text, block) = (&message[..=split], &message[split + 2..]);
        if block.is_empty() {
            return Err(Error::NoteNoSignatures);
        }
        let block = block.strip_suffix('\n').ok_or(Error::NoteUnterminated)?;
        let mut signatures = Vec::new();
        for line in block.split('\n') {
            if signatures.len() == NOTE_SIGNATURES_MAX {
                return Err(Error::NoteTooManySignatures);
            }
            signatures.push(NoteSignature::parse_line(line)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature, replacing any earlier one by the same key (name and key ID).
    pub fn add_signature(&mut self, signature: NoteSignature) -> Result<(), Error> {
        self.signatures
            .retain(|s| !(s.name == signature.name && s.key_id == signature.key_id));
        if self.signatures.len() == NOTE_SIGNATURES_MAX {
            return Err(Error::NoteTooManySignatures);
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// The note as sent: text, blank line, signature lines. Refuses an unsigned note.
    pub fn to_text(&self) -> Result<String, Error> {
        if self.signatures.is_empty() {
            return Err(Error::NoteNoSignatures);
        }
        let mut out = String::with_capacity(self.text.len() + 1 + 128 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for signature in &self.signatures {
            signature.push_line(&mut out);
        }
        Ok(out)
    }

    /// Checks the signatures by `known` keys, following the spec: a signature whose name and
    /// key ID match a known key must verify, or the whole note is refused; unknown signatures
    /// are ignored; at least one known signature must verify. Returns the verified ones.
    pub fn verify(&self, known: &[VerifierKey]) -> Result<Vec<VerifiedSignature>, Error> {
        for (i, a) in known.iter().enumerate() {
            if known[..i]
                .iter()
                .any(|b| a.name == b.name && a.key_id == b.key_id && a != b)
            {
                return Err(Error::VerifierAmbiguous {
                    name: a.name.clone(),
                });
            }
        }
        let mut verified: Vec<VerifiedSignature> = Vec::new();
        for signature in &self.signatures {
            let Some(key) = known
                .iter()
                .find(|k| k.name == signature.name && k.key_id == signature.key_id)
            else {
                continue;
            };
            if verified
                .iter()
                .any(|v| v.name == key.name && v.key_id == key.key_id)
            {
                continue;
            }
            let timestamp = key.check(self.text.as_bytes(), &signature.signature)?;
            verified.push(VerifiedSignature {
                name: key.name.clone(),
                key_id: key.key_id,
                signature_type: key.signature_type,
                timestamp,
            });
        }
        if verified.is_empty() {
            return Err(Error::NoteUnverified);
        }
        Ok(verified)
    }
}

/// A signature `Note::verify` accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub name: String,
    pub key_id: u32,
    pub signature_type: SignatureType,
    /// Seconds since the Unix epoch, for cosignatures.
    pub timestamp: Option<u64>,
}

/// A public key that verifies note signatures of one type, with its name and key ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    signature_type: SignatureType,
    key: VerifyingKey,
}

impl VerifierKey {
    pub fn new(
        name: &str,
        signature_type: SignatureType,
        public_key: &[u8; 32],
    ) -> Result<VerifierKey, Error> {
        check_key_name(name)?;
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| Error::KeyPoint)?;
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: key_id(name, signature_type, public_key),
            signature_type,
            key,
        })
    }

    /// Parses a vkey: `<name>+<8 hex digits key ID>+<base64(type byte || 32-byte key)>`.
    pub fn parse(vkey: &str) -> Result<VerifierKey, Error> {
        if vkey.len() > 512 {
            return Err(Error::VerifierKeyFormat);
        }
        let (name, rest) = vkey.split_once('+').ok_or(Error::VerifierKeyFormat)?;
        let (id_hex, encoded) = rest.split_once('+').ok_or(Error::VerifierKeyFormat)?;
        // Lowercase only, as every implementation writes it, so a key has one spelling.
        let is_lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if id_hex.len() != 8 || !id_hex.bytes().all(is_lower_hex) {
            return Err(Error::VerifierKeyFormat);
        }
        let id = u32::from_str_radix(id_hex, 16).map_err(|_| Error::VerifierKeyFormat)?;
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| Error::VerifierKeyFormat)?;
        let (&type_byte, public_key) = bytes.split_first().ok_or(Error::VerifierKeyFormat)?;
        let signature_type = SignatureType::from_byte(type_byte)?;
        let public_key: &[u8; 32] = public_key
            .try_into()
            .map_err(|_| Error::VerifierKeyFormat)?;
        let key = VerifierKey::new(name, signature_type, public_key)?;
        if key.key_id != id {
            return Err(Error::VerifierKeyId);
        }
        Ok(key)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    pub fn signature_type(&self) -> SignatureType {
        self.signature_type
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The vkey string.
    pub fn to_vkey(&self) -> String {
        let mut bytes = Vec::with_capacity(33);
        bytes.push(self.signature_type.byte());
        bytes.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, BASE64.encode(bytes))
    }

    /// Verifies `signature` (without key ID) over note `text`; for a cosignature, returns its
    /// timestamp.
    fn check(&self, text: &[u8], signature: &[u8]) -> Result<Option<u64>, Error> {
        let invalid = || Error::SignatureInvalid {
            name: self.name.clone(),
        };
        match self.signature_type {
            SignatureType::Ed25519 => {
                let signature =
                    ed25519_dalek::Signature::from_slice(signature).map_err(|_| invalid())?;
                self.key
                    .verify_strict(text, &signature)
                    .map_err(|_| invalid())?;
                Ok(None)
            }
            SignatureType::CosignatureV1 => {
                let (timestamp, signature) =
                    crate::cosignature::split_timestamped(signature).ok_or_else(invalid)?;
                let message = crate::cosignature::cosigned_message(timestamp, text);
                self.key
                    .verify_strict(&message, &signature)
                    .map_err(|_| invalid())?;
                Ok(Some(timestamp))
            }
        }
    }
}

/// An Ed25519 private key with its name, for one signature type. The seed comes from the
/// caller (the shell reads it from its key store); this crate never draws randomness.
#[derive(Clone)]
pub(crate) struct NamedSigningKey {
    pub(crate) verifier: VerifierKey,
    pub(crate) key: SigningKey,
}

impl NamedSigningKey {
    pub(crate) fn new(
        name: &str,
        signature_type: SignatureType,
        seed: &[u8; 32],
    ) -> Result<Self, Error> {
        let key = SigningKey::from_bytes(seed);
        let verifier = VerifierKey::new(name, signature_type, key.verifying_key().as_bytes())?;
        Ok(NamedSigningKey { verifier, key })
    }

    pub(crate) fn signature(&self, signature: Vec<u8>) -> NoteSignature {
        // Cannot fail: the name was checked when the verifier key was made, and an Ed25519
        // signature is 64 bytes.
        NoteSignature {
            name: self.verifier.name.clone(),
            key_id: self.verifier.key_id,
            signature,
        }
    }
}

/// A log's note-signing key (signature type 0x01).
#[derive(Clone)]
pub struct NoteSigner(NamedSigningKey);

impl NoteSigner {
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<NoteSigner, Error> {
        NamedSigningKey::new(name, SignatureType::Ed25519, seed).map(NoteSigner)
    }

    pub fn verifier_key(&self) -> &VerifierKey {
        &self.0.verifier
    }

    /// Signs the note's text and adds the signature (replacing an earlier one by this key).
    pub fn sign(&self, note: &mut Note) -> Result<(), Error> {
        let signature = self.0.key.sign(note.text.as_bytes()).to_bytes().to_vec();
        note.add_signature(self.0.signature(signature))
    }
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        write!(f, "NoteSigner({})", self.0.verifier.to_vkey())
    }
}
