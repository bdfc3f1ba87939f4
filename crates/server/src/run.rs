//! Starting and stopping the whole service: store, log writer, sequencer, HTTP.

use crate::ach_config::AchOriginator;
use crate::clock::Clock;
use crate::destinations::{Destinations, SealingKey};
use crate::limits::RateLimiter;
use crate::payouts::PayoutWriter;
use crate::resume::Resume;
use crate::routes::log::LogReader;
use crate::sequencer::{Genesis, Sequencer};
use crate::snapshot::{SnapshotConfig, Snapshotter};
use crate::store_journal::StoreJournal;
use crate::{router, AppState};
use anyhow::Context;
use assay_core::Rules;
use assay_log::NoteSigner;
use assay_store::{AnyStore, LogWriter, StoreLocation};
use ed25519_dalek::SigningKey;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct ServeOptions {
    pub listen: SocketAddr,
    pub location: StoreLocation,
    pub origin: String,
    pub log_signer: NoteSigner,
    pub exchange_key: SigningKey,
    pub rules: Rules,
    pub clock: Clock,
    pub admin_token: Option<String>,
    pub rate_per_key: u32,
    /// Requests the sequencer's queue holds before it answers 503 with Retry-After
    /// (`sequencer::QUEUE_INPUTS_MAX` unless a test wants a full queue soon).
    pub queue_inputs_max: usize,
    /// Where snapshots are kept and how often they are written; `None`: never, and every
    /// start replays the whole log.
    pub snapshots: Option<SnapshotConfig>,
    /// The data directory, whatever the store: the destination sealing key
    /// (`destinations.key`) and the payout files (`payouts/YYYY-MM/`) live here.
    pub data_dir: std::path::PathBuf,
    /// The ACH originator the operator configured; `None`: no ACH file is written and ACH
    /// lines are held (the other rails are paid).
    pub ach: Option<AchOriginator>,
}

/// How the engine state was rebuilt at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The log size of the snapshot started from, if one was.
    pub snapshot_size: Option<u64>,
    /// Entries replayed on top of it (or from the start).
    pub replayed_entries: u64,
    /// The log's size found in the store (before a new log's genesis).
    pub log_size: u64,
}

pub struct RunningServer {
    pub addr: SocketAddr,
    pub started: Started,
    shutdown: oneshot::Sender<()>,
    http: JoinHandle<std::io::Result<()>>,
    sequencer: JoinHandle<StoreJournal>,
}

/// Opens the store, rebuilds the engine state (from the newest good snapshot and the log after
/// it, or by replaying the whole log), then serves until [`RunningServer::stop`].
pub async fn start(options: ServeOptions) -> anyhow::Result<RunningServer> {
    let store = AnyStore::open(&options.location)
        .await
        .context("opening the store")?;
    let writer = LogWriter::open(store, &options.origin, options.log_signer.clone())
        .await
        .context("resuming the log")?;
    let vkey = writer.verifier_key().to_vkey();
    let resume = match &options.snapshots {
        Some(config) => crate::snapshot::resume(config, &writer, &options.origin).await,
        None => Resume::empty(),
    };
    let started = Started {
        snapshot_size: resume.snapshot_size,
        replayed_entries: writer.size() - resume.snapshot_size.unwrap_or(0),
        log_size: writer.size(),
    };
    let snapshotter = options
        .snapshots
        .clone()
        .map(|config| Snapshotter::new(config, resume.snapshot_size.unwrap_or(0)));
    let journal = StoreJournal::new(writer);
    let rules_json = options.rules.canonical_json();
    let genesis = Genesis {
        rules_json: &rules_json,
        log_origin: &options.origin,
        log_vkey: &vkey,
    };
    let destinations = Arc::new(Destinations::new(
        AnyStore::open(&options.location)
            .await
            .context("opening the store for destinations")?,
        SealingKey::load_or_create(&options.data_dir).context("loading the destination key")?,
    ));
    let payouts = PayoutWriter::new(&options.data_dir, destinations.clone(), options.ach.clone());
    let (sequencer, handle, published, queue) = Sequencer::start(
        journal,
        options.clock.clone(),
        options.exchange_key.clone(),
        genesis,
        options.queue_inputs_max,
        resume,
        snapshotter,
        payouts,
    )
    .await
    .context("replaying the log")?;
    // Opened before the sequencer runs: opening checks the head against the stored entries in
    // two reads, which an append between them would make look torn.
    let reader_store = AnyStore::open(&options.location)
        .await
        .context("opening the store for reads")?;
    let rules = sequencer.state().rules().cloned().unwrap_or(options.rules);

    let sequencer = tokio::spawn(async move {
        let mut journal = sequencer.run(queue).await;
        // A last checkpoint covers everything acknowledged before the stop.
        if let Err(error) = journal.checkpoint().await {
            eprintln!("final checkpoint failed: {error:#}");
        }
        journal
    });
    let app = AppState {
        sequencer: handle,
        view: published.view,
        events: published.events,
        members: published.members,
        destinations,
        rules_json: Arc::new(rules.canonical_json()),
        rules_hash: rules.hash_hex(),
        admin_token: options.admin_token,
        limiter: Arc::new(RateLimiter::new(options.rate_per_key)),
        log: Some(Arc::new(LogReader {
            store: reader_store,
            origin: options.origin,
            vkey,
        })),
    };
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("listening on {}", options.listen))?;
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = oneshot::channel::<()>();
    let http = tokio::spawn(async move {
        axum::serve(listener, router(app))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        started,
        shutdown,
        http,
        sequencer,
    })
}

impl RunningServer {
    /// Graceful stop: no new connections; requests in flight finish (their commands are
    /// applied and durable, or refused cleanly); then the sequencer drains, writes a last
    /// snapshot (if configured), signs a final checkpoint and closes the store.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.http.await.context("joining the HTTP task")??;
        let journal = self.sequencer.await.context("joining the sequencer")?;
        journal.writer().store().close().await;
        Ok(())
    }

    /// Serves until Ctrl-C or SIGTERM, then stops gracefully.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        ctrl_c.await?;
        self.stop().await
    }
}
