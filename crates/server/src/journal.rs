//! Where accepted entries go before a request is answered: durably, in batches (group commit).

use std::future::Future;

/// The sequencer's durable log. `append` returns only when the whole batch is durable; an error
/// means none of it may be assumed written.
pub trait Journal: Send + 'static {
    fn append(&mut self, entries: &[Vec<u8>]) -> impl Future<Output = anyhow::Result<u64>> + Send;

    /// Entries already in the journal, oldest first, for replay at start-up.
    fn entries(&self) -> impl Future<Output = anyhow::Result<Vec<Vec<u8>>>> + Send;
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

    async fn entries(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        Ok(self.entries.clone())
    }
}
