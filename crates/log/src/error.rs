//! The crate's one error type. Every refusal of bad input is a variant; none is a panic.

/// Why an operation of this crate refused. `code()` gives a stable snake_case name for logs,
/// API responses and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    // Hashes and stored hashes.
    #[error("a hash is 32 bytes, got {length}")]
    HashLength { length: usize },
    #[error("a hash must be 44 characters of canonical standard base64")]
    HashBase64,
    #[error("stored hash index or coordinates lie outside any tree this crate handles")]
    StoredIndexRange,
    #[error("tree size {size} exceeds TREE_SIZE_MAX")]
    TreeSizeRange { size: u64 },
    #[error("stored hash {index} is not available")]
    HashMissing { index: u64 },
    #[error("hash reader returned {got} hashes for {asked} indexes")]
    HashReaderCount { asked: usize, got: usize },
    #[error("entry of {length} bytes exceeds the 65535-byte limit of entry bundles")]
    EntryTooLarge { length: usize },

    // Proofs.
    #[error("leaf index {leaf_index} is not below tree size {tree_size}")]
    LeafIndexRange { leaf_index: u64, tree_size: u64 },
    #[error("consistency needs old size {old_size} <= new size {new_size}")]
    ConsistencySizes { old_size: u64, new_size: u64 },
    #[error("proof of {length} hashes is longer than any valid proof")]
    ProofTooLong { length: usize },
    #[error("proof has the wrong number of hashes for its sizes")]
    ProofLength,
    #[error("proof does not lead to the expected root")]
    ProofRootMismatch,

    // Tiles and entry bundles.
    #[error("tile level {level} exceeds 63")]
    TileLevel { level: u8 },
    #[error("tile width {width} is outside 1..=256")]
    TileWidth { width: u16 },
    #[error("not a canonical tile path")]
    TilePath,
    #[error("operation does not apply to this kind of tile")]
    TileKindMismatch,
    #[error("hash tile data is {got} bytes, its width needs {expected}")]
    TileDataLength { expected: usize, got: usize },
    #[error("entry bundle ends inside an entry")]
    BundleTruncated,
    #[error("entry bundle has {count} entries, not what its tile allows (1..=256, its width)")]
    BundleEntryCount { count: usize },

    // Signed notes and keys.
    #[error("note of {length} bytes exceeds NOTE_BYTES_MAX")]
    NoteTooLarge { length: usize },
    #[error("note is not valid UTF-8")]
    NoteNotUtf8,
    #[error("note holds an ASCII control character other than newline")]
    NoteControlCharacter,
    #[error("note text must end with a newline")]
    NoteTextEnd,
    #[error("note has no blank line followed by signature lines")]
    NoteNoSignatures,
    #[error("note's signature block does not end with a newline")]
    NoteUnterminated,
    #[error("note signature line is not '\u{2014} <name> <base64 key ID and signature>'")]
    NoteSignatureLine,
    #[error("note has more than NOTE_SIGNATURES_MAX signatures")]
    NoteTooManySignatures,
    #[error("no signature by a known key")]
    NoteUnverified,
    #[error("signature by known key {name} does not verify")]
    SignatureInvalid { name: String },
    #[error("key name is empty or holds a space or '+'")]
    KeyName,
    #[error("signature type 0x{byte:02x} is not supported here")]
    KeyType { byte: u8 },
    #[error("public key is not a valid Ed25519 point")]
    KeyPoint,
    #[error("verifier key is not name+<8 hex digits>+<base64 of type byte and 32-byte key>")]
    VerifierKeyFormat,
    #[error("verifier key's ID does not match its name and public key")]
    VerifierKeyId,
    #[error("two different known keys share name {name} and key ID")]
    VerifierAmbiguous { name: String },

    // Checkpoints, cosignatures, equivocation.
    #[error("checkpoint needs at least three non-empty newline-terminated lines")]
    CheckpointLine,
    #[error("checkpoint size is not decimal without leading zeros")]
    CheckpointSize,
    #[error("checkpoint root is not base64 of a 32-byte hash")]
    CheckpointRoot,
    #[error("checkpoint origin is not the expected one")]
    CheckpointOrigin,
    #[error("cosignature timestamp exceeds 2^63 - 1")]
    CosignatureTimestamp,
    #[error("checkpoints have different sizes ({first} and {second}): not an equivocation")]
    EquivocationSizes { first: u64, second: u64 },
    #[error("checkpoints have the same root: not an equivocation")]
    EquivocationSameRoot,
}

impl Error {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::HashLength { .. } => "hash_length",
            Error::HashBase64 => "hash_base64",
            Error::StoredIndexRange => "stored_index_range",
            Error::TreeSizeRange { .. } => "tree_size_range",
            Error::HashMissing { .. } => "hash_missing",
            Error::HashReaderCount { .. } => "hash_reader_count",
            Error::EntryTooLarge { .. } => "entry_too_large",
            Error::LeafIndexRange { .. } => "leaf_index_range",
            Error::ConsistencySizes { .. } => "consistency_sizes",
            Error::ProofTooLong { .. } => "proof_too_long",
            Error::ProofLength => "proof_length",
            Error::ProofRootMismatch => "proof_root_mismatch",
            Error::TileLevel { .. } => "tile_level",
            Error::TileWidth { .. } => "tile_width",
            Error::TilePath => "tile_path",
            Error::TileKindMismatch => "tile_kind_mismatch",
            Error::TileDataLength { .. } => "tile_data_length",
            Error::BundleTruncated => "bundle_truncated",
            Error::BundleEntryCount { .. } => "bundle_entry_count",
            Error::NoteTooLarge { .. } => "note_too_large",
            Error::NoteNotUtf8 => "note_not_utf8",
            Error::NoteControlCharacter => "note_control_character",
            Error::NoteTextEnd => "note_text_end",
            Error::NoteNoSignatures => "note_no_signatures",
            Error::NoteUnterminated => "note_unterminated",
            Error::NoteSignatureLine => "note_signature_line",
            Error::NoteTooManySignatures => "note_too_many_signatures",
            Error::NoteUnverified => "note_unverified",
            Error::SignatureInvalid { .. } => "signature_invalid",
            Error::KeyName => "key_name",
            Error::KeyType { .. } => "key_type",
            Error::KeyPoint => "key_point",
            Error::VerifierKeyFormat => "verifier_key_format",
            Error::VerifierKeyId => "verifier_key_id",
            Error::VerifierAmbiguous { .. } => "verifier_ambiguous",
            Error::CheckpointLine => "checkpoint_line",
            Error::CheckpointSize => "checkpoint_size",
            Error::CheckpointRoot => "checkpoint_root",
            Error::CheckpointOrigin => "checkpoint_origin",
            Error::CosignatureTimestamp => "cosignature_timestamp",
            Error::EquivocationSizes { .. } => "equivocation_sizes",
            Error::EquivocationSameRoot => "equivocation_same_root",
        }
    }
}
