//! What a member's wallet asks about itself (M15, W5): the grants it was picked for, and its
//! payout line in each monthly run with an inclusion proof in the run's payout root.
//!
//! Everything here is derivable from the public log by replay (grants and payout lines hold
//! pseudonymous ids, prices and commitments only, never behavioral data); the index spares
//! each wallet that replay. The sequencer builds one [`IndexUpdate`] per applied input and
//! applies it to the shared [`MemberIndex`] only after the input's batch is durable, so a
//! reader never sees an unacknowledged grant.

use assay_core::{BasketId, MemberId, Micros, Month, TradingDay};
use assay_engine::command::Digest;
use assay_engine::{payout_leaf, Command, Event, MemberShare, PayoutFile, Rail, State};
use assay_log::{prove_inclusion, Hash, Tree};
use assay_market::BasketSpec;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use utoipa::ToSchema;

/// Grants kept per member (the oldest are dropped; the log keeps them all).
pub const GRANTS_PER_MEMBER_MAX: usize = 1_000;
/// Monthly runs whose payout lines are kept (ten years).
pub const RUNS_INDEXED_MAX: usize = 120;

/// A grant as the picked member's wallet needs it to deliver (M15) and check its share (W5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GrantView {
    pub grant: u64,
    pub basket: u64,
    pub slot: u8,
    pub buyer: u64,
    /// The buyer's Ed25519 key, hex: the delivery key must carry its signature.
    pub buyer_key: String,
    #[schema(value_type = Object)]
    pub spec: BasketSpec,
    /// The trading day the basket cleared (days since 1970-01-01); the data window ends there.
    pub cleared_on: i32,
    pub unit_price_micros: u64,
    pub price_micros: u64,
    /// The lottery seed the selection used (M13), hex.
    pub seed: String,
    /// Every picked member's share (D3), so a wallet can recompute its own from the rules.
    #[schema(value_type = Vec<Object>)]
    pub members: Vec<MemberShare>,
    /// Index of the log entry that issued the grant (for an inclusion proof).
    pub log_index: u64,
}

/// A member's payout line in a run and its inclusion proof in the run's payout root (D4, W5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayoutView {
    /// `YYYY-MM`.
    pub month: String,
    pub member: u64,
    pub amount_micros: u64,
    #[schema(value_type = String)]
    pub rail: Rail,
    /// Hex.
    pub destination_commitment: String,
    /// The line's position among the run's lines, and their number.
    pub index: u64,
    pub count: u64,
    /// Hex, as in the run summary.
    pub payout_root: String,
    /// RFC 6962 inclusion proof, base64 hashes.
    pub proof: Vec<String>,
    /// What became of the line once the run's files were logged (issue 9).
    pub status: PayoutLineStatus,
    /// The name of the file that carries the line, when `status` is `sent` (listed with its
    /// SHA-256 under `GET /v1/payouts/{month}`); null otherwise.
    pub file: Option<String>,
}

/// A payout line's fate at the rails, as the log's `PayoutFilesRecorded` entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutLineStatus {
    /// The run is recorded, its files are not logged yet.
    Pending,
    /// In a file the rails were given (`file` names it).
    Sent,
    /// Held: the exchange had no destination matching the member's commitment, so the amount
    /// went back to the member's balance, to be paid at a later run.
    Held,
}

#[derive(Debug, Clone)]
struct Line {
    member: MemberId,
    amount: Micros,
    rail: Rail,
    destination_commitment: [u8; 32],
}

/// Where a line went once its run's files were logged.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LineOutcome {
    /// In the named file; `None` only if the logged files did not account for the line, which
    /// the engine refuses (`payout_files_mismatch`).
    Sent(Option<String>),
    Held,
}

/// One run's payout lines and the stored hashes of their tree, for proofs.
#[derive(Debug)]
struct RunPayouts {
    lines: Vec<Line>,
    by_member: HashMap<MemberId, usize>,
    stored: Vec<Hash>,
    root: [u8; 32],
    /// One per line, once the run's files are logged.
    outcomes: Option<Vec<LineOutcome>>,
}

/// A run's files and held lines as logged (`PayoutFilesRecorded`).
#[derive(Debug)]
struct RecordedFiles {
    payout_root: Digest,
    files: Vec<PayoutFile>,
    held: Vec<MemberId>,
}

/// What one applied input adds to the index.
#[derive(Debug, Default)]
pub struct IndexUpdate {
    grants: Vec<(MemberId, GrantView)>,
    run: Option<(Month, RunPayouts)>,
    files: Option<RecordedFiles>,
}

/// Baskets' specs from posting to close: grants name only the basket, and the engine forgets a
/// basket's spec when it closes. Owned by the sequencer, updated as each input is applied.
#[derive(Debug, Default)]
pub struct OpenSpecs(HashMap<BasketId, BasketSpec>);

impl OpenSpecs {
    /// The specs of the baskets open in `state` (a start from a snapshot).
    pub fn of_open_baskets(state: &State) -> OpenSpecs {
        OpenSpecs(
            state
                .baskets
                .iter()
                .map(|(id, open)| (*id, open.spec.clone()))
                .collect(),
        )
    }

    /// Builds the index update of one applied input. `state` is the state right after it.
    pub fn update(
        &mut self,
        state: &State,
        log_index: u64,
        command: &Command,
        day: TradingDay,
        events: &[Event],
    ) -> IndexUpdate {
        let cleared_on = match command {
            Command::CloseTradingDay { day } => *day,
            _ => day,
        };
        let mut update = IndexUpdate::default();
        let mut lines = Vec::new();
        let mut ended = Vec::new();
        for event in events {
            match event {
                Event::BasketPosted { basket, .. } => {
                    if let Some(open) = state.baskets.get(basket) {
                        self.0.insert(*basket, open.spec.clone());
                    }
                }
                Event::GrantIssued {
                    grant,
                    basket,
                    slot,
                    buyer,
                    unit_price,
                    price,
                    seed,
                    members,
                } => {
                    let (Some(spec), Some(buyer_record)) =
                        (self.0.get(basket), state.buyer(*buyer))
                    else {
                        continue;
                    };
                    let view = GrantView {
                        grant: *grant,
                        basket: basket.0,
                        slot: *slot,
                        buyer: buyer.0,
                        buyer_key: hex::encode(buyer_record.key.as_bytes()),
                        spec: spec.clone(),
                        cleared_on: cleared_on.0,
                        unit_price_micros: unit_price.get(),
                        price_micros: price.get(),
                        seed: hex::encode(seed),
                        members: members.clone(),
                        log_index,
                    };
                    for share in members {
                        update.grants.push((share.member, view.clone()));
                    }
                }
                Event::BasketClosed { basket, .. }
                | Event::BasketUnfillable { basket, .. }
                | Event::BasketCanceled { basket, .. } => ended.push(*basket),
                Event::PayoutInstruction {
                    member,
                    amount,
                    rail,
                    destination_commitment,
                } => lines.push(Line {
                    member: *member,
                    amount: *amount,
                    rail: *rail,
                    destination_commitment: *destination_commitment,
                }),
                Event::MonthlyRunRecorded {
                    month, payout_root, ..
                } => {
                    update.run =
                        Some((*month, RunPayouts::new(*month, lines.clone(), *payout_root)));
                }
                Event::PayoutFilesRecorded {
                    payout_root,
                    files,
                    held,
                } => {
                    update.files = Some(RecordedFiles {
                        payout_root: *payout_root,
                        files: files.clone(),
                        held: held.iter().map(|line| line.member).collect(),
                    });
                }
                _ => {}
            }
        }
        // Grants of a basket come in the same entry as its close, so specs go after the entry.
        for basket in ended {
            self.0.remove(&basket);
        }
        update
    }
}

impl RunPayouts {
    fn new(month: Month, lines: Vec<Line>, root: [u8; 32]) -> RunPayouts {
        let mut tree = Tree::new();
        let mut stored = Vec::new();
        for line in &lines {
            let leaf = payout_leaf(
                month,
                line.member,
                line.amount,
                &line.rail,
                &line.destination_commitment,
            );
            tree.append(&leaf, &mut stored)
                .expect("a run has far fewer lines than a tree holds");
        }
        // The engine computed the root over the same leaves in the same order (D4).
        debug_assert!(lines.is_empty() || tree.root().0 == root);
        let by_member = lines
            .iter()
            .enumerate()
            .map(|(index, line)| (line.member, index))
            .collect();
        RunPayouts {
            lines,
            by_member,
            stored,
            root,
            outcomes: None,
        }
    }

    /// Each line's outcome under the logged files. The rails write each rail's lines in
    /// ascending member order and split a rail into files in that order (`assay_rails::write_run`),
    /// so the k-th paid line of a rail is in the file whose line counts, in log order, cover k.
    fn outcomes_under(&self, recorded: &RecordedFiles) -> Vec<LineOutcome> {
        let mut remaining: Vec<(Rail, &str, u64)> = recorded
            .files
            .iter()
            .map(|file| (file.rail, file.name.as_str(), file.lines))
            .collect();
        self.lines
            .iter()
            .map(|line| {
                if recorded.held.binary_search(&line.member).is_ok() {
                    return LineOutcome::Held;
                }
                let file = remaining
                    .iter_mut()
                    .find(|(rail, _, left)| *rail == line.rail && *left > 0)
                    .map(|(_, name, left)| {
                        *left -= 1;
                        name.to_string()
                    });
                LineOutcome::Sent(file)
            })
            .collect()
    }
}

/// The shared index the member routes read.
#[derive(Debug, Default)]
pub struct MemberIndex {
    grants: HashMap<MemberId, VecDeque<GrantView>>,
    runs: BTreeMap<Month, RunPayouts>,
}

impl MemberIndex {
    pub fn apply(&mut self, update: IndexUpdate) {
        for (member, grant) in update.grants {
            let grants = self.grants.entry(member).or_default();
            if grants.len() >= GRANTS_PER_MEMBER_MAX {
                grants.pop_front();
            }
            grants.push_back(grant);
        }
        if let Some((month, run)) = update.run {
            self.runs.insert(month, run);
            while self.runs.len() > RUNS_INDEXED_MAX {
                self.runs.pop_first();
            }
        }
        if let Some(recorded) = update.files {
            // Payout roots differ between months: each leaf carries its month (D4).
            if let Some(run) = self
                .runs
                .values_mut()
                .rev()
                .find(|run| run.root == recorded.payout_root)
            {
                run.outcomes = Some(run.outcomes_under(&recorded));
            }
        }
    }

    pub fn grants(&self, member: MemberId) -> Vec<GrantView> {
        self.grants
            .get(&member)
            .map(|grants| grants.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// `None` when the month has no indexed run; `Some(None)` when the member has no line in it.
    pub fn payout(&self, month: Month, member: MemberId) -> Option<Option<PayoutView>> {
        let run = self.runs.get(&month)?;
        let Some(&index) = run.by_member.get(&member) else {
            return Some(None);
        };
        let line = &run.lines[index];
        let count = run.lines.len() as u64;
        let proof = prove_inclusion(index as u64, count, &run.stored)
            .expect("the run's stored hashes cover every line");
        let (status, file) = match run.outcomes.as_ref().map(|outcomes| &outcomes[index]) {
            None => (PayoutLineStatus::Pending, None),
            Some(LineOutcome::Held) => (PayoutLineStatus::Held, None),
            Some(LineOutcome::Sent(file)) => (PayoutLineStatus::Sent, file.clone()),
        };
        Some(Some(PayoutView {
            month: month.to_string(),
            member: member.0,
            amount_micros: line.amount.get(),
            rail: line.rail,
            destination_commitment: hex::encode(line.destination_commitment),
            index: index as u64,
            count,
            payout_root: hex::encode(run.root),
            proof: proof.path().iter().map(|h| h.to_base64()).collect(),
            status,
            file,
        }))
    }
}
