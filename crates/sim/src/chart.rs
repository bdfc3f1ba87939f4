//! SVG charts.
use crate::{Outcome, Scenario};
use assay_core::Rules;

pub fn all(_scenario: &Scenario, _rules: &Rules, _outcome: &Outcome) -> Vec<(String, String)> {
    Vec::new()
}
