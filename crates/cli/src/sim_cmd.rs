//! `assay sim`: runs the market simulator and writes its summary and charts.

use anyhow::Context;
use assay_core::Rules;
use assay_sim::{chart, days_in, Config, Scenario};
use std::path::PathBuf;

/// Simulate the exchange from a seed: members, buyers, baskets, monthly runs (issue 10).
#[derive(clap::Args)]
pub struct SimArgs {
    /// Members at full size (a scenario's phases are shares of it).
    #[arg(long, default_value_t = 10_000)]
    members: u64,
    /// Calendar months to simulate from 2026-01-01.
    #[arg(long, default_value_t = 3)]
    months: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A built-in scenario (base, crash, growth, cold-start) or a path to a scenario TOML file.
    #[arg(long, default_value = "base")]
    scenario: String,
    /// Directory for summary.json and the SVG charts.
    #[arg(long)]
    out: PathBuf,
    /// Also print the summary as one JSON object on standard output (and no progress bar).
    #[arg(long)]
    json: bool,
}

fn load_scenario(name: &str) -> anyhow::Result<Scenario> {
    let path = std::path::Path::new(name);
    if path.extension().is_some_and(|e| e == "toml") {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading scenario file {}", path.display()))?;
        return Scenario::from_toml_str(&text).with_context(|| format!("loading {name}"));
    }
    Ok(Scenario::builtin(name)?)
}

/// Runs the simulation; the exit status is non-zero when any check failed.
pub fn run(args: SimArgs) -> anyhow::Result<bool> {
    anyhow::ensure!(args.members > 0, "--members must be at least 1");
    anyhow::ensure!(args.months > 0, "--months must be at least 1");
    let scenario = load_scenario(&args.scenario)?;
    let rules = Rules::from_toml_str(assay_sim::DEFAULT_RULES).context("loading default rules")?;
    let config = Config {
        members: args.members,
        months: args.months,
        seed: args.seed,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(u64::from(days_in(args.months)));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] day {pos}/{len} (eta {eta})",
            )
            .context("progress template")?,
        );
        bar
    };
    let started = std::time::Instant::now();
    let outcome = assay_sim::run(&scenario, &rules, config, &mut |done, _| {
        bar.set_position(u64::from(done))
    });
    bar.finish_and_clear();
    let elapsed = started.elapsed();

    let json = serde_json::to_string_pretty(&outcome.summary).context("encoding summary")?;
    let summary_path = args.out.join("summary.json");
    std::fs::write(&summary_path, format!("{json}\n"))
        .with_context(|| format!("writing {}", summary_path.display()))?;
    for (name, svg) in chart::all(&scenario, &rules, &outcome) {
        let path = args.out.join(name);
        std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&outcome.summary).context("encoding summary")?
        );
    } else {
        print_human(&outcome.summary, &args.out);
    }
    eprintln!(
        "simulated {} days in {:.1} s ({} engine inputs)",
        outcome.summary.days,
        elapsed.as_secs_f64(),
        outcome.inputs
    );
    if !outcome.summary.checks_ok {
        eprintln!(
            "a check failed: see \"checks\" in {}",
            summary_path.display()
        );
    }
    Ok(outcome.summary.checks_ok)
}

fn print_human(summary: &assay_sim::Summary, out: &std::path::Path) {
    println!(
        "scenario {} · seed {} · {} members · {} months",
        summary.scenario, summary.seed, summary.members, summary.months
    );
    println!(
        "supply ratio after {} days of warm-up:",
        summary.warmup_days
    );
    for (category, ratio) in &summary.supply_ratio_by_category {
        let shown = ratio.map_or("no demand".to_string(), |r| format!("{r:.4}"));
        println!("  {category:18} {shown}");
    }
    println!("breaker events: {}", summary.breaker_events.len());
    for month in &summary.member_income_by_month {
        println!(
            "  {} ({}): median member income ${:.2}, mean ${:.2}",
            month.month,
            month.phase,
            month.median_micros as f64 / 1e6,
            month.mean_micros as f64 / 1e6
        );
    }
    println!(
        "checks: {}",
        if summary.checks_ok {
            "all passed"
        } else {
            "FAILED"
        }
    );
    println!("summary and charts in {}", out.display());
}
