//! `assay payouts status [--url URL] [--month YYYY-MM] [--json]`: the monthly runs' payout
//! status as the exchange publishes it (`GET /v1/payouts`, issue 9): per rail the files, lines
//! and money, each file's SHA-256 as logged, the lines held for want of a destination, and when
//! the run started and was settled.
//!
//! It reads the server's public route rather than the data directory: members and auditors
//! have the URL, not the operator's disk, and the status is built from the log, which anyone
//! can replay to check it.

use anyhow::{bail, Context};
use assay_server::payouts::PayoutStatus;
use clap::Subcommand;

/// Longest the command waits for the exchange.
const REQUEST_TIMEOUT_SECONDS: u64 = 30;

#[derive(Subcommand)]
pub enum Payouts {
    /// Print each run's payout status (or one month's).
    Status {
        /// The exchange's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Only this month's run, `YYYY-MM`.
        #[arg(long)]
        month: Option<String>,
        /// Print the exchange's JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: Payouts) -> anyhow::Result<()> {
    let Payouts::Status { url, month, json } = command;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let runs = runtime.block_on(fetch(&url, month.as_deref()))?;
    if json {
        let value = match month {
            Some(_) => serde_json::to_value(&runs[0])?,
            None => serde_json::to_value(&runs)?,
        };
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    if runs.is_empty() {
        println!("no monthly run yet");
    }
    for run in &runs {
        print!("{}", describe(run));
    }
    Ok(())
}

async fn fetch(url: &str, month: Option<&str>) -> anyhow::Result<Vec<PayoutStatus>> {
    let base = url.trim_end_matches('/');
    let path = match month {
        Some(month) => format!("{base}/v1/payouts/{month}"),
        None => format!("{base}/v1/payouts"),
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(REQUEST_TIMEOUT_SECONDS))
        .build()?;
    let response = http
        .get(&path)
        .send()
        .await
        .with_context(|| format!("GET {path}"))?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        let code = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|problem| problem["code"].as_str().map(str::to_string))
            .unwrap_or_default();
        bail!("GET {path}: HTTP {} {code}", status.as_u16());
    }
    Ok(match month {
        Some(_) => vec![serde_json::from_str(&body).with_context(|| format!("GET {path}"))?],
        None => serde_json::from_str(&body).with_context(|| format!("GET {path}"))?,
    })
}

/// Dollars with six decimals, from micro-USD.
pub fn dollars(micros: u64) -> String {
    format!("${}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// The human-readable form of one run's status.
pub fn describe(run: &PayoutStatus) -> String {
    let mut out = format!(
        "{}: {} (started {}, finished {})\n  payouts {} lines, {}; rollover {}\n",
        run.month,
        run.status,
        run.started_at,
        run.finished_at.as_deref().unwrap_or("-"),
        run.payouts,
        dollars(run.payouts_total_micros),
        dollars(run.rollover_out_micros),
    );
    for rail in &run.rails {
        out.push_str(&format!(
            "  {:<8} {:>3} files {:>9} lines {:>18}\n",
            rail.rail,
            rail.files,
            rail.lines,
            dollars(rail.total_micros)
        ));
    }
    out.push_str(&format!(
        "  held     {:>19} lines {:>18} (no destination; back in members' balances)\n",
        run.held_lines,
        dollars(run.held_total_micros)
    ));
    for file in &run.files {
        out.push_str(&format!("  {}  {}\n", file.sha256, file.name));
    }
    out
}
