//! Repeated requests get the original outcome (issue 7), wherever the original is: a deposit
//! repeated with its bank reference (before and after a restart, where a lost answer would
//! otherwise credit the buyer twice), and an envelope or deposit resent while its first copy is
//! still in the same batch. Also: the status the sequencer reports is the replayed log's (L3).

use assay_core::{BuyerId, Micros, Rules, Timestamp, TradingDay};
use assay_engine::{Command, Envelope};
use assay_log::NoteSigner;
use assay_server::clock::Clock;
use assay_server::journal::MemoryJournal;
use assay_server::sequencer::{Genesis, Rejection, Reply, Request, Sequencer, SequencerHandle};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::task::JoinHandle;

const ORIGIN: &str = "assay.test/log";

fn key(label: &str) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(label.as_bytes()).into())
}

/// A sequencer on `journal` (new or replayed) and its handle; `run` decides when it starts
/// taking requests, so a test can queue several into one batch first.
async fn open(journal: MemoryJournal) -> (Sequencer<MemoryJournal>, SequencerHandle, Queue) {
    let rules_json = Rules::from_toml_str(include_str!("../../../rules/default.toml"))
        .unwrap()
        .canonical_json();
    let vkey = NoteSigner::new(ORIGIN, &[7; 32])
        .unwrap()
        .verifier_key()
        .to_vkey();
    // A slow clock on January 1st: no day closes during the test.
    let start = Timestamp(TradingDay(20_454).start().0 + 1_000_000);
    let (sequencer, handle, _published, queue) = Sequencer::start(
        journal,
        Clock::simulated(start, 1.0),
        key("exchange"),
        Genesis {
            rules_json: &rules_json,
            log_origin: ORIGIN,
            log_vkey: &vkey,
        },
        assay_server::sequencer::QUEUE_INPUTS_MAX,
        assay_server::resume::Resume::empty(),
        None,
        payout_writer().await,
    )
    .await
    .unwrap();
    (sequencer, handle, queue)
}

/// No run happens in these tests; the writer sits on a memory table and a scratch key.
async fn payout_writer() -> assay_server::payouts::PayoutWriter {
    let dir = std::env::temp_dir().join(format!("assay-idempotent-{}", std::process::id()));
    let store = assay_store::AnyStore::open(&assay_store::StoreLocation::Memory)
        .await
        .unwrap();
    let key = assay_server::destinations::SealingKey::load_or_create(&dir).unwrap();
    let destinations = assay_server::destinations::Destinations::new(store, key);
    assay_server::payouts::PayoutWriter::new(&dir, std::sync::Arc::new(destinations), None)
}

type Queue = tokio::sync::mpsc::Receiver<assay_server::sequencer::Submission>;

fn run(sequencer: Sequencer<MemoryJournal>, queue: Queue) -> JoinHandle<MemoryJournal> {
    tokio::spawn(sequencer.run(queue))
}

/// Stops the sequencer (every handle dropped) and returns its journal.
async fn stop(handle: SequencerHandle, task: JoinHandle<MemoryJournal>) -> MemoryJournal {
    drop(handle);
    task.await.unwrap()
}

async fn submit(handle: &SequencerHandle, request: Request) -> Reply {
    handle.submit(request).await.unwrap()
}

fn deposit(amount: u64, reference: u8) -> Request {
    Request::Exchange(Command::FundBuyer {
        buyer: BuyerId(0),
        amount: Micros::new(amount),
        deposit_reference: [reference; 32],
    })
}

fn index(reply: &Reply) -> u64 {
    match reply {
        Ok(accepted) => accepted.index,
        Err(rejection) => panic!("rejected: {rejection:?}"),
    }
}

/// The state hash the sequencer reports equals a replay of its journal's entries.
async fn assert_status_is_replay(handle: &SequencerHandle, journal_entries: &[Vec<u8>]) {
    let status = handle.status().await.unwrap();
    let replayed = assay_engine::replay(journal_entries.iter().map(Vec::as_slice)).unwrap();
    assert_eq!(status.log_size, journal_entries.len() as u64);
    assert_eq!(status.state_hash, hex::encode(replayed.hash()));
}

#[tokio::test]
async fn a_repeated_deposit_returns_its_first_outcome_across_a_restart() {
    let (sequencer, handle, queue) = open(MemoryJournal::default()).await;
    let task = run(sequencer, queue);
    let buyer = key("buyer");
    let registered = submit(
        &handle,
        Request::Signed(Envelope::sign(&buyer, 0, Command::RegisterBuyer)),
    )
    .await;
    index(&registered);
    let first = submit(&handle, deposit(1_000, 1)).await;
    let again = submit(&handle, deposit(1_000, 1)).await;
    assert_eq!(index(&again), index(&first));
    // The same reference for another amount is refused, not applied.
    assert!(matches!(
        submit(&handle, deposit(2_000, 1)).await,
        Err(Rejection::DepositReferenceReused)
    ));
    let journal = stop(handle, task).await;
    let size = journal.entries.len();

    // After a restart (the outcome rebuilt from the log), the repeat is still the same deposit.
    let entries = journal.entries.clone();
    let (sequencer, handle, queue) = open(journal).await;
    let task = run(sequencer, queue);
    assert_status_is_replay(&handle, &entries).await;
    let after_restart = submit(&handle, deposit(1_000, 1)).await;
    assert_eq!(index(&after_restart), index(&first));
    let new = submit(&handle, deposit(1_000, 2)).await;
    assert_eq!(index(&new), size as u64);
    let journal = stop(handle, task).await;
    assert_eq!(
        journal.entries.len(),
        size + 1,
        "only the new deposit was logged"
    );
}

#[tokio::test]
async fn repeats_within_one_batch_wait_for_the_first_outcome() {
    // A buyer to deposit for, in a first run.
    let (sequencer, handle, queue) = open(MemoryJournal::default()).await;
    let task = run(sequencer, queue);
    let buyer = key("buyer");
    let envelope = Envelope::sign(&buyer, 0, Command::RegisterBuyer);
    index(&submit(&handle, Request::Signed(envelope)).await);
    let journal = stop(handle, task).await;
    let size = journal.entries.len() as u64;

    // Two copies of an envelope and two of a deposit, queued before the sequencer runs, so all
    // four land in its first batch (a client resending before its first attempt is answered).
    let (sequencer, handle, queue) = open(journal).await;
    let other = key("other buyer");
    let envelope = Envelope::sign(&other, 0, Command::RegisterBuyer);
    let requests = [
        Request::Signed(envelope.clone()),
        Request::Signed(envelope),
        deposit(1_000, 3),
        deposit(1_000, 3),
    ];
    let waiting: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let handle = handle.clone();
            tokio::spawn(async move { handle.submit(request).await.unwrap() })
        })
        .collect();
    // On this single-threaded runtime the sleep lets every submit reach the queue.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let task = run(sequencer, queue);
    let mut replies = Vec::new();
    for reply in waiting {
        replies.push(index(&reply.await.unwrap()));
    }
    assert_eq!(
        replies[0], replies[1],
        "the resent envelope got another outcome"
    );
    assert_eq!(
        replies[2], replies[3],
        "the resent deposit got another outcome"
    );
    let mut distinct = replies.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct, vec![size, size + 1]);
    let journal = stop(handle, task).await;
    assert_eq!(
        journal.entries.len() as u64,
        size + 2,
        "each was logged once"
    );
}
