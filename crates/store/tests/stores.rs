//! The store contract, run against every backend: memory, SQLite, and PostgreSQL when
//! `ASSAY_TEST_DATABASE_URL` is set (CI sets it).

use std::future::Future;

use assay_log::{
    leaf_hash, parse_entry_bundle_for, parse_hash_tile, tiles_between, NoteSigner,
    SignedCheckpoint, TileId, TileKind, Tree,
};
use assay_store::{
    read_consistency_proof, read_inclusion_proof, read_root_at, LogStore, LogWriter, MemoryStore,
    PgStore, SqliteStore,
};

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(future)
}

fn pg_url() -> Option<String> {
    let url = std::env::var("ASSAY_TEST_DATABASE_URL").ok();
    if url.is_none() {
        eprintln!("ASSAY_TEST_DATABASE_URL is unset: skipping the PostgreSQL part of this test");
    }
    url
}

/// A schema of its own for each test (tests run in parallel in one database).
fn pg_schema(test: &str) -> String {
    format!("assay_store_test_{test}_{}", std::process::id())
}

fn entry(i: u64) -> Vec<u8> {
    let mut bytes = format!("entry {i}:").into_bytes();
    bytes.resize(10 + (i % 90) as usize, (i % 251) as u8);
    bytes
}

const ORIGIN: &str = "test.example/log";

fn signer() -> NoteSigner {
    NoteSigner::new(ORIGIN, &[9; 32]).unwrap()
}

/// Appends 1,000 entries in uneven batches and checks every read against a tree kept in
/// memory by `assay_log` alone.
async fn check_contract<S: LogStore>(store: S) {
    let mut expected = Tree::new();
    let mut stored_expected = Vec::new();
    let mut tree = store.load_tree().await.unwrap();
    assert_eq!(tree.size(), 0);
    let mut next = 0u64;
    for batch in [1u64, 2, 255, 1, 0, 300, 441] {
        let entries: Vec<Vec<u8>> = (next..next + batch).map(entry).collect();
        let appended = store.append(&mut tree, &entries).await.unwrap();
        for e in &entries {
            expected.append(e, &mut stored_expected).unwrap();
        }
        assert_eq!(appended.first_index, next);
        next += batch;
        assert_eq!(appended.size, next);
        assert_eq!(appended.root, expected.root());
        assert_eq!(tree, expected);
        let head = store.head().await.unwrap();
        assert_eq!((head.size, head.root), (next, expected.root()));
    }
    assert_eq!(next, 1000);
    assert_eq!(
        store.entries(0, 3).await.unwrap(),
        vec![entry(0), entry(1), entry(2)]
    );
    assert_eq!(store.entries(997, 1000).await.unwrap().len(), 3);
    assert!(store.entries(5, 5).await.unwrap().is_empty());
    assert_eq!(
        store.entries(999, 1001).await.unwrap_err().code(),
        "range_outside_tree"
    );
    assert_eq!(
        store.entries(0, 5000).await.unwrap_err().code(),
        "range_outside_tree"
    );
    let all_hashes = store
        .hash_range(0, stored_expected.len() as u64)
        .await
        .unwrap();
    assert_eq!(all_hashes, stored_expected);
    assert_eq!(
        store.hashes(&[5, 0, 5, 1993]).await.unwrap(),
        vec![
            stored_expected[5],
            stored_expected[0],
            stored_expected[5],
            stored_expected[1993]
        ]
    );
    assert_eq!(
        store.hashes(&[1994]).await.unwrap_err().code(),
        "hash_missing"
    );

    // A writer whose tree is stale is refused, and neither side changes.
    let mut stale = Tree::new();
    let error = store.append(&mut stale, &[b"x"]).await.unwrap_err();
    assert_eq!(error.code(), "size_conflict");
    assert_eq!(stale.size(), 0);
    assert_eq!(store.head().await.unwrap().size, 1000);
    // An oversized entry refuses the whole batch.
    let big = vec![0u8; assay_log::ENTRY_BYTES_MAX + 1];
    let error = store
        .append(&mut tree, &[b"ok".to_vec(), big])
        .await
        .unwrap_err();
    assert_eq!(error.code(), "entry_too_large");
    assert_eq!(store.head().await.unwrap().size, 1000);

    // Proofs and roots read from the store verify against the in-memory tree.
    for (leaf, size) in [(0u64, 1u64), (3, 4), (999, 1000), (500, 777)] {
        let proof = read_inclusion_proof(&store, leaf, size).await.unwrap();
        let root = read_root_at(&store, size).await.unwrap();
        proof.verify(&leaf_hash(&entry(leaf)), &root).unwrap();
    }
    let old_root = read_root_at(&store, 300).await.unwrap();
    read_consistency_proof(&store, 300, 1000)
        .await
        .unwrap()
        .verify(&old_root, &expected.root())
        .unwrap();
    assert_eq!(
        read_root_at(&store, 1001).await.unwrap_err().code(),
        "beyond_tree"
    );

    // Checkpoints and snapshots.
    assert_eq!(store.latest_checkpoint().await.unwrap(), None);
    store.put_checkpoint(10, "ten\n").await.unwrap();
    store.put_checkpoint(1000, "thousand\n").await.unwrap();
    store.put_checkpoint(10, "ten again\n").await.unwrap();
    assert_eq!(
        store.put_checkpoint(1001, "x\n").await.unwrap_err().code(),
        "beyond_tree"
    );
    assert_eq!(
        store.checkpoint(10).await.unwrap().as_deref(),
        Some("ten again\n")
    );
    assert_eq!(store.checkpoint(11).await.unwrap(), None);
    assert_eq!(store.latest_checkpoint().await.unwrap().unwrap().size, 1000);
    let page = store.checkpoints(0, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].size, 10);
    let rest = store.checkpoints(11, 100).await.unwrap();
    assert_eq!(rest.iter().map(|c| c.size).collect::<Vec<_>>(), [1000]);
    assert_eq!(store.latest_snapshot().await.unwrap(), None);
    store.put_snapshot(500, b"state at 500").await.unwrap();
    store.put_snapshot(900, &[0, 1, 2]).await.unwrap();
    assert_eq!(store.snapshot(500).await.unwrap().unwrap(), b"state at 500");
    assert_eq!(store.snapshot(501).await.unwrap(), None);
    let latest = store.latest_snapshot().await.unwrap().unwrap();
    assert_eq!((latest.size, latest.data), (900, vec![0, 1, 2]));
    assert_eq!(
        store.put_snapshot(2000, b"").await.unwrap_err().code(),
        "beyond_tree"
    );
}

/// The writer signs checkpoints, serves tiles equal to `assay_log`'s, and refuses a log
/// signed by another key.
async fn check_writer<S: LogStore>(store: S) -> S {
    let mut writer = LogWriter::open(store, ORIGIN, signer()).await.unwrap();
    let mut expected = Tree::new();
    let mut stored_expected = Vec::new();
    let mut entries_expected = Vec::new();
    for batch in [256u64, 1, 300, 60] {
        let start = writer.size();
        let entries: Vec<Vec<u8>> = (start..start + batch).map(entry).collect();
        writer.append(&entries).await.unwrap();
        for e in &entries {
            expected.append(e, &mut stored_expected).unwrap();
        }
        entries_expected.extend(entries);
        let signed = writer.sign_checkpoint().await.unwrap();
        assert_eq!(signed.checkpoint().size(), writer.size());
        assert_eq!(signed.checkpoint().root(), expected.root());
    }
    let size = writer.size();
    assert_eq!(size, 617);
    let latest = writer.latest_checkpoint().await.unwrap().unwrap();
    let reopened =
        SignedCheckpoint::open(latest.to_text().as_bytes(), ORIGIN, writer.verifier_key()).unwrap();
    assert_eq!(reopened.checkpoint().root(), expected.root());
    // Signing again at the same size returns the stored note.
    assert_eq!(writer.sign_checkpoint().await.unwrap(), latest);

    for tile in tiles_between(0, size).unwrap() {
        let data = writer.tile(&tile).await.unwrap();
        match tile.kind() {
            TileKind::Hashes { .. } => {
                assert_eq!(data, assay_log::read_tile(&tile, &stored_expected).unwrap());
                assert_eq!(
                    parse_hash_tile(&tile, &data).unwrap().len(),
                    usize::from(tile.width())
                );
            }
            TileKind::Entries => {
                let (start, end) = tile.leaf_range().unwrap();
                let parsed = parse_entry_bundle_for(&tile, &data).unwrap();
                assert_eq!(parsed, entries_expected[start as usize..end as usize]);
            }
        }
    }
    let stale = TileId::entries(2, 44).unwrap();
    assert_eq!(
        writer.tile(&stale).await.unwrap_err().code(),
        "tile_not_served"
    );
    let old_root = writer.root_at(256).await.unwrap();
    writer
        .prove_consistency(256, size)
        .await
        .unwrap()
        .verify(&old_root, &writer.root())
        .unwrap();
    let store = writer.into_store();
    let other = NoteSigner::new(ORIGIN, &[8; 32]).unwrap();
    let error = LogWriter::open(&store, ORIGIN, other).await.err().unwrap();
    assert_eq!(error.code(), "note_unverified");
    let error = LogWriter::open(&store, "other.example/log", signer())
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), "checkpoint_origin");
    store
}

#[test]
fn memory_store_keeps_the_contract() {
    block_on(check_contract(MemoryStore::new()));
}

#[test]
fn sqlite_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    block_on(async {
        check_contract(SqliteStore::open(dir.path()).await.unwrap()).await;
    });
}

#[test]
fn memory_writer_signs_and_serves() {
    block_on(check_writer(MemoryStore::new()));
}

#[test]
fn sqlite_writer_resumes_with_the_same_root() {
    let dir = tempfile::tempdir().unwrap();
    block_on(async {
        let store = check_writer(SqliteStore::open(dir.path()).await.unwrap()).await;
        let head = store.head().await.unwrap();
        store.close().await;
        let reopened = SqliteStore::open(dir.path()).await.unwrap();
        assert_eq!(reopened.head().await.unwrap(), head);
        let writer = LogWriter::open(reopened, ORIGIN, signer()).await.unwrap();
        assert_eq!((writer.size(), writer.root()), (head.size, head.root));
    });
}

#[test]
fn postgres_store_keeps_the_contract() {
    let Some(url) = pg_url() else { return };
    let schema = pg_schema("contract");
    block_on(async {
        PgStore::drop_schema(&url, &schema).await.unwrap();
        let store = PgStore::open_in_schema(&url, &schema).await.unwrap();
        check_contract(store).await;
        PgStore::drop_schema(&url, &schema).await.unwrap();
    });
}

#[test]
fn postgres_writer_resumes_with_the_same_root() {
    let Some(url) = pg_url() else { return };
    let schema = pg_schema("writer");
    block_on(async {
        PgStore::drop_schema(&url, &schema).await.unwrap();
        let store = check_writer(PgStore::open_in_schema(&url, &schema).await.unwrap()).await;
        let head = store.head().await.unwrap();
        store.close().await;
        let reopened = PgStore::open_in_schema(&url, &schema).await.unwrap();
        let writer = LogWriter::open(reopened, ORIGIN, signer()).await.unwrap();
        assert_eq!((writer.size(), writer.root()), (head.size, head.root));
        PgStore::drop_schema(&url, &schema).await.unwrap();
    });
}

/// Batches long enough to hash leaves on a second thread give the same hashes, in order.
async fn check_long_batches<S: LogStore>(store: S) {
    let mut tree = store.load_tree().await.unwrap();
    let mut expected = Tree::new();
    let mut expected_hashes = Vec::new();
    for (start, length) in [(0u64, 5_000u64), (5_000, 1_024), (6_024, 3)] {
        let entries: Vec<Vec<u8>> = (start..start + length).map(entry).collect();
        let appended = store.append(&mut tree, &entries).await.unwrap();
        for e in &entries {
            expected.append(e, &mut expected_hashes).unwrap();
        }
        assert_eq!(appended.root, expected.root());
    }
    let mut stored = Vec::new();
    let count = expected_hashes.len() as u64;
    for start in (0..count).step_by(assay_store::HASHES_READ_MAX as usize) {
        let end = (start + assay_store::HASHES_READ_MAX).min(count);
        stored.extend(store.hash_range(start, end).await.unwrap());
    }
    assert_eq!(stored, expected_hashes);
    // One oversized entry at the end of a long batch refuses all of it.
    let mut entries: Vec<Vec<u8>> = (0..2_000).map(entry).collect();
    entries.push(vec![0; assay_log::ENTRY_BYTES_MAX + 1]);
    let error = store.append(&mut tree, &entries).await.unwrap_err();
    assert_eq!(error.code(), "entry_too_large");
    assert_eq!(store.head().await.unwrap().size, 6_027);
}

#[test]
fn long_batches_hash_the_same_in_memory_and_sqlite() {
    block_on(check_long_batches(MemoryStore::new()));
    let dir = tempfile::tempdir().unwrap();
    block_on(async {
        check_long_batches(SqliteStore::open(dir.path()).await.unwrap()).await;
    });
}
