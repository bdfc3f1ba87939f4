//! The market simulator (issue 10): evidence that the mechanism works, or where it does not.
//!
//! Agent-based and single-threaded, deterministic from a `u64` seed: members with coarse profiles,
//! categories and reserve prices; buyers with valuations and needs that answer price; all of it
//! driven through the real engine (`assay_engine::apply_verified`), never a copy of its rules.
//! The run yields a [`Summary`] (JSON) and the series behind the SVG charts in [`chart`].
//!
//! | module | owns |
//! |---|---|
//! | `scenario` | the TOML parameters, each assumption with its source in the file |
//! | `sim` | the day loop: needs, baskets, offers, bids, closes, monthly runs |
//! | `buyers`, `population` | agent behaviour: post-or-bid, who offers |
//! | `exchange` | stamping inputs with simulated time and applying them |
//! | `observe` | what is recorded and the monthly and per-grant checks |
//! | `summary`, `chart` | the JSON summary and the SVG charts |

mod buyers;
pub mod chart;
mod exchange;
mod keys;
pub mod observe;
mod population;
mod rng;
pub mod scenario;
mod sim;
pub mod summary;

pub use scenario::{Scenario, ScenarioError};
pub use sim::{days_in, Config, Simulation, FIRST_DAY};
pub use summary::Summary;

use assay_core::Rules;

/// The rules the simulator runs under unless told otherwise: the repository's defaults.
pub const DEFAULT_RULES: &str = include_str!("../../../rules/default.toml");

/// A finished run: its summary and what the charts need.
pub struct Outcome {
    pub summary: Summary,
    pub observer: observe::Observer,
    /// Inputs the engine was given (accepted or refused).
    pub inputs: u64,
}

/// Runs `scenario` under `rules`; `progress` hears (days done, days in all) after each day.
pub fn run(
    scenario: &Scenario,
    rules: &Rules,
    config: Config,
    progress: &mut dyn FnMut(u32, u32),
) -> Outcome {
    let mut simulation = Simulation::new(scenario, rules, config);
    simulation.run(progress);
    let summary = summary::build(
        scenario,
        rules,
        &config,
        &simulation.observer,
        &simulation.exchange.refusals,
    );
    Outcome {
        summary,
        observer: simulation.observer,
        inputs: simulation.exchange.inputs,
    }
}
