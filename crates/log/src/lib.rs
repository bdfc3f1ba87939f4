//! Assay's verifiable append-only Merkle log (rules L1, L2, L4, X1.4), following the specs
//! exactly: RFC 6962 hashing, RFC 9162 proofs, C2SP `tlog-tiles`, `tlog-checkpoint`,
//! `signed-note` and `tlog-cosignature` (Ed25519 `cosignature/v1`).
//!
//! Invariant: this crate is pure. It never does I/O, reads no clock and draws no randomness:
//! storage is the [`HashReader`] trait the shell implements, times and key seeds are arguments.
//! Bad input is an [`Error`] with a stable [`Error::code`], never a panic.
//!
//! # Stored hashes
//!
//! Every full-subtree hash is a *stored hash*, numbered by [`stored_hash_index`]`(level, n)` as
//! Go's `golang.org/x/mod/sumdb/tlog` numbers them (level 0 = leaf hashes). Appending leaf `n`
//! writes `stored_hash_index(0, n)` and the following indexes, so every batch of appends writes
//! one contiguous run. A tree of `n` leaves has [`stored_hash_count`]`(n) = 2n − popcount(n)`.
//!
//! # What a store does with it
//!
//! | need | call |
//! |---|---|
//! | append a batch → stored hashes to write | [`Tree::append_batch`] → [`StoredHashes`] `{ start_index, hashes }` (or [`Tree::append`] into a reused buffer) |
//! | current root, cheaply | [`Tree::root`] (the tree keeps only its ≤ 63-hash frontier) |
//! | restart the writer | [`Tree::from_reader`]`(size, reader)` |
//! | root at an older size `n` | [`root_at`]`(n, reader)` |
//! | inclusion proof for leaf `i` at size `n` | [`prove_inclusion`]`(i, n, reader)` → [`InclusionProof`] |
//! | consistency proof `m → n` | [`prove_consistency`]`(m, n, reader)` → [`ConsistencyProof`] |
//! | fetch hashes yourself (async stores) | [`root_indexes`], [`inclusion_indexes`], [`consistency_indexes`], [`TileId::stored_hash_indexes`]; then pass a `HashMap<u64, Hash>` as the reader |
//! | which tiles to (re)write after growing `m → n` | [`tiles_between`]`(m, n)` (entry bundles and hash tiles) |
//! | contents of hash tile X | [`read_tile`]`(&tile, reader)` |
//! | entry bundle for tile X | [`encode_entry_bundle`]; clients parse with [`parse_entry_bundle`] |
//! | sign a checkpoint | [`Checkpoint::new`] + [`Checkpoint::sign`]`(&NoteSigner)` → [`SignedCheckpoint::to_text`] |
//!
//! Every builder reads the hashes it needs in one [`HashReader::read_hashes`] call. Each
//! operation reads at most a few hundred hashes (a proof ≤ 2 × 63 subtrees, each ≤ 63 hashes;
//! a tile ≤ 256).
//!
//! # Clients, witnesses, auditors
//!
//! * [`InclusionProof::verify`] and [`ConsistencyProof::verify`] implement RFC 9162 §2.1.3.2 and
//!   §2.1.4.2; [`InclusionProof::new`] / [`ConsistencyProof::new`] wrap proofs from the wire.
//! * [`SignedCheckpoint::open`]`(bytes, origin, log_key)` parses a signed note, requires the log's
//!   Ed25519 signature and parses the checkpoint body. [`Note`] is the general signed note:
//!   signatures by known keys must verify, unknown ones are ignored.
//! * [`VerifierKey`] parses and writes vkeys (`name+hex(key ID)+base64(type || public key)`) of
//!   type 0x01 (Ed25519) and 0x04 (cosignature/v1). [`key_id`] is
//!   SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4].
//! * [`Cosigner::cosign`]`(&checkpoint, timestamp_secs)` makes a witness cosignature;
//!   [`SignedCheckpoint::verify_cosignatures`] checks them and returns their timestamps.
//! * [`EquivocationProof::verify`] is Ok only for two checkpoints of one origin, both validly
//!   signed by the log key, same size, different roots: the poison-pill trigger X1.4.
//!
//! # Limits
//!
//! Tree sizes up to [`TREE_SIZE_MAX`] (2^62), entries up to [`ENTRY_BYTES_MAX`] (65,535 bytes,
//! the entry-bundle limit), notes up to [`NOTE_BYTES_MAX`] bytes and [`NOTE_SIGNATURES_MAX`]
//! signatures, tile height 8 ([`TILE_WIDTH`] = 256).
//!
//! # Example
//!
//! ```
//! use assay_log::{leaf_hash, prove_inclusion, Checkpoint, NoteSigner, SignedCheckpoint, Tree};
//!
//! let mut tree = Tree::new();
//! let batch = tree.append_batch([b"first".as_slice(), b"second", b"third"]).unwrap();
//! assert_eq!(batch.start_index, 0); // The store writes batch.hashes from index 0 on.
//! let stored = batch.hashes; // Here the "store" is a Vec: position = stored index.
//!
//! let proof = prove_inclusion(1, 3, &stored).unwrap();
//! proof.verify(&leaf_hash(b"second"), &tree.root()).unwrap();
//!
//! let key = NoteSigner::new("log.example/assay", &[7; 32]).unwrap();
//! let checkpoint = Checkpoint::new("log.example/assay", tree.size(), tree.root()).unwrap();
//! let text = checkpoint.sign(&key).unwrap().to_text();
//! let opened = SignedCheckpoint::open(text.as_bytes(), "log.example/assay", key.verifier_key());
//! assert_eq!(opened.unwrap().checkpoint(), &checkpoint);
//! ```

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
