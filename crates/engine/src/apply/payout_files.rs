//! Rules D4, D6: the exchange records the files the rails wrote for a run — each file's
//! SHA-256, rail, line count and total — before it settles the run. The log then ties the bytes
//! a bank or card issuer received to the run's payout root, and the totals are checked here
//! against the run's own lines, so a file list that drops, adds or changes a payout is refused.
//! A line the exchange cannot pay (no destination matching the member's commitment, issue 9)
//! is listed as held and returned to the member's carried balance, never dropped.

use super::{exchange_only, Context, Outcome};
use crate::command::{Digest, PayoutFile, Rail};
use crate::governance::UnsettledRun;
use crate::{Event, HeldPayout, Refusal, State};
use assay_core::{MemberId, Micros};
use std::collections::BTreeSet;

const MAX_FILES: usize = 10_000;
const MAX_NAME: usize = 64;

pub(super) fn record(
    state: &mut State,
    context: &Context,
    payout_root: &Digest,
    files: &[PayoutFile],
    held: &[MemberId],
) -> Outcome {
    exchange_only(state, context)?;
    check_list(files)?;
    let run = match &state.unsettled {
        Some(run) if run.payout_root == *payout_root => run,
        _ => return Err(Refusal::UnknownPayoutRoot),
    };
    if run.files.is_some() {
        return Err(Refusal::PayoutFilesRepeated);
    }
    // The run's lines are in ascending member order (`coop::run_month` walks members in order).
    debug_assert!(run.lines.windows(2).all(|w| w[0].member < w[1].member));
    let mut held_lines = Vec::with_capacity(held.len());
    for (index, &member) in held.iter().enumerate() {
        if index > 0 && held[index - 1] >= member {
            return Err(Refusal::PayoutFilesInvalid(
                "held members must be in strictly ascending order",
            ));
        }
        let line = run
            .lines
            .binary_search_by_key(&member, |line| line.member)
            .map(|at| &run.lines[at])
            .map_err(|_| Refusal::PayoutFilesInvalid("a held member has no line in the run"))?;
        held_lines.push(HeldPayout {
            member,
            amount: line.amount,
        });
    }
    if files.is_empty() && held.len() != run.lines.len() {
        return Err(Refusal::PayoutFilesInvalid("no files"));
    }
    let is_held = |member: MemberId| held.binary_search(&member).is_ok();
    for (rail, lines, total) in rail_totals(state, run, is_held)? {
        let mut recorded = (0u64, Micros::ZERO);
        for file in files.iter().filter(|file| file.rail == rail) {
            recorded = (
                recorded.0.saturating_add(file.lines),
                recorded.1.checked_add(file.total)?,
            );
        }
        let mismatch = |what| Refusal::PayoutFilesMismatch {
            rail: rail_name(rail),
            what,
        };
        if recorded.0 != lines {
            return Err(mismatch("line count"));
        }
        if recorded.1 != total {
            return Err(mismatch("total"));
        }
    }
    // Everything refusable is checked before the first change (rule: bad input changes
    // nothing). A held line goes back to the member's carried balance, so the next run's
    // rollover in grows by the same amount and D9 still balances to the micro-dollar.
    let mut carried = Vec::with_capacity(held_lines.len());
    let mut held_total = Micros::ZERO;
    for line in &held_lines {
        let member = &state.members[line.member.0 as usize];
        carried.push(member.balance.carried.checked_add(line.amount)?);
        held_total = held_total.checked_add(line.amount)?;
    }
    let rollover_in = state.books.rollover_in.checked_add(held_total)?;
    for (line, carried) in held_lines.iter().zip(carried) {
        state.members[line.member.0 as usize].balance.carried = carried;
    }
    state.books.rollover_in = rollover_in;
    let files = files.to_vec();
    if let Some(run) = state.unsettled.as_mut() {
        run.files = Some(files.clone());
    }
    Ok(vec![Event::PayoutFilesRecorded {
        payout_root: *payout_root,
        files,
        held: held_lines,
    }])
}

/// A rail, its line count and the money its lines pay.
pub type RailTotal = (Rail, u64, Micros);

/// The files a simulated run (`assay sim`, `assay bench engine`) records: one per rail that pays
/// anything, named `<rail>.sim`, its hash the run's payout root (no real file exists), and no
/// line held. Empty when no run is unsettled.
pub fn simulated_payout_files(state: &State) -> Vec<crate::PayoutFile> {
    let payout_root = match &state.unsettled {
        Some(run) => run.payout_root,
        None => return Vec::new(),
    };
    match run_rail_totals(state, |_| false) {
        Some(Ok(totals)) => totals
            .into_iter()
            .filter(|(_, lines, _)| *lines > 0)
            .map(|(rail, lines, total)| crate::PayoutFile {
                name: format!("{rail:?}.sim").to_lowercase(),
                sha256: payout_root,
                rail,
                lines,
                total,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Lines and money per rail of the unsettled run (ACH, USDC, prepaid), leaving out lines
/// `is_held` says the rails do not pay; `None` when no run is unsettled. What
/// [`Command::RecordPayoutFiles`](crate::Command::RecordPayoutFiles) must match.
pub fn run_rail_totals(
    state: &State,
    is_held: impl Fn(MemberId) -> bool,
) -> Option<Result<Vec<RailTotal>, Refusal>> {
    let run = state.unsettled.as_ref()?;
    Some(rail_totals(state, run, is_held))
}

fn rail_totals(
    state: &State,
    run: &UnsettledRun,
    is_held: impl Fn(MemberId) -> bool,
) -> Result<Vec<RailTotal>, Refusal> {
    let mut totals = vec![
        (Rail::Ach, 0u64, Micros::ZERO),
        (Rail::Usdc, 0, Micros::ZERO),
        (Rail::Prepaid, 0, Micros::ZERO),
    ];
    for line in run.lines.iter().filter(|line| !is_held(line.member)) {
        let rail = state.members[line.member.0 as usize].payout.rail;
        if let Some(slot) = totals.iter_mut().find(|(r, _, _)| *r == rail) {
            slot.1 += 1;
            slot.2 = slot.2.checked_add(line.amount)?;
        }
    }
    Ok(totals)
}

/// The list's own shape, before it is compared with the run.
fn check_list(files: &[PayoutFile]) -> Result<(), Refusal> {
    if files.len() > MAX_FILES {
        return Err(Refusal::PayoutFilesInvalid("too many files"));
    }
    let mut names = BTreeSet::new();
    for file in files {
        if !valid_name(&file.name) {
            return Err(Refusal::PayoutFilesInvalid(
                "a file name is not 1-64 of a-z 0-9 . _ - without a leading dot",
            ));
        }
        if !names.insert(file.name.as_str()) {
            return Err(Refusal::PayoutFilesInvalid("a file name is repeated"));
        }
        if file.lines == 0 || file.total.is_zero() {
            return Err(Refusal::PayoutFilesInvalid("a file pays nothing"));
        }
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn rail_name(rail: Rail) -> &'static str {
    match rail {
        Rail::Ach => "ach",
        Rail::Usdc => "usdc",
        Rail::Prepaid => "prepaid",
    }
}
