//! Durable storage for Assay's Merkle log (rules L1, L2): entries, the log's stored hashes,
//! signed checkpoints and engine-state snapshots, behind one async trait, [`LogStore`], with
//! three implementations: [`SqliteStore`] (embedded default, one file), [`PgStore`]
//! (PostgreSQL by URL) and [`MemoryStore`] (tests and benchmarks). [`AnyStore`] picks one at
//! run time. [`LogWriter`] sits on top: it keeps the tree's frontier in memory, appends batches
//! durably, signs checkpoints and serves proofs and tiles from the store.
//!
//! This is the imperative shell around the pure `assay-log` crate: `assay-log` decides every
//! hash, this crate only writes and reads them. No pure crate depends on this one.
//!
//! # Durability and atomicity
//!
//! * **Group commit.** [`LogStore::append`] takes a batch and writes it in one transaction,
//!   hence one fsync (SQLite: WAL with `synchronous = FULL`; PostgreSQL: its commit).
//! * **Never torn.** Entries, stored hashes and the head (size, root) advance in that one
//!   transaction, guarded by `UPDATE head … WHERE size = <old size>`, so a crash leaves the old
//!   or the new state, and two writers cannot interleave.
//! * **Checked at open.** Opening a store compares the head with the number of entries and
//!   stored hashes and recomputes the root from the frontier's stored hashes
//!   ([`assay_log::Tree::from_reader`]); a store whose parts disagree is refused with a torn
//!   error ([`Error::is_torn`]).
//!
//! Invariant: the stored hash at index `i` is the `i`-th hash [`assay_log::Tree`] produced;
//! the head's root is the tree root over the stored entries.
//!
//! # Limits
//!
//! A batch holds at most [`BATCH_ENTRIES_MAX`] entries of at most
//! [`assay_log::ENTRY_BYTES_MAX`] bytes; one read returns at most [`ENTRIES_READ_MAX`]
//! entries, [`HASHES_READ_MAX`] hashes or [`CHECKPOINTS_READ_MAX`] checkpoints.

use std::collections::HashMap;
use std::future::Future;

use assay_log::{Hash, StoredHashes, Tree};

mod any;
mod error;
mod memory;
mod postgres;
mod sqlite;
mod writer;

pub use any::{AnyStore, StoreLocation};
pub use error::Error;
pub use memory::MemoryStore;
pub use postgres::PgStore;
pub use sqlite::{SqliteStore, SQLITE_FILE_NAME};
pub use writer::{
    read_consistency_proof, read_inclusion_proof, read_root_at, read_tile, LogWriter,
};

/// Most entries one [`LogStore::append`] writes in its transaction.
pub const BATCH_ENTRIES_MAX: usize = 65_536;
/// Most entries one [`LogStore::entries`] call returns.
pub const ENTRIES_READ_MAX: u64 = 4_096;
/// Most hashes one [`LogStore::hashes`] or [`LogStore::hash_range`] call returns.
pub const HASHES_READ_MAX: u64 = 8_192;
/// Most checkpoints one [`LogStore::checkpoints`] call returns.
pub const CHECKPOINTS_READ_MAX: u64 = 1_024;
/// Sealed payout destinations returned by one read (`destinations`).
pub const DESTINATIONS_READ_MAX: u64 = 10_000;

/// The durably stored size and root of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub root: Hash,
}

/// What an append committed: entries `first_index..size`, and the root at `size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub first_index: u64,
    pub size: u64,
    pub root: Hash,
}

/// A signed checkpoint note as stored, keyed by the tree size it commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub note: String,
}

/// Opaque bytes stored at a tree size (the server keeps engine-state snapshots there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub size: u64,
    pub data: Vec<u8>,
}

/// Storage for one Merkle log. Implementations are cheap to share (`Send + Sync`); every
/// method is one round trip or one transaction.
///
/// Appends take the writer's [`Tree`]: the store computes the batch's stored hashes with
/// [`Tree::append_batch`], writes entries, hashes and the new head in one transaction that
/// requires the stored size to equal `tree.size()`, and advances `tree` only once the commit
/// has returned. On any error `tree` is unchanged and so is the store.
pub trait LogStore: Send + Sync {
    /// The durably stored size and root.
    fn head(&self) -> impl Future<Output = Result<TreeHead, Error>> + Send;

    /// Appends `entries` (at most [`BATCH_ENTRIES_MAX`]) in one transaction. An empty batch
    /// writes nothing and reports the current head.
    fn append<E: AsRef<[u8]> + Sync>(
        &self,
        tree: &mut Tree,
        entries: &[E],
    ) -> impl Future<Output = Result<Appended, Error>> + Send;

    /// Entries `start..end`, which must lie within the tree and number at most
    /// [`ENTRIES_READ_MAX`].
    fn entries(
        &self,
        start: u64,
        end: u64,
    ) -> impl Future<Output = Result<Vec<Vec<u8>>, Error>> + Send;

    /// Stored hashes at `indexes` (at most [`HASHES_READ_MAX`]), in the same order.
    fn hashes(&self, indexes: &[u64]) -> impl Future<Output = Result<Vec<Hash>, Error>> + Send;

    /// Stored hashes `start..end` (at most [`HASHES_READ_MAX`]).
    fn hash_range(
        &self,
        start: u64,
        end: u64,
    ) -> impl Future<Output = Result<Vec<Hash>, Error>> + Send;

    /// Stores a signed checkpoint note for `size` (at most the stored size), replacing an
    /// earlier note for the same size (a cosigned copy replaces the bare one).
    fn put_checkpoint(
        &self,
        size: u64,
        note: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The checkpoint note stored for `size`, if any.
    fn checkpoint(&self, size: u64) -> impl Future<Output = Result<Option<String>, Error>> + Send;

    /// The checkpoint with the largest size, if any.
    fn latest_checkpoint(
        &self,
    ) -> impl Future<Output = Result<Option<StoredCheckpoint>, Error>> + Send;

    /// Up to `limit` (at most [`CHECKPOINTS_READ_MAX`]) checkpoints of size `>= from_size`,
    /// smallest first: page through them with `from_size = last.size + 1`.
    fn checkpoints(
        &self,
        from_size: u64,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<StoredCheckpoint>, Error>> + Send;

    /// Stores opaque bytes at `size` (at most the stored size), replacing earlier bytes there.
    fn put_snapshot(
        &self,
        size: u64,
        data: &[u8],
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The snapshot stored at `size`, if any.
    fn snapshot(&self, size: u64) -> impl Future<Output = Result<Option<Vec<u8>>, Error>> + Send;

    /// The snapshot with the largest size, if any.
    fn latest_snapshot(&self) -> impl Future<Output = Result<Option<Snapshot>, Error>> + Send;

    /// The stored tree size.
    fn tree_size(&self) -> impl Future<Output = Result<u64, Error>> + Send {
        async { Ok(self.head().await?.size) }
    }

    /// The tree's frontier rebuilt from stored hashes, checked against the stored root:
    /// what a writer resumes from.
    fn load_tree(&self) -> impl Future<Output = Result<Tree, Error>> + Send {
        async {
            let head = self.head().await?;
            let indexes = assay_log::root_indexes(head.size)?;
            let reader = hash_map(&indexes, self.hashes(&indexes).await?);
            let tree = Tree::from_reader(head.size, &reader).map_err(|error| match error {
                assay_log::Error::HashMissing { index } => Error::RowMissing {
                    what: "hash",
                    index,
                },
                other => Error::Log(other),
            })?;
            if tree.root() != head.root {
                return Err(Error::TornRoot { size: head.size });
            }
            Ok(tree)
        }
    }
}

/// A shared reference is a store too, so a [`LogWriter`] or a reader can borrow one.
impl<S: LogStore + ?Sized> LogStore for &S {
    async fn head(&self) -> Result<TreeHead, Error> {
        (**self).head().await
    }

    async fn append<E: AsRef<[u8]> + Sync>(
        &self,
        tree: &mut Tree,
        entries: &[E],
    ) -> Result<Appended, Error> {
        (**self).append(tree, entries).await
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, Error> {
        (**self).entries(start, end).await
    }

    async fn hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        (**self).hashes(indexes).await
    }

    async fn hash_range(&self, start: u64, end: u64) -> Result<Vec<Hash>, Error> {
        (**self).hash_range(start, end).await
    }

    async fn put_checkpoint(&self, size: u64, note: &str) -> Result<(), Error> {
        (**self).put_checkpoint(size, note).await
    }

    async fn checkpoint(&self, size: u64) -> Result<Option<String>, Error> {
        (**self).checkpoint(size).await
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, Error> {
        (**self).latest_checkpoint().await
    }

    async fn checkpoints(
        &self,
        from_size: u64,
        limit: u64,
    ) -> Result<Vec<StoredCheckpoint>, Error> {
        (**self).checkpoints(from_size, limit).await
    }

    async fn put_snapshot(&self, size: u64, data: &[u8]) -> Result<(), Error> {
        (**self).put_snapshot(size, data).await
    }

    async fn snapshot(&self, size: u64) -> Result<Option<Vec<u8>>, Error> {
        (**self).snapshot(size).await
    }

    async fn latest_snapshot(&self) -> Result<Option<Snapshot>, Error> {
        (**self).latest_snapshot().await
    }
}

/// Pairs indexes with the hashes read for them, as a reader for `assay_log`'s builders.
pub(crate) fn hash_map(indexes: &[u64], hashes: Vec<Hash>) -> HashMap<u64, Hash> {
    debug_assert_eq!(indexes.len(), hashes.len());
    indexes.iter().copied().zip(hashes).collect()
}

/// A batch ready to write: the tree after it and the hashes it stores.
pub(crate) struct PreparedBatch {
    pub old_size: u64,
    pub tree: Tree,
    pub hashes: StoredHashes,
}

/// Computes a batch's stored hashes on a copy of `tree`; the caller swaps the copy in once the
/// batch is durable.
///
/// Hashing stays on the calling thread. Handing leaf hashes to a second thread (whole halves,
/// or a two-stage pipeline) was tried and measured on the 2-core build machine: with other
/// builds running, it appended at about half the rate of one thread (`assay bench log
/// --store memory`: ratio to raw SHA-256 0.20–0.23 against 0.35–0.41), because the threads
/// waited on each other's time slices.
pub(crate) fn prepare_batch<E: AsRef<[u8]>>(
    tree: &Tree,
    entries: &[E],
) -> Result<PreparedBatch, Error> {
    if entries.len() > BATCH_ENTRIES_MAX {
        return Err(Error::BatchTooLarge {
            count: entries.len(),
            max: BATCH_ENTRIES_MAX,
        });
    }
    let mut next = tree.clone();
    let hashes = next.append_batch(entries.iter().map(AsRef::as_ref))?;
    debug_assert_eq!(
        hashes.start_index + hashes.hashes.len() as u64,
        assay_log::stored_hash_count(next.size())?
    );
    Ok(PreparedBatch {
        old_size: tree.size(),
        tree: next,
        hashes,
    })
}

/// Checks a read range against the tree size and a per-call limit.
pub(crate) fn check_range(start: u64, end: u64, size: u64, max: u64) -> Result<(), Error> {
    if start > end || end > size {
        return Err(Error::RangeOutsideTree { start, end, size });
    }
    if end - start > max {
        return Err(Error::ReadTooLarge {
            count: end - start,
            max,
        });
    }
    Ok(())
}

/// Checks a read count against a per-call limit.
pub(crate) fn check_count(count: usize, max: u64) -> Result<(), Error> {
    // Cannot truncate: usize is at most 64 bits on every supported target.
    if count as u64 > max {
        return Err(Error::ReadTooLarge {
            count: count as u64,
            max,
        });
    }
    Ok(())
}

/// The SQL both backends run to open a store: the head's size and the stored entries and
/// hashes, read by one statement so they come from one snapshot of the database. Read
/// separately, a writer appending between the reads (a server running while an auditor opens
/// its store) would look like a torn store. `max(idx) + 1` is the row count, found through the
/// primary key: appends write contiguous indexes from 0.
pub(crate) const OPEN_COUNTS_SQL: &str = "SELECT (SELECT size FROM log_head WHERE id = 0), \
     (SELECT coalesce(max(idx) + 1, 0) FROM log_entries), \
     (SELECT coalesce(max(idx) + 1, 0) FROM log_hashes)";

/// What [`OPEN_COUNTS_SQL`] read: the head's size, the entries and the stored hashes.
pub(crate) struct OpenCounts {
    pub head_size: u64,
    pub entries_found: u64,
    pub hashes_found: u64,
}

impl OpenCounts {
    pub(crate) fn from_row(
        (head_size, entries, hashes): (i64, i64, i64),
    ) -> Result<OpenCounts, Error> {
        Ok(OpenCounts {
            head_size: from_i64("head", head_size)?,
            entries_found: from_i64("entry", entries)?,
            hashes_found: from_i64("hash", hashes)?,
        })
    }
}

/// Checks the parts of a freshly opened store agree: as many entries and stored hashes as the
/// head's size needs, and a frontier whose root is the head's.
pub(crate) async fn check_not_torn<S: LogStore>(
    store: &S,
    counts: OpenCounts,
) -> Result<Tree, Error> {
    let size = counts.head_size;
    if counts.entries_found != size {
        return Err(Error::TornEntries {
            size,
            found: counts.entries_found,
        });
    }
    let expected = assay_log::stored_hash_count(size)?;
    if counts.hashes_found != expected {
        return Err(Error::TornHashes {
            size,
            expected,
            found: counts.hashes_found,
        });
    }
    store.load_tree().await
}

/// Converts an index or size for a signed 64-bit database column. Every index the log crate
/// produces is below 2^63, so this fails only on corrupt input.
pub(crate) fn to_i64(value: u64) -> Result<i64, Error> {
    i64::try_from(value).map_err(|_| Error::Log(assay_log::Error::StoredIndexRange))
}

/// Converts a value read from a signed 64-bit column back to an index or size.
pub(crate) fn from_i64(what: &'static str, value: i64) -> Result<u64, Error> {
    u64::try_from(value).map_err(|_| Error::NegativeValue { what, value })
}

/// Reads a 32-byte hash column.
pub(crate) fn hash_from_row(index: u64, bytes: &[u8]) -> Result<Hash, Error> {
    Hash::from_slice(bytes).map_err(|_| Error::RowMalformed {
        what: "hash",
        index,
    })
}
