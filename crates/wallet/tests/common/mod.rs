//! Shared by the wallet's tests against a real server: the server, a buyer, canaries and the
//! searches for them.

#![allow(dead_code)] // each test file uses its own part of this module

use assay_core::{Rules, Timestamp, TradingDay};
use assay_engine::{Command, Envelope, Event};
use assay_log::NoteSigner;
use assay_server::clock::Clock;
use assay_server::run::{start, RunningServer, ServeOptions};
use assay_store::StoreLocation;
use assay_wallet::client::ExchangeClient;
use base64::Engine;
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const ADMIN: &str = "wallet-test-admin-token";
/// 2026-01-31: a month's last day, so January's run follows the first close.
pub const LAST_DAY_OF_JANUARY: TradingDay = TradingDay(20_484);
pub const ORIGIN: &str = "assay.test/wallet-log";

pub fn key(label: &str) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(label.as_bytes()).into())
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("assay-wallet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The data directory of a test server on `location`: the SQLite directory, or a directory
/// named after the PostgreSQL schema (so a restarted server finds its destination key again).
fn data_dir_of(location: &StoreLocation) -> std::path::PathBuf {
    match location {
        StoreLocation::Sqlite { dir } => dir.clone(),
        StoreLocation::Postgres { schema, .. } => std::env::temp_dir().join(format!(
            "assay-data-{}-{}",
            schema.as_deref().unwrap_or("public"),
            std::process::id()
        )),
        StoreLocation::Memory => {
            std::env::temp_dir().join(format!("assay-data-memory-{}", std::process::id()))
        }
    }
}

/// A server on `location` whose simulated clock starts on `day` and lets a day pass in about
/// `seconds_per_day` of real time. `log_seed` picks the log's signing key.
pub async fn server_with_log_key(
    location: StoreLocation,
    day: TradingDay,
    seconds_per_day: f64,
    log_seed: u8,
) -> RunningServer {
    let rules = Rules::from_toml_str(include_str!("../../../../rules/default.toml")).unwrap();
    start(ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir_of(&location),
        location,
        origin: ORIGIN.to_string(),
        log_signer: NoteSigner::new(ORIGIN, &[log_seed; 32]).unwrap(),
        exchange_key: key("exchange"),
        rules,
        clock: Clock::simulated(
            Timestamp(day.start().0 + 1_000_000),
            86_400.0 / seconds_per_day,
        ),
        admin_token: Some(ADMIN.to_string()),
        rate_per_key: 1_000,
        queue_inputs_max: assay_server::sequencer::QUEUE_INPUTS_MAX,
        snapshots: None,
        ach: Some(assay_server::ach_config::AchOriginator::test_values()),
    })
    .await
    .unwrap()
}

pub async fn server(
    location: StoreLocation,
    day: TradingDay,
    seconds_per_day: f64,
) -> RunningServer {
    server_with_log_key(location, day, seconds_per_day, 7).await
}

/// GET `path`'s raw body.
pub async fn get(base: &str, path: &str) -> Vec<u8> {
    reqwest::get(format!("{base}{path}"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

/// A buyer driven by the test: registers, is funded by the operator, signs commands.
pub struct Buyer {
    pub key: SigningKey,
    sequence: u64,
}

impl Buyer {
    pub fn new(label: &str) -> Buyer {
        Buyer {
            key: key(label),
            sequence: 0,
        }
    }

    pub fn sign(&mut self, command: Command) -> Envelope {
        let envelope = Envelope::sign(&self.key, self.sequence, command);
        self.sequence += 1;
        envelope
    }

    /// Gives back the last sequence number (a refused command consumes none).
    pub fn unsign(&mut self) {
        self.sequence -= 1;
    }

    pub async fn register_and_fund(&mut self, client: &ExchangeClient, base: &str) {
        let accepted = client
            .submit(&self.sign(Command::RegisterBuyer))
            .await
            .unwrap();
        let Some(Event::BuyerRegistered { buyer }) = accepted.events.first() else {
            panic!("{:?}", accepted.events)
        };
        let body = serde_json::json!({
            "buyer": buyer.0,
            "amount_micros": 1_000_000_000u64,
            "deposit_reference": hex::encode([1u8; 32]),
        });
        let response = reqwest::Client::new()
            .post(format!("{base}/v1/admin/deposits"))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
}

/// One member's canary and every form it could take at the exchange: the 16 random bytes, the
/// hex token written into the records, and the hex (both cases) and base64 (standard and
/// URL-safe, at each of the three alignments inside a longer text) of both.
#[derive(Clone)]
pub struct Needles {
    pub raw: [u8; 16],
    pub token: String,
    patterns: Vec<Vec<u8>>,
}

/// Base64 of `bytes` as it appears inside the encoding of any longer text: for each of the
/// three alignments, only the characters that depend on `bytes` alone.
fn base64_forms(bytes: &[u8]) -> Vec<Vec<u8>> {
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ];
    let mut forms = Vec::new();
    for engine in engines {
        for shift in 0..3usize {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(bytes);
            let encoded = engine.encode(&shifted);
            let start = (shift * 8).div_ceil(6);
            let end = shifted.len() * 8 / 6;
            forms.push(encoded.as_bytes()[start..end].to_vec());
        }
    }
    forms
}

impl Needles {
    pub fn new(seed: u64, member: u64) -> Needles {
        let digest = Sha256::new()
            .chain_update(b"assay/p-nothing/canary/v1\n")
            .chain_update(seed.to_be_bytes())
            .chain_update(member.to_be_bytes())
            .finalize();
        let raw: [u8; 16] = digest[..16].try_into().unwrap();
        let token = hex::encode(raw);
        let mut patterns = Vec::new();
        for base in [raw.to_vec(), token.as_bytes().to_vec()] {
            patterns.push(hex::encode(&base).into_bytes());
            patterns.push(hex::encode_upper(&base).into_bytes());
            patterns.extend(base64_forms(&base));
            patterns.push(base);
        }
        patterns.sort();
        patterns.dedup();
        Needles {
            raw,
            token,
            patterns,
        }
    }

    fn first_match(&self, haystack: &[u8]) -> Option<&[u8]> {
        self.patterns
            .iter()
            .find(|p| haystack.windows(p.len()).any(|w| w == p.as_slice()))
            .map(Vec::as_slice)
    }

    pub fn found_in(&self, haystack: &[u8]) -> bool {
        self.first_match(haystack).is_some()
    }

    pub fn assert_absent(&self, haystack: &[u8], place: &str) {
        if let Some(pattern) = self.first_match(haystack) {
            panic!(
                "canary {} found in {place} as {:?}",
                self.token,
                String::from_utf8_lossy(pattern)
            );
        }
    }
}

/// Searches every file under `dir`, recursively, as raw bytes. Returns the files searched, or
/// where a canary was found.
pub fn search_directory(dir: &Path, needles: &[Needles]) -> Result<Vec<PathBuf>, String> {
    let mut searched = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                pending.push(entry.unwrap().path());
            }
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for needle in needles {
            if let Some(pattern) = needle.first_match(&bytes) {
                return Err(format!(
                    "canary {} found in {} as {:?}",
                    needle.token,
                    path.display(),
                    String::from_utf8_lossy(pattern)
                ));
            }
        }
        searched.push(path);
    }
    Ok(searched)
}

fn quoted(schema: &str, table: &str) -> String {
    format!(
        r#""{}"."{}""#,
        schema.replace('"', "\"\""),
        table.replace('"', "\"\"")
    )
}

/// Searches every row of every table in `schema`, cast to text (bytea shows as hex), and every
/// bytea value as raw bytes; returns the rows searched.
pub async fn search_postgres(url: &str, schema: &str, needles: &[Needles]) -> usize {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
    )
    .bind(schema)
    .fetch_all(&mut connection)
    .await
    .unwrap();
    assert!(!tables.is_empty(), "schema {schema} has no tables");
    let mut rows = 0;
    for table in &tables {
        let texts: Vec<Option<String>> =
            // Identifiers come from the catalogue of the test's own schema, quoted.
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                r#"SELECT t::text FROM {} AS t"#,
                quoted(schema, table)
            )))
                .fetch_all(&mut connection)
                .await
                .unwrap();
        rows += texts.len();
        for text in texts.iter().flatten() {
            for needle in needles {
                needle.assert_absent(text.as_bytes(), &format!("table {table}"));
            }
        }
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name = $2 AND data_type = 'bytea'",
        )
        .bind(schema)
        .bind(table)
        .fetch_all(&mut connection)
        .await
        .unwrap();
        for column in &columns {
            let values: Vec<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                r#"SELECT "{}" FROM {}"#,
                column.replace('"', "\"\""),
                quoted(schema, table)
            )))
            .fetch_all(&mut connection)
            .await
            .unwrap();
            for value in values.iter().flatten() {
                for needle in needles {
                    needle.assert_absent(value, &format!("{table}.{column}"));
                }
            }
        }
    }
    connection.close().await.unwrap();
    rows
}
