//! Helpers shared by the server's HTTP tests: keys from labels, the default rules, a server on a
//! chosen store and clock, an HTTP client for the API, and parties that sign commands.
#![allow(dead_code)] // Each test target uses a different part of the helpers.

use assay_core::{BasketId, Micros, PublicKey, Rules, Timestamp, TradingDay};
use assay_engine::command::{eligibility_message, sign_bytes};
use assay_engine::{Command, Envelope, PayoutChoice, Rail};
use assay_log::NoteSigner;
use assay_server::ach_config::AchOriginator;
use assay_server::clock::Clock;
use assay_server::run::{start, RunningServer, ServeOptions};
use assay_store::StoreLocation;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const ADMIN: &str = "test-admin-token";
/// The test log's origin; its checkpoints are signed by [`log_signer`].
pub const LOG_ORIGIN: &str = "assay.test/log";
/// 2026-01-01.
pub const FIRST_DAY: TradingDay = TradingDay(20_454);

pub fn key(label: &str, index: u64) -> SigningKey {
    let mut hasher = Sha256::new();
    hasher.update(label.as_bytes());
    hasher.update(index.to_be_bytes());
    SigningKey::from_bytes(&hasher.finalize().into())
}

pub fn rules() -> Rules {
    Rules::from_toml_str(include_str!("../../../../rules/default.toml")).unwrap()
}

pub fn log_signer() -> NoteSigner {
    NoteSigner::new(LOG_ORIGIN, &[7; 32]).unwrap()
}

/// One second into `day`.
pub fn morning(day: TradingDay) -> Timestamp {
    Timestamp(day.start().0 + 1_000_000)
}

/// A server on `location` with `clock`, allowing `rate_per_key` requests per second per key.
pub async fn start_server(
    location: StoreLocation,
    clock: Clock,
    rate_per_key: u32,
) -> RunningServer {
    let queue = assay_server::sequencer::QUEUE_INPUTS_MAX;
    start_server_with_queue(location, clock, rate_per_key, queue).await
}

/// As [`start_server`], with a sequencer queue of `queue_inputs_max` requests.
pub async fn start_server_with_queue(
    location: StoreLocation,
    clock: Clock,
    rate_per_key: u32,
    queue_inputs_max: usize,
) -> RunningServer {
    // The test originator: these servers write ACH files.
    let ach = Some(AchOriginator::test_values());
    start_server_with(location, clock, rate_per_key, queue_inputs_max, ach).await
}

/// As [`start_server`], with the ACH originator `ach` (`None`: none configured).
pub async fn start_server_with_ach(
    location: StoreLocation,
    clock: Clock,
    ach: Option<AchOriginator>,
) -> RunningServer {
    let queue = assay_server::sequencer::QUEUE_INPUTS_MAX;
    start_server_with(location, clock, 1_000, queue, ach).await
}

async fn start_server_with(
    location: StoreLocation,
    clock: Clock,
    rate_per_key: u32,
    queue_inputs_max: usize,
    ach: Option<AchOriginator>,
) -> RunningServer {
    start(ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir_of(&location),
        location,
        origin: LOG_ORIGIN.to_string(),
        log_signer: log_signer(),
        exchange_key: key("exchange", 0),
        rules: rules(),
        clock,
        admin_token: Some(ADMIN.to_string()),
        rate_per_key,
        queue_inputs_max,
        snapshots: None,
        ach,
    })
    .await
    .unwrap()
}

/// The data directory of a test server on `location`: the SQLite directory, or a directory
/// named after the PostgreSQL schema (so a restarted server finds its destination key again).
pub fn data_dir_of(location: &StoreLocation) -> std::path::PathBuf {
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

#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(server: &RunningServer) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: format!("http://{}", server.addr),
        }
    }

    pub fn command(&self, envelope: &Envelope) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/v1/commands", self.base))
            .json(envelope)
    }

    /// Posts a command; error answers must be problem documents.
    pub async fn post(&self, envelope: &Envelope) -> (u16, Value) {
        let response = self.command(envelope).send().await.unwrap();
        let status = response.status().as_u16();
        if status >= 400 {
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            assert_eq!(content_type, "application/problem+json");
        }
        (status, response.json().await.unwrap())
    }

    /// Posts a command that must be accepted; returns its events.
    pub async fn accept(&self, envelope: &Envelope) -> Value {
        let (status, body) = self.post(envelope).await;
        assert_eq!(status, 200, "{:?}: {body}", envelope.command);
        body["events"].clone()
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A deposit whose bank reference is derived from the buyer and amount, so distinct
    /// deposits have distinct references and a repeated one is the same deposit (idempotent).
    pub fn deposit_request(&self, buyer: u64, amount: u64) -> reqwest::RequestBuilder {
        let mut reference = Sha256::new();
        reference.update(b"test deposit");
        reference.update(buyer.to_be_bytes());
        reference.update(amount.to_be_bytes());
        self.deposit_request_with(buyer, amount, reference.finalize().into())
    }

    pub fn deposit_request_with(
        &self,
        buyer: u64,
        amount: u64,
        reference: [u8; 32],
    ) -> reqwest::RequestBuilder {
        let body = json!({ "buyer": buyer, "amount_micros": amount, "deposit_reference": hex::encode(reference) });
        self.http
            .post(format!("{}/v1/admin/deposits", self.base))
            .bearer_auth(ADMIN)
            .json(&body)
    }

    pub async fn deposit(&self, buyer: u64, amount: u64) -> u16 {
        let response = self.deposit_request(buyer, amount).send().await.unwrap();
        response.status().as_u16()
    }

    pub async fn deposit_with(&self, buyer: u64, amount: u64, reference: [u8; 32]) -> (u16, Value) {
        let response = self
            .deposit_request_with(buyer, amount, reference)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// A member's destination request (issue 9).
    pub fn destination_request(&self, member: u64, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/v1/members/{member}/destination", self.base))
            .json(body)
    }

    /// A finding that bans `party` ("member" or "buyer") number `id` (E1, E2).
    pub fn ban_request(&self, party: &str, id: u64) -> reqwest::RequestBuilder {
        let body = json!({ "party": party, "id": id, "evidence_hash": hex::encode([9u8; 32]) });
        self.http
            .post(format!("{}/v1/admin/bans", self.base))
            .bearer_auth(ADMIN)
            .json(&body)
    }
}

pub struct Party {
    pub key: SigningKey,
    pub device: SigningKey,
    pub sequence: u64,
}

impl Party {
    pub fn new(label: &str, index: u64) -> Party {
        Party {
            key: key(label, index),
            device: key(&format!("{label}-device"), index),
            sequence: 0,
        }
    }

    pub fn public_key(&self) -> PublicKey {
        self.key.verifying_key().into()
    }

    /// Signs `command` with the next sequence number and consumes it (for inputs that will be
    /// accepted).
    pub fn sign(&mut self, command: Command) -> Envelope {
        let envelope = self.peek(command);
        self.sequence += 1;
        envelope
    }

    /// Signs `command` with the next sequence number without consuming it (a refused input
    /// leaves the signer's sequence where it was).
    pub fn peek(&self, command: Command) -> Envelope {
        Envelope::sign(&self.key, self.sequence, command)
    }

    pub fn register_member(&self) -> Command {
        Command::RegisterMember {
            device_key: self.device.verifying_key().into(),
            payout: PayoutChoice {
                rail: Rail::Usdc,
                destination_commitment: [3; 32],
            },
        }
    }

    /// This party's payout destination: an ACH account derived from its key (issue 9).
    pub fn destination(&self) -> assay_rails::Destination {
        let digits: String = self.key.to_bytes()[..6]
            .iter()
            .map(|b| format!("{:02}", b % 100))
            .collect();
        assay_rails::Destination::parse(&format!("ach:021000021:{digits}:checking:TEST MEMBER"))
            .unwrap()
    }

    /// The salt of this party's destination commitment.
    pub fn salt(&self) -> assay_rails::Salt {
        let mut hasher = Sha256::new();
        hasher.update(b"test salt");
        hasher.update(self.key.to_bytes());
        assay_rails::Salt(hasher.finalize().into())
    }

    /// Registration on `destination`'s rail with its commitment under [`Party::salt`].
    pub fn register_member_paid_to(&self, destination: &assay_rails::Destination) -> Command {
        let rail = match destination.rail() {
            assay_rails::Rail::Ach => Rail::Ach,
            assay_rails::Rail::Usdc => Rail::Usdc,
            assay_rails::Rail::Prepaid => Rail::Prepaid,
        };
        Command::RegisterMember {
            device_key: self.device.verifying_key().into(),
            payout: PayoutChoice {
                rail,
                destination_commitment: destination.commitment(&self.salt()).0,
            },
        }
    }

    /// The JSON body of a destination request for member `member`, signed by this party.
    pub fn destination_body(
        &self,
        member: u64,
        destination: &str,
        salt: &assay_rails::Salt,
    ) -> Value {
        let parsed = assay_rails::Destination::parse(destination);
        let signature = match &parsed {
            Ok(parsed) => {
                use ed25519_dalek::Signer as _;
                let message = assay_rails::destination_request_message(
                    assay_core::MemberId(member),
                    parsed,
                    salt,
                );
                hex::encode(self.key.sign(&message).to_bytes())
            }
            Err(_) => hex::encode([0u8; 64]),
        };
        json!({ "destination": destination, "salt": hex::encode(salt.0), "signature": signature })
    }

    /// An offer at `reserve` with an attestation by this party's device (M11).
    pub fn offer_command(&self, basket: BasketId, reserve: Micros) -> Command {
        let message = eligibility_message(basket, &self.public_key(), reserve);
        Command::Offer {
            basket,
            device_key: self.device.verifying_key().into(),
            reserve_unit_price: reserve,
            profile_tag: 0,
            attestation: sign_bytes(&self.device, &message),
        }
    }

    pub fn offer(&mut self, basket: BasketId) -> Envelope {
        let command = self.offer_command(basket, Micros::ZERO);
        self.sign(command)
    }
}

/// A PostgreSQL schema name no earlier run used (a later process may get the same pid, and a
/// run killed before its [`PgSchema`] was dropped leaves its schema behind).
pub fn fresh_schema(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// How long dropping a test's schema waits for a lock (a server that a failed test left running
/// may hold one) before it gives up and reports the schema left behind.
const SCHEMA_DROP_LOCK_TIMEOUT: &str = "SET lock_timeout = '10s'";

/// A fresh PostgreSQL schema on `ASSAY_TEST_DATABASE_URL` for one test, dropped with all it
/// holds when the guard goes, also when the test fails: the tests share one database.
pub struct PgSchema {
    pub url: String,
    pub name: String,
}

impl PgSchema {
    /// A schema named after `prefix` ([`fresh_schema`]), or `None` when
    /// `ASSAY_TEST_DATABASE_URL` is not set and the test skips PostgreSQL.
    pub fn fresh(prefix: &str) -> Option<PgSchema> {
        let Ok(url) = std::env::var("ASSAY_TEST_DATABASE_URL") else {
            eprintln!("ASSAY_TEST_DATABASE_URL is not set: skipping PostgreSQL (CI sets it)");
            return None;
        };
        Some(PgSchema {
            url,
            name: fresh_schema(prefix),
        })
    }

    pub fn location(&self) -> StoreLocation {
        StoreLocation::Postgres {
            url: self.url.clone(),
            schema: Some(self.name.clone()),
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // The guard goes inside the test's runtime, which must not be blocked on: the DROP
        // runs on a thread of its own, with its own runtime and connection.
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime
                .block_on(async {
                    use sqlx::Connection as _;
                    let mut connection = sqlx::PgConnection::connect(&url).await?;
                    sqlx::query(SCHEMA_DROP_LOCK_TIMEOUT)
                        .execute(&mut connection)
                        .await?;
                    let drop = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                    sqlx::query(sqlx::AssertSqlSafe(drop))
                        .execute(&mut connection)
                        .await?;
                    connection.close().await
                })
                .map_err(|error| error.to_string())
        })
        .join()
        .unwrap_or_else(|_| Err("the thread dropping it panicked".to_string()));
        if let Err(error) = dropped {
            let message = format!("schema {} was not dropped: {error}", self.name);
            // A second panic while the test's own unwinds would abort the test binary.
            if std::thread::panicking() {
                eprintln!("{message}");
            } else {
                panic!("{message}");
            }
        }
    }
}
