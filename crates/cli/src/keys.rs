//! Keys the exchange keeps in its data directory. Files are created once, with permissions 0600,
//! and never overwritten:
//! - `exchange.key`: the Ed25519 seed (hex) that signs the exchange's own commands (genesis,
//!   day closes, monthly runs, recorded deposits);
//! - `log.key` / `log.vkey`: the checkpoint signing key in Go's note format and its C2SP vkey
//!   (see `log_cmd.rs`).

use anyhow::Context;
use ed25519_dalek::SigningKey;
use std::io::Write;
use std::path::Path;

pub const EXCHANGE_KEY_FILE: &str = "exchange.key";

/// Creates `path` with permissions 0600 (never overwriting) and writes `bytes`.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Loads `<dir>/exchange.key`, creating it from the OS's randomness if missing.
pub fn load_or_create_exchange_key(dir: &Path) -> anyhow::Result<SigningKey> {
    let path = dir.join(EXCHANGE_KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let seed: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .with_context(|| format!("{} is not 64 hex digits", path.display()))?;
        return Ok(SigningKey::from_bytes(&seed));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("drawing a key seed: {e}"))?;
    write_private(&path, format!("{}\n", hex::encode(seed)).as_bytes())?;
    Ok(SigningKey::from_bytes(&seed))
}
