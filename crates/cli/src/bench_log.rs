//! `assay bench log`: durable append throughput of the log on each store, beside the raw
//! SHA-256 leaf-hashing rate of the same entries measured in the same run.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use assay_log::{leaf_hash, NoteSigner};
use assay_store::{AnyStore, LogWriter, StoreLocation, BATCH_ENTRIES_MAX};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Append ENTRIES entries of ENTRY_BYTES bytes in batches (one transaction each) and
    /// report entries per second beside the raw SHA-256 leaf-hashing rate.
    Log(BenchLogArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    Memory,
    Sqlite,
    Postgres,
}

#[derive(Args)]
pub struct BenchLogArgs {
    /// Entries to append.
    #[arg(long, default_value_t = 1_000_000)]
    entries: u64,
    #[arg(long, value_enum, default_value = "memory")]
    store: StoreKind,
    /// PostgreSQL URL (for --store postgres); the run uses a fresh schema and drops it.
    #[arg(long)]
    database: Option<String>,
    /// Directory for the SQLite file (for --store sqlite); default a fresh `assay-bench-<pid>`
    /// in the current directory, removed afterwards. Must be on a real disk for the figure to
    /// mean durable appends.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Entries per batch, i.e. per transaction and fsync.
    #[arg(long, default_value_t = 4_096)]
    batch: usize,
    /// Bytes per entry.
    #[arg(long, default_value_t = 100)]
    entry_bytes: usize,
    /// Print one JSON object instead of progress bars and prose.
    #[arg(long)]
    json: bool,
    /// Keep the SQLite directory or PostgreSQL schema afterwards.
    #[arg(long)]
    keep: bool,
}

/// Least time the SHA-256 baseline runs, so short runs still give a stable rate.
const SHA256_SECONDS_MIN: f64 = 0.5;
/// Most passes over the entries the baseline makes.
const SHA256_PASSES_MAX: u32 = 1_000;

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Log(args) => bench_log(&args),
    }
}

/// Entry `i`: its index, then filler that differs per entry, `entry_bytes` in all.
fn fill_entries(count: u64, entry_bytes: usize) -> Vec<u8> {
    let mut data = vec![0u8; count as usize * entry_bytes];
    for (i, entry) in data.chunks_exact_mut(entry_bytes).enumerate() {
        let index = (i as u64).to_le_bytes();
        let mut state = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        for (j, byte) in entry.iter_mut().enumerate() {
            *byte = match index.get(j) {
                Some(&b) => b,
                None => {
                    // xorshift64: cheap filler, so entries are not all alike.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                }
            };
        }
    }
    data
}

/// Leaves hashed per second, single-threaded, over the same entries.
fn sha256_leaves_per_s(entries: &[&[u8]]) -> f64 {
    let started = Instant::now();
    let mut hashed = 0u64;
    let mut fold = [0u8; 32];
    for _ in 0..SHA256_PASSES_MAX {
        for entry in entries {
            let hash = leaf_hash(black_box(entry));
            fold[0] ^= hash.0[0];
        }
        hashed += entries.len() as u64;
        if started.elapsed().as_secs_f64() >= SHA256_SECONDS_MIN {
            break;
        }
    }
    black_box(fold);
    hashed as f64 / started.elapsed().as_secs_f64()
}

fn bench_log(args: &BenchLogArgs) -> anyhow::Result<()> {
    ensure!(args.entries > 0, "--entries must be at least 1");
    ensure!(
        (1..=BATCH_ENTRIES_MAX).contains(&args.batch),
        "--batch must be 1..={BATCH_ENTRIES_MAX}"
    );
    ensure!(
        args.entry_bytes <= assay_log::ENTRY_BYTES_MAX,
        "--entry-bytes is at most {}",
        assay_log::ENTRY_BYTES_MAX
    );
    let data = fill_entries(args.entries, args.entry_bytes);
    let entries: Vec<&[u8]> = if args.entry_bytes == 0 {
        vec![&[][..]; args.entries as usize]
    } else {
        data.chunks_exact(args.entry_bytes).collect()
    };
    if !args.json {
        eprintln!("measuring raw SHA-256 leaf hashing of the same entries …");
    }
    let sha256_rate = sha256_leaves_per_s(&entries);

    let pid = std::process::id();
    let (location, cleanup_dir) = match args.store {
        StoreKind::Memory => (StoreLocation::Memory, None),
        StoreKind::Sqlite => {
            let dir = args
                .data
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("assay-bench-{pid}")));
            let fresh = !dir.exists();
            ensure!(
                fresh || args.data.is_some(),
                "{} already exists",
                dir.display()
            );
            (
                StoreLocation::Sqlite { dir: dir.clone() },
                (fresh && !args.keep).then_some(dir),
            )
        }
        StoreKind::Postgres => {
            let url = args
                .database
                .clone()
                .context("--store postgres needs --database URL")?;
            let schema = format!("assay_bench_{pid}");
            (
                StoreLocation::Postgres {
                    url,
                    schema: Some(schema),
                },
                None,
            )
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(run_store(args, &location, &entries));
    // Clean up even when the run failed.
    if let Some(dir) = cleanup_dir {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    if let (
        StoreLocation::Postgres {
            url,
            schema: Some(schema),
        },
        false,
    ) = (&location, args.keep)
    {
        runtime
            .block_on(assay_store::PgStore::drop_schema(url, schema))
            .context("dropping the benchmark schema")?;
    }
    let run = result?;
    let entries_per_s = args.entries as f64 / run.elapsed.as_secs_f64();
    let ratio = entries_per_s / sha256_rate;
    let store = match args.store {
        StoreKind::Memory => "memory",
        StoreKind::Sqlite => "sqlite",
        StoreKind::Postgres => "postgres",
    };
    if args.json {
        let json = serde_json::json!({
            "store": store,
            "entries": args.entries,
            "entry_bytes": args.entry_bytes,
            "batch": args.batch,
            "commits": run.commits,
            "seconds": run.elapsed.as_secs_f64(),
            "entries_per_s": entries_per_s,
            "root": hex::encode(run.root.0),
            "root_encoding": "hex",
            "sha256_leaves_per_s": sha256_rate,
            "ratio_to_sha256": ratio,
            "durability": run.durability,
        });
        println!("{json}");
    } else {
        println!(
            "{store}: {} entries of {} bytes in {} commits, {:.3} s: {:.0} entries/s",
            args.entries,
            args.entry_bytes,
            run.commits,
            run.elapsed.as_secs_f64(),
            entries_per_s
        );
        println!("raw SHA-256 leaf hashing: {sha256_rate:.0} leaves/s; ratio {ratio:.3}");
        println!("root (hex): {}", hex::encode(run.root.0));
        println!("durability: {}", run.durability);
    }
    Ok(())
}

struct Run {
    elapsed: Duration,
    commits: u64,
    root: assay_log::Hash,
    durability: String,
}

async fn run_store(
    args: &BenchLogArgs,
    location: &StoreLocation,
    entries: &[&[u8]],
) -> anyhow::Result<Run> {
    let store = AnyStore::open(location)
        .await
        .context("opening the store")?;
    let durability = match &store {
        AnyStore::Memory(_) => "none (memory)".to_string(),
        AnyStore::Sqlite(_) => "SQLite WAL, synchronous=FULL: fsync per commit".to_string(),
        AnyStore::Postgres(pg) => format!(
            "PostgreSQL fsync={}, synchronous_commit={}",
            pg.setting("fsync").await.context("reading fsync")?,
            pg.setting("synchronous_commit")
                .await
                .context("reading synchronous_commit")?
        ),
    };
    // A fixed key: the benchmark's checkpoints are thrown away.
    let signer = NoteSigner::new("bench.assay.local/log", &[1; 32]).context("making a key")?;
    let mut writer = LogWriter::open(&store, "bench.assay.local/log", signer)
        .await
        .context("opening the log")?;
    ensure!(writer.size() == 0, "the benchmark needs an empty store");
    let progress = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.entries).with_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} entries ({per_sec}, eta {eta})",
            )
            .context("progress template")?,
        )
    };
    let mut commits = 0u64;
    let started = Instant::now();
    for batch in entries.chunks(args.batch) {
        writer.append(batch).await.context("appending a batch")?;
        commits += 1;
        progress.inc(batch.len() as u64);
    }
    writer
        .sign_checkpoint()
        .await
        .context("signing the final checkpoint")?;
    let elapsed = started.elapsed();
    progress.finish_and_clear();
    let root = writer.root();
    store.close().await;
    Ok(Run {
        elapsed,
        commits,
        root,
        durability,
    })
}
