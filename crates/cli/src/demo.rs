//! `assay demo`: the README's main command. Starts the exchange on SQLite in `--data`, drives one
//! simulated month through real HTTP (members' wallets offering, buyers posting baskets and
//! bidding, the monthly run), stops the server, verifies the log from the outside, and prints a
//! summary. The data stays in the directory for `assay serve` and `assay log verify`.

use crate::keys;
use crate::log_cmd::{self, StoreArgs};
use anyhow::{bail, ensure, Context};
use assay_core::{BasketId, Category, Micros, PublicKey, Rules, Timestamp, TradingDay};
use assay_engine::command::{eligibility_message, sign_bytes};
use assay_engine::{Command, Envelope, PayoutChoice, Rail};
use assay_market::{BasketSpec, ProfileFilter};
use assay_server::clock::Clock;
use assay_server::run::{start, ServeOptions};
use assay_store::StoreLocation;
use ed25519_dalek::SigningKey;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The demo's month: January 2026, starting a moment after midnight on the 1st.
const DEMO_START: TradingDay = TradingDay(20_454);
/// Simulated seconds per real second: a 31-day month in about 25 s.
const DEMO_SPEED: f64 = 31.0 * 86_400.0 / 25.0;
const BUYERS: u64 = 6;
const BASKETS_PER_DAY: usize = 4;
const MEMBERS_PER_SLOT: u32 = 10;
const REQUESTS_IN_FLIGHT_MAX: usize = 64;

struct Party {
    key: SigningKey,
    device: SigningKey,
    sequence: u64,
    id: u64,
}

struct Client {
    http: reqwest::Client,
    base: String,
    admin_token: String,
}

impl Client {
    async fn submit(
        &self,
        party: &mut Party,
        command: Command,
    ) -> anyhow::Result<Result<Value, String>> {
        let envelope = Envelope::sign(&party.key, party.sequence, command);
        let response = self
            .http
            .post(format!("{}/v1/commands", self.base))
            .json(&envelope)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if status.is_success() {
            party.sequence += 1;
            Ok(Ok(body))
        } else {
            Ok(Err(body["code"].as_str().unwrap_or("unknown").to_string()))
        }
    }

    /// The member's destination request (what `ExchangeClient::store_destination` sends).
    async fn store_destination(
        &self,
        member: &Party,
        destination: &assay_rails::Destination,
        salt: &assay_rails::Salt,
    ) -> anyhow::Result<()> {
        use ed25519_dalek::Signer as _;
        let message = assay_rails::destination_request_message(
            assay_core::MemberId(member.id),
            destination,
            salt,
        );
        let body = serde_json::json!({
            "destination": destination.to_text(),
            "salt": hex::encode(salt.0),
            "signature": hex::encode(member.key.sign(&message).to_bytes()),
        });
        let response = self
            .http
            .post(format!(
                "{}/v1/members/{}/destination",
                self.base, member.id
            ))
            .json(&body)
            .send()
            .await?;
        ensure!(
            response.status().is_success(),
            "destination of member {} refused: {}",
            member.id,
            response.text().await?
        );
        Ok(())
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

fn key(label: &str, index: u64) -> SigningKey {
    let mut hasher = Sha256::new();
    hasher.update(label.as_bytes());
    hasher.update(index.to_be_bytes());
    SigningKey::from_bytes(&hasher.finalize().into())
}

/// A valid destination on `rail` for demo member `index`: a checking account at one of four
/// banks, an address, or a card token.
fn demo_destination(index: u64, rail: Rail) -> anyhow::Result<assay_rails::Destination> {
    const ROUTINGS: [&str; 4] = ["021000021", "122105278", "011000015", "026009593"];
    let text = match rail {
        Rail::Ach => format!(
            "ach:{}:{:010}:checking:DEMO MEMBER {index}",
            ROUTINGS[(index % 4) as usize],
            1_000_000 + index
        ),
        Rail::Usdc => format!("usdc:0x{:040x}", 0x1111_0000_0000_u64 + index),
        Rail::Prepaid => format!("prepaid:demo-card-{index}"),
    };
    Ok(assay_rails::Destination::parse(&text)?)
}

fn first_id(events: &Value, variant: &str, field: &str) -> Option<u64> {
    events["events"]
        .as_array()?
        .iter()
        .find_map(|e| e[variant][field].as_u64())
}

pub fn run(data: PathBuf, members: u64) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(demo(&data, members))
}

async fn demo(data: &Path, members_count: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    if data.join(assay_store::SQLITE_FILE_NAME).exists() {
        bail!(
            "{} already holds a log; the demo writes a fresh one. Run `assay serve --data {}` to \
             open it, or give the demo another --data directory.",
            data.display(),
            data.display()
        );
    }
    let started = Instant::now();
    let rules = Rules::from_toml_str(crate::rules_cmd::DEFAULT_RULES)?;
    let origin = log_cmd::DEFAULT_ORIGIN.to_string();
    let admin_token = hex::encode(key("assay-demo/admin-token", 0).to_bytes());
    let options = ServeOptions {
        listen: "127.0.0.1:0".parse()?,
        location: StoreLocation::Sqlite {
            dir: data.to_path_buf(),
        },
        log_signer: log_cmd::load_or_create_signer(data, &origin)?,
        origin,
        exchange_key: keys::load_or_create_exchange_key(data)?,
        rules: rules.clone(),
        clock: Clock::simulated(Timestamp(DEMO_START.start().0 + 1_000_000), DEMO_SPEED),
        admin_token: Some(admin_token.clone()),
        rate_per_key: 10_000,
        queue_inputs_max: assay_server::sequencer::QUEUE_INPUTS_MAX,
        // `assay serve --data DIR` afterwards starts from the snapshot written at the stop.
        snapshots: Some(assay_server::snapshot::SnapshotConfig::in_data_dir(data)),
        data_dir: data.to_path_buf(),
        // The demo's ACH files carry the documented test originator, never a real one.
        ach: Some(assay_server::ach_config::AchOriginator::test_values()),
    };
    let server = start(options).await?;
    let client = Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?,
        base: format!("http://{}", server.addr),
        admin_token,
    };
    let outcome = drive(&client, members_count, &rules).await;
    server.stop().await?;
    let stats = outcome?;
    let args = StoreArgs {
        data: data.to_path_buf(),
        database: None,
    };
    let verified = log_cmd::verify(&args)
        .await
        .context("verifying the log from the outside")?;
    print_summary(&stats, &verified, data, started.elapsed());
    Ok(())
}

#[derive(Default)]
struct Stats {
    members: u64,
    baskets_posted: u64,
    offers: u64,
    bids: u64,
    refusals: BTreeMap<String, u64>,
    /// category → (Σ unit price × slots, slots, Σ spot at clearing, Σ floor)
    clearing: BTreeMap<String, (u64, u64)>,
    markets_end: Vec<Value>,
    run: Option<Value>,
    /// The run's payout status (`/v1/payouts/{month}`).
    payouts: Option<Value>,
}

async fn drive(client: &Client, members_count: u64, rules: &Rules) -> anyhow::Result<Stats> {
    let mut stats = Stats::default();
    let style =
        ProgressStyle::with_template("{msg:28} [{bar:40}] {pos}/{len}")?.progress_chars("=> ");

    // Members register through their wallets' keys; every tenth prefers prepaid, a third ACH.
    let bar = ProgressBar::new(members_count)
        .with_style(style.clone())
        .with_message("members register");
    let mut members = Vec::new();
    for index in 0..members_count {
        let mut member = Party {
            key: key("member", index),
            device: key("device", index),
            sequence: 0,
            id: 0,
        };
        let rail = match index % 10 {
            0 => Rail::Prepaid,
            1..=3 => Rail::Ach,
            _ => Rail::Usdc,
        };
        // Issue 9: a destination on the rail, committed to with a salt only the wallet knows;
        // the details go to the exchange's private table right after registration.
        let destination = demo_destination(index, rail)?;
        let salt = assay_rails::Salt(Sha256::digest(format!("demo salt {index}")).into());
        let payout = PayoutChoice {
            rail,
            destination_commitment: destination.commitment(&salt).0,
        };
        let device_key = member.device.verifying_key().into();
        let body = client
            .submit(&mut member, Command::RegisterMember { device_key, payout })
            .await?
            .map_err(|code| anyhow::anyhow!("member registration refused: {code}"))?;
        member.id = first_id(&body, "MemberRegistered", "member").context("member id")?;
        client
            .store_destination(&member, &destination, &salt)
            .await?;
        members.push(member);
        bar.inc(1);
    }
    bar.finish();
    stats.members = members.len() as u64;

    let mut buyers = Vec::new();
    for index in 0..BUYERS {
        let mut buyer = Party {
            key: key("buyer", index),
            device: key("buyer", index),
            sequence: 0,
            id: 0,
        };
        let body = client
            .submit(&mut buyer, Command::RegisterBuyer)
            .await?
            .map_err(|code| anyhow::anyhow!("buyer registration refused: {code}"))?;
        buyer.id = first_id(&body, "BuyerRegistered", "buyer").context("buyer id")?;
        let deposit = serde_json::json!({
            "buyer": buyer.id,
            "amount_micros": 200_000_000_000u64,
            "deposit_reference": hex::encode(Sha256::digest(format!("wire {index}"))),
        });
        client
            .http
            .post(format!("{}/v1/admin/deposits", client.base))
            .bearer_auth(&client.admin_token)
            .json(&deposit)
            .send()
            .await?
            .error_for_status()?;
        buyers.push(buyer);
    }

    // Trading days, paced by the server's simulated clock, until January's run is recorded.
    let days = ProgressBar::new(31)
        .with_style(style)
        .with_message("trading days");
    let mut last_day = String::new();
    let mut day_index = 0u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        ensure!(
            Instant::now() < deadline,
            "the demo month did not finish in time"
        );
        let runs = client.get("/v1/runs").await?;
        if let Some(run) = runs.as_array().and_then(|r| r.first()) {
            stats.run = Some(run.clone());
            // The run's files are logged and settled in the run's own batch (issue 9).
            let month = run["month"].as_str().unwrap_or_default();
            stats.payouts = Some(client.get(&format!("/v1/payouts/{month}")).await?);
            break;
        }
        let summary = client.get("/v1/summary").await?;
        let open_day = summary["open_day"].as_str().unwrap_or_default().to_string();
        if open_day == last_day {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        if !last_day.is_empty() {
            days.inc(1);
        }
        last_day = open_day;
        stats.markets_end = summary["markets"].as_array().cloned().unwrap_or_default();
        trade_one_day(
            client,
            &mut members,
            &mut buyers,
            rules,
            day_index,
            &mut stats,
        )
        .await?;
        day_index += 1;
    }
    days.finish();
    Ok(stats)
}

async fn trade_one_day(
    client: &Client,
    members: &mut [Party],
    buyers: &mut [Party],
    rules: &Rules,
    day: u64,
    stats: &mut Stats,
) -> anyhow::Result<()> {
    for basket_index in 0..BASKETS_PER_DAY as u64 {
        let category = Category::ALL[((day + basket_index) % 5) as usize];
        let tier = rules.tier_of(category);
        let slots = tier.slots_max;
        let spec = BasketSpec {
            category,
            filter: ProfileFilter::default(),
            window_days: 30,
            members_per_slot: MEMBERS_PER_SLOT,
            slots,
        };
        let anchor = ((day * 3 + basket_index) % buyers.len() as u64) as usize;
        let posted = client
            .submit(
                &mut buyers[anchor],
                Command::PostBasket { spec: spec.clone() },
            )
            .await?;
        let body = match posted {
            Ok(body) => body,
            Err(code) => {
                *stats.refusals.entry(code).or_default() += 1;
                continue;
            }
        };
        let Some(basket) = first_id(&body, "BasketPosted", "basket") else {
            continue;
        };
        stats.baskets_posted += 1;
        let basket = BasketId(basket);

        // Wallets decide eligibility on the device; here a rotating share of members offers.
        let places = u64::from(slots) * u64::from(MEMBERS_PER_SLOT);
        let start = ((day * 7 + basket_index * 13) * places) as usize % members.len();
        let count = (places + places / 2) as usize;
        let chosen: Vec<usize> = (0..count.min(members.len()))
            .map(|k| (start + k) % members.len())
            .collect();
        let mut requests = Vec::new();
        for &index in &chosen {
            let member = &members[index];
            let member_key: PublicKey = member.key.verifying_key().into();
            let message = eligibility_message(basket, &member_key, Micros::ZERO);
            let command = Command::Offer {
                basket,
                device_key: member.device.verifying_key().into(),
                reserve_unit_price: Micros::ZERO,
                profile_tag: (index % 4) as u64,
                attestation: sign_bytes(&member.device, &message),
            };
            requests.push((index, Envelope::sign(&member.key, member.sequence, command)));
        }
        for chunk in requests.chunks(REQUESTS_IN_FLIGHT_MAX) {
            // Members' wallets send concurrently, as they would from their own devices.
            let tasks: Vec<_> = chunk
                .iter()
                .map(|(_, envelope)| {
                    let request = client
                        .http
                        .post(format!("{}/v1/commands", client.base))
                        .json(envelope);
                    tokio::spawn(async move {
                        let response = request.send().await?;
                        let ok = response.status().is_success();
                        let body: Value = response.json().await?;
                        Ok::<_, reqwest::Error>((ok, body))
                    })
                })
                .collect();
            for ((index, _), task) in chunk.iter().zip(tasks) {
                let (ok, body) = task.await??;
                if ok {
                    members[*index].sequence += 1;
                    stats.offers += 1;
                } else {
                    let code = body["code"].as_str().unwrap_or("unknown").to_string();
                    *stats.refusals.entry(code).or_default() += 1;
                }
            }
        }

        // Other buyers bid what the category is worth to them: a fixed valuation per buyer and
        // category (1.1× to 1.6× the category's starting price), when it clears the ladder.
        let start_price = rules.category(category).start_price_micros.get();
        let bidders = (u64::from(slots) - 1).min(buyers.len() as u64 - 1);
        for k in 1..=bidders {
            let bidder = (anchor + k as usize) % buyers.len();
            let valuation_bps =
                11_000 + (bidder as u64 * 1_700 + category.index() as u64 * 900) % 5_000;
            let unit_price = start_price * valuation_bps / 10_000;
            match client
                .submit(
                    &mut buyers[bidder],
                    Command::Bid {
                        basket,
                        unit_price: Micros::new(unit_price),
                    },
                )
                .await?
            {
                Ok(_) => {
                    stats.bids += 1;
                    let entry = stats.clearing.entry(category.to_string()).or_default();
                    entry.0 += unit_price;
                    entry.1 += 1;
                }
                Err(code) => *stats.refusals.entry(code).or_default() += 1,
            }
        }
    }
    Ok(())
}

/// `YYYY-MM` as the server prints it (January 2026 if it does not read).
fn parse_month(text: &str) -> assay_core::Month {
    let mut parts = text.splitn(2, '-');
    let year = parts.next().and_then(|y| y.parse().ok()).unwrap_or(2026);
    let month = parts.next().and_then(|m| m.parse().ok()).unwrap_or(1);
    assay_core::Month { year, month }
}

fn dollars(micros: u64) -> String {
    Micros::new(micros).to_string()
}

fn print_summary(stats: &Stats, verified: &str, data: &Path, elapsed: Duration) {
    println!();
    println!(
        "Assay demo: one month of the market, January 2026 (simulated), in {:.1} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  members {}, buyers {BUYERS}; baskets posted {}, offers {}, bids {}",
        stats.members, stats.baskets_posted, stats.offers, stats.bids
    );
    println!("  prices at the end of the month (per member-day):");
    for market in &stats.markets_end {
        let category = market["category"].as_str().unwrap_or("?");
        let bid = stats
            .clearing
            .get(category)
            .map(|(sum, n)| sum / (*n).max(1))
            .unwrap_or(0);
        println!(
            "    {category:17} spot {}  floor {}  mean accepted bid {}{}",
            dollars(market["spot_micros"].as_u64().unwrap_or(0)),
            dollars(market["floor_micros"].as_u64().unwrap_or(0)),
            dollars(bid),
            if market["frozen"].as_bool() == Some(true) {
                "  FROZEN"
            } else {
                ""
            },
        );
    }
    if let Some(run) = &stats.run {
        println!(
            "  monthly run {}: gross {}, members' side {} ({} paid {}), rolled over {}",
            run["month"].as_str().unwrap_or("?"),
            dollars(run["gross_income_micros"].as_u64().unwrap_or(0)),
            dollars(run["member_side_micros"].as_u64().unwrap_or(0)),
            run["payouts"].as_u64().unwrap_or(0),
            dollars(run["payouts_total_micros"].as_u64().unwrap_or(0)),
            dollars(run["rollover_out_micros"].as_u64().unwrap_or(0)),
        );
        println!(
            "    operations: cold-start top-ups {}, costs {}; builders {}, cohort {}, architect {}; conservation {}",
            dollars(run["cold_start_topups_micros"].as_u64().unwrap_or(0)),
            dollars(run["operations_costs_paid_micros"].as_u64().unwrap_or(0)),
            dollars(run["builders_micros"].as_u64().unwrap_or(0)),
            dollars(run["cohort_micros"].as_u64().unwrap_or(0)),
            dollars(run["architect_micros"].as_u64().unwrap_or(0)),
            if run["conservation_ok"].as_bool() == Some(true) { "ok" } else { "BROKEN" },
        );
        println!(
            "    payout root {}",
            run["payout_root"].as_str().unwrap_or("?")
        );
    }
    if let (Some(run), Some(payouts)) = (&stats.run, &stats.payouts) {
        let month = run["month"].as_str().unwrap_or("?");
        println!(
            "  payout files in {} ({}):",
            assay_server::payouts::run_dir(data, parse_month(month)).display(),
            payouts["status"].as_str().unwrap_or("?")
        );
        for rail in payouts["rails"].as_array().into_iter().flatten() {
            println!(
                "    {:8} {} files, {} lines, {}",
                rail["rail"].as_str().unwrap_or("?"),
                rail["files"].as_u64().unwrap_or(0),
                rail["lines"].as_u64().unwrap_or(0),
                dollars(rail["total_micros"].as_u64().unwrap_or(0)),
            );
        }
        println!(
            "    held     {} lines, {} (no destination on file; rolled over)",
            payouts["held_lines"].as_u64().unwrap_or(0),
            dollars(payouts["held_total_micros"].as_u64().unwrap_or(0)),
        );
    }
    if !stats.refusals.is_empty() {
        let refusals: Vec<String> = stats
            .refusals
            .iter()
            .map(|(code, n)| format!("{code} ×{n}"))
            .collect();
        println!(
            "  refused requests (expected in a live market): {}",
            refusals.join(", ")
        );
    }
    println!("  log verified from the outside: {verified}");
    println!(
        "  data left in {} (open it with `assay serve --data {}`)",
        data.display(),
        data.display()
    );
}
