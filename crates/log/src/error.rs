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
        }
    }
}
