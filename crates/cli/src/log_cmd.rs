//! `assay log …`: verify the stored log, print its latest checkpoint, prove an entry, and the
//! hidden `append-loop` the kill test drives.
//!
//! # Where the log's signing key lives
//!
//! In the data directory (`--data`, default `./assay-data`), whichever store holds the entries:
//!
//! * `log.key` — the private key, created on first use with permissions 0600, in Go's note
//!   format: `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 ‖ 32-byte Ed25519 seed)>`. The key
//!   name is the log's origin (`--origin` when the key is created, default `assay.local/log`).
//! * `log.vkey` — the matching verifier key (`<name>+<key ID>+<base64>`), public; `assay log
//!   verify` needs only this file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context};
use assay_log::{
    key_id, leaf_hash, stored_hash_count, Hash, NoteSigner, SignatureType, SignedCheckpoint, Tree,
    VerifierKey,
};
use assay_store::{
    read_consistency_proof, read_inclusion_proof, read_root_at, AnyStore, LogStore, LogWriter,
    StoreLocation, CHECKPOINTS_READ_MAX, ENTRIES_READ_MAX, HASHES_READ_MAX,
};
use base64::Engine as _;
use clap::{Args, Subcommand};

/// Origin (and key name) of a log whose key is created without `--origin`.
pub const DEFAULT_ORIGIN: &str = "assay.local/log";
const KEY_FILE: &str = "log.key";
const VERIFIER_KEY_FILE: &str = "log.vkey";
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

#[derive(Subcommand)]
pub enum LogCommand {
    /// Recompute the tree from the stored entries and check every stored hash, the stored
    /// root, every checkpoint's signature and root, and the consistency between checkpoints.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the latest signed checkpoint.
    Checkpoint {
        #[command(flatten)]
        store: StoreArgs,
        /// Sign a checkpoint of the current tree first (creates the key if there is none).
        #[arg(long)]
        sign: bool,
        /// Origin for a key created now.
        #[arg(long, default_value = DEFAULT_ORIGIN)]
        origin: String,
    },
    /// Print the inclusion proof of entry INDEX as JSON, after verifying it.
    Prove {
        #[command(flatten)]
        store: StoreArgs,
        /// Index of the entry (from 0).
        #[arg(long)]
        index: u64,
        /// Tree size to prove against; default the latest checkpoint's, else the stored size.
        #[arg(long)]
        size: Option<u64>,
    },
    /// Append deterministic entries in batches, printing each size once its commit returned
    /// (driven by the kill test).
    #[command(hide = true)]
    AppendLoop {
        #[command(flatten)]
        store: StoreArgs,
        /// Largest batch; batch sizes vary from 1 to this.
        #[arg(long, default_value_t = 64)]
        batch_max: u64,
        /// Stop once the log holds this many entries.
        #[arg(long, default_value_t = 10_000_000)]
        entries_max: u64,
        /// Sign a checkpoint after every this many batches.
        #[arg(long, default_value_t = 8)]
        checkpoint_every: u64,
        /// Origin for a key created now.
        #[arg(long, default_value = DEFAULT_ORIGIN)]
        origin: String,
    },
}

/// Where the log lives.
#[derive(Args)]
pub struct StoreArgs {
    /// Data directory: the log's keys, and `assay.db` unless --database is given.
    #[arg(long, default_value = "assay-data")]
    pub data: PathBuf,
    /// PostgreSQL URL holding the entries instead of DATA/assay.db.
    #[arg(long)]
    pub database: Option<String>,
}

impl StoreArgs {
    pub fn location(&self) -> StoreLocation {
        match &self.database {
            Some(url) => StoreLocation::Postgres {
                url: url.clone(),
                schema: None,
            },
            None => StoreLocation::Sqlite {
                dir: self.data.clone(),
            },
        }
    }

    async fn open(&self) -> anyhow::Result<AnyStore> {
        let location = self.location();
        AnyStore::open(&location)
            .await
            .with_context(|| format!("opening the log store at {}", describe(&location)))
    }
}

fn describe(location: &StoreLocation) -> String {
    match location {
        StoreLocation::Memory => "memory".to_string(),
        StoreLocation::Sqlite { dir } => dir
            .join(assay_store::SQLITE_FILE_NAME)
            .display()
            .to_string(),
        StoreLocation::Postgres { .. } => "the PostgreSQL database given by --database".to_string(),
    }
}

pub fn run(command: LogCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match command {
            LogCommand::Verify { store } => {
                println!("ok: {}", verify(&store).await?);
                Ok(())
            }
            LogCommand::Checkpoint {
                store,
                sign,
                origin,
            } => checkpoint(&store, sign, &origin).await,
            LogCommand::Prove { store, index, size } => prove(&store, index, size).await,
            LogCommand::AppendLoop {
                store,
                batch_max,
                entries_max,
                checkpoint_every,
                origin,
            } => append_loop(&store, batch_max, entries_max, checkpoint_every, &origin).await,
        }
    })
}

// Keys.

fn base64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Loads the signing key from `<dir>/log.key`, creating it (0600) if missing, and writes
/// `log.vkey` if that is missing.
pub fn load_or_create_signer(dir: &Path, origin: &str) -> anyhow::Result<NoteSigner> {
    let path = dir.join(KEY_FILE);
    let signer = if path.exists() {
        read_signer(&path)?
    } else {
        create_signer(dir, origin)?
    };
    let vkey_path = dir.join(VERIFIER_KEY_FILE);
    if !vkey_path.exists() {
        let text = format!("{}\n", signer.verifier_key().to_vkey());
        write_atomically(&vkey_path, text.as_bytes(), 0o644)?;
    }
    Ok(signer)
}

fn create_signer(dir: &Path, origin: &str) -> anyhow::Result<NoteSigner> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("drawing a key seed: {e}"))?;
    let signer = NoteSigner::new(origin, &seed)
        .with_context(|| format!("origin {origin:?} is not a valid key name"))?;
    let mut typed = vec![SignatureType::Ed25519.byte()];
    typed.extend_from_slice(&seed);
    let text = format!(
        "{PRIVATE_KEY_PREFIX}{origin}+{:08x}+{}\n",
        signer.verifier_key().key_id(),
        base64().encode(&typed)
    );
    write_atomically(&dir.join(KEY_FILE), text.as_bytes(), 0o600)?;
    Ok(signer)
}

/// Writes `bytes` to `path` through a temporary file created with permissions `mode`, fsynced
/// and renamed into place, so a crash leaves either no file or the whole file.
fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let mut temporary_name = name.to_owned();
    temporary_name.push(".tmp");
    let temporary = path.with_file_name(temporary_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(&temporary)
        .with_context(|| format!("creating {}", temporary.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("renaming {} to {}", temporary.display(), path.display()))?;
    // The rename is durable once the directory is.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("syncing {}", dir.display()))?;
    }
    Ok(())
}

fn read_signer(path: &Path) -> anyhow::Result<NoteSigner> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bad = || {
        anyhow::anyhow!(
            "{} is not a PRIVATE+KEY+<name>+<id>+<key> line",
            path.display()
        )
    };
    let rest = text
        .trim_end()
        .strip_prefix(PRIVATE_KEY_PREFIX)
        .ok_or_else(bad)?;
    // Key names hold no '+' (signed-note), base64 may: split from the left.
    let mut parts = rest.splitn(3, '+');
    let (name, id, key) = (
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
    );
    let typed = base64().decode(key).map_err(|_| bad())?;
    let (&kind, seed) = typed.split_first().ok_or_else(bad)?;
    ensure!(
        kind == SignatureType::Ed25519.byte(),
        "{}: not an Ed25519 key",
        path.display()
    );
    let seed: [u8; 32] = seed.try_into().map_err(|_| bad())?;
    let signer = NoteSigner::new(name, &seed).map_err(|_| bad())?;
    let id = u32::from_str_radix(id, 16).map_err(|_| bad())?;
    let public = signer.verifier_key().public_key();
    ensure!(
        id == key_id(name, SignatureType::Ed25519, &public),
        "{}: key ID does not match the key",
        path.display()
    );
    Ok(signer)
}

/// The log's verifier key: `log.vkey`, or derived from `log.key`; `None` if neither exists.
fn load_verifier(dir: &Path) -> anyhow::Result<Option<VerifierKey>> {
    let vkey_path = dir.join(VERIFIER_KEY_FILE);
    if vkey_path.exists() {
        let text = std::fs::read_to_string(&vkey_path)
            .with_context(|| format!("reading {}", vkey_path.display()))?;
        let key = VerifierKey::parse(text.trim_end())
            .with_context(|| format!("parsing {}", vkey_path.display()))?;
        return Ok(Some(key));
    }
    let key_path = dir.join(KEY_FILE);
    if key_path.exists() {
        return Ok(Some(read_signer(&key_path)?.verifier_key().clone()));
    }
    Ok(None)
}

// Commands.

/// A checkpoint that verified: its size and root.
struct Verified {
    size: u64,
    root: Hash,
}

/// Checks the root of every pending checkpoint at the tree's current size.
fn check_roots(
    tree: &Tree,
    pending: &mut std::iter::Peekable<std::slice::Iter<'_, Verified>>,
) -> anyhow::Result<()> {
    while let Some(checkpoint) = pending.next_if(|c| c.size == tree.size()) {
        ensure!(
            checkpoint.root == tree.root(),
            "checkpoint at size {} has root {} but the stored entries give {}",
            checkpoint.size,
            checkpoint.root,
            tree.root()
        );
    }
    Ok(())
}

/// Verifies the stored log (see `assay log verify`); returns what was checked, for people.
pub async fn verify(args: &StoreArgs) -> anyhow::Result<String> {
    let store = args.open().await?;
    let head = store.head().await.context("reading the stored head")?;
    let checkpoints = verified_checkpoints(&store, &args.data, head.size).await?;

    // Recompute every stored hash from the entries, compare, and meet each checkpoint's size.
    let mut tree = Tree::new();
    let mut recomputed = Vec::new();
    let mut pending = checkpoints.iter().peekable();
    check_roots(&tree, &mut pending)?;
    let mut start = 0u64;
    while start < head.size {
        let end = (start + ENTRIES_READ_MAX).min(head.size);
        let entries = store
            .entries(start, end)
            .await
            .with_context(|| format!("reading entries {start}..{end}"))?;
        let first_hash = stored_hash_count(start)?;
        let stored = read_hashes(&store, first_hash, stored_hash_count(end)?).await?;
        let mut offset = 0usize;
        for entry in &entries {
            recomputed.clear();
            tree.append(entry, &mut recomputed)
                .with_context(|| format!("entry {} is not a valid log entry", tree.size()))?;
            for hash in &recomputed {
                ensure!(
                    stored.get(offset) == Some(hash),
                    "stored hash {} differs from the hash recomputed from the entries (entry {})",
                    first_hash + offset as u64,
                    tree.size() - 1
                );
                offset += 1;
            }
            check_roots(&tree, &mut pending)?;
        }
        start = end;
    }
    let hashes_checked = stored_hash_count(head.size)?;
    ensure!(
        tree.root() == head.root,
        "the stored root at size {} is {} but the stored entries give {}",
        head.size,
        head.root,
        tree.root()
    );
    ensure!(
        pending.next().is_none(),
        "a checkpoint lies beyond the stored entries"
    );

    // Each checkpoint is consistent with the one before, by a proof served from the store.
    for pair in checkpoints.windows(2) {
        let (old, new) = (&pair[0], &pair[1]);
        read_consistency_proof(&store, old.size, new.size)
            .await
            .with_context(|| format!("building the consistency proof {} → {}", old.size, new.size))?
            .verify(&old.root, &new.root)
            .with_context(|| {
                format!(
                    "checkpoints at sizes {} and {} are not consistent",
                    old.size, new.size
                )
            })?;
    }
    Ok(format!(
        "{} entries, root {}; {} stored hashes recomputed; {} checkpoints verified (signature, root, consistency)",
        head.size,
        head.root,
        hashes_checked,
        checkpoints.len()
    ))
}

/// Stored hashes `start..end`, in reads of at most `HASHES_READ_MAX`.
async fn read_hashes(store: &AnyStore, start: u64, end: u64) -> anyhow::Result<Vec<Hash>> {
    let mut hashes = Vec::new();
    let mut from = start;
    while from < end {
        let to = (from + HASHES_READ_MAX).min(end);
        hashes.extend(
            store
                .hash_range(from, to)
                .await
                .with_context(|| format!("reading stored hashes {from}..{to}"))?,
        );
        from = to;
    }
    Ok(hashes)
}

/// Every stored checkpoint, opened with the log's verifier key, smallest size first.
async fn verified_checkpoints(
    store: &AnyStore,
    dir: &Path,
    size: u64,
) -> anyhow::Result<Vec<Verified>> {
    let mut stored = Vec::new();
    let mut from_size = 0u64;
    loop {
        let page = store
            .checkpoints(from_size, CHECKPOINTS_READ_MAX)
            .await
            .context("reading stored checkpoints")?;
        let Some(last) = page.last() else { break };
        from_size = last.size + 1;
        stored.extend(page);
    }
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    let Some(key) = load_verifier(dir)? else {
        bail!(
            "the store holds {} checkpoints but {} has no {VERIFIER_KEY_FILE} or {KEY_FILE} to check them with",
            stored.len(),
            dir.display()
        );
    };
    let mut verified = Vec::with_capacity(stored.len());
    for checkpoint in stored {
        ensure!(
            checkpoint.size <= size,
            "checkpoint at size {} is beyond the stored size {size}",
            checkpoint.size
        );
        let opened = SignedCheckpoint::open(checkpoint.note.as_bytes(), key.name(), &key)
            .with_context(|| {
                format!(
                    "checkpoint at size {} does not verify with {}",
                    checkpoint.size,
                    key.to_vkey()
                )
            })?;
        ensure!(
            opened.checkpoint().size() == checkpoint.size,
            "checkpoint stored at size {} says size {}",
            checkpoint.size,
            opened.checkpoint().size()
        );
        verified.push(Verified {
            size: checkpoint.size,
            root: opened.checkpoint().root(),
        });
    }
    Ok(verified)
}

async fn checkpoint(args: &StoreArgs, sign: bool, origin: &str) -> anyhow::Result<()> {
    let store = args.open().await?;
    if sign {
        let signer = load_or_create_signer(&args.data, origin)?;
        let origin = signer.verifier_key().name().to_owned();
        let writer = LogWriter::open(&store, &origin, signer)
            .await
            .context("resuming the log")?;
        writer
            .sign_checkpoint()
            .await
            .context("signing a checkpoint")?;
    }
    let Some(latest) = store
        .latest_checkpoint()
        .await
        .context("reading the latest checkpoint")?
    else {
        bail!("the log has no signed checkpoint yet (sign one with `assay log checkpoint --sign`)");
    };
    print!("{}", latest.note);
    Ok(())
}

async fn prove(args: &StoreArgs, index: u64, size: Option<u64>) -> anyhow::Result<()> {
    let store = args.open().await?;
    let latest = store
        .latest_checkpoint()
        .await
        .context("reading the latest checkpoint")?;
    let head = store.head().await.context("reading the stored head")?;
    let size = size.unwrap_or_else(|| latest.as_ref().map_or(head.size, |c| c.size));
    ensure!(
        index < size,
        "entry {index} is not in the tree of size {size}"
    );
    ensure!(
        size <= head.size,
        "size {size} is beyond the stored size {}",
        head.size
    );
    let entry = store
        .entries(index, index + 1)
        .await
        .with_context(|| format!("reading entry {index}"))?
        .remove(0);
    let leaf = leaf_hash(&entry);
    let proof = read_inclusion_proof(&store, index, size)
        .await
        .context("building the inclusion proof")?;
    let root = read_root_at(&store, size)
        .await
        .context("computing the root")?;
    proof
        .verify(&leaf, &root)
        .context("the inclusion proof does not verify")?;
    // When a signed checkpoint commits to this size, the proof must lead to its root too.
    let note = store
        .checkpoint(size)
        .await
        .context("reading the checkpoint")?;
    if let Some(note) = &note {
        let key = load_verifier(&args.data)?.with_context(|| {
            format!(
                "no {VERIFIER_KEY_FILE} in {} to check the checkpoint",
                args.data.display()
            )
        })?;
        let opened = SignedCheckpoint::open(note.as_bytes(), key.name(), &key)
            .with_context(|| format!("checkpoint at size {size} does not verify"))?;
        proof
            .verify(&leaf, &opened.checkpoint().root())
            .context("the proof does not lead to the signed checkpoint's root")?;
    }
    let json = serde_json::json!({
        "leaf_index": index,
        "tree_size": size,
        "encoding": "base64",
        "leaf_hash": leaf.to_base64(),
        "root": root.to_base64(),
        "path": proof.path().iter().map(Hash::to_base64).collect::<Vec<_>>(),
        "checkpoint": note,
        "verified": true,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&json).context("encoding the proof")?
    );
    Ok(())
}

/// Entry `index` of the kill test's log: a function of the index alone, so a reader can check
/// every byte (`crates/cli/tests/kill_log.rs` holds a copy).
pub fn loop_entry(index: u64) -> Vec<u8> {
    let mut entry = format!("assay append-loop entry {index:020}:").into_bytes();
    let length = 30 + (index % 97) as usize;
    entry.resize(length, (index % 251) as u8);
    entry
}

async fn append_loop(
    args: &StoreArgs,
    batch_max: u64,
    entries_max: u64,
    checkpoint_every: u64,
    origin: &str,
) -> anyhow::Result<()> {
    ensure!(
        batch_max >= 1 && checkpoint_every >= 1,
        "--batch-max and --checkpoint-every must be at least 1"
    );
    let signer = load_or_create_signer(&args.data, origin)?;
    let origin = signer.verifier_key().name().to_owned();
    let store = args.open().await?;
    let mut writer = LogWriter::open(store, &origin, signer)
        .await
        .context("resuming the log")?;
    let mut stdout = std::io::stdout().lock();
    let mut batches = 0u64;
    while writer.size() < entries_max {
        let start = writer.size();
        // Batch sizes vary with the position, reproducibly: the high bits of a Fibonacci hash
        // (its low bits would cycle with the low bits of `start`).
        let batch = 1 + (start.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) % batch_max;
        let end = (start + batch).min(entries_max);
        let entries: Vec<Vec<u8>> = (start..end).map(loop_entry).collect();
        let appended = writer.append(&entries).await.context("appending a batch")?;
        writeln!(stdout, "{}", appended.size)
            .and_then(|()| stdout.flush())
            .context("printing an acknowledged size")?;
        batches += 1;
        if batches.is_multiple_of(checkpoint_every) {
            writer
                .sign_checkpoint()
                .await
                .context("signing a checkpoint")?;
        }
    }
    // A finished run leaves a checkpoint of everything it wrote.
    writer
        .sign_checkpoint()
        .await
        .context("signing the last checkpoint")?;
    Ok(())
}
