//! Loading the rules file: the default loads, and each kind of bad file is refused with an error
//! that names the field (issue 3, rule G6).

use assay_core::{Category, Micros, Rules, RulesError, Tier};

const DEFAULT: &str = include_str!("../../../rules/default.toml");

/// Loads the default file with one textual replacement and returns the refusal.
fn refused(from: &str, to: &str) -> RulesError {
    assert!(
        DEFAULT.contains(from),
        "fixture text `{from}` not in default.toml"
    );
    let text = DEFAULT.replacen(from, to, 1);
    Rules::from_toml_str(&text).expect_err("a bad rules file must be refused")
}

fn check(from: &str, to: &str, code: &str, field: &str) {
    let error = refused(from, to);
    assert_eq!(error.code(), code, "{error}");
    assert_eq!(error.field(), field, "{error}");
    assert!(
        error.to_string().contains(field),
        "message names the field: {error}"
    );
}

#[test]
fn default_rules_load_with_the_paper_numbers() {
    let rules = Rules::from_toml_str(DEFAULT).unwrap();
    assert_eq!(rules.floor.ratio_bps, 9_500); // rule M3
    assert_eq!(rules.floor.window_days, 7); // rule M3
    assert_eq!(rules.breaker.drop_bps, 2_000); // rule M4
    assert_eq!(rules.breaker.window_trading_days, 5); // rule M4
    assert_eq!(rules.ladder_premium_bps(1), Some(0)); // rule M8: anchor at spot
    assert_eq!(rules.ladder_premium_bps(2), Some(1_000)); // rule M9: +10%
    assert_eq!(rules.ladder_premium_bps(3), Some(1_500)); // rule M9: +15%
    assert_eq!(rules.supply.target_ppm, 950_000); // rule M10
    assert_eq!(rules.payout.threshold_micros, Micros::new(5_000_000)); // rule D4
    assert_eq!(rules.cold_start.members, 250_000); // rule D8
    assert_eq!(rules.cohort.founding_members_max, 50_000); // rule D7
    let w = rules.waterfall; // rule D2
    assert_eq!(
        (w.members_bps, w.builders_bps, w.cohort_bps, w.architect_bps),
        (9_000, 800, 100, 100)
    );
    assert_eq!(rules.tier_of(Category::Location).slots_max, 2); // rule M6
    assert_eq!(rules.tiers[&Tier::D].slots_max, 8);
}

#[test]
fn missing_field_is_named() {
    check("ratio_bps = 9500\n", "", "rules_parse", "floor.ratio_bps");
    check("schema_version = 1\n", "", "rules_parse", "schema_version");
}

#[test]
fn negative_fee_is_refused() {
    check(
        "start_micros = 50000000",
        "start_micros = -5",
        "rules_parse",
        "fee.start_micros",
    );
}

#[test]
fn ladder_not_increasing_is_refused() {
    check(
        "ladder_bps = [1000, 1500,",
        "ladder_bps = [1000, 1000,",
        "rules_invalid",
        "premium.ladder_bps",
    );
    check(
        "ladder_bps = [1000, 1500, 2000, 2500, 3000, 3500, 4000]",
        "ladder_bps = [1000, 1500, 2000]",
        "rules_invalid",
        "premium.ladder_bps",
    );
}

#[test]
fn waterfall_not_summing_to_100_percent_is_refused() {
    check(
        "builders_bps = 800",
        "builders_bps = 700",
        "rules_invalid",
        "waterfall",
    );
}

#[test]
fn payout_threshold_in_fractions_of_a_cent_is_refused() {
    // Rule D4: ACH and prepaid pay whole cents, so the threshold must be whole cents too.
    check(
        "threshold_micros = 5000000",
        "threshold_micros = 5000001",
        "rules_invalid",
        "payout.threshold_micros",
    );
}

#[test]
fn member_share_below_90_percent_is_refused() {
    // Rule X1.1: even a waterfall that sums to 100% may not pay members under 90%.
    let text = DEFAULT
        .replacen("members_bps = 9000", "members_bps = 8900", 1)
        .replacen("builders_bps = 800", "builders_bps = 900", 1);
    let error = Rules::from_toml_str(&text).unwrap_err();
    assert_eq!(error.field(), "waterfall.members_bps", "{error}");
}

#[test]
fn other_bad_values_are_named() {
    check(
        "slots_max = 2\n",
        "slots_max = 0\n",
        "rules_invalid",
        "tiers.A.slots_max",
    );
    check(
        "drop_bps = 2000",
        "drop_bps = 10000",
        "rules_invalid",
        "breaker.drop_bps",
    );
    check(
        "min_micros = 5000000",
        "min_micros = 60000000",
        "rules_invalid",
        "fee.start_micros",
    );
    check(
        "target_ppm = 950000",
        "target_ppm = 0",
        "rules_invalid",
        "supply.target_ppm",
    );
    check(
        "[categories.location]",
        "[categories.weather]",
        "rules_parse",
        "categories",
    );
    check(
        "tier = \"A\"",
        "tier = \"Z\"",
        "rules_parse",
        "categories.location.tier",
    );
    check(
        "window_days = 7\n",
        "window_days = 7\nwindow_hours = 1\n",
        "rules_parse",
        "floor.window_hours",
    );
}

#[test]
fn hash_ignores_layout_and_covers_every_parameter() {
    let rules = Rules::from_toml_str(DEFAULT).unwrap();
    let relaid = format!("# a new comment\n\n{}", DEFAULT.replace(" = ", "="));
    assert_eq!(Rules::from_toml_str(&relaid).unwrap().hash(), rules.hash());
    let changed =
        Rules::from_toml_str(&DEFAULT.replacen("ratio_bps = 9500", "ratio_bps = 9400", 1)).unwrap();
    assert_ne!(changed.hash(), rules.hash());
    assert_eq!(rules.hash_hex().len(), 64);
}

#[test]
fn governance_parameters_are_checked() {
    // rule G4: a voter must stay active until the vote closes.
    check(
        "active_window_days = 90",
        "active_window_days = 10",
        "rules_invalid",
        "governance.active_window_days",
    );
    // rule G3: "a small bonus", never above the payout threshold.
    check(
        "participation_bonus_micros = 100000",
        "participation_bonus_micros = 5000001",
        "rules_invalid",
        "governance.participation_bonus_micros",
    );
    check(
        "voting_days = 14",
        "voting_days = 0",
        "rules_invalid",
        "governance.voting_days",
    );
}
