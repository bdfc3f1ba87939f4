//! A client of the exchange that never gives up on an input: every signed envelope is resent,
//! unchanged, until the server answers it with an outcome, across kills and restarts. Each
//! outcome is recorded for the final checks.

use assay_core::PublicKey;
use assay_engine::{Command, Envelope};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest one input may stay unanswered (a restart replays the whole log, on a busy machine).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Pause before resending an unanswered input.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Codes that mean a resubmission was not treated as the same input: a bug, never a refusal.
const NOT_IDEMPOTENT: &[&str] = &[
    "sequence_gap",
    "sequence_replayed",
    "sequence_reused",
    "deposit_reference_reused",
    "unsigned",
    "bad_signature",
    "malformed_body",
];

/// An input the server acknowledged: durable at `index` (its reply says so).
#[derive(Debug, Clone)]
pub struct Ack {
    pub envelope: Envelope,
    pub index: u64,
    pub timestamp: i64,
}

/// A deposit the operator route acknowledged.
#[derive(Debug, Clone)]
pub struct DepositAck {
    pub buyer: u64,
    pub amount: u64,
    pub reference: [u8; 32],
    pub index: u64,
}

/// Everything one client was told.
#[derive(Debug, Default)]
pub struct ClientLog {
    pub acks: Vec<Ack>,
    /// Envelopes refused with a code; none may be in the log.
    pub refused: Vec<(Envelope, String)>,
    pub deposits: Vec<DepositAck>,
    /// Sends that got no outcome (connection refused or reset, 408, 429, 503) and were resent.
    pub resends: u64,
    /// Acknowledged inputs deliberately sent again, which returned the same outcome.
    pub repeats: u64,
}

pub enum Verdict {
    Acked(Value),
    Refused(String),
}

impl Verdict {
    pub fn accepted(&self) -> Option<&Value> {
        match self {
            Verdict::Acked(body) => Some(body),
            Verdict::Refused(_) => None,
        }
    }
}

enum Answer {
    Outcome(Verdict),
    Retry,
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: Arc<str>,
    admin_token: Arc<str>,
    /// Inputs acknowledged so far, across clients (deposits included).
    pub acked: Arc<AtomicU64>,
}

impl Api {
    pub fn new(base: String, admin_token: String) -> Api {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client builds");
        Api {
            http,
            base: base.into(),
            admin_token: admin_token.into(),
            acked: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A public read; `None` while the server is down.
    pub async fn get(&self, path: &str) -> Option<Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json().await.ok()
    }

    /// (log size, state hash) from `/v1/health`; `None` while the server is down.
    pub async fn health(&self) -> Option<(u64, String)> {
        let health = self.get("/v1/health").await?;
        Some((
            health["log_size"].as_u64()?,
            health["state_hash"].as_str()?.to_string(),
        ))
    }

    async fn answer(&self, request: reqwest::RequestBuilder, what: &str) -> Answer {
        let Ok(response) = request.send().await else {
            return Answer::Retry;
        };
        let status = response.status().as_u16();
        let Ok(body) = response.json::<Value>().await else {
            return Answer::Retry;
        };
        match status {
            200 => Answer::Outcome(Verdict::Acked(body)),
            408 | 429 | 503 => Answer::Retry,
            400..=499 => {
                let code = body["code"].as_str().unwrap_or("no_code").to_string();
                assert!(
                    !NOT_IDEMPOTENT.contains(&code.as_str()),
                    "{what} was answered {status} {code}: {body}"
                );
                Answer::Outcome(Verdict::Refused(code))
            }
            _ => panic!("{what} was answered {status}: {body}"),
        }
    }

    /// Sends `envelope` until the server gives an outcome, and records it.
    pub async fn settle(&self, envelope: &Envelope, log: &mut ClientLog) -> Verdict {
        let what = format!("input {} #{}", short(&envelope.signer), envelope.sequence);
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let request = self
                .http
                .post(format!("{}/v1/commands", self.base))
                .json(envelope);
            match self.answer(request, &what).await {
                Answer::Outcome(Verdict::Acked(body)) => {
                    log.acks.push(Ack {
                        envelope: envelope.clone(),
                        index: body["index"]
                            .as_u64()
                            .expect("an accepted input has an index"),
                        timestamp: body["timestamp"].as_i64().expect("and a timestamp"),
                    });
                    self.acked.fetch_add(1, Ordering::SeqCst);
                    return Verdict::Acked(body);
                }
                Answer::Outcome(Verdict::Refused(code)) => {
                    log.refused.push((envelope.clone(), code.clone()));
                    return Verdict::Refused(code);
                }
                Answer::Retry => {
                    log.resends += 1;
                    assert!(
                        Instant::now() < deadline,
                        "{what} got no outcome in {SETTLE_TIMEOUT:?}: the server did not come back"
                    );
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        }
    }

    /// Sends an acknowledged input again: the server must return the original outcome.
    pub async fn repeat(&self, ack: &Ack, log: &mut ClientLog) {
        let mut scratch = ClientLog::default();
        match self.settle(&ack.envelope, &mut scratch).await {
            Verdict::Acked(body) => {
                assert_eq!(
                    (body["index"].as_u64(), body["timestamp"].as_i64()),
                    (Some(ack.index), Some(ack.timestamp)),
                    "a repeated input came back with another outcome: {body}"
                );
            }
            Verdict::Refused(code) => panic!("a repeated acknowledged input was refused: {code}"),
        }
        // The repeat is not a new acknowledgement.
        self.acked.fetch_sub(1, Ordering::SeqCst);
        log.resends += scratch.resends;
        log.repeats += 1;
    }

    /// Records a deposit (operator route) until answered; the reference makes resending safe.
    /// Returns the log index, or the refusal code.
    pub async fn deposit(
        &self,
        buyer: u64,
        amount: u64,
        reference: [u8; 32],
        log: &mut ClientLog,
    ) -> Result<u64, String> {
        let what = format!("deposit {}", hex::encode(&reference[..4]));
        let body = json!({
            "buyer": buyer,
            "amount_micros": amount,
            "deposit_reference": hex::encode(reference),
        });
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let request = self
                .http
                .post(format!("{}/v1/admin/deposits", self.base))
                .bearer_auth(&*self.admin_token)
                .json(&body);
            match self.answer(request, &what).await {
                Answer::Outcome(Verdict::Acked(reply)) => {
                    let index = reply["index"]
                        .as_u64()
                        .expect("an accepted deposit has an index");
                    log.deposits.push(DepositAck {
                        buyer,
                        amount,
                        reference,
                        index,
                    });
                    self.acked.fetch_add(1, Ordering::SeqCst);
                    return Ok(index);
                }
                Answer::Outcome(Verdict::Refused(code)) => return Err(code),
                Answer::Retry => {
                    log.resends += 1;
                    assert!(
                        Instant::now() < deadline,
                        "{what} got no outcome in {SETTLE_TIMEOUT:?}: the server did not come back"
                    );
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        }
    }
}

/// A signing party: a member's wallet (with its device key) or a buyer's system.
pub struct Party {
    pub key: SigningKey,
    pub device: SigningKey,
    pub sequence: u64,
}

pub fn key(label: &str, index: u64) -> SigningKey {
    let mut hasher = Sha256::new();
    hasher.update(label.as_bytes());
    hasher.update(index.to_be_bytes());
    SigningKey::from_bytes(&hasher.finalize().into())
}

impl Party {
    pub fn new(label: &str, index: u64) -> Party {
        Party {
            key: key(label, index),
            device: key(&format!("{label}/device"), index),
            sequence: 0,
        }
    }

    pub fn public(&self) -> PublicKey {
        self.key.verifying_key().into()
    }

    /// Signs `command` with the next sequence number and settles it; a refusal leaves the
    /// number free for the next command (the engine consumes none for refused inputs).
    pub async fn submit(&mut self, api: &Api, command: Command, log: &mut ClientLog) -> Verdict {
        let envelope = Envelope::sign(&self.key, self.sequence, command);
        let verdict = api.settle(&envelope, log).await;
        if verdict.accepted().is_some() {
            self.sequence += 1;
        }
        verdict
    }
}

pub fn short(key: &PublicKey) -> String {
    hex::encode(&key.as_bytes()[..4])
}
