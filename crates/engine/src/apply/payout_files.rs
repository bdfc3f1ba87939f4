//! Rules D4, D6: the exchange records the files the rails wrote for a run — each file's
//! SHA-256, rail, line count and total — before it settles the run. The log then ties the bytes
//! a bank or card issuer received to the run's payout root, and the totals are checked here
//! against the run's own lines, so a file list that drops, adds or changes a payout is refused.

use super::{exchange_only, Context, Outcome};
use crate::command::{Digest, PayoutFile, Rail};
use crate::{Event, Refusal, State};
use assay_core::Micros;
use std::collections::BTreeSet;

const MAX_FILES: usize = 10_000;
const MAX_NAME: usize = 64;

pub(super) fn record(
    state: &mut State,
    context: &Context,
    payout_root: &Digest,
    files: &[PayoutFile],
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
    for rail in [Rail::Ach, Rail::Usdc, Rail::Prepaid] {
        let mut expected = (0u64, Micros::ZERO);
        for line in &run.lines {
            if state.members[line.member.0 as usize].payout.rail == rail {
                expected = (expected.0 + 1, expected.1.checked_add(line.amount)?);
            }
        }
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
        if recorded.0 != expected.0 {
            return Err(mismatch("line count"));
        }
        if recorded.1 != expected.1 {
            return Err(mismatch("total"));
        }
    }
    let files = files.to_vec();
    if let Some(run) = state.unsettled.as_mut() {
        run.files = Some(files.clone());
    }
    Ok(vec![Event::PayoutFilesRecorded {
        payout_root: *payout_root,
        files,
    }])
}

/// The list's own shape, before it is compared with the run.
fn check_list(files: &[PayoutFile]) -> Result<(), Refusal> {
    if files.is_empty() {
        return Err(Refusal::PayoutFilesInvalid("no files"));
    }
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
