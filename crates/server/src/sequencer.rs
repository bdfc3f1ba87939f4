//! The one writer (issue 7): takes signed commands from a bounded queue, stamps them, verifies
//! their signatures in a batch, applies them to the engine, appends the accepted entries in one
//! durable batch (group commit), and only then answers each request. It also closes trading
//! days and runs the month on time: before stamping a batch past midnight it first applies the
//! exchange's `CloseTradingDay` (and the due `RunMonthlyDistribution`), and when idle it wakes at
//! midnight by the injected clock.

use crate::clock::Clock;
use crate::journal::Journal;
use crate::members::{IndexUpdate, MemberIndex, OpenSpecs};
use crate::payouts::PayoutWriter;
use crate::resume::{History, Resume};
use crate::snapshot::{PendingSnapshot, Snapshotter};
use crate::view::PublicView;
use assay_core::{BuyerId, Micros, Month, PublicKey, Timestamp, TradingDay};
use assay_engine::command::Digest;
use assay_engine::{
    apply_verified, verify_signatures, Command, Envelope, Event, Input, LogEntry, Refusal, State,
};
use ed25519_dalek::SigningKey;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Most submissions taken into one batch (one durable append).
pub const BATCH_INPUTS_MAX: usize = 1_024;
/// Queue length before requests are answered 503 with Retry-After (the default of
/// `ServeOptions::queue_inputs_max`).
pub const QUEUE_INPUTS_MAX: usize = 8_192;
/// Accepted outcomes kept to answer a resubmitted envelope idempotently.
pub const IDEMPOTENT_OUTCOMES_MAX: usize = 1_000_000;
/// Events kept for slow stream subscribers before they miss some.
pub const STREAM_EVENTS_MAX: usize = 4_096;
/// StateSnapshot queries waiting for the sequencer before `/v1/health` answers 503.
pub const STATUS_QUERIES_MAX: usize = 64;
/// Member look-ups (destination requests) waiting for the sequencer before they answer 503.
pub const MEMBER_QUERIES_MAX: usize = 256;

/// A member's key and payout choice as the durable log has them (issue 9: a destination
/// request is checked against them).
#[derive(Debug, Clone, Copy)]
pub struct MemberPayout {
    pub key: PublicKey,
    pub payout: assay_engine::PayoutChoice,
}

type MemberQuery = (assay_core::MemberId, oneshot::Sender<Option<MemberPayout>>);

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
    /// The deposit reference was recorded before, for another buyer or amount.
    DepositReferenceReused,
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
    /// What the member index learns once the entry is durable.
    index: IndexUpdate,
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

/// The engine's state as of a log size, for anyone to compare with their own replay (L3).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StateSnapshot {
    /// Log entries applied to the state below.
    pub log_size: u64,
    /// `State::hash` after replaying the first `log_size` entries, hex.
    pub state_hash: String,
    /// The open trading day, `YYYY-MM-DD` (UTC).
    pub open_day: String,
}

/// What clients hold: a bounded queue into the sequencer, and one for status queries.
#[derive(Clone)]
pub struct SequencerHandle {
    queue: mpsc::Sender<Submission>,
    status: mpsc::Sender<oneshot::Sender<StateSnapshot>>,
    members: mpsc::Sender<MemberQuery>,
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

    /// The state hash and log size, read by the sequencer between two batches (so the hash is
    /// of exactly the durable log's first `log_size` entries).
    pub async fn status(&self) -> Result<StateSnapshot, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.status.try_send(reply).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => SubmitError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => SubmitError::Stopped,
        })?;
        answer.await.map_err(|_| SubmitError::Stopped)
    }

    /// Member `member`'s key and payout choice, read by the sequencer between two batches.
    pub async fn member_payout(
        &self,
        member: assay_core::MemberId,
    ) -> Result<Option<MemberPayout>, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.members
            .try_send((member, reply))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => SubmitError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Stopped,
            })?;
        answer.await.map_err(|_| SubmitError::Stopped)
    }
}

/// A request that repeats one already in the log or in the batch being built: it gets that
/// request's outcome instead of being applied again.
enum Repeat {
    Envelope(Envelope),
    Deposit {
        buyer: BuyerId,
        amount: Micros,
        reference: Digest,
    },
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
    /// Members' grants and payout lines, as of the last durable batch.
    pub members: Arc<RwLock<MemberIndex>>,
}

pub struct Sequencer<J: Journal> {
    state: State,
    journal: J,
    clock: Clock,
    exchange: SigningKey,
    last_stamp: Timestamp,
    batch_now: Timestamp,
    /// Outcomes for resubmissions, deposits by reference (an operator retrying a deposit whose
    /// answer was lost gets the original outcome), runs and payout statuses: see `History`.
    history: History,
    status_queries: mpsc::Receiver<oneshot::Sender<StateSnapshot>>,
    member_queries: mpsc::Receiver<MemberQuery>,
    /// `State::hash` is O(state): computed once per log size asked about.
    status_cache: Option<StateSnapshot>,
    view: watch::Sender<Arc<PublicView>>,
    events: broadcast::Sender<Arc<String>>,
    specs: OpenSpecs,
    members: Arc<RwLock<MemberIndex>>,
    snapshots: Option<Snapshotter>,
    /// Writes each run's payout files (issue 9).
    payouts: PayoutWriter,
}

impl<J: Journal> Sequencer<J> {
    /// Replays the journal from where `resume` stands (checking every signature and event
    /// digest), writes genesis if the journal is empty, and returns the sequencer with its
    /// handle and published channels. `snapshots`, if given, writes snapshots from then on.
    // Each argument is one of the sequencer's independent parts, passed once at start; a
    // builder would add a type without removing any of them.
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        journal: J,
        clock: Clock,
        exchange: SigningKey,
        genesis: Genesis<'_>,
        queue_inputs_max: usize,
        mut resume: Resume,
        snapshots: Option<Snapshotter>,
        payouts: PayoutWriter,
    ) -> anyhow::Result<(
        Sequencer<J>,
        SequencerHandle,
        Published,
        mpsc::Receiver<Submission>,
    )> {
        let entries = journal.entries(resume.log_size()).await?;
        resume.replay(&entries)?;
        drop(entries);
        let Resume {
            state,
            last_stamp,
            history,
            specs,
            members,
            ..
        } = resume;
        let (view, view_rx) = watch::channel(Arc::new(PublicView::default()));
        let (status, status_queries) = mpsc::channel(STATUS_QUERIES_MAX);
        let (member_sender, member_queries) = mpsc::channel(MEMBER_QUERIES_MAX);
        let (events, _) = broadcast::channel(STREAM_EVENTS_MAX);
        let members = Arc::new(RwLock::new(members));
        let mut sequencer = Sequencer {
            state,
            journal,
            clock,
            exchange,
            last_stamp,
            batch_now: Timestamp(i64::MIN),
            history,
            status_queries,
            member_queries,
            status_cache: None,
            view,
            events: events.clone(),
            specs,
            members: members.clone(),
            snapshots,
            payouts,
        };
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
        let (queue, rx) = mpsc::channel(queue_inputs_max.max(1));
        Ok((
            sequencer,
            SequencerHandle {
                queue,
                status,
                members: member_sender,
            },
            Published {
                view: view_rx,
                events,
                members,
            },
            rx,
        ))
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The state hash at the current log size; only called between batches, when the state is
    /// exactly the durable log's.
    fn status(&mut self) -> StateSnapshot {
        match &self.status_cache {
            Some(status) if status.log_size == self.history.log_size => status.clone(),
            _ => {
                let status = StateSnapshot {
                    log_size: self.history.log_size,
                    state_hash: hex::encode(self.state.hash()),
                    open_day: self.state.open_day.to_string(),
                };
                self.status_cache = Some(status.clone());
                status
            }
        }
    }

    /// The outcome of an earlier request this one repeats, if that request is in the log.
    fn earlier_outcome(&self, repeat: &Repeat) -> Option<Reply> {
        match repeat {
            Repeat::Envelope(envelope) => {
                let (earlier, accepted) = self
                    .history
                    .outcomes
                    .get(&(envelope.signer, envelope.sequence))?;
                Some(if earlier == envelope {
                    Ok(accepted.clone())
                } else {
                    Err(Rejection::SequenceReused)
                })
            }
            // From the engine's record, which a snapshot carries: the first outcome after any
            // restart, however old the deposit.
            Repeat::Deposit {
                buyer,
                amount,
                reference,
            } => Some(
                match self.state.repeated_deposit(*buyer, *amount, reference)? {
                    Ok(deposit) => Ok(Arc::new(Accepted {
                        index: deposit.index,
                        timestamp: deposit.at.0,
                        events: deposit.events(reference),
                    })),
                    Err(_) => Err(Rejection::DepositReferenceReused),
                },
            ),
        }
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
                Some(query) = self.status_queries.recv() => {
                    let _ = query.send(self.status());
                    continue;
                }
                Some((member, reply)) = self.member_queries.recv() => {
                    let found = self.state.member(member).map(|record| MemberPayout {
                        key: record.key,
                        payout: record.payout,
                    });
                    let _ = reply.send(found);
                    continue;
                }
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
            if snapshots.last_size() < self.history.log_size {
                snapshots.begin(self.pending_snapshot());
                snapshots.finish().await;
            }
        }
        self.journal
    }

    /// What a snapshot of the state now holds; cloning the state is the only O(state) work done
    /// here, on the writer's task. Encoding, hashing and writing happen on a blocking thread.
    fn pending_snapshot(&self) -> PendingSnapshot {
        let history = &self.history;
        let recent = history
            .outcome_order
            .len()
            .min(crate::snapshot::SNAPSHOT_OUTCOMES_MAX);
        let outcomes = history
            .outcome_order
            .iter()
            .skip(history.outcome_order.len() - recent)
            .map(|key| history.outcomes[key].1.clone())
            .collect();
        PendingSnapshot {
            state: self.state.clone(),
            log_size: self.history.log_size,
            log_root: self.journal.root(),
            outcomes,
            runs: self.history.run_entries.clone(),
        }
    }

    /// The next stamp: the clock as read at the start of the batch (`batch_now`), or one
    /// microsecond past the last stamp when a burst has run ahead of it.
    fn next_stamp(&self) -> Timestamp {
        self.batch_now
            .max(Timestamp(self.last_stamp.0.saturating_add(1)))
    }

    /// Strictly increasing stamps ([`Self::next_stamp`]). Every client input is stamped right
    /// after a catch-up, so a burst whose stamps run past midnight closes the day first.
    fn stamp(&mut self) -> Timestamp {
        let now = self.next_stamp();
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
        let index = self.index_update(pending.len(), &envelope.command, timestamp, &events);
        let entry = LogEntry::new(input, &events).encode();
        pending.push(Pending {
            entry,
            events,
            submission: None,
            envelope,
            timestamp,
            index,
        });
        Ok(())
    }

    /// The member index's part of an input just applied, the `position`-th of the batch.
    fn index_update(
        &mut self,
        position: usize,
        command: &Command,
        timestamp: Timestamp,
        events: &[Event],
    ) -> IndexUpdate {
        let log_index = self.history.log_size + position as u64;
        self.specs.update(
            &self.state,
            log_index,
            command,
            timestamp.trading_day(),
            events,
        )
    }

    /// Right after a run that pays anyone (D4, D6; issue 9): writes the rails' files into the
    /// data directory, logs them (with the lines held for want of a destination), then logs the
    /// settlement, whose reference is the hash of the file list. All three entries go into the
    /// same durable batch as the run.
    async fn settle(&mut self, pending: &mut Vec<Pending>) -> anyhow::Result<()> {
        let Some(run) = pending.last() else {
            return Ok(());
        };
        let Some((month, payout_root)) = run.events.iter().find_map(|event| match event {
            // A run that pays nobody leaves nothing to settle.
            Event::MonthlyRunRecorded {
                month,
                payout_root,
                payout_count,
                ..
            } if *payout_count > 0 => Some((*month, *payout_root)),
            _ => None,
        }) else {
            return Ok(());
        };
        self.record_and_settle(month, payout_root, pending).await
    }

    /// Writes the files of the unsettled run of `month` (a monthly run or the final payout),
    /// logs them with the held lines, then logs the settlement (D6, issue 9).
    async fn record_and_settle(
        &mut self,
        month: Month,
        payout_root: Digest,
        pending: &mut Vec<Pending>,
    ) -> anyhow::Result<()> {
        let written = self.payouts.write(&self.state, month).await?;
        let now = self.stamp();
        let record = Command::RecordPayoutFiles {
            payout_root,
            files: written.files,
            held: written.held,
        };
        self.apply_exchange(record, now, pending)?;
        let now = self.stamp();
        let command = Command::SettlePayouts {
            payout_root,
            settlement_reference: written.settlement_reference,
        };
        self.apply_exchange(command, now, pending)
    }

    /// Rule X3: once terminated, no day closes and no run follow (the engine would refuse them,
    /// and a refused exchange command stops the sequencer); the exchange pays the final payout
    /// once (D6, X2) as it pays a run: its files into `DATA/payouts/YYYY-MM/` of the final
    /// payout's month, logged, then the settlement.
    async fn after_termination(&mut self, pending: &mut Vec<Pending>) -> anyhow::Result<()> {
        let Some(termination) = &self.state.terminated else {
            return Ok(());
        };
        if termination.settled {
            return Ok(());
        }
        let payout_root = termination.payout_root;
        let Some(run) = &self.state.unsettled else {
            anyhow::bail!("the final payout is neither settled nor unsettled");
        };
        let month = run.month;
        self.record_and_settle(month, payout_root, pending).await
    }

    /// Trading-day closes and the monthly run that are due by `now` (M2–M4, M10, D4).
    async fn catch_up(&mut self, pending: &mut Vec<Pending>) -> anyhow::Result<()> {
        loop {
            if self.state.terminated.is_some() {
                return self.after_termination(pending).await;
            }
            if let Some(month) = self.state.run_pending {
                let now = self.stamp();
                self.apply_exchange(Command::RunMonthlyDistribution { month }, now, pending)?;
                self.settle(pending).await?;
                continue;
            }
            let day = self.state.open_day;
            if self.next_stamp().trading_day() <= day {
                return Ok(());
            }
            let stamp = self.stamp();
            self.apply_exchange(Command::CloseTradingDay { day }, stamp, pending)?;
        }
    }

    async fn process(&mut self, batch: Vec<Submission>) -> anyhow::Result<()> {
        let mut pending = Vec::with_capacity(batch.len() + 2);
        self.batch_now = self.clock.now();
        // Verify the clients' signatures in one batch; they do not cover the stamp, which each
        // input gets in arrival order below.
        let signed: Vec<Input> = batch
            .iter()
            .filter_map(|submission| match &submission.request {
                Request::Signed(envelope) => Some(Input {
                    envelope: envelope.clone(),
                    timestamp: Timestamp(0),
                }),
                Request::Exchange(_) => None,
            })
            .collect();
        let mut verdicts = verify_signatures(&signed).into_iter();
        let mut signed = signed.into_iter();
        // Requests repeating one accepted earlier in this batch wait for its commit.
        let mut waiting: Vec<(Repeat, Submission)> = Vec::new();
        let mut batch_deposits: HashSet<Digest> = HashSet::new();
        self.catch_up(&mut pending).await?;
        for submission in batch {
            if let Request::Exchange(Command::FundBuyer {
                buyer,
                amount,
                deposit_reference,
            }) = &submission.request
            {
                let repeat = Repeat::Deposit {
                    buyer: *buyer,
                    amount: *amount,
                    reference: *deposit_reference,
                };
                // First: a deposit applied earlier in this batch is in the state but not yet
                // durable, so its repeat waits for the commit.
                if batch_deposits.contains(deposit_reference) {
                    waiting.push((repeat, submission));
                    continue;
                }
                if let Some(reply) = self.earlier_outcome(&repeat) {
                    let _ = submission.reply.send(reply);
                    continue;
                }
            }
            self.catch_up(&mut pending).await?;
            let timestamp = self.stamp();
            let (input, verdict) = match &submission.request {
                Request::Signed(_) => {
                    let mut input = signed.next().expect("one input per signed request");
                    input.timestamp = timestamp;
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
                    batch_deposits.extend(events.iter().filter_map(|event| match event {
                        Event::BuyerFunded {
                            deposit_reference, ..
                        } => Some(*deposit_reference),
                        _ => None,
                    }));
                    let index = self.index_update(
                        pending.len(),
                        &input.envelope.command,
                        input.timestamp,
                        &events,
                    );
                    let entry = LogEntry::new(input.clone(), &events).encode();
                    pending.push(Pending {
                        entry,
                        events,
                        submission: Some(submission),
                        envelope: input.envelope,
                        timestamp: input.timestamp,
                        index,
                    });
                }
                Err(refusal @ Refusal::SequenceReplayed { .. }) => {
                    let key = (input.envelope.signer, input.envelope.sequence);
                    let repeat = Repeat::Envelope(input.envelope);
                    let reply = match self.earlier_outcome(&repeat) {
                        Some(reply) => reply,
                        // The same signer and sequence number earlier in this batch (a client
                        // retrying before its first attempt was answered).
                        None if pending
                            .iter()
                            .any(|p| (p.envelope.signer, p.envelope.sequence) == key) =>
                        {
                            waiting.push((repeat, submission));
                            continue;
                        }
                        None => Err(Rejection::Refused(refusal)),
                    };
                    let _ = submission.reply.send(reply);
                }
                Err(refusal) => {
                    let _ = submission.reply.send(Err(Rejection::Refused(refusal)));
                }
            }
        }
        let committed = self.commit(pending).await;
        for (repeat, submission) in waiting {
            let reply = match &committed {
                Ok(()) => self.earlier_outcome(&repeat).unwrap_or_else(|| {
                    Err(Rejection::Unavailable(
                        "the repeated request's outcome was not recorded".to_string(),
                    ))
                }),
                Err(error) => Err(Rejection::Unavailable(error.to_string())),
            };
            let _ = submission.reply.send(reply);
        }
        committed
    }

    /// Appends the batch durably, then answers, records outcomes and publishes.
    async fn commit(&mut self, pending: Vec<Pending>) -> anyhow::Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let mut pending = pending;
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
        {
            // A poisoned lock means a reader panicked while holding it; the index is whole.
            let mut members = self
                .members
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for entry in &mut pending {
                members.apply(std::mem::take(&mut entry.index));
            }
        }
        for Pending {
            events,
            submission,
            envelope,
            timestamp,
            ..
        } in pending
        {
            for event in &events {
                self.broadcast(event);
            }
            let accepted = self.history.record(envelope, timestamp, events);
            if let Some(submission) = submission {
                let _ = submission.reply.send(Ok(accepted));
            }
        }
        self.publish();
        if self
            .snapshots
            .as_ref()
            .is_some_and(|snapshots| snapshots.due(self.history.log_size))
        {
            let pending = self.pending_snapshot();
            if let Some(snapshots) = &mut self.snapshots {
                snapshots.begin(pending);
            }
        }
        Ok(())
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
        let view = PublicView::build(
            &self.state,
            self.history.log_size,
            &self.history.runs,
            self.history.payouts.all(),
        );
        self.view.send_replace(Arc::new(view));
    }
}
