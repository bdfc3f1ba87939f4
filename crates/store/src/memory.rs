//! An in-memory store for tests and benchmarks: same contract as the durable ones, no
//! durability. Each batch is kept as one segment (its entries back to back, and the hash
//! vector the tree produced, moved in), so an append allocates per batch and never copies
//! what earlier batches stored.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use assay_log::{Hash, Tree, EMPTY_ROOT};

use crate::{
    check_count, check_range, prepare_batch, Appended, Error, LogStore, Snapshot, StoredCheckpoint,
    TreeHead, CHECKPOINTS_READ_MAX, ENTRIES_READ_MAX, HASHES_READ_MAX,
};

/// A [`LogStore`] in memory.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

/// One appended batch.
struct Segment {
    first_entry: u64,
    first_hash: u64,
    /// The batch's entries, back to back.
    data: Vec<u8>,
    /// `ends[i]` is where the segment's entry `i` ends in `data`.
    ends: Vec<usize>,
    hashes: Vec<Hash>,
}

struct Inner {
    size: u64,
    hash_count: u64,
    root: Hash,
    /// Non-empty batches in order; `first_entry` and `first_hash` increase strictly.
    segments: Vec<Segment>,
    checkpoints: BTreeMap<u64, String>,
    snapshots: BTreeMap<u64, Vec<u8>>,
    destinations: BTreeMap<u64, Vec<u8>>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            size: 0,
            hash_count: 0,
            root: EMPTY_ROOT,
            segments: Vec::new(),
            checkpoints: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            destinations: BTreeMap::new(),
        }
    }
}

impl Inner {
    /// Entry `index`, which must be below `size`.
    fn entry(&self, index: u64) -> &[u8] {
        let at = self.segments.partition_point(|s| s.first_entry <= index) - 1;
        let segment = &self.segments[at];
        // Cannot truncate: the offset is below the segment's entry count.
        let i = (index - segment.first_entry) as usize;
        let start = if i == 0 { 0 } else { segment.ends[i - 1] };
        &segment.data[start..segment.ends[i]]
    }

    /// Stored hash `index`, if stored.
    fn hash(&self, index: u64) -> Option<Hash> {
        if index >= self.hash_count {
            return None;
        }
        let at = self.segments.partition_point(|s| s.first_hash <= index) - 1;
        let segment = &self.segments[at];
        segment
            .hashes
            .get(usize::try_from(index - segment.first_hash).ok()?)
            .copied()
    }
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves `Inner` as it was before the panicking call
        // (every method mutates only after its checks), so the data is safe to keep using.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// As `SqliteStore::put_destination`.
    pub async fn put_destination(&self, member: u64, sealed: &[u8]) -> Result<(), Error> {
        self.lock().destinations.insert(member, sealed.to_vec());
        Ok(())
    }

    /// As `SqliteStore::destinations`.
    pub async fn destinations(
        &self,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, Error> {
        let limit = limit.min(crate::DESTINATIONS_READ_MAX) as usize;
        let inner = self.lock();
        let from = match after {
            Some(member) => std::ops::Bound::Excluded(member),
            None => std::ops::Bound::Unbounded,
        };
        Ok(inner
            .destinations
            .range((from, std::ops::Bound::Unbounded))
            .take(limit)
            .map(|(member, sealed)| (*member, sealed.clone()))
            .collect())
    }
}

impl LogStore for MemoryStore {
    async fn head(&self) -> Result<TreeHead, Error> {
        let inner = self.lock();
        Ok(TreeHead {
            size: inner.size,
            root: inner.root,
        })
    }

    async fn append<E: AsRef<[u8]> + Sync>(
        &self,
        tree: &mut Tree,
        entries: &[E],
    ) -> Result<Appended, Error> {
        // Hash and copy before taking the lock so readers are not held up.
        let batch = prepare_batch(tree, entries)?;
        let bytes: usize = entries.iter().map(|e| e.as_ref().len()).sum();
        let mut data = Vec::with_capacity(bytes);
        let mut ends = Vec::with_capacity(entries.len());
        for entry in entries {
            data.extend_from_slice(entry.as_ref());
            ends.push(data.len());
        }
        let root = batch.tree.root();
        let mut inner = self.lock();
        if inner.size != batch.old_size {
            return Err(Error::SizeConflict {
                expected: batch.old_size,
                stored: inner.size,
            });
        }
        debug_assert_eq!(inner.hash_count, batch.hashes.start_index);
        if !entries.is_empty() {
            inner.size += entries.len() as u64;
            inner.hash_count += batch.hashes.hashes.len() as u64;
            inner.root = root;
            inner.segments.push(Segment {
                first_entry: batch.old_size,
                first_hash: batch.hashes.start_index,
                data,
                ends,
                hashes: batch.hashes.hashes,
            });
        }
        *tree = batch.tree;
        Ok(Appended {
            first_index: batch.old_size,
            size: inner.size,
            root: inner.root,
        })
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, Error> {
        let inner = self.lock();
        check_range(start, end, inner.size, ENTRIES_READ_MAX)?;
        Ok((start..end).map(|i| inner.entry(i).to_vec()).collect())
    }

    async fn hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        check_count(indexes.len(), HASHES_READ_MAX)?;
        let inner = self.lock();
        indexes
            .iter()
            .map(|&index| {
                inner
                    .hash(index)
                    .ok_or(Error::Log(assay_log::Error::HashMissing { index }))
            })
            .collect()
    }

    async fn hash_range(&self, start: u64, end: u64) -> Result<Vec<Hash>, Error> {
        let inner = self.lock();
        check_range(start, end, inner.hash_count, HASHES_READ_MAX)?;
        (start..end)
            .map(|index| {
                inner
                    .hash(index)
                    .ok_or(Error::Log(assay_log::Error::HashMissing { index }))
            })
            .collect()
    }

    async fn put_checkpoint(&self, size: u64, note: &str) -> Result<(), Error> {
        let mut inner = self.lock();
        if size > inner.size {
            return Err(Error::BeyondTree {
                size,
                tree_size: inner.size,
            });
        }
        inner.checkpoints.insert(size, note.to_owned());
        Ok(())
    }

    async fn checkpoint(&self, size: u64) -> Result<Option<String>, Error> {
        Ok(self.lock().checkpoints.get(&size).cloned())
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, Error> {
        Ok(self
            .lock()
            .checkpoints
            .last_key_value()
            .map(|(&size, note)| StoredCheckpoint {
                size,
                note: note.clone(),
            }))
    }

    async fn checkpoints(
        &self,
        from_size: u64,
        limit: u64,
    ) -> Result<Vec<StoredCheckpoint>, Error> {
        let limit = limit.min(CHECKPOINTS_READ_MAX);
        Ok(self
            .lock()
            .checkpoints
            .range(from_size..)
            .take(limit as usize)
            .map(|(&size, note)| StoredCheckpoint {
                size,
                note: note.clone(),
            })
            .collect())
    }

    async fn put_snapshot(&self, size: u64, data: &[u8]) -> Result<(), Error> {
        let mut inner = self.lock();
        if size > inner.size {
            return Err(Error::BeyondTree {
                size,
                tree_size: inner.size,
            });
        }
        inner.snapshots.insert(size, data.to_vec());
        Ok(())
    }

    async fn snapshot(&self, size: u64) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.lock().snapshots.get(&size).cloned())
    }

    async fn latest_snapshot(&self) -> Result<Option<Snapshot>, Error> {
        Ok(self
            .lock()
            .snapshots
            .last_key_value()
            .map(|(&size, data)| Snapshot {
                size,
                data: data.clone(),
            }))
    }
}
