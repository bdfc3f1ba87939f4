//! The wallet's HTTP client for the exchange (M11, M12, M15, W4, W5): registers the member,
//! reads open baskets and the rules, sends device-attested offers, reads the member's grants,
//! checks checkpoints, inclusion proofs and payout lines.
//!
//! The exchange learns from this client only what commands and queries carry: keys, ids,
//! prices, signatures, sizes. Delivery never goes through it: [`crate::market::deliver`] seals
//! data to the buyer's key and the caller hands the result to the buyer (P-nothing).
//!
//! Refusals arrive as RFC 9457 problem+json; each becomes [`Error::Exchange`] carrying the
//! server's stable code. A refused command does not consume the member's sequence number. A
//! check that fails (W5) changes nothing in the vault, in memory or on disk.

use crate::checker::{
    verify_payout_line, CheckedPayout, Checker, CheckerState, PayoutDelivery, PayoutLine,
};
use crate::market::{make_offer, sign_envelope, GrantNotice, OpenBasket};
use crate::{Error, KeyStore, Vault};
use assay_core::{
    BasketId, BuyerId, Category, MemberId, Micros, Month, PublicKey, Rules, TradingDay,
};
use assay_engine::{Command, Envelope, Event, MemberShare, PayoutChoice, Rail};
use assay_log::{
    leaf_hash, parse_entry_bundle_for, ConsistencyProof, Hash, InclusionProof, TileId,
};
use assay_market::{AgeBand, BasketSpec, ProfileFilter, Region};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::time::Duration;

/// Longest the client waits for one response.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response body read (a full entry bundle is at most 256 × 64 KiB).
pub const RESPONSE_BYTES_MAX: usize = 17 << 20;
/// Reads of an entry bundle while the log grows under the client.
pub const TILE_ATTEMPTS_MAX: u32 = 3;

/// What the exchange answers to an accepted command.
#[derive(Debug, Clone, Deserialize)]
pub struct Accepted {
    /// The command's entry in the log.
    pub index: u64,
    /// The sequencer's stamp, µs since the Unix epoch.
    pub timestamp: i64,
    pub events: Vec<Event>,
}

/// A grant the member was picked for, as the exchange reports it.
#[derive(Debug, Clone)]
pub struct IssuedGrant {
    pub notice: GrantNotice,
    /// The `GrantIssued` event, for recomputing the member's share (W5).
    pub event: Event,
    /// The log entry that issued it.
    pub log_index: u64,
}

#[derive(Deserialize)]
struct DestinationBody {
    destination_commitment: String,
}

#[derive(Deserialize)]
struct ProblemBody {
    code: String,
    #[serde(default)]
    detail: String,
}

#[derive(Deserialize)]
struct RulesBody {
    hash: String,
    rules: serde_json::Value,
}

#[derive(Deserialize)]
struct SummaryBody {
    open_day: String,
}

#[derive(Deserialize)]
struct BasketBody {
    basket: u64,
    category: String,
    region: Option<String>,
    age_band: Option<String>,
    window_days: u32,
    members_per_slot: u32,
    slots: u8,
    anchor_unit_price_micros: u64,
    bids: u64,
}

#[derive(Deserialize)]
struct GrantBody {
    grant: u64,
    basket: u64,
    slot: u8,
    buyer: u64,
    buyer_key: String,
    spec: BasketSpec,
    cleared_on: i32,
    unit_price_micros: u64,
    price_micros: u64,
    seed: String,
    members: Vec<MemberShare>,
    log_index: u64,
}

#[derive(Deserialize)]
struct ProofBody {
    hashes: Vec<String>,
}

#[derive(Deserialize)]
struct LogBody {
    origin: String,
    vkey: String,
    size: u64,
}

#[derive(Deserialize)]
struct RunBody {
    month: String,
    payout_root: String,
}

#[derive(Deserialize)]
struct PayoutBody {
    month: String,
    member: u64,
    amount_micros: u64,
    rail: Rail,
    destination_commitment: String,
    index: u64,
    count: u64,
    proof: Vec<String>,
    /// `pending`, `sent` or `held`.
    status: String,
    /// The file that carries the line, when sent.
    file: Option<String>,
}

fn bad(detail: impl Into<String>) -> Error {
    Error::BadResponse {
        detail: detail.into(),
    }
}

fn hex32(text: &str, what: &str) -> Result<[u8; 32], Error> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| bad(format!("{what} is not 64 hex digits")))
}

fn hashes(texts: &[String]) -> Result<Vec<Hash>, Error> {
    texts
        .iter()
        .map(|text| Hash::from_base64(text).map_err(|_| bad("a proof hash is not base64")))
        .collect()
}

/// A JSON string value read as the serde enum it names (`"browsing"`, `"25-34"`).
fn named<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, Error> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| bad(format!("unknown {what} {text:?}")))
}

fn parse_day(text: &str) -> Result<TradingDay, Error> {
    let mut parts = text.splitn(3, '-').map(str::parse::<i32>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(y)), Some(Ok(m)), Some(Ok(d)))
            if (1..=12).contains(&m) && (1..=31).contains(&d) =>
        {
            Ok(TradingDay::from_civil(y, m as u8, d as u8))
        }
        _ => Err(bad(format!("{text:?} is not a YYYY-MM-DD day"))),
    }
}

/// The exchange, as one member's wallet talks to it.
#[derive(Debug, Clone)]
pub struct ExchangeClient {
    http: reqwest::Client,
    base: String,
}

impl ExchangeClient {
    /// A client for the exchange at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str) -> Result<ExchangeClient, Error> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| Error::Transport {
                detail: e.to_string(),
            })?;
        Ok(ExchangeClient {
            http,
            base: base_url.trim_end_matches('/').to_string(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Reads the body (at most [`RESPONSE_BYTES_MAX`]); a problem document becomes
    /// [`Error::Exchange`] with its code.
    async fn body(response: reqwest::Response) -> Result<Vec<u8>, Error> {
        let status = response.status();
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > RESPONSE_BYTES_MAX {
                return Err(bad("response larger than the client reads"));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(body);
        }
        let problem: ProblemBody = serde_json::from_slice(&body).map_err(|_| {
            bad(format!(
                "HTTP {} without a problem document",
                status.as_u16()
            ))
        })?;
        Err(Error::Exchange {
            status: status.as_u16(),
            code: problem.code,
            detail: problem.detail,
        })
    }

    async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, Error> {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .map_err(transport)?;
        ExchangeClient::body(response).await
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let body = self.get_bytes(path).await?;
        serde_json::from_slice(&body).map_err(|e| bad(format!("GET {path}: {e}")))
    }

    /// Submits one signed envelope.
    pub async fn submit(&self, envelope: &Envelope) -> Result<Accepted, Error> {
        let response = self
            .http
            .post(self.url("/v1/commands"))
            .json(envelope)
            .send()
            .await
            .map_err(transport)?;
        let body = ExchangeClient::body(response).await?;
        serde_json::from_slice(&body).map_err(|e| bad(format!("POST /v1/commands: {e}")))
    }

    /// Signs `command` with the vault's next sequence number and submits it; the number is
    /// consumed (and the vault saved) only if the exchange accepts.
    async fn submit_member<S: KeyStore>(
        &self,
        vault: &mut Vault<S>,
        command: Command,
    ) -> Result<Accepted, Error> {
        let envelope = sign_envelope(vault.store(), vault.contents.next_sequence, command)?;
        let accepted = self.submit(&envelope).await?;
        vault.contents.next_sequence += 1;
        vault.save()?;
        Ok(accepted)
    }

    /// The rules in force, checked against the hash the exchange publishes (G6).
    pub async fn rules(&self) -> Result<Rules, Error> {
        let body: RulesBody = self.get_json("/v1/rules").await?;
        let rules = Rules::from_json_str(&body.rules.to_string())
            .map_err(|e| bad(format!("rules: {e}")))?;
        if rules.hash_hex() != body.hash {
            return Err(bad("the rules do not hash to the published rules hash"));
        }
        Ok(rules)
    }

    /// The exchange's open trading day.
    pub async fn today(&self) -> Result<TradingDay, Error> {
        let summary: SummaryBody = self.get_json("/v1/summary").await?;
        parse_day(&summary.open_day)
    }

    /// Open baskets (M11), with competing buyers counted as the anchor plus bidders (M12).
    pub async fn open_baskets(&self) -> Result<Vec<OpenBasket>, Error> {
        let baskets: Vec<BasketBody> = self.get_json("/v1/baskets").await?;
        baskets
            .into_iter()
            .map(|b| {
                let region = b
                    .region
                    .as_deref()
                    .map(|r| Region::parse(r).map_err(|_| bad(format!("region {r:?}"))))
                    .transpose()?;
                let age_band = b
                    .age_band
                    .as_deref()
                    .map(|a| named::<AgeBand>(a, "age band"))
                    .transpose()?;
                Ok(OpenBasket {
                    id: BasketId(b.basket),
                    spec: BasketSpec {
                        category: named::<Category>(&b.category, "category")?,
                        filter: ProfileFilter { region, age_band },
                        window_days: b.window_days,
                        members_per_slot: b.members_per_slot,
                        slots: b.slots,
                    },
                    anchor_unit_price: Micros::new(b.anchor_unit_price_micros),
                    competing_buyers: u32::try_from(b.bids.saturating_add(1)).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// Registers the vault's member with its device key and payout choice, and remembers the
    /// member id the exchange assigned.
    pub async fn register<S: KeyStore>(
        &self,
        vault: &mut Vault<S>,
        payout: PayoutChoice,
    ) -> Result<MemberId, Error> {
        let command = Command::RegisterMember {
            device_key: vault.device_key(),
            payout,
        };
        let envelope = sign_envelope(vault.store(), vault.contents.next_sequence, command)?;
        let accepted = self.submit(&envelope).await?;
        let member = accepted
            .events
            .iter()
            .find_map(|event| match event {
                Event::MemberRegistered { member, .. } => Some(*member),
                _ => None,
            })
            .ok_or_else(|| bad("registration accepted without a MemberRegistered event"))?;
        vault.contents.next_sequence += 1;
        vault.contents.member = Some(member);
        vault.save()?;
        Ok(member)
    }

    /// Rule M11/M12: offers for `basket` if the vault is eligible on `today` (decided on the
    /// device), with the device-signed attestation and the member's reserve.
    pub async fn offer<S: KeyStore>(
        &self,
        vault: &mut Vault<S>,
        basket: &OpenBasket,
        today: TradingDay,
    ) -> Result<Accepted, Error> {
        let envelope = make_offer(vault, basket, today)?;
        match self.submit(&envelope).await {
            Ok(accepted) => {
                vault.save()?;
                Ok(accepted)
            }
            Err(error) => {
                // Refused (or unanswered): the sequence number is free again. Should the
                // exchange have accepted an unanswered offer, the next command's sequence
                // number is reported as reused, and resubmitting this envelope is idempotent.
                vault.contents.next_sequence -= 1;
                Err(error)
            }
        }
    }

    /// Submits any other member command (a ballot, a candidacy …) from the vault's key.
    pub async fn send<S: KeyStore>(
        &self,
        vault: &mut Vault<S>,
        command: Command,
    ) -> Result<Accepted, Error> {
        self.submit_member(vault, command).await
    }

    /// The grants `member` was picked for (M15).
    pub async fn grants(&self, member: MemberId) -> Result<Vec<IssuedGrant>, Error> {
        let grants: Vec<GrantBody> = self
            .get_json(&format!("/v1/members/{}/grants", member.0))
            .await?;
        grants
            .into_iter()
            .map(|g| {
                let buyer_key = PublicKey::from_hex(&g.buyer_key)
                    .map_err(|_| bad("the grant's buyer key is not a key"))?;
                Ok(IssuedGrant {
                    notice: GrantNotice {
                        grant: g.grant,
                        basket: BasketId(g.basket),
                        spec: g.spec,
                        buyer_key,
                        cleared_on: TradingDay(g.cleared_on),
                    },
                    event: Event::GrantIssued {
                        grant: g.grant,
                        basket: BasketId(g.basket),
                        slot: g.slot,
                        buyer: BuyerId(g.buyer),
                        unit_price: Micros::new(g.unit_price_micros),
                        price: Micros::new(g.price_micros),
                        seed: hex32(&g.seed, "seed")?,
                        members: g.members,
                    },
                    log_index: g.log_index,
                })
            })
            .collect()
    }

    /// The latest signed checkpoint, as the note's text.
    pub async fn checkpoint(&self) -> Result<String, Error> {
        let bytes = self.get_bytes("/checkpoint").await?;
        String::from_utf8(bytes).map_err(|_| bad("the checkpoint is not UTF-8"))
    }

    /// The consistency proof between tree sizes `old` and `new`.
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<ConsistencyProof, Error> {
        let body: ProofBody = self
            .get_json(&format!("/v1/proofs/consistency?old={old}&new={new}"))
            .await?;
        ConsistencyProof::new(old, new, hashes(&body.hashes)?).map_err(Error::log)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, Error> {
        let body: ProofBody = self
            .get_json(&format!("/v1/proofs/inclusion?index={index}&size={size}"))
            .await?;
        InclusionProof::new(index, size, hashes(&body.hashes)?).map_err(Error::log)
    }

    /// The log's current size.
    pub async fn log_size(&self) -> Result<u64, Error> {
        let log: LogBody = self.get_json("/v1/log").await?;
        Ok(log.size)
    }

    /// Entry `index`'s bytes, from its entry bundle (C2SP tlog-tiles). A partial bundle is
    /// served only at the log's current width, so the size is read first, and read again if
    /// the log grew in between.
    pub async fn entry(&self, index: u64) -> Result<Vec<u8>, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let size = self.log_size().await?;
            let tile = TileId::entries_containing(index, size).map_err(Error::log)?;
            let bundle = match self.get_bytes(&format!("/{}", tile.path())).await {
                Ok(bundle) => bundle,
                Err(error) if error.code() == "tile_not_served" && attempt < TILE_ATTEMPTS_MAX => {
                    continue
                }
                Err(error) => return Err(error),
            };
            let entries = parse_entry_bundle_for(&tile, &bundle).map_err(Error::log)?;
            let (first, _) = tile.leaf_range().map_err(Error::log)?;
            let position = usize::try_from(index - first).map_err(|_| bad("entry position"))?;
            return entries
                .get(position)
                .map(|entry| entry.to_vec())
                .ok_or_else(|| bad("the entry bundle is short"));
        }
    }

    /// Rule W5: checks the exchange's latest checkpoint against the last one this vault saw
    /// (signature, then a consistency proof), and remembers it. The log's identity is taken
    /// from the exchange on first use. On any failure the vault is left exactly as it was.
    pub async fn check_checkpoint<S: KeyStore>(&self, vault: &mut Vault<S>) -> Result<u64, Error> {
        let state = match &vault.contents.checker {
            Some(state) => state.clone(),
            None => {
                let log: LogBody = self.get_json("/v1/log").await?;
                CheckerState {
                    origin: log.origin,
                    log_vkey: log.vkey,
                    last_checkpoint: None,
                }
            }
        };
        let mut checker = Checker::from_state(&state)?;
        let note = self.checkpoint().await?;
        let new_size = assay_log::SignedCheckpoint::open(
            note.as_bytes(),
            &state.origin,
            &assay_log::VerifierKey::parse(&state.log_vkey).map_err(Error::log)?,
        )
        .map_err(Error::log)?
        .checkpoint()
        .size();
        let proof = match checker.last().map(|last| last.checkpoint().size()) {
            Some(old) if old < new_size => Some(self.consistency_proof(old, new_size).await?),
            _ => None,
        };
        let size = checker
            .observe(note.as_bytes(), proof.as_ref())?
            .checkpoint()
            .size();
        let previous = vault.contents.checker.replace(checker.state());
        if let Err(error) = vault.save() {
            vault.contents.checker = previous;
            return Err(error);
        }
        Ok(size)
    }

    /// Rule W5: entry `index` is in the log the vault last checked; returns its bytes.
    pub async fn check_entry<S: KeyStore>(
        &self,
        vault: &Vault<S>,
        index: u64,
    ) -> Result<Vec<u8>, Error> {
        let state = vault
            .contents
            .checker
            .as_ref()
            .ok_or(Error::NoCheckedCheckpoint)?;
        let checker = Checker::from_state(state)?;
        let last = checker
            .last()
            .ok_or(Error::NoCheckedCheckpoint)?
            .checkpoint();
        if index >= last.size() {
            return Err(Error::EntryNotIncluded { index });
        }
        let entry = self.entry(index).await?;
        let proof = self.inclusion_proof(index, last.size()).await?;
        proof
            .verify(&leaf_hash(&entry), &last.root())
            .map_err(|_| Error::EntryNotIncluded { index })?;
        Ok(entry)
    }

    /// Hands the exchange the member's payout destination and the salt of the commitment the
    /// member registered with (D4, issue 9), signed by the member's key. The exchange checks
    /// both against its log and keeps them sealed in its private table, never in the log.
    /// Answers the commitment the exchange matched.
    pub async fn store_destination<S: KeyStore>(
        &self,
        vault: &Vault<S>,
        destination: &assay_rails::Destination,
        salt: &assay_rails::Salt,
    ) -> Result<[u8; 32], Error> {
        let member = vault.contents.member.ok_or(Error::NotRegistered)?;
        let message = assay_rails::destination_request_message(member, destination, salt);
        let signature = vault.store().sign(crate::KeyRole::Member, &message)?;
        let body = serde_json::json!({
            "destination": destination.to_text(),
            "salt": hex::encode(salt.0),
            "signature": hex::encode(signature),
        });
        let path = format!("/v1/members/{}/destination", member.0);
        let response = self
            .http
            .post(self.url(&path))
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        let stored: DestinationBody =
            serde_json::from_slice(&ExchangeClient::body(response).await?)
                .map_err(|e| bad(format!("POST {path}: {e}")))?;
        let commitment = hex32(&stored.destination_commitment, "commitment")?;
        if commitment != destination.commitment(salt).0 {
            return Err(bad("the exchange matched another commitment"));
        }
        Ok(commitment)
    }

    /// The member's payout line in `month`'s run, its inclusion proof and what became of it, as
    /// the exchange serves them (unchecked; see [`ExchangeClient::check_payout`]).
    pub async fn payout_line(
        &self,
        month: Month,
        member: MemberId,
    ) -> Result<(PayoutLine, InclusionProof, PayoutDelivery), Error> {
        let body: PayoutBody = self
            .get_json(&format!("/v1/runs/{month}/payouts/{}", member.0))
            .await?;
        if body.month != month.to_string() || body.member != member.0 {
            return Err(bad("the payout line is for another month or member"));
        }
        let line = PayoutLine {
            month,
            member,
            amount: Micros::new(body.amount_micros),
            rail: body.rail,
            destination_commitment: hex32(&body.destination_commitment, "commitment")?,
        };
        let proof = InclusionProof::new(body.index, body.count, hashes(&body.proof)?)
            .map_err(Error::log)?;
        let delivery = match (body.status.as_str(), body.file) {
            ("pending", None) => PayoutDelivery::Pending,
            ("sent", Some(file)) => PayoutDelivery::Sent { file },
            ("held", None) => PayoutDelivery::Held,
            (status, _) => {
                return Err(bad(format!(
                    "the payout line's status {status:?} does not fit its file"
                )))
            }
        };
        Ok((line, proof, delivery))
    }

    /// The payout root of `month`'s run, from the public run summaries (D4).
    pub async fn payout_root(&self, month: Month) -> Result<[u8; 32], Error> {
        let runs: Vec<RunBody> = self.get_json("/v1/runs").await?;
        let run = runs
            .iter()
            .find(|run| run.month == month.to_string())
            .ok_or_else(|| Error::Exchange {
                status: 404,
                code: "unknown_run".into(),
                detail: format!("no run for {month}"),
            })?;
        hex32(&run.payout_root, "payout root")
    }

    /// Rule W5: the vault's member has a payout line in `month`'s published payout root.
    /// Returns the checked line with what the exchange says became of it (a held line is in
    /// the root but was not paid); changes nothing.
    pub async fn check_payout<S: KeyStore>(
        &self,
        vault: &Vault<S>,
        month: Month,
    ) -> Result<CheckedPayout, Error> {
        let member = vault.contents.member.ok_or(Error::NotRegistered)?;
        let (line, proof, delivery) = self.payout_line(month, member).await?;
        let root = self.payout_root(month).await?;
        verify_payout_line(&line, &proof, &root)?;
        Ok(CheckedPayout { line, delivery })
    }
}

fn transport(error: reqwest::Error) -> Error {
    Error::Transport {
        detail: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_from_the_summary_form() {
        assert_eq!(parse_day("2026-01-31").unwrap(), TradingDay(20_484));
        assert_eq!(parse_day("2026-13-01").unwrap_err().code(), "bad_response");
        assert_eq!(parse_day("yesterday").unwrap_err().code(), "bad_response");
    }
}
