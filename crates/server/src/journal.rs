//! Where accepted entries go before a request is answered: durably, in batches (group commit).

use assay_log::{Hash, Tree};
use std::future::Future;

/// The sequencer's durable log. `append` returns only when the whole batch is durable; an error
/// means none of it may be assumed written.
pub trait Journal: Send + 'static {
    fn append(&mut self, entries: &[Vec<u8>]) -> impl Future<Output = anyhow::Result<u64>> + Send;

    /// Entries from index `start` on, oldest first, for replay at start-up (from a snapshot's
    /// log size on, or from 0).
    fn entries(&self, start: u64) -> impl Future<Output = anyhow::Result<Vec<Vec<u8>>>> + Send;

    /// The log's root hash over everything appended: a snapshot records it, binding itself to
    /// this log's prefix.
    fn root(&self) -> Hash;
}

/// A journal in memory, for tests that need no durability.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    pub entries: Vec<Vec<u8>>,
}

impl Journal for MemoryJournal {
    async fn append(&mut self, entries: &[Vec<u8>]) -> anyhow::Result<u64> {
        self.entries.extend(entries.iter().cloned());
        Ok(self.entries.len() as u64)
    }

    async fn entries(&self, start: u64) -> anyhow::Result<Vec<Vec<u8>>> {
        let start = usize::try_from(start)?.min(self.entries.len());
        Ok(self.entries[start..].to_vec())
    }

    fn root(&self) -> Hash {
        let mut tree = Tree::new();
        let mut stored = Vec::new();
        for entry in &self.entries {
            // Entries reached the journal through the sequencer, which bounds their size.
            tree.append(entry, &mut stored)
                .expect("a journal entry fits in the log");
        }
        tree.root()
    }
}
