//! The `assay` binary: wiring only. Rules live in the library crates; this file parses arguments,
//! reads files, and prints.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

mod rules_cmd;
mod sim_cmd;

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
        Command::Sim(args) => {
            if !sim_cmd::run(args)? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
