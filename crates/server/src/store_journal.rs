//! The durable journal: the store's `LogWriter` (SQLite or PostgreSQL), one transaction per
//! batch, and a signed checkpoint at most once per `CHECKPOINT_INTERVAL` of real time (and at
//! shutdown), so checkpoint signing never dominates the write path.

use crate::journal::Journal;
use assay_store::{AnyStore, LogStore, LogWriter, ENTRIES_READ_MAX};
use std::time::{Duration, Instant};

/// Longest a new entry waits to be covered by a signed checkpoint.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

pub struct StoreJournal {
    writer: LogWriter<AnyStore>,
    last_checkpoint: Option<Instant>,
}

impl StoreJournal {
    pub fn new(writer: LogWriter<AnyStore>) -> StoreJournal {
        StoreJournal {
            writer,
            last_checkpoint: None,
        }
    }

    pub fn writer(&self) -> &LogWriter<AnyStore> {
        &self.writer
    }

    /// Signs a checkpoint of everything appended so far.
    pub async fn checkpoint(&mut self) -> anyhow::Result<()> {
        if self.writer.size() > 0 {
            self.writer.sign_checkpoint().await?;
        }
        self.last_checkpoint = Some(Instant::now());
        Ok(())
    }
}

impl Journal for StoreJournal {
    async fn append(&mut self, entries: &[Vec<u8>]) -> anyhow::Result<u64> {
        let appended = self.writer.append(entries).await?;
        let due = self
            .last_checkpoint
            .is_none_or(|at| at.elapsed() >= CHECKPOINT_INTERVAL);
        if due {
            self.checkpoint().await?;
        }
        Ok(appended.size)
    }

    async fn entries(&self, start: u64) -> anyhow::Result<Vec<Vec<u8>>> {
        let size = self.writer.size();
        let mut entries = Vec::with_capacity(size.saturating_sub(start) as usize);
        let mut start = start;
        while start < size {
            let end = (start + ENTRIES_READ_MAX).min(size);
            entries.extend(self.writer.store().entries(start, end).await?);
            start = end;
        }
        Ok(entries)
    }

    fn root(&self) -> assay_log::Hash {
        self.writer.root()
    }
}
