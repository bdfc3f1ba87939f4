//! The gas budget of issue 11: a claim with a 24-level proof (10 million members) within
//! 100,000 gas. Measured by the same code as `assay bench chain`.

use assay_chain::gas::{self, DEPTH_TARGET};

#[test]
fn a_24_level_claim_fits_the_budget() {
    let report = gas::measure().unwrap();
    let claim = report.claim(DEPTH_TARGET).unwrap();
    // 255 of 256 claims: within budget with a margin of over 10%.
    assert!(claim.typical <= 90_000, "{report:?}");
    // The first claim of each 256-line bitmap word also pays 20,000 for a fresh storage slot,
    // and still fits the budget: every claim at 24 levels costs at most 100,000 gas.
    assert!(claim.first_in_word <= claim.typical + 22_100, "{report:?}");
    assert!(claim.first_in_word <= 100_000, "{report:?}");
    // Deeper proofs cost more, and a claim costs more than the bare transfer it wraps.
    for pair in report.claims.windows(2) {
        assert!(pair[0].typical < pair[1].typical, "{report:?}");
    }
    assert!(report.erc20_transfer < report.claim(1).unwrap().typical);
}
