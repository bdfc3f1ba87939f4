//! The `assay` binary: wiring only. Rules live in the library crates; this file parses arguments,
//! reads files, and prints.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

mod audit_cmd;
mod bench;
mod bench_log;
mod demo;
mod keys;
mod log_cmd;
mod payouts_cmd;
mod rules_cmd;
mod serve_cmd;
mod sim_cmd;
mod wallet_cmd;

/// Assay: a member-owned cooperative exchange for behavioral data.
#[derive(Parser)]
#[command(name = "assay", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the rules in force and their SHA-256 hash (the hash members see, rule G6).
    Rules {
        /// A rules file to check and print instead of the built-in default.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Print one JSON object: {"hash": …, "rules": …}.
        #[arg(long)]
        json: bool,
    },
    /// One simulated month of the market through the real server, then a verified summary.
    Demo {
        /// Where the demo leaves its log and keys (must not hold a log yet).
        #[arg(long, default_value = "assay-data")]
        data: PathBuf,
        #[arg(long, default_value_t = 2_000)]
        members: u64,
    },
    /// Run the exchange: HTTP API, sequencer, scheduler.
    Serve(serve_cmd::ServeArgs),
    /// The verifiable log: verify it, print its checkpoint, prove an entry.
    #[command(subcommand)]
    Log(log_cmd::LogCommand),
    /// Benchmarks that print figures beside a baseline measured in the same run.
    #[command(subcommand)]
    Bench(bench::Bench),
    /// The member's wallet: keys, vault, classifier and ToS audit (issue 8).
    #[command(subcommand)]
    Wallet(wallet_cmd::Wallet),
    /// Audits of the exchange's log: replay it with the rules and report pill triggers.
    #[command(subcommand)]
    Audit(audit_cmd::Audit),
    /// The monthly runs' payout status from the exchange's public route (issue 9).
    #[command(subcommand)]
    Payouts(payouts_cmd::Payouts),
    /// The agent-based market simulator, driving the real engine (issue 10).
    Sim(sim_cmd::SimArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Rules { file, json } => {
            let text = match &file {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("reading rules file {}", path.display()))?,
                None => rules_cmd::DEFAULT_RULES.to_string(),
            };
            let source = file
                .as_ref()
                .map_or("built-in rules/default.toml".to_string(), |p| {
                    p.display().to_string()
                });
            rules_cmd::print(&text, &source, json)
        }
        Command::Demo { data, members } => demo::run(data, members),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Log(command) => log_cmd::run(command),
        Command::Bench(bench) => bench::run(bench),
        Command::Wallet(wallet) => wallet_cmd::run(wallet),
        Command::Audit(audit) => audit_cmd::run(audit),
        Command::Payouts(command) => payouts_cmd::run(command),
        Command::Sim(args) => {
            if !sim_cmd::run(args)? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
