//! The simulator's acceptance lines (issue 10), at member counts small enough for CI.
//!
//! Fast tests (always): every named check passes in `base` and `crash`, the crash never clears
//! below the floor, and the same seed gives byte-identical JSON. The supply-ratio acceptance
//! (0.95 ± 0.01 per category over 5 seeds) runs with `ASSAY_SLOW_TESTS=1`: it needs enough
//! members that the origination fee is small beside a basket's value, which takes minutes.

use assay_core::Rules;
use assay_sim::{Config, Scenario, Summary};

fn rules() -> Rules {
    Rules::from_toml_str(assay_sim::DEFAULT_RULES).unwrap()
}

fn simulate(scenario: &str, members: u64, months: u32, seed: u64) -> Summary {
    let scenario = Scenario::builtin(scenario).unwrap();
    let config = Config {
        members,
        months,
        seed,
    };
    assay_sim::run(&scenario, &rules(), config, &mut |_, _| {}).summary
}

fn slow_tests() -> bool {
    std::env::var("ASSAY_SLOW_TESTS").is_ok_and(|v| v == "1")
}

/// Every named check passed, and the run traded.
fn check(summary: &Summary) {
    assert!(summary.checks_ok, "{:#?}", summary.checks);
    assert!(summary.conservation_ok);
    assert!(summary.counters.grants > 0, "{:?}", summary.counters);
    assert_eq!(
        summary.median_member_income_micros_by_month.len() as u32,
        summary.months
    );
}

#[test]
fn base_runs_pass_every_check() {
    check(&simulate("base", 3_000, 2, 1));
}

#[test]
fn same_seed_same_json() {
    let a = serde_json::to_string(&simulate("base", 2_000, 1, 9)).unwrap();
    let b = serde_json::to_string(&simulate("base", 2_000, 1, 9)).unwrap();
    assert_eq!(a, b);
    let c = serde_json::to_string(&simulate("base", 2_000, 1, 10)).unwrap();
    assert_ne!(a, c, "the seed matters");
}

#[test]
fn crash_never_clears_below_the_floor_and_the_breaker_follows_spot() {
    // rules M3, M4: the crash starts on day 45; three months cover it and its aftermath.
    let summary = simulate("crash", 3_000, 3, 2);
    check(&summary);
    assert_eq!(summary.checks.no_clearing_below_floor.failures, 0);
    assert_eq!(summary.checks.no_clearing_when_frozen.failures, 0);
    // The demand shock shows in the volume of trade after it.
    let demanded = &summary.daily_by_category["browsing"].demanded;
    let before: u64 = demanded[30..45].iter().sum();
    let after: u64 = demanded[60..75].iter().sum();
    assert!(after < before, "demand before {before}, after {after}");
    // M4 on the path the run took: a category froze exactly when its spot fell 20% or more
    // from the highest of the previous 5 closes. (The crash itself never gets there: every
    // price spot averages is at or above the floor, which lets spot fall ~8% in 5 closes from a
    // steady level; see `a_fall_from_a_steady_price_that_respects_the_floor_never_trips_the_
    // breaker` in market/tests/laws.rs and crates/sim/README.md.)
    for (category, &fall_bps) in &summary.max_spot_fall_5d_bps_by_category {
        let froze = summary
            .breaker_events
            .iter()
            .any(|e| e.category.as_str() == category);
        assert_eq!(
            froze,
            fall_bps >= 2_000,
            "{category}: largest fall {fall_bps} bps"
        );
    }
}

#[test]
fn base_supply_ratio_is_95_percent_over_five_seeds() {
    // rule M10, the acceptance line. Slow: gated.
    if !slow_tests() {
        return;
    }
    let mut misses = Vec::new();
    for seed in 1..=5 {
        let summary = simulate("base", 100_000, 3, seed);
        check(&summary);
        for (category, ratio) in &summary.supply_ratio_by_category {
            eprintln!("seed {seed} {category}: {ratio:?}");
            // No ratio means no slot was demanded after warm-up (a frozen category): a miss too.
            let frozen = summary
                .breaker_events
                .iter()
                .any(|e| e.category.as_str() == category);
            match ratio {
                Some(r) if (0.94..=0.96).contains(r) => {}
                Some(r) => misses.push(format!("seed {seed} {category}: {r:.4}")),
                None => misses.push(format!(
                    "seed {seed} {category}: nothing demanded after warm-up (frozen: {frozen})"
                )),
            }
        }
    }
    assert!(misses.is_empty(), "outside 0.95 ± 0.01: {misses:#?}");
}
