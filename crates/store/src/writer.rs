//! The log's writer and readers: appends, signed checkpoints, proofs and tiles, with every hash
//! decided by `assay_log` and read from a [`LogStore`].

use assay_log::{
    consistency_indexes, encode_entry_bundle, inclusion_indexes, prove_consistency,
    prove_inclusion, root_at, root_indexes, Checkpoint, ConsistencyProof, Hash, InclusionProof,
    NoteSigner, SignedCheckpoint, TileId, TileKind, Tree, VerifierKey,
};

use crate::{hash_map, Appended, Error, LogStore};

/// Checks `tree_size` is at most the stored size.
async fn check_size<S: LogStore>(store: &S, tree_size: u64) -> Result<(), Error> {
    let stored = store.tree_size().await?;
    if tree_size > stored {
        return Err(Error::BeyondTree {
            size: tree_size,
            tree_size: stored,
        });
    }
    Ok(())
}

/// Root of the tree of `tree_size` leaves (at most the stored size).
pub async fn read_root_at<S: LogStore>(store: &S, tree_size: u64) -> Result<Hash, Error> {
    check_size(store, tree_size).await?;
    let indexes = root_indexes(tree_size)?;
    let reader = hash_map(&indexes, store.hashes(&indexes).await?);
    Ok(root_at(tree_size, &reader)?)
}

/// Inclusion proof for leaf `leaf_index` in the tree of `tree_size` leaves.
pub async fn read_inclusion_proof<S: LogStore>(
    store: &S,
    leaf_index: u64,
    tree_size: u64,
) -> Result<InclusionProof, Error> {
    check_size(store, tree_size).await?;
    let indexes = inclusion_indexes(leaf_index, tree_size)?;
    let reader = hash_map(&indexes, store.hashes(&indexes).await?);
    Ok(prove_inclusion(leaf_index, tree_size, &reader)?)
}

/// Consistency proof from the tree of `old_size` leaves to the tree of `new_size` leaves.
pub async fn read_consistency_proof<S: LogStore>(
    store: &S,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, Error> {
    check_size(store, new_size).await?;
    let indexes = consistency_indexes(old_size, new_size)?;
    let reader = hash_map(&indexes, store.hashes(&indexes).await?);
    Ok(prove_consistency(old_size, new_size, &reader)?)
}

/// A tile's bytes as C2SP tlog-tiles serves them at `tree_size`: a hash tile (full, or the
/// partial one at the right edge), or an entry bundle.
pub async fn read_tile<S: LogStore>(
    store: &S,
    tile: &TileId,
    tree_size: u64,
) -> Result<Vec<u8>, Error> {
    check_size(store, tree_size).await?;
    if !tile.is_served_at(tree_size) {
        return Err(Error::TileNotServed {
            path: tile.path(),
            size: tree_size,
        });
    }
    match tile.kind() {
        TileKind::Hashes { .. } => {
            let indexes = tile.stored_hash_indexes()?;
            let reader = hash_map(&indexes, store.hashes(&indexes).await?);
            Ok(assay_log::read_tile(tile, &reader)?)
        }
        TileKind::Entries => {
            let (start, end) = tile.leaf_range()?;
            let entries = store.entries(start, end).await?;
            Ok(encode_entry_bundle(entries.iter().map(Vec::as_slice))?)
        }
    }
}

/// The one writer of a log: holds the tree's frontier in memory, appends batches durably
/// through the store, signs checkpoints with the log's key, and serves proofs and tiles.
///
/// Invariant: `tree` equals the stored tree (the store refuses an append from a stale tree).
pub struct LogWriter<S> {
    store: S,
    tree: Tree,
    origin: String,
    signer: NoteSigner,
}

impl<S: LogStore> LogWriter<S> {
    /// Resumes the log in `store`: rebuilds the frontier from stored hashes (checked against
    /// the stored root), and checks the latest stored checkpoint is this log's, signed by
    /// `signer`'s key, with the root the stored hashes give at its size.
    pub async fn open(store: S, origin: &str, signer: NoteSigner) -> Result<Self, Error> {
        let tree = store.load_tree().await?;
        let writer = LogWriter {
            store,
            tree,
            origin: origin.to_owned(),
            signer,
        };
        if let Some(latest) = writer.store.latest_checkpoint().await? {
            let opened = writer.open_checkpoint(latest.size, &latest.note).await?;
            debug_assert_eq!(opened.checkpoint().size(), latest.size);
        }
        Ok(writer)
    }

    /// Opens a stored note for `size` with this log's origin and key and checks its root.
    async fn open_checkpoint(&self, size: u64, note: &str) -> Result<SignedCheckpoint, Error> {
        let opened =
            SignedCheckpoint::open(note.as_bytes(), &self.origin, self.signer.verifier_key())?;
        let checkpoint = opened.checkpoint();
        if checkpoint.size() != size || checkpoint.root() != read_root_at(&self.store, size).await?
        {
            return Err(Error::CheckpointMismatch {
                origin: self.origin.clone(),
                size,
            });
        }
        Ok(opened)
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn into_store(self) -> S {
        self.store
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn verifier_key(&self) -> &VerifierKey {
        self.signer.verifier_key()
    }

    /// Appends a batch in one durable transaction; returns once it is committed.
    pub async fn append<E: AsRef<[u8]> + Sync>(
        &mut self,
        entries: &[E],
    ) -> Result<Appended, Error> {
        let appended = self.store.append(&mut self.tree, entries).await?;
        debug_assert_eq!(appended.size, self.tree.size());
        Ok(appended)
    }

    /// Signs a checkpoint of the current size and root and stores it. If one is already
    /// stored for this size (perhaps with witness cosignatures) it is returned unchanged.
    pub async fn sign_checkpoint(&self) -> Result<SignedCheckpoint, Error> {
        let size = self.tree.size();
        if let Some(note) = self.store.checkpoint(size).await? {
            return self.open_checkpoint(size, &note).await;
        }
        let signed = Checkpoint::new(&self.origin, size, self.tree.root())?.sign(&self.signer)?;
        self.store.put_checkpoint(size, &signed.to_text()).await?;
        Ok(signed)
    }

    /// The latest stored checkpoint, verified against this log's key, origin and hashes.
    pub async fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, Error> {
        match self.store.latest_checkpoint().await? {
            Some(latest) => Ok(Some(self.open_checkpoint(latest.size, &latest.note).await?)),
            None => Ok(None),
        }
    }

    /// Inclusion proof for leaf `leaf_index` at `tree_size` (at most the current size).
    pub async fn prove_inclusion(
        &self,
        leaf_index: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, Error> {
        read_inclusion_proof(&self.store, leaf_index, tree_size).await
    }

    /// Consistency proof from `old_size` to `new_size` (at most the current size).
    pub async fn prove_consistency(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, Error> {
        read_consistency_proof(&self.store, old_size, new_size).await
    }

    /// Root at an earlier (or the current) size.
    pub async fn root_at(&self, tree_size: u64) -> Result<Hash, Error> {
        if tree_size == self.tree.size() {
            return Ok(self.tree.root());
        }
        read_root_at(&self.store, tree_size).await
    }

    /// A tile or entry bundle as served at the current size.
    pub async fn tile(&self, tile: &TileId) -> Result<Vec<u8>, Error> {
        read_tile(&self.store, tile, self.tree.size()).await
    }
}
