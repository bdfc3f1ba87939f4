//! One store type for callers that choose the backend at run time (the binary's flags).

use std::path::PathBuf;

use assay_log::{Hash, Tree};

use crate::{
    Appended, Error, LogStore, MemoryStore, PgStore, Snapshot, SqliteStore, StoredCheckpoint,
    TreeHead,
};

/// Where a log lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    Memory,
    /// A data directory holding `assay.db`.
    Sqlite {
        dir: PathBuf,
    },
    /// A PostgreSQL URL, and optionally a schema other than the URL's `search_path`.
    Postgres {
        url: String,
        schema: Option<String>,
    },
}

/// Any of the three stores, dispatching each call.
pub enum AnyStore {
    Memory(MemoryStore),
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl AnyStore {
    /// Opens the store at `location`, checking it is not torn.
    pub async fn open(location: &StoreLocation) -> Result<AnyStore, Error> {
        Ok(match location {
            StoreLocation::Memory => AnyStore::Memory(MemoryStore::new()),
            StoreLocation::Sqlite { dir } => AnyStore::Sqlite(SqliteStore::open(dir).await?),
            StoreLocation::Postgres { url, schema: None } => {
                AnyStore::Postgres(PgStore::open(url).await?)
            }
            StoreLocation::Postgres {
                url,
                schema: Some(schema),
            } => AnyStore::Postgres(PgStore::open_in_schema(url, schema).await?),
        })
    }

    /// Closes database connections (a no-op in memory).
    pub async fn close(&self) {
        match self {
            AnyStore::Memory(_) => {}
            AnyStore::Sqlite(store) => store.close().await,
            AnyStore::Postgres(store) => store.close().await,
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Memory($store) => $call.await,
            AnyStore::Sqlite($store) => $call.await,
            AnyStore::Postgres($store) => $call.await,
        }
    };
}

impl AnyStore {
    /// Stores member `member`'s sealed payout destination (issue 9), replacing an earlier one.
    pub async fn put_destination(&self, member: u64, sealed: &[u8]) -> Result<(), Error> {
        dispatch!(self, store => store.put_destination(member, sealed))
    }

    /// Sealed destinations of members after `after`, in member order, at most `limit`
    /// (capped at [`crate::DESTINATIONS_READ_MAX`]).
    pub async fn destinations(
        &self,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, Error> {
        dispatch!(self, store => store.destinations(after, limit))
    }
}

impl LogStore for AnyStore {
    async fn head(&self) -> Result<TreeHead, Error> {
        dispatch!(self, store => store.head())
    }

    async fn append<E: AsRef<[u8]> + Sync>(
        &self,
        tree: &mut Tree,
        entries: &[E],
    ) -> Result<Appended, Error> {
        dispatch!(self, store => store.append(tree, entries))
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, Error> {
        dispatch!(self, store => store.entries(start, end))
    }

    async fn hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        dispatch!(self, store => store.hashes(indexes))
    }

    async fn hash_range(&self, start: u64, end: u64) -> Result<Vec<Hash>, Error> {
        dispatch!(self, store => store.hash_range(start, end))
    }

    async fn put_checkpoint(&self, size: u64, note: &str) -> Result<(), Error> {
        dispatch!(self, store => store.put_checkpoint(size, note))
    }

    async fn checkpoint(&self, size: u64) -> Result<Option<String>, Error> {
        dispatch!(self, store => store.checkpoint(size))
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, Error> {
        dispatch!(self, store => store.latest_checkpoint())
    }

    async fn checkpoints(
        &self,
        from_size: u64,
        limit: u64,
    ) -> Result<Vec<StoredCheckpoint>, Error> {
        dispatch!(self, store => store.checkpoints(from_size, limit))
    }

    async fn put_snapshot(&self, size: u64, data: &[u8]) -> Result<(), Error> {
        dispatch!(self, store => store.put_snapshot(size, data))
    }

    async fn snapshot(&self, size: u64) -> Result<Option<Vec<u8>>, Error> {
        dispatch!(self, store => store.snapshot(size))
    }

    async fn latest_snapshot(&self) -> Result<Option<Snapshot>, Error> {
        dispatch!(self, store => store.latest_snapshot())
    }
}
