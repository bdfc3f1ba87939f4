//! An in-memory store for tests and benchmarks: same contract as the durable ones, no
//! durability. Entries live in one byte buffer so an append allocates per batch, not per entry.

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

struct Inner {
    root: Hash,
    /// Every entry's bytes, back to back.
    data: Vec<u8>,
    /// `ends[i]` is where entry `i` ends in `data`.
    ends: Vec<usize>,
    hashes: Vec<Hash>,
    checkpoints: BTreeMap<u64, String>,
    snapshots: BTreeMap<u64, Vec<u8>>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            root: EMPTY_ROOT,
            data: Vec::new(),
            ends: Vec::new(),
            hashes: Vec::new(),
            checkpoints: BTreeMap::new(),
            snapshots: BTreeMap::new(),
        }
    }
}

impl Inner {
    fn size(&self) -> u64 {
        self.ends.len() as u64
    }

    fn entry(&self, index: usize) -> &[u8] {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.data[start..self.ends[index]]
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
}

impl LogStore for MemoryStore {
    async fn head(&self) -> Result<TreeHead, Error> {
        let inner = self.lock();
        Ok(TreeHead {
            size: inner.size(),
            root: inner.root,
        })
    }

    async fn append<E: AsRef<[u8]> + Sync>(
        &self,
        tree: &mut Tree,
        entries: &[E],
    ) -> Result<Appended, Error> {
        // Hash before taking the lock so readers are not held up.
        let batch = prepare_batch(tree, entries)?;
        let mut inner = self.lock();
        if inner.size() != batch.old_size {
            return Err(Error::SizeConflict {
                expected: batch.old_size,
                stored: inner.size(),
            });
        }
        debug_assert_eq!(inner.hashes.len() as u64, batch.hashes.start_index);
        let bytes: usize = entries.iter().map(|e| e.as_ref().len()).sum();
        inner.data.reserve(bytes);
        inner.ends.reserve(entries.len());
        for entry in entries {
            inner.data.extend_from_slice(entry.as_ref());
            let end = inner.data.len();
            inner.ends.push(end);
        }
        inner.hashes.extend_from_slice(&batch.hashes.hashes);
        inner.root = batch.tree.root();
        *tree = batch.tree;
        Ok(Appended {
            first_index: batch.old_size,
            size: inner.size(),
            root: inner.root,
        })
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, Error> {
        let inner = self.lock();
        check_range(start, end, inner.size(), ENTRIES_READ_MAX)?;
        // Cannot truncate: both bounds are within `ends.len()`.
        Ok((start as usize..end as usize)
            .map(|i| inner.entry(i).to_vec())
            .collect())
    }

    async fn hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        check_count(indexes.len(), HASHES_READ_MAX)?;
        let inner = self.lock();
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| inner.hashes.get(i).copied())
                    .ok_or(Error::Log(assay_log::Error::HashMissing { index }))
            })
            .collect()
    }

    async fn hash_range(&self, start: u64, end: u64) -> Result<Vec<Hash>, Error> {
        let inner = self.lock();
        check_range(start, end, inner.hashes.len() as u64, HASHES_READ_MAX)?;
        Ok(inner.hashes[start as usize..end as usize].to_vec())
    }

    async fn put_checkpoint(&self, size: u64, note: &str) -> Result<(), Error> {
        let mut inner = self.lock();
        if size > inner.size() {
            return Err(Error::BeyondTree {
                size,
                tree_size: inner.size(),
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
        if size > inner.size() {
            return Err(Error::BeyondTree {
                size,
                tree_size: inner.size(),
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
