//! The embedded default: one SQLite file in a data directory, in WAL mode with
//! `synchronous = FULL`, so a commit returns only after the WAL is fsynced.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use assay_log::{Hash, Tree};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Sqlite, SqlitePool, Transaction};

use crate::error::database;
use crate::{
    check_count, check_not_torn, check_range, from_i64, hash_from_row, prepare_batch, to_i64,
    Appended, Error, LogStore, OpenCounts, Snapshot, StoredCheckpoint, TreeHead,
    CHECKPOINTS_READ_MAX, ENTRIES_READ_MAX, HASHES_READ_MAX, OPEN_COUNTS_SQL,
};

/// The database file's name inside the data directory.
pub const SQLITE_FILE_NAME: &str = "assay.db";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// Connections in the pool: one writer at a time (SQLite's rule) plus readers beside it.
const CONNECTIONS_MAX: u32 = 4;
/// How long a connection waits for another's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Rows per multi-row INSERT, a power of two: each batch is written as full chunks, then the
/// remainder split by its binary digits, so every statement shape is prepared once and cached.
const INSERT_ROWS_MAX: usize = 256;

/// A [`LogStore`] in one SQLite file.
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) `<dir>/assay.db`, applies migrations and checks the store is
    /// not torn.
    pub async fn open(dir: &Path) -> Result<SqliteStore, Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::DataDirectory {
            path: dir.to_owned(),
            source,
        })?;
        SqliteStore::open_file(&dir.join(SQLITE_FILE_NAME)).await
    }

    /// Opens (creating if needed) the database file at `path`.
    pub async fn open_file(path: &Path) -> Result<SqliteStore, Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: in WAL mode, fsync the WAL at every commit, so a returned commit survives
            // power loss, not only a process crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(CONNECTIONS_MAX)
            .connect_with(options)
            .await
            .map_err(database("opening the SQLite database"))?;
        MIGRATOR.run(&pool).await?;
        let store = SqliteStore {
            pool,
            path: path.to_owned(),
        };
        let counts = sqlx::query_as(OPEN_COUNTS_SQL)
            .fetch_one(&store.pool)
            .await
            .map_err(database("counting stored rows"))?;
        check_not_torn(&store, OpenCounts::from_row(counts)?).await?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection, checkpointing the WAL into the database file.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Stores member `member`'s sealed payout destination, replacing an earlier one (issue 9).
    /// The store never sees the destination itself: the server seals it first.
    pub async fn put_destination(&self, member: u64, sealed: &[u8]) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO payout_destinations (member, sealed) VALUES (?1, ?2) \
             ON CONFLICT (member) DO UPDATE SET sealed = excluded.sealed",
        )
        .bind(to_i64(member)?)
        .bind(sealed)
        .execute(&self.pool)
        .await
        .map_err(database("storing a payout destination"))?;
        Ok(())
    }

    /// Sealed destinations of members after `after` (all with `None`), in member order, at
    /// most `limit` (capped at [`crate::DESTINATIONS_READ_MAX`]).
    pub async fn destinations(
        &self,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, Error> {
        let limit = limit.min(crate::DESTINATIONS_READ_MAX);
        let after = after.map(to_i64).transpose()?.unwrap_or(-1);
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT member, sealed FROM payout_destinations WHERE member > ?1 \
             ORDER BY member LIMIT ?2",
        )
        .bind(after)
        .bind(to_i64(limit)?)
        .fetch_all(&self.pool)
        .await
        .map_err(database("reading payout destinations"))?;
        rows.into_iter()
            .map(|(member, sealed)| Ok((from_i64("member", member)?, sealed)))
            .collect()
    }
}

/// `INSERT INTO <table> (idx, <column>) VALUES (?1, ?2), (?1 + 1, ?3), …` for `rows` rows:
/// the first index is bound once.
fn insert_sql(table: &str, column: &str, rows: usize) -> Arc<str> {
    let mut sql = format!("INSERT INTO {table} (idx, {column}) VALUES (?1, ?2)");
    for row in 1..rows {
        sql.push_str(&format!(", (?1 + {row}, ?{})", row + 2));
    }
    sql.into()
}

/// Insert statements for 1, 2, 4, … `INSERT_ROWS_MAX` rows.
struct InsertStatements {
    by_power: Vec<Arc<str>>,
}

impl InsertStatements {
    fn new(table: &str, column: &str) -> InsertStatements {
        let powers = INSERT_ROWS_MAX.trailing_zeros() as usize + 1;
        InsertStatements {
            by_power: (0..powers)
                .map(|power| insert_sql(table, column, 1 << power))
                .collect(),
        }
    }

    /// Splits `total` rows into statement sizes: full chunks, then the remainder's bits.
    fn chunks(total: usize) -> impl Iterator<Item = usize> {
        let full = total / INSERT_ROWS_MAX;
        let rest = total % INSERT_ROWS_MAX;
        std::iter::repeat_n(INSERT_ROWS_MAX, full).chain(
            (0..INSERT_ROWS_MAX.trailing_zeros())
                .rev()
                .map(|power| 1usize << power)
                .filter(move |bit| rest & bit != 0),
        )
    }

    fn sql(&self, rows: usize) -> Arc<str> {
        debug_assert!(rows.is_power_of_two() && rows <= INSERT_ROWS_MAX);
        self.by_power[rows.trailing_zeros() as usize].clone()
    }
}

fn entry_inserts() -> &'static InsertStatements {
    static STATEMENTS: OnceLock<InsertStatements> = OnceLock::new();
    STATEMENTS.get_or_init(|| InsertStatements::new("log_entries", "data"))
}

fn hash_inserts() -> &'static InsertStatements {
    static STATEMENTS: OnceLock<InsertStatements> = OnceLock::new();
    STATEMENTS.get_or_init(|| InsertStatements::new("log_hashes", "hash"))
}

/// Writes `rows` at consecutive indexes from `first_index` with cached multi-row inserts.
async fn insert_rows<R: AsRef<[u8]> + Sync>(
    tx: &mut Transaction<'static, Sqlite>,
    statements: &InsertStatements,
    first_index: u64,
    rows: &[R],
) -> Result<(), Error> {
    let mut offset = 0usize;
    for chunk in InsertStatements::chunks(rows.len()) {
        let mut query = sqlx::query(AssertSqlSafe(statements.sql(chunk)))
            .bind(to_i64(first_index + offset as u64)?);
        for row in &rows[offset..offset + chunk] {
            query = query.bind(row.as_ref());
        }
        query
            .execute(&mut **tx)
            .await
            .map_err(database("inserting log rows"))?;
        offset += chunk;
    }
    debug_assert_eq!(offset, rows.len());
    Ok(())
}

impl LogStore for SqliteStore {
    async fn head(&self) -> Result<TreeHead, Error> {
        let (size, root): (i64, Vec<u8>) =
            sqlx::query_as("SELECT size, root FROM log_head WHERE id = 0")
                .fetch_one(&self.pool)
                .await
                .map_err(database("reading the log head"))?;
        let size = from_i64("head", size)?;
        Ok(TreeHead {
            size,
            root: hash_from_row(size, &root)?,
        })
    }

    async fn append<E: AsRef<[u8]> + Sync>(
        &self,
        tree: &mut Tree,
        entries: &[E],
    ) -> Result<Appended, Error> {
        let batch = prepare_batch(tree, entries)?;
        let new_size = batch.tree.size();
        let new_root = batch.tree.root();
        if entries.is_empty() {
            return Ok(Appended {
                first_index: batch.old_size,
                size: new_size,
                root: new_root,
            });
        }
        // IMMEDIATE takes the write lock at once, so the size check below cannot race.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(database("beginning an append"))?;
        let updated =
            sqlx::query("UPDATE log_head SET size = ?1, root = ?2 WHERE id = 0 AND size = ?3")
                .bind(to_i64(new_size)?)
                .bind(new_root.as_bytes().as_slice())
                .bind(to_i64(batch.old_size)?)
                .execute(&mut *tx)
                .await
                .map_err(database("advancing the log head"))?
                .rows_affected();
        if updated != 1 {
            drop(tx);
            let stored = self.head().await?.size;
            return Err(Error::SizeConflict {
                expected: batch.old_size,
                stored,
            });
        }
        insert_rows(&mut tx, entry_inserts(), batch.old_size, entries).await?;
        let hashes: Vec<&[u8]> = batch
            .hashes
            .hashes
            .iter()
            .map(|h| h.as_bytes().as_slice())
            .collect();
        insert_rows(&mut tx, hash_inserts(), batch.hashes.start_index, &hashes).await?;
        tx.commit()
            .await
            .map_err(database("committing an append"))?;
        *tree = batch.tree;
        Ok(Appended {
            first_index: batch.old_size,
            size: new_size,
            root: new_root,
        })
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, Error> {
        let size = self.head().await?.size;
        check_range(start, end, size, ENTRIES_READ_MAX)?;
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, data FROM log_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )
        .bind(to_i64(start)?)
        .bind(to_i64(end)?)
        .fetch_all(&self.pool)
        .await
        .map_err(database("reading entries"))?;
        contiguous("entry", start, end, rows)
    }

    async fn hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        check_count(indexes.len(), HASHES_READ_MAX)?;
        if indexes.is_empty() {
            return Ok(Vec::new());
        }
        // One statement for any list: the indexes travel as a JSON array.
        let list = format!(
            "[{}]",
            indexes
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT h.idx, h.hash FROM json_each(?1) AS j JOIN log_hashes AS h ON h.idx = j.value",
        )
        .bind(list)
        .fetch_all(&self.pool)
        .await
        .map_err(database("reading stored hashes"))?;
        pick_hashes(indexes, rows)
    }

    async fn hash_range(&self, start: u64, end: u64) -> Result<Vec<Hash>, Error> {
        let size = self.head().await?.size;
        let count = assay_log::stored_hash_count(size)?;
        check_range(start, end, count, HASHES_READ_MAX)?;
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, hash FROM log_hashes WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )
        .bind(to_i64(start)?)
        .bind(to_i64(end)?)
        .fetch_all(&self.pool)
        .await
        .map_err(database("reading stored hashes"))?;
        contiguous("hash", start, end, rows)?
            .iter()
            .zip(start..)
            .map(|(bytes, index)| hash_from_row(index, bytes))
            .collect()
    }

    async fn put_checkpoint(&self, size: u64, note: &str) -> Result<(), Error> {
        // The size check and the insert share one statement, so no append can slip between.
        let inserted = sqlx::query(
            "INSERT INTO log_checkpoints (size, note) SELECT ?1, ?2 FROM log_head WHERE id = 0 AND size >= ?1 \
             ON CONFLICT (size) DO UPDATE SET note = excluded.note",
        )
        .bind(to_i64(size)?)
        .bind(note)
        .execute(&self.pool)
        .await
        .map_err(database("storing a checkpoint"))?
        .rows_affected();
        if inserted == 0 {
            return Err(Error::BeyondTree {
                size,
                tree_size: self.head().await?.size,
            });
        }
        Ok(())
    }

    async fn checkpoint(&self, size: u64) -> Result<Option<String>, Error> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT note FROM log_checkpoints WHERE size = ?1")
                .bind(to_i64(size)?)
                .fetch_optional(&self.pool)
                .await
                .map_err(database("reading a checkpoint"))?;
        Ok(row.map(|(note,)| note))
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, Error> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(database("reading the latest checkpoint"))?;
        row.map(|(size, note)| {
            Ok(StoredCheckpoint {
                size: from_i64("checkpoint", size)?,
                note,
            })
        })
        .transpose()
    }

    async fn checkpoints(
        &self,
        from_size: u64,
        limit: u64,
    ) -> Result<Vec<StoredCheckpoint>, Error> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT size, note FROM log_checkpoints WHERE size >= ?1 ORDER BY size LIMIT ?2",
        )
        .bind(to_i64(from_size)?)
        .bind(to_i64(limit.min(CHECKPOINTS_READ_MAX))?)
        .fetch_all(&self.pool)
        .await
        .map_err(database("reading checkpoints"))?;
        rows.into_iter()
            .map(|(size, note)| {
                Ok(StoredCheckpoint {
                    size: from_i64("checkpoint", size)?,
                    note,
                })
            })
            .collect()
    }

    async fn put_snapshot(&self, size: u64, data: &[u8]) -> Result<(), Error> {
        let inserted = sqlx::query(
            "INSERT INTO log_snapshots (size, data) SELECT ?1, ?2 FROM log_head WHERE id = 0 AND size >= ?1 \
             ON CONFLICT (size) DO UPDATE SET data = excluded.data",
        )
        .bind(to_i64(size)?)
        .bind(data)
        .execute(&self.pool)
        .await
        .map_err(database("storing a snapshot"))?
        .rows_affected();
        if inserted == 0 {
            return Err(Error::BeyondTree {
                size,
                tree_size: self.head().await?.size,
            });
        }
        Ok(())
    }

    async fn snapshot(&self, size: u64) -> Result<Option<Vec<u8>>, Error> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT data FROM log_snapshots WHERE size = ?1")
                .bind(to_i64(size)?)
                .fetch_optional(&self.pool)
                .await
                .map_err(database("reading a snapshot"))?;
        Ok(row.map(|(data,)| data))
    }

    async fn latest_snapshot(&self) -> Result<Option<Snapshot>, Error> {
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT size, data FROM log_snapshots ORDER BY size DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(database("reading the latest snapshot"))?;
        row.map(|(size, data)| {
            Ok(Snapshot {
                size: from_i64("snapshot", size)?,
                data,
            })
        })
        .transpose()
    }
}

/// Checks rows read for `start..end` are exactly those indexes, in order.
pub(crate) fn contiguous(
    what: &'static str,
    start: u64,
    end: u64,
    rows: Vec<(i64, Vec<u8>)>,
) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::with_capacity(rows.len());
    let mut expected = start;
    for (index, data) in rows {
        if index != to_i64(expected)? {
            return Err(Error::RowMissing {
                what,
                index: expected,
            });
        }
        out.push(data);
        expected += 1;
    }
    if expected != end {
        return Err(Error::RowMissing {
            what,
            index: expected,
        });
    }
    Ok(out)
}

/// Orders hash rows as `indexes` asked for them (which may repeat or be unsorted).
pub(crate) fn pick_hashes(indexes: &[u64], rows: Vec<(i64, Vec<u8>)>) -> Result<Vec<Hash>, Error> {
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for (index, bytes) in rows {
        let index = from_i64("hash", index)?;
        found.insert(index, hash_from_row(index, &bytes)?);
    }
    indexes
        .iter()
        .map(|index| {
            found
                .get(index)
                .copied()
                .ok_or(Error::Log(assay_log::Error::HashMissing { index: *index }))
        })
        .collect()
}
