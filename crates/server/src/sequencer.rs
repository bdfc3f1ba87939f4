//! The one writer (issue 7): takes signed commands from a bounded queue, stamps them, verifies
//! their signatures in a batch, applies them to the engine, appends the accepted entries in one
//! durable batch (group commit), and only then answers each request. It also closes trading
//! days and runs the month on time: before stamping a batch past midnight it first applies the
//! exchange's `CloseTradingDay` (and the due `RunMonthlyDistribution`), and when idle it wakes at
//! midnight by the injected clock.

use crate::clock::Clock;
use crate::journal::Journal;
use crate::resume::{EntryEvents, Resume};
use crate::snapshot::{PendingSnapshot, Snapshotter};
use crate::view::{PublicView, RunView};
use assay_core::{PublicKey, Timestamp, TradingDay};
use assay_engine::{
    apply_verified, verify_signatures, Command, Envelope, Event, Input, LogEntry, Refusal, State,
};
use ed25519_dalek::SigningKey;
use serde::Serialize;
use sha2::Digest as _;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Most submissions taken into one batch (one durable append).
pub const BATCH_INPUTS_MAX: usize = 1_024;
/// Queue length before requests are answered 503 with Retry-After.
pub const QUEUE_INPUTS_MAX: usize = 8_192;
/// Accepted outcomes kept to answer a resubmitted envelope idempotently.
pub const IDEMPOTENT_OUTCOMES_MAX: usize = 1_000_000;
/// Events kept for slow stream subscribers before they miss some.
pub const STREAM_EVENTS_MAX: usize = 4_096;

/// What an accepted input did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// Index of the input's entry in the log.
    pub index: u64,
    /// The sequencer's timestamp, µs since the Unix epoch (UTC).
    pub timestamp: i64,
    /// The engine's events, as JSON.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Event>,
}

#[derive(Debug, Clone)]
pub enum Rejection {
    Refused(Refusal),
    /// The signer's sequence number was used before, by a different envelope.
    SequenceReused,
    /// The log could not be written; nothing of the batch may be assumed applied.
    Unavailable(String),
}

pub type Reply = Result<Arc<Accepted>, Rejection>;

/// An accepted input waiting for its batch to be durable.
struct Pending {
    entry: Vec<u8>,
    events: Vec<Event>,
    /// `None` for the exchange's own scheduled commands, which nobody waits for.
    submission: Option<Submission>,
    envelope: Envelope,
    timestamp: Timestamp,
}

/// A request for the sequencer: a client's signed envelope, or a command the exchange itself
/// signs (deposits recorded by an operator).
pub enum Request {
    Signed(Envelope),
    Exchange(Command),
}

pub struct Submission {
    pub request: Request,
    pub reply: oneshot::Sender<Reply>,
}

/// What clients hold: a bounded queue into the sequencer.
#[derive(Clone)]
pub struct SequencerHandle {
    queue: mpsc::Sender<Submission>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the sequencer queue is full")]
    QueueFull,
    #[error("the sequencer has stopped")]
    Stopped,
}

impl SequencerHandle {
    /// Queues a request; never waits for room (a full queue is the caller's 503).
    pub async fn submit(&self, request: Request) -> Result<Reply, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Submission { request, reply })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => SubmitError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Stopped,
            })?;
        answer.await.map_err(|_| SubmitError::Stopped)
    }
}

/// What a new log's first entry records: the rules in force and the log's identity.
pub struct Genesis<'a> {
    pub rules_json: &'a str,
    pub log_origin: &'a str,
    /// The checkpoint verifier key, C2SP vkey form.
    pub log_vkey: &'a str,
}

/// Channels the rest of the server reads.
pub struct Published {
    pub view: watch::Receiver<Arc<PublicView>>,
    pub events: broadcast::Sender<Arc<String>>,
}

pub struct Sequencer<J: Journal> {
    state: State,
    journal: J,
    clock: Clock,
    exchange: SigningKey,
    last_stamp: Timestamp,
    batch_now: Timestamp,
    log_size: u64,
    outcomes: HashMap<(PublicKey, u64), (Envelope, Arc<Accepted>)>,
    outcome_order: VecDeque<(PublicKey, u64)>,
    runs: Vec<RunView>,
    run_entries: Vec<EntryEvents>,
    view: watch::Sender<Arc<PublicView>>,
    events: broadcast::Sender<Arc<String>>,
    snapshots: Option<Snapshotter>,
}

impl<J: Journal> Sequencer<J> {
    /// Replays the journal from where `resume` stands (checking every signature and event
    /// digest), writes genesis if the journal is empty, and returns the sequencer with its
    /// handle and published channels. `snapshots`, if given, writes snapshots from then on.
    pub async fn start(
        journal: J,
        clock: Clock,
        exchange: SigningKey,
        genesis: Genesis<'_>,
        mut resume: Resume,
        snapshots: Option<Snapshotter>,
    ) -> anyhow::Result<(
        Sequencer<J>,
        SequencerHandle,
        Published,
        mpsc::Receiver<Submission>,
    )> {
        let entries = journal.entries(resume.log_size).await?;
        resume.replay(&entries)?;
        drop(entries);
        let Resume {
            state,
            log_size,
            last_stamp,
            outcomes,
            outcome_order,
            runs,
            run_entries,
            ..
        } = resume;
        let (view, view_rx) = watch::channel(Arc::new(PublicView::default()));
        let (events, _) = broadcast::channel(STREAM_EVENTS_MAX);
        let mut sequencer = Sequencer {
            state,
            journal,
            clock,
            exchange,
            last_stamp,
            batch_now: Timestamp(i64::MIN),
            log_size,
            outcomes,
            outcome_order,
            runs,
            run_entries,
            view,
            events: events.clone(),
            snapshots,
        };
        sequencer.trim_outcomes();
        if sequencer.state.exchange.is_none() {
            sequencer.batch_now = sequencer.clock.now();
            let genesis = Command::Genesis {
                rules_json: genesis.rules_json.to_string(),
                log_origin: genesis.log_origin.to_string(),
                log_vkey: genesis.log_vkey.to_string(),
            };
            let mut pending = Vec::new();
            let now = sequencer.stamp();
            sequencer.apply_exchange(genesis, now, &mut pending)?;
            sequencer.commit(pending).await?;
        }
        sequencer.publish();
        let (queue, rx) = mpsc::channel(QUEUE_INPUTS_MAX);
        Ok((
            sequencer,
            SequencerHandle { queue },
            Published {
                view: view_rx,
                events,
            },
            rx,
        ))
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Runs until every handle is dropped; then finishes the batch in hand and returns.
    pub async fn run(mut self, mut queue: mpsc::Receiver<Submission>) -> J {
        loop {
            let midnight = TradingDay(self.state.open_day.0 + 1).start();
            let wait = self.clock.until(midnight);
            let mut batch = Vec::new();
            tokio::select! {
                received = queue.recv() => match received {
                    Some(submission) => batch.push(submission),
                    None => break,
                },
                _ = tokio::time::sleep(wait) => {}
            }
            while batch.len() < BATCH_INPUTS_MAX {
                match queue.try_recv() {
                    Ok(submission) => batch.push(submission),
                    Err(_) => break,
                }
            }
            if let Err(error) = self.process(batch).await {
                // The state may now be ahead of the durable log: stop, and let a restart replay
                // the log (every acknowledged input is in it; nothing else was acknowledged).
                // No snapshot of this state may be written.
                eprintln!("sequencer stopping: {error:#}");
                if let Some(snapshots) = &mut self.snapshots {
                    snapshots.finish().await;
                }
                return self.journal;
            }
        }
        // A graceful stop: the state is exactly the durable log, so a restart need replay
        // nothing.
        if let Some(mut snapshots) = self.snapshots.take() {
            snapshots.finish().await;
            if snapshots.last_size() < self.log_size {
                snapshots.begin(self.pending_snapshot());
                snapshots.finish().await;
            }
        }
        self.journal
    }

    /// What a snapshot of the state now holds; cloning the state is the only O(state) work done
    /// here, on the writer's task. Encoding, hashing and writing happen on a blocking thread.
    fn pending_snapshot(&self) -> PendingSnapshot {
        let recent = self
            .outcome_order
            .len()
            .min(crate::snapshot::SNAPSHOT_OUTCOMES_MAX);
        let outcomes = self
            .outcome_order
            .iter()
            .skip(self.outcome_order.len() - recent)
            .map(|key| self.outcomes[key].1.clone())
            .collect();
        PendingSnapshot {
            state: self.state.clone(),
            log_size: self.log_size,
            log_root: self.journal.root(),
            outcomes,
            runs: self.run_entries.clone(),
        }
    }

    /// Strictly increasing stamps from the clock as read at the start of the batch
    /// (`batch_now`), so one batch never straddles a midnight the catch-up did not see.
    fn stamp(&mut self) -> Timestamp {
        let now = self
            .batch_now
            .max(Timestamp(self.last_stamp.0.saturating_add(1)));
        self.last_stamp = now;
        now
    }

    fn apply_exchange(
        &mut self,
        command: Command,
        timestamp: Timestamp,
        pending: &mut Vec<Pending>,
    ) -> anyhow::Result<()> {
        let signer = PublicKey::from(self.exchange.verifying_key());
        let sequence = self.state.sequences.get(&signer).copied().unwrap_or(0);
        let envelope = Envelope::sign(&self.exchange, sequence, command);
        let input = Input {
            envelope: envelope.clone(),
            timestamp,
        };
        let events = apply_verified(&mut self.state, &input).map_err(|refusal| {
            anyhow::anyhow!("the exchange's own command was refused: {refusal}")
        })?;
        let entry = LogEntry::new(input, &events).encode();
        pending.push(Pending {
            entry,
            events,
            submission: None,
            envelope,
            timestamp,
        });
        Ok(())
    }

    /// Records the run's settlement (D6) right after the run. The reference is the SHA-256 of the
    /// run's payout instructions as logged; when the rails' files are written (issue 9) it
    /// becomes the hash of those files.
    fn settle(&mut self, pending: &mut Vec<Pending>) -> anyhow::Result<()> {
        let Some(run) = pending.last() else {
            return Ok(());
        };
        let Some(payout_root) = run.events.iter().find_map(|event| match event {
            // A run that pays nobody leaves nothing to settle.
            Event::MonthlyRunRecorded {
                payout_root,
                payout_count,
                ..
            } if *payout_count > 0 => Some(*payout_root),
            _ => None,
        }) else {
            return Ok(());
        };
        let instructions = serde_json::to_vec(&run.events)?;
        let settlement_reference: [u8; 32] = sha2::Sha256::digest(&instructions).into();
        let now = self.stamp();
        let command = Command::SettlePayouts {
            payout_root,
            settlement_reference,
        };
        self.apply_exchange(command, now, pending)
    }

    /// Trading-day closes and the monthly run that are due by `now` (M2–M4, M10, D4).
    fn catch_up(&mut self, pending: &mut Vec<Pending>) -> anyhow::Result<()> {
        loop {
            if let Some(month) = self.state.run_pending {
                let now = self.stamp();
                self.apply_exchange(Command::RunMonthlyDistribution { month }, now, pending)?;
                self.settle(pending)?;
                continue;
            }
            let day = self.state.open_day;
            if self.batch_now.max(self.last_stamp).trading_day() <= day {
                return Ok(());
            }
            let stamp = self.stamp();
            self.apply_exchange(Command::CloseTradingDay { day }, stamp, pending)?;
        }
    }

    async fn process(&mut self, batch: Vec<Submission>) -> anyhow::Result<()> {
        let mut pending = Vec::with_capacity(batch.len() + 2);
        self.batch_now = self.clock.now();
        self.catch_up(&mut pending)?;
        // Stamp every request in arrival order; verify the clients' signatures in one batch.
        let stamps: Vec<Timestamp> = batch.iter().map(|_| self.stamp()).collect();
        let signed: Vec<Input> = batch
            .iter()
            .zip(&stamps)
            .filter_map(|(submission, &timestamp)| match &submission.request {
                Request::Signed(envelope) => Some(Input {
                    envelope: envelope.clone(),
                    timestamp,
                }),
                Request::Exchange(_) => None,
            })
            .collect();
        let mut verdicts = verify_signatures(&signed).into_iter();
        let mut signed = signed.into_iter();
        for (submission, timestamp) in batch.into_iter().zip(stamps) {
            let (input, verdict) = match &submission.request {
                Request::Signed(_) => {
                    let input = signed.next().expect("one input per signed request");
                    (
                        input,
                        verdicts.next().expect("one verdict per signed input"),
                    )
                }
                // Signed now, with the exchange's next sequence number, so a refused operator
                // command leaves no gap.
                Request::Exchange(command) => {
                    let signer = PublicKey::from(self.exchange.verifying_key());
                    let sequence = self.state.sequences.get(&signer).copied().unwrap_or(0);
                    let envelope = Envelope::sign(&self.exchange, sequence, command.clone());
                    (
                        Input {
                            envelope,
                            timestamp,
                        },
                        Ok(()),
                    )
                }
            };
            let outcome = verdict.and_then(|()| apply_verified(&mut self.state, &input));
            match outcome {
                Ok(events) => {
                    let entry = LogEntry::new(input.clone(), &events).encode();
                    pending.push(Pending {
                        entry,
                        events,
                        submission: Some(submission),
                        envelope: input.envelope,
                        timestamp: input.timestamp,
                    });
                }
                Err(refusal @ Refusal::SequenceReplayed { .. }) => {
                    let key = (input.envelope.signer, input.envelope.sequence);
                    let reply = match self.outcomes.get(&key) {
                        Some((envelope, accepted)) if *envelope == input.envelope => {
                            Ok(accepted.clone())
                        }
                        Some(_) => Err(Rejection::SequenceReused),
                        None => Err(Rejection::Refused(refusal)),
                    };
                    let _ = submission.reply.send(reply);
                }
                Err(refusal) => {
                    let _ = submission.reply.send(Err(Rejection::Refused(refusal)));
                }
            }
        }
        self.commit(pending).await
    }

    /// Appends the batch durably, then answers, records outcomes and publishes.
    async fn commit(&mut self, pending: Vec<Pending>) -> anyhow::Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let entries: Vec<Vec<u8>> = pending.iter().map(|p| p.entry.clone()).collect();
        if let Err(error) = self.journal.append(&entries).await {
            for Pending { submission, .. } in pending {
                if let Some(submission) = submission {
                    let _ = submission
                        .reply
                        .send(Err(Rejection::Unavailable(error.to_string())));
                }
            }
            return Err(error);
        }
        for Pending {
            events,
            submission,
            envelope,
            timestamp,
            ..
        } in pending
        {
            let index = self.log_size;
            self.log_size += 1;
            for event in &events {
                self.broadcast(event);
                if let Some(run) = RunView::from_event(event) {
                    self.runs.push(run);
                }
            }
            if events
                .iter()
                .any(|event| RunView::from_event(event).is_some())
            {
                self.run_entries.push(EntryEvents {
                    index,
                    events: events.clone(),
                });
            }
            let key = (envelope.signer, envelope.sequence);
            let accepted = Arc::new(Accepted {
                index,
                timestamp: timestamp.0,
                events,
            });
            self.outcomes.insert(key, (envelope, accepted.clone()));
            self.outcome_order.push_back(key);
            if let Some(submission) = submission {
                let _ = submission.reply.send(Ok(accepted));
            }
        }
        self.trim_outcomes();
        self.publish();
        if self
            .snapshots
            .as_ref()
            .is_some_and(|snapshots| snapshots.due(self.log_size))
        {
            let pending = self.pending_snapshot();
            if let Some(snapshots) = &mut self.snapshots {
                snapshots.begin(pending);
            }
        }
        Ok(())
    }

    fn trim_outcomes(&mut self) {
        while self.outcome_order.len() > IDEMPOTENT_OUTCOMES_MAX {
            if let Some(key) = self.outcome_order.pop_front() {
                self.outcomes.remove(&key);
            }
        }
    }

    /// Price and basket events for the server-sent-events stream; nothing about members.
    fn broadcast(&self, event: &Event) {
        let kind = match event {
            Event::BasketPosted { .. } => "basket_posted",
            Event::BasketClosed { .. } => "basket_closed",
            Event::BasketUnfillable { .. } => "basket_unfillable",
            Event::BasketCanceled { .. } => "basket_canceled",
            Event::TradingDayClosed { .. } => "price",
            Event::EmergencyMeeting { .. } => "emergency_meeting",
            _ => return,
        };
        let body = serde_json::json!({ "kind": kind, "event": event }).to_string();
        let _ = self.events.send(Arc::new(body));
    }

    fn publish(&self) {
        let view = PublicView::build(&self.state, self.log_size, &self.runs);
        self.view.send_replace(Arc::new(view));
    }
}
