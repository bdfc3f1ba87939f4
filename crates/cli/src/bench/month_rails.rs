//! `assay bench month --rails`: after the run, every payout rail's files for every paid member
//! (D4) — NACHA files read back and checked, the USDC distribution tree and its document, the
//! prepaid load file — timed per stage, and the sum check of D6: the files pay exactly the
//! run's payouts, and payouts plus rollovers are the members' total, to the micro-dollar.
//!
//! Destinations are synthetic (valid routing numbers, addresses and card tokens derived from
//! the member id); the server's run reads members' own from its private table
//! (`assay_server::payouts`). The ACH files carry the test originator
//! (`AchOriginator::test_values`), as no real file is sent.

use assay_coop::{PayoutLine as RunLine, RunReport};
use assay_core::{Micros, Month};
use assay_rails::ach::{self, AchLimits};
use assay_rails::usdc::{Distribution, DocumentOptions};
use assay_rails::{
    prepaid, AccountType, AchAccount, CardReference, Destination, PayoutLine, Rail, RailTotals,
    RoutingNumber, RunId, UsdcAddress,
};
use std::time::Instant;

/// The rail member `id` chose in the benchmark: a third each.
pub fn rail_of(id: u64) -> Rail {
    match id % 3 {
        0 => Rail::Usdc,
        1 => Rail::Ach,
        _ => Rail::Prepaid,
    }
}

/// Seconds per stage, counts and sums per rail, and whether every check held.
pub fn run(
    month: Month,
    payouts: &[RunLine],
    report: &RunReport,
    members_total_carried: Micros,
) -> anyhow::Result<serde_json::Value> {
    let run = RunId::new(month, 1)?;
    let routings = ["021000021", "122105278", "011000015", "026009593"]
        .map(|text| RoutingNumber::parse(text).expect("valid routing numbers"));

    let start = Instant::now();
    let lines = payouts
        .iter()
        .map(|line| {
            Ok(PayoutLine {
                member: line.member,
                amount: line.amount,
                destination: destination(line.member.0, &routings)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let destinations_seconds = start.elapsed().as_secs_f64();
    let on = |rail: Rail| lines.iter().filter(move |l| l.destination.rail() == rail);

    let stage = Instant::now();
    let ach_files = ach::write_files(
        &assay_server::ach_config::AchOriginator::test_values().config(month)?,
        &AchLimits::NACHA,
        run,
        on(Rail::Ach),
    )?;
    let ach_seconds = stage.elapsed().as_secs_f64();
    let stage = Instant::now();
    let mut ach_entries = 0u64;
    for file in &ach_files {
        // Every file written is parsed back and its control totals checked (the reader refuses
        // anything else).
        ach_entries += ach::read_file(file.bytes())?.entries().count() as u64;
    }
    let ach_read_seconds = stage.elapsed().as_secs_f64();

    let stage = Instant::now();
    let usdc = Distribution::build(run, on(Rail::Usdc))?;
    let usdc_tree_seconds = stage.elapsed().as_secs_f64();
    let stage = Instant::now();
    // Proofs for millions of members would make a multi-gigabyte document; members fetch
    // their own proof (`Distribution::proof`), so the bench writes the document without them.
    let usdc_document = usdc.document(DocumentOptions { proofs: false })?;
    let usdc_document_seconds = stage.elapsed().as_secs_f64();

    let stage = Instant::now();
    let prepaid_file = prepaid::write_file(run, on(Rail::Prepaid))?;
    let prepaid_seconds = stage.elapsed().as_secs_f64();

    let files: Vec<_> = ach_files
        .iter()
        .chain(Some(&usdc_document))
        .chain(prepaid_file.as_ref())
        .collect();
    let totals = RailTotals::of_files(files.iter().copied())?;
    let files_total = totals.total()?;
    let rails_seconds = start.elapsed().as_secs_f64();

    let per_rail = |rail: Rail| {
        let (count, sum) = on(rail).fold((0u64, 0u64), |(n, s), l| (n + 1, s + l.amount.get()));
        serde_json::json!({ "lines": count, "total_micros": sum })
    };
    let whole_cents = on(Rail::Ach)
        .chain(on(Rail::Prepaid))
        .all(|l| l.amount.get() % 10_000 == 0);
    // D6 and the sum line: files = payouts; payouts + rollovers = what members are owed.
    let sum_ok = files_total == report.payouts_total
        && report.check_identities().is_ok()
        && members_total_carried == report.rollover_out
        && ach_entries == per_rail(Rail::Ach)["lines"].as_u64().unwrap_or(u64::MAX);
    Ok(serde_json::json!({
        "destinations_seconds": destinations_seconds,
        "ach_write_seconds": ach_seconds,
        "ach_read_back_seconds": ach_read_seconds,
        "usdc_tree_seconds": usdc_tree_seconds,
        "usdc_document_seconds": usdc_document_seconds,
        "prepaid_seconds": prepaid_seconds,
        "rails_seconds": rails_seconds,
        "ach_files": ach_files.len(),
        "ach": per_rail(Rail::Ach),
        "usdc": per_rail(Rail::Usdc),
        "prepaid": per_rail(Rail::Prepaid),
        "usdc_root": hex::encode(usdc.root()),
        "files_bytes": files.iter().map(|f| f.bytes().len() as u64).sum::<u64>(),
        "files_total_micros": files_total.get(),
        "whole_cents_on_ach_and_prepaid": whole_cents,
        "rails_sum_ok": sum_ok && whole_cents,
    }))
}

/// A valid destination on the member's rail, derived from the id.
fn destination(id: u64, routings: &[RoutingNumber; 4]) -> anyhow::Result<Destination> {
    Ok(match rail_of(id) {
        Rail::Ach => Destination::Ach(AchAccount::new(
            routings[(id % 4) as usize],
            &format!("{id:012}"),
            AccountType::Checking,
            &format!("MEMBER {id}"),
        )?),
        Rail::Usdc => {
            let mut address = [0x11u8; 20];
            address[12..].copy_from_slice(&id.to_be_bytes());
            Destination::Usdc(UsdcAddress::from_bytes(address)?)
        }
        Rail::Prepaid => Destination::Prepaid(CardReference::parse(&format!("card-{id}"))?),
    })
}
