//! `assay bench month --members N [--rails]`: the monthly run (D2–D8) over N members with random
//! balances, plus the payout Merkle root (D4), against the machine's SHA-256 leaf rate; with
//! `--rails`, also every rail's files (`month_rails.rs`).

use super::{month_rails, peak_rss_bytes, sha256_leaves_per_s, Lcg};
use assay_coop::{run_month, MemberBalance, MonthBooks};
use assay_core::{MemberId, Micros, Month, Rules};
use assay_engine::{payout_leaf, Rail};
use assay_log::Tree;
use assay_rails::Rail as RailsRail;
use std::time::Instant;

pub fn run(members: u64, seed: u64, rails: bool, json: bool) -> anyhow::Result<()> {
    let rules = Rules::from_toml_str(crate::rules_cmd::DEFAULT_RULES)?;
    let (mut balances, books) = random_month(members, seed, &rules);
    if rails {
        // Rule D4: ACH and prepaid members are paid whole cents.
        for balance in &mut balances {
            balance.paid_in_cents = month_rails::rail_of(balance.member.0) != RailsRail::Usdc;
        }
    }
    let month = Month {
        year: 2026,
        month: 1,
    };

    let start = Instant::now();
    let outcome = run_month(&books, &mut balances, &rules)?;
    let distribution_seconds = start.elapsed().as_secs_f64();
    let root_start = Instant::now();
    let mut tree = Tree::new();
    let mut stored = Vec::with_capacity(64);
    for line in &outcome.payouts {
        let commitment = [(line.member.0 % 251) as u8; 32];
        let rail = match month_rails::rail_of(line.member.0) {
            RailsRail::Ach if rails => Rail::Ach,
            RailsRail::Prepaid if rails => Rail::Prepaid,
            _ => Rail::Usdc,
        };
        let leaf = payout_leaf(month, line.member, line.amount, &rail, &commitment);
        stored.clear();
        tree.append(&leaf, &mut stored)?;
    }
    let root_seconds = root_start.elapsed().as_secs_f64();
    let rails_summary = if rails {
        let carried = Micros::sum(balances.iter().map(|b| b.carried))?;
        Some(month_rails::run(
            month,
            &outcome.payouts,
            &outcome.report,
            carried,
        )?)
    } else {
        None
    };
    let seconds = start.elapsed().as_secs_f64();

    let leaf_bytes = payout_leaf(
        month,
        MemberId(members),
        Micros::new(5_000_000),
        &Rail::Usdc,
        &[0; 32],
    )
    .len();
    let sha_rate = sha256_leaves_per_s(members.clamp(100_000, 2_000_000), leaf_bytes);
    let members_per_s = members as f64 / seconds;
    let report = &outcome.report;
    let summary = serde_json::json!({
        "members": members,
        "seconds": seconds,
        "distribution_seconds": distribution_seconds,
        "payout_root_seconds": root_seconds,
        "members_per_s": members_per_s,
        "payouts": report.payout_count,
        "payouts_total_micros": report.payouts_total.get(),
        "rollover_out_micros": report.rollover_out.get(),
        "gross_income_micros": report.gross_income.get(),
        "payout_root": hex::encode(tree.root().as_bytes()),
        "peak_rss_bytes": peak_rss_bytes(),
        "sha256_leaves_per_s": sha_rate,
        "ratio_to_sha256": members_per_s / sha_rate,
        "conservation_ok": report.check_conservation().is_ok(),
    });
    let mut summary = summary;
    if let Some(rails) = rails_summary {
        summary["rails"] = rails;
    }
    if json {
        println!("{summary}");
    } else {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}

/// N members with random carried balances and January sales credits; founders first, then
/// public members, every third of the first 250,000 public ones in cold start. The books are
/// built from the balances so they agree, as the engine's do.
fn random_month(members: u64, seed: u64, rules: &Rules) -> (Vec<MemberBalance>, MonthBooks) {
    let mut rng = Lcg::new(seed);
    let founders = u64::from(rules.cohort.founding_members_max).min(members / 5);
    let mut books = MonthBooks::default();
    let mut rollover = 0u64;
    let mut credited = 0u64;
    let balances = (0..members)
        .map(|id| {
            let mut balance = MemberBalance::new(MemberId(id), id < founders);
            let carried = rng.below(5_000_000);
            let earned = if rng.below(4) == 0 {
                0
            } else {
                rng.below(40_000_000)
            };
            balance.carried = Micros::new(carried);
            balance.unpaid = Micros::new(earned);
            balance.earned_month = Micros::new(earned);
            let public_number = id.saturating_sub(founders);
            balance.cold_start = id >= founders && public_number < 250_000 && id % 3 == 0;
            rollover += carried;
            credited += earned;
            balance
        })
        .collect();
    books.rollover_in = Micros::new(rollover);
    books.members_credited = Micros::new(credited);
    // Sales are 90% of gross; add origination fees worth a tenth of sales on top.
    let sales_gross = credited / 9 * 10;
    books.gross_income = Micros::new(sales_gross + sales_gross / 10);
    books.operating_costs = Micros::new(sales_gross / 50);
    (balances, books)
}
