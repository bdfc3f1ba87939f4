//! The crate's one error type.

use std::path::PathBuf;

/// Why a store operation refused or failed. `code()` gives a stable snake_case name.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The log crate refused (oversized entry, leaf index past the size, bad checkpoint …).
    #[error(transparent)]
    Log(#[from] assay_log::Error),
    #[error("database error while {operation}: {source}")]
    Database {
        operation: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("applying the store's schema migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("creating data directory {path}: {source}")]
    DataDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "PostgreSQL schema name {name:?} must be 1 to 63 of [a-z0-9_], starting with a letter"
    )]
    SchemaName { name: String },

    // A store whose parts disagree: refused at open, never repaired silently.
    #[error("torn store: the head says {size} entries but {found} are stored")]
    TornEntries { size: u64, found: u64 },
    #[error("torn store: {size} entries need {expected} stored hashes but {found} are stored")]
    TornHashes {
        size: u64,
        expected: u64,
        found: u64,
    },
    #[error("torn store: the stored root at size {size} is not the root of the stored hashes")]
    TornRoot { size: u64 },
    #[error("stored {what} at index {index} is missing")]
    RowMissing { what: &'static str, index: u64 },
    #[error("stored {what} at index {index} is malformed")]
    RowMalformed { what: &'static str, index: u64 },
    #[error("stored {what} reads as {value}, which no index or size can be")]
    NegativeValue { what: &'static str, value: i64 },

    // Callers' mistakes.
    #[error("the writer's tree has {expected} entries but the store has {stored}: another writer appended")]
    SizeConflict { expected: u64, stored: u64 },
    #[error("batch of {count} entries exceeds BATCH_ENTRIES_MAX ({max})")]
    BatchTooLarge { count: usize, max: usize },
    #[error("read of {count} items exceeds the limit of {max} per call")]
    ReadTooLarge { count: u64, max: u64 },
    #[error("range {start}..{end} is not within the tree of {size} entries")]
    RangeOutsideTree { start: u64, end: u64, size: u64 },
    #[error("checkpoint or snapshot at size {size} is past the tree size {tree_size}")]
    BeyondTree { size: u64, tree_size: u64 },
    #[error("checkpoint is for origin or size other than this log's ({origin}, {size})")]
    CheckpointMismatch { origin: String, size: u64 },
    #[error("tile {path} is not served at tree size {size}")]
    TileNotServed { path: String, size: u64 },
}

impl Error {
    /// Stable machine-readable code. Errors from the log crate keep their own code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Log(error) => error.code(),
            Error::Database { .. } => "database",
            Error::Migrate(_) => "migrate",
            Error::DataDirectory { .. } => "data_directory",
            Error::SchemaName { .. } => "schema_name",
            Error::TornEntries { .. } => "torn_entries",
            Error::TornHashes { .. } => "torn_hashes",
            Error::TornRoot { .. } => "torn_root",
            Error::RowMissing { .. } => "row_missing",
            Error::RowMalformed { .. } => "row_malformed",
            Error::NegativeValue { .. } => "negative_value",
            Error::SizeConflict { .. } => "size_conflict",
            Error::BatchTooLarge { .. } => "batch_too_large",
            Error::ReadTooLarge { .. } => "read_too_large",
            Error::RangeOutsideTree { .. } => "range_outside_tree",
            Error::BeyondTree { .. } => "beyond_tree",
            Error::CheckpointMismatch { .. } => "checkpoint_mismatch",
            Error::TileNotServed { .. } => "tile_not_served",
        }
    }

    /// Whether this error says the store's durable state is inconsistent (as opposed to a
    /// refused request or an unavailable database).
    pub fn is_torn(&self) -> bool {
        matches!(
            self,
            Error::TornEntries { .. }
                | Error::TornHashes { .. }
                | Error::TornRoot { .. }
                | Error::RowMissing { .. }
                | Error::RowMalformed { .. }
                | Error::NegativeValue { .. }
        )
    }
}

/// Wraps a sqlx error with what the store was doing.
pub(crate) fn database(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |source| Error::Database { operation, source }
}
