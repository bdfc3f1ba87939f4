//! Law: whatever batches are appended, the store reads back the same entries and stored
//! hashes, and its root is the root `assay_log` computes in memory (memory and SQLite).

use std::future::Future;

use assay_log::Tree;
use assay_store::{LogStore, MemoryStore, SqliteStore};
use proptest::prelude::*;

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(future)
}

/// Up to 6 batches of up to 40 entries of up to 300 bytes.
fn batches() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    prop::collection::vec(
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..40),
        0..6,
    )
}

async fn check(store: impl LogStore, batches: &[Vec<Vec<u8>>]) -> Result<(), TestCaseError> {
    let mut expected = Tree::new();
    let mut expected_hashes = Vec::new();
    let mut tree = store.load_tree().await.unwrap();
    let mut all = Vec::new();
    for batch in batches {
        let appended = store.append(&mut tree, batch).await.unwrap();
        for entry in batch {
            expected.append(entry, &mut expected_hashes).unwrap();
        }
        all.extend(batch.iter().cloned());
        prop_assert_eq!(appended.size, all.len() as u64);
        prop_assert_eq!(appended.root, expected.root());
    }
    let size = all.len() as u64;
    prop_assert_eq!(store.entries(0, size).await.unwrap(), all);
    let hash_count = expected_hashes.len() as u64;
    prop_assert_eq!(
        store.hash_range(0, hash_count).await.unwrap(),
        expected_hashes
    );
    prop_assert_eq!(store.head().await.unwrap().root, expected.root());
    prop_assert_eq!(store.load_tree().await.unwrap(), expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn memory_round_trips(batches in batches()) {
        block_on(check(MemoryStore::new(), &batches))?;
    }

    #[test]
    fn sqlite_round_trips(batches in batches()) {
        let dir = tempfile::tempdir().unwrap();
        block_on(async {
            let store = SqliteStore::open(dir.path()).await.unwrap();
            check(&store, &batches).await?;
            store.close().await;
            // Reopening passes the torn-store check and resumes at the same root.
            let reopened = SqliteStore::open(dir.path()).await.unwrap();
            prop_assert_eq!(reopened.load_tree().await.unwrap().size(), batches.iter().map(Vec::len).sum::<usize>() as u64);
            reopened.close().await;
            Ok(())
        })?;
    }
}
