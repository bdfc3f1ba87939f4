//! A store whose parts disagree is refused at open with a torn error, never used: each case
//! damages one part of a good store behind its back (as a bug or a bad restore would).

use std::future::Future;

use assay_log::Tree;
use assay_store::{LogStore, PgStore, SqliteStore, SQLITE_FILE_NAME};

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(future)
}

/// Damage, and the error code opening must report.
const CASES: &[(&str, &str)] = &[
    ("DELETE FROM log_entries WHERE idx = 9", "torn_entries"),
    ("DELETE FROM log_hashes WHERE idx = 17", "torn_hashes"),
    ("UPDATE log_head SET size = 9", "torn_entries"),
    (
        "UPDATE log_head SET root = (SELECT hash FROM log_hashes WHERE idx = 0)",
        "torn_root",
    ),
    // Stored hash 14 is the root of leaves 0..8, on the frontier of a tree of 10.
    (
        "UPDATE log_hashes SET hash = (SELECT hash FROM log_hashes WHERE idx = 0) WHERE idx = 14",
        "torn_root",
    ),
];

async fn fill(store: &impl LogStore) {
    let mut tree = Tree::new();
    store.append(&mut tree, &[b"a", b"b", b"c"]).await.unwrap();
    let rest: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i; 5]).collect();
    store.append(&mut tree, &rest).await.unwrap();
    assert_eq!(store.head().await.unwrap().size, 10);
}

#[test]
fn sqlite_refuses_a_torn_store() {
    block_on(async {
        for (damage, code) in CASES {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteStore::open(dir.path()).await.unwrap();
            fill(&store).await;
            store.close().await;
            let url = format!("sqlite://{}", dir.path().join(SQLITE_FILE_NAME).display());
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(*damage))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
            let error = SqliteStore::open(dir.path()).await.err().expect(damage);
            assert_eq!(error.code(), *code, "{damage}: {error}");
            assert!(error.is_torn());
        }
    });
}

#[test]
fn postgres_refuses_a_torn_store() {
    let Ok(url) = std::env::var("ASSAY_TEST_DATABASE_URL") else {
        eprintln!("ASSAY_TEST_DATABASE_URL is unset: skipping the PostgreSQL torn-store test");
        return;
    };
    block_on(async {
        for (case, (damage, code)) in CASES.iter().enumerate() {
            let schema = format!("assay_store_test_torn_{case}_{}", std::process::id());
            PgStore::drop_schema(&url, &schema).await.unwrap();
            let store = PgStore::open_in_schema(&url, &schema).await.unwrap();
            fill(&store).await;
            store.close().await;
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let mut tx = pool.begin().await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SET LOCAL search_path = {schema}"
            )))
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(*damage))
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            pool.close().await;
            let error = PgStore::open_in_schema(&url, &schema)
                .await
                .err()
                .expect(damage);
            assert_eq!(error.code(), *code, "{damage}: {error}");
            PgStore::drop_schema(&url, &schema).await.unwrap();
        }
    });
}

#[test]
fn opening_while_a_writer_appends_is_never_torn() {
    // The open check reads the head and the row counts in one statement, so a writer that
    // commits between what used to be separate reads (a server running while an auditor opens
    // its store) cannot make a whole store look torn.
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let writer = SqliteStore::open(dir.path()).await.unwrap();
        let appending = tokio::spawn(async move {
            let mut tree = Tree::new();
            for batch in 0..400u32 {
                let entries: Vec<Vec<u8>> = (0..3u32)
                    .map(|i| (batch * 3 + i).to_be_bytes().to_vec())
                    .collect();
                writer.append(&mut tree, &entries).await.unwrap();
            }
            writer.close().await;
        });
        let mut opened = 0;
        while !appending.is_finished() {
            let reader = SqliteStore::open(dir.path()).await.unwrap();
            reader.close().await;
            opened += 1;
        }
        appending.await.unwrap();
        assert!(
            opened > 1,
            "the reader opened the store while it was written"
        );
    });
}
