//! Verifiable append-only Merkle log (placeholder docs, completed below).

mod checkpoint;
mod cosignature;
mod equivocation;
mod error;
mod hash;
mod note;
mod proof;
mod stored;
mod tile;
mod tree;

pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use cosignature::{
    cosigned_message, Cosigner, COSIGNATURE_TIMESTAMP_MAX, COSIGNATURE_V1_HEADER,
};
pub use equivocation::{Equivocation, EquivocationProof};
pub use error::Error;
pub use hash::{leaf_hash, node_hash, Hash, EMPTY_ROOT, HASH_BYTES};
pub use note::{
    check_key_name, key_id, Note, NoteSignature, NoteSigner, SignatureType, VerifiedSignature,
    VerifierKey, NOTE_BYTES_MAX, NOTE_SIGNATURES_MAX,
};
pub use proof::{
    consistency_indexes, inclusion_indexes, prove_consistency, prove_inclusion, root_at,
    root_indexes, ConsistencyProof, InclusionProof, CONSISTENCY_PATH_MAX, INCLUSION_PATH_MAX,
};
pub use stored::{
    split_stored_hash_index, stored_hash_count, stored_hash_index, HashReader, TREE_LEVELS_MAX,
    TREE_SIZE_MAX,
};
pub use tile::{
    encode_entry_bundle, parse_entry_bundle, parse_entry_bundle_for, parse_hash_tile, read_tile,
    tiles_between, TileId, TileKind, TILE_HEIGHT, TILE_LEVEL_MAX, TILE_PATH_BYTES_MAX, TILE_WIDTH,
};
pub use tree::{StoredHashes, Tree, ENTRY_BYTES_MAX};
