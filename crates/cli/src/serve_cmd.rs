//! `assay serve`: the exchange on SQLite in `--data`, or PostgreSQL with `--database`.

use crate::log_cmd;
use anyhow::Context;
use assay_core::{Rules, Timestamp};
use assay_server::ach_config::{AchOriginator, ACH_CONFIG_FILE_NAME};
use assay_server::clock::Clock;
use assay_server::run::{start, ServeOptions};
use assay_server::snapshot::SnapshotConfig;
use assay_store::StoreLocation;
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClockKind {
    System,
    Simulated,
}

#[derive(Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory: keys, and the SQLite log unless --database is given.
    #[arg(long, default_value = "assay-data")]
    data: PathBuf,
    /// PostgreSQL URL for the log instead of DATA/assay.db.
    #[arg(long)]
    database: Option<String>,
    /// A rules file for a new log (an existing log keeps the rules its genesis recorded).
    #[arg(long)]
    rules: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "system")]
    clock: ClockKind,
    /// Simulated seconds per real second (with --clock simulated).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Start of simulated time, µs since the Unix epoch (with --clock simulated; default now).
    #[arg(long)]
    start_micros: Option<i64>,
    /// Requests per second per signing key before 429.
    #[arg(long, default_value_t = 1_000)]
    rate_per_key: u32,
    /// Write a snapshot of the engine state to DATA/snapshots every N log entries (and at a
    /// graceful stop), so a restart replays only the log after it; 0: only at the stop.
    #[arg(long, default_value_t = assay_server::snapshot::SNAPSHOT_INTERVAL_ENTRIES)]
    snapshot_every: u64,
    /// The ACH originator (the cooperative's ODFI, company id and name) for the NACHA payout
    /// files, a TOML file; default DATA/ach.toml if it exists. Checked at start: a bad field
    /// stops the server (ach_config_invalid). Without one, ACH payouts are held, not written.
    #[arg(long)]
    ach_config: Option<PathBuf>,
}

/// The operator's ACH originator: `--ach-config FILE`, else `DATA/ach.toml` if present. A
/// missing or faulty file named on the command line, or a faulty one in the data directory,
/// stops the start; no file at all is allowed but said loudly, since ACH members are then
/// held rather than paid.
fn ach_originator(args: &ServeArgs) -> anyhow::Result<Option<AchOriginator>> {
    let path = match &args.ach_config {
        Some(path) => path.clone(),
        None => {
            let path = args.data.join(ACH_CONFIG_FILE_NAME);
            if !path.exists() {
                eprintln!(
                    "WARNING: no ACH originator configured (--ach-config FILE or {}): no ACH \
                     file will be written; members paid by ACH are held at each run until one is \
                     configured. Other rails are paid as usual.",
                    path.display()
                );
                return Ok(None);
            }
            path
        }
    };
    let originator = AchOriginator::load(&path)?;
    eprintln!(
        "ACH originator from {}: company {:?}",
        path.display(),
        originator.company_name()
    );
    Ok(Some(originator))
}

/// The admin token for the operator routes (deposits, bans) lives in DATA/admin.token (0600),
/// created on first use.
fn admin_token(data: &std::path::Path) -> anyhow::Result<String> {
    let path = data.join("admin.token");
    if path.exists() {
        return Ok(std::fs::read_to_string(&path)?.trim().to_string());
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("drawing a token: {e}"))?;
    let token = hex::encode(bytes);
    crate::keys::write_private(&path, format!("{token}\n").as_bytes())?;
    Ok(token)
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        std::fs::create_dir_all(&args.data)
            .with_context(|| format!("creating {}", args.data.display()))?;
        let text = match &args.rules {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
            None => crate::rules_cmd::DEFAULT_RULES.to_string(),
        };
        let rules = Rules::from_toml_str(&text)?;
        // Checked before anything is opened: a bad originator must not reach a bank file.
        let ach = ach_originator(&args)?;
        let location = match &args.database {
            Some(url) => StoreLocation::Postgres {
                url: url.clone(),
                schema: None,
            },
            None => StoreLocation::Sqlite {
                dir: args.data.clone(),
            },
        };
        let clock = match args.clock {
            ClockKind::System => Clock::System,
            ClockKind::Simulated => {
                let start = args
                    .start_micros
                    .map(Timestamp)
                    .unwrap_or_else(|| Clock::System.now());
                Clock::simulated(start, args.speed)
            }
        };
        let origin = log_cmd::DEFAULT_ORIGIN.to_string();
        let server = start(ServeOptions {
            listen: args.listen,
            location,
            log_signer: log_cmd::load_or_create_signer(&args.data, &origin)?,
            origin,
            exchange_key: crate::keys::load_or_create_exchange_key(&args.data)?,
            rules,
            clock,
            admin_token: Some(admin_token(&args.data)?),
            rate_per_key: args.rate_per_key,
            queue_inputs_max: assay_server::sequencer::QUEUE_INPUTS_MAX,
            snapshots: Some(SnapshotConfig {
                interval_entries: args.snapshot_every,
                ..SnapshotConfig::in_data_dir(&args.data)
            }),
            data_dir: args.data.clone(),
            ach,
        })
        .await?;
        match server.started.snapshot_size {
            Some(size) => eprintln!(
                "started from the snapshot at log size {size}, replayed {} entries",
                server.started.replayed_entries
            ),
            None => eprintln!(
                "replayed the whole log ({} entries)",
                server.started.replayed_entries
            ),
        }
        eprintln!(
            "assay serving on http://{} (data in {}); Ctrl-C stops",
            server.addr,
            args.data.display()
        );
        server.run_until_signal().await
    })
}
