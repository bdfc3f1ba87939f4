//! PostgreSQL by URL. Each batch is one transaction of three statements (head, entries,
//! hashes); entries and hashes travel as arrays and are spread into rows with `UNNEST`.

use std::str::FromStr;

use assay_log::{Hash, Tree};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

use crate::error::database;
use crate::sqlite::{contiguous, pick_hashes};
use crate::{
    check_count, check_not_torn, check_range, from_i64, hash_from_row, prepare_batch, to_i64,
    Appended, Error, LogStore, OpenCounts, Snapshot, StoredCheckpoint, TreeHead,
    CHECKPOINTS_READ_MAX, ENTRIES_READ_MAX, HASHES_READ_MAX, OPEN_COUNTS_SQL,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Connections in the pool: the writer and a few readers.
const CONNECTIONS_MAX: u32 = 4;
/// PostgreSQL's identifier limit.
const SCHEMA_NAME_BYTES_MAX: usize = 63;

/// A [`LogStore`] in a PostgreSQL database, in the schema the URL's `search_path` names
/// (`public` by default) or one given to [`PgStore::open_in_schema`].
pub struct PgStore {
    pool: PgPool,
}

fn connect_options(url: &str) -> Result<PgConnectOptions, Error> {
    PgConnectOptions::from_str(url).map_err(database("parsing the PostgreSQL URL"))
}

/// Schema names are spliced into SQL, so only a safe alphabet is accepted.
fn check_schema_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= SCHEMA_NAME_BYTES_MAX
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::SchemaName {
            name: name.to_owned(),
        })
    }
}

impl PgStore {
    /// Connects, applies migrations and checks the store is not torn.
    pub async fn open(url: &str) -> Result<PgStore, Error> {
        PgStore::open_with(connect_options(url)?).await
    }

    /// As [`PgStore::open`], in schema `schema` (created if missing): one database can hold
    /// many logs, and parallel tests each use their own.
    pub async fn open_in_schema(url: &str, schema: &str) -> Result<PgStore, Error> {
        check_schema_name(schema)?;
        let options = connect_options(url)?;
        let mut connection = PgConnection::connect_with(&options)
            .await
            .map_err(database("connecting to PostgreSQL"))?;
        sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&mut connection)
        .await
        .map_err(database("creating the schema"))?;
        connection
            .close()
            .await
            .map_err(database("closing a connection"))?;
        PgStore::open_with(options.options([("search_path", schema)])).await
    }

    /// Drops schema `schema` and everything in it (tests and benchmarks clean up with it).
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), Error> {
        check_schema_name(schema)?;
        let mut connection = PgConnection::connect_with(&connect_options(url)?)
            .await
            .map_err(database("connecting to PostgreSQL"))?;
        sqlx::query(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .execute(&mut connection)
        .await
        .map_err(database("dropping the schema"))?;
        Ok(())
    }

    async fn open_with(options: PgConnectOptions) -> Result<PgStore, Error> {
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS_MAX)
            .connect_with(options)
            .await
            .map_err(database("connecting to PostgreSQL"))?;
        MIGRATOR.run(&pool).await?;
        let store = PgStore { pool };
        let counts = sqlx::query_as(OPEN_COUNTS_SQL)
            .fetch_one(&store.pool)
            .await
            .map_err(database("counting stored rows"))?;
        check_not_torn(&store, OpenCounts::from_row(counts)?).await?;
        Ok(store)
    }

    /// A server setting, e.g. `fsync` or `synchronous_commit`, for reports on durability.
    pub async fn setting(&self, name: &str) -> Result<String, Error> {
        let (value,): (String,) = sqlx::query_as("SELECT current_setting($1)")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(database("reading a server setting"))?;
        Ok(value)
    }

    /// Stores member `member`'s sealed payout destination, replacing an earlier one (issue 9).
    /// The store never sees the destination itself: the server seals it first.
    pub async fn put_destination(&self, member: u64, sealed: &[u8]) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO payout_destinations (member, sealed) VALUES ($1, $2) \
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
            "SELECT member, sealed FROM payout_destinations WHERE member > $1 \
             ORDER BY member LIMIT $2",
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

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl LogStore for PgStore {
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
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(database("beginning an append"))?;
        // The row lock this UPDATE takes serialises writers; the size guard detects a writer
        // that appended since our tree was loaded.
        let updated =
            sqlx::query("UPDATE log_head SET size = $1, root = $2 WHERE id = 0 AND size = $3")
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
        let data: Vec<&[u8]> = entries.iter().map(AsRef::as_ref).collect();
        sqlx::query(
            "INSERT INTO log_entries (idx, data) \
             SELECT $1 + ord - 1, data FROM UNNEST($2::bytea[]) WITH ORDINALITY AS t(data, ord)",
        )
        .bind(to_i64(batch.old_size)?)
        .bind(data)
        .execute(&mut *tx)
        .await
        .map_err(database("inserting entries"))?;
        let hashes: Vec<[u8; 32]> = batch.hashes.hashes.iter().map(|h| h.0).collect();
        sqlx::query(
            "INSERT INTO log_hashes (idx, hash) \
             SELECT $1 + ord - 1, hash FROM UNNEST($2::bytea[]) WITH ORDINALITY AS t(hash, ord)",
        )
        .bind(to_i64(batch.hashes.start_index)?)
        .bind(hashes)
        .execute(&mut *tx)
        .await
        .map_err(database("inserting stored hashes"))?;
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
            "SELECT idx, data FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
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
        let wanted = indexes
            .iter()
            .map(|&i| to_i64(i))
            .collect::<Result<Vec<i64>, Error>>()?;
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT idx, hash FROM log_hashes WHERE idx = ANY($1)")
                .bind(wanted)
                .fetch_all(&self.pool)
                .await
                .map_err(database("reading stored hashes"))?;
        pick_hashes(indexes, rows)
    }

    async fn hash_range(&self, start: u64, end: u64) -> Result<Vec<Hash>, Error> {
        let size = self.head().await?.size;
        check_range(
            start,
            end,
            assay_log::stored_hash_count(size)?,
            HASHES_READ_MAX,
        )?;
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, hash FROM log_hashes WHERE idx >= $1 AND idx < $2 ORDER BY idx",
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
            "INSERT INTO log_checkpoints (size, note) \
             SELECT $1, $2 FROM log_head WHERE id = 0 AND size >= $1 \
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
            sqlx::query_as("SELECT note FROM log_checkpoints WHERE size = $1")
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
            "SELECT size, note FROM log_checkpoints WHERE size >= $1 ORDER BY size LIMIT $2",
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
            "INSERT INTO log_snapshots (size, data) \
             SELECT $1, $2 FROM log_head WHERE id = 0 AND size >= $1 \
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
            sqlx::query_as("SELECT data FROM log_snapshots WHERE size = $1")
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
