//! `assay bench …`: measurements that print figures, each beside a baseline measured in the same
//! run (the machine's SHA-256 rate), never timed assertions.

pub mod chain;
pub mod engine;
pub mod http;
pub mod month;
mod month_rails;
pub mod restart;

use clap::Subcommand;
use std::time::Instant;

#[derive(Subcommand)]
pub enum Bench {
    /// Append ENTRIES entries in batches (one transaction each) and report entries per second
    /// beside the raw SHA-256 leaf-hashing rate.
    Log(crate::bench_log::BenchLogArgs),
    /// Engine apply rate, with signatures checked (one by one and batched) and without.
    Engine {
        #[arg(long, default_value_t = 200_000)]
        inputs: u64,
        #[arg(long)]
        json: bool,
    },
    /// Accepted signed inputs per second through a server on loopback, with p50/p99 latency.
    Http {
        #[arg(long, default_value_t = 20_000)]
        requests: u64,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long)]
        json: bool,
    },
    /// Gas of each on-chain settlement step (claim at several proof depths, root, checkpoint
    /// anchor, pro-rata withdrawal) beside an ERC-20 transfer, and the cost per member per month.
    Chain {
        #[arg(long)]
        json: bool,
    },
    /// Start-up time on a log of INPUTS inputs: replaying the whole log, beside starting from a
    /// snapshot taken TAIL entries before the end and replaying only those.
    Restart {
        #[arg(long, default_value_t = 200_000)]
        inputs: u64,
        #[arg(long, default_value_t = 10_000)]
        tail: u64,
        #[arg(long)]
        json: bool,
    },
    /// The monthly distribution for N members with random balances, with the payout root.
    Month {
        #[arg(long, default_value_t = 1_000_000)]
        members: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write every payout rail's files (ACH, USDC, prepaid) and check their sums (D4, D6).
        #[arg(long)]
        rails: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::Log(args) => crate::bench_log::run(crate::bench_log::BenchCommand::Log(args)),
        Bench::Engine { inputs, json } => engine::run(inputs, json),
        Bench::Chain { json } => chain::run(json),
        Bench::Month {
            members,
            seed,
            rails,
            json,
        } => month::run(members, seed, rails, json),
        Bench::Http {
            requests,
            concurrency,
            json,
        } => http::run(requests, concurrency, json),
        Bench::Restart { inputs, tail, json } => restart::run(inputs, tail, json),
    }
}

/// SHA-256 leaf hashes per second over `count` leaves of `leaf_bytes` bytes: the baseline the
/// log and the payout root are compared with.
pub fn sha256_leaves_per_s(count: u64, leaf_bytes: usize) -> f64 {
    let mut leaf = vec![0u8; leaf_bytes];
    let start = Instant::now();
    let mut sink = 0u8;
    for i in 0..count {
        leaf[..8].copy_from_slice(&i.to_le_bytes());
        sink ^= assay_log::leaf_hash(&leaf).as_bytes()[0];
    }
    std::hint::black_box(sink);
    count as f64 / start.elapsed().as_secs_f64()
}

/// Peak resident memory of this process (Linux `VmHWM`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A tiny deterministic generator (PCG-style LCG) so benchmarks are repeatable from a seed.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}
