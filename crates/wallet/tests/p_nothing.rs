//! Principle P-nothing, end to end (issue 8's first acceptance line): random canaries go into
//! members' encrypted vaults; a month runs through a real server (registration, open baskets,
//! offers from `ExchangeClient`, clearing, delivery sealed to the buyer, the day's close and
//! January's run); delivery goes from wallet to buyer directly, never through the exchange.
//! Afterwards no canary — raw, as text, hex or base64 at any alignment — appears in the
//! exchange's data directory (every file, raw bytes, SQLite WAL included), its database (on
//! PostgreSQL every row of every table as text, and every bytea value), its log entries or
//! anything its API serves; and the buyer's decrypted data holds every canary sold to it, so the
//! search is shown to be able to fail.
//!
//! Canaries are 16 random bytes per member, from a seed drawn per run and printed
//! (`ASSAY_CANARY_SEED` replays one).

mod common;

use assay_core::{Category, Micros, Month};
use assay_engine::{Command, Event, LogEntry, PayoutChoice, Rail};
use assay_market::{BasketSpec, ProfileFilter};
use assay_store::StoreLocation;
use assay_wallet::checker::recompute_earnings;
use assay_wallet::client::ExchangeClient;
use assay_wallet::delivery::DeliverySecret;
use assay_wallet::market::{accept_receipt, deliver, Ineligible};
use assay_wallet::{synthetic, Error, KdfParams, SoftwareStore, Vault};
use common::{Buyer, Needles, LAST_DAY_OF_JANUARY};
use std::path::Path;
use std::time::{Duration, Instant};

const MEMBERS: u64 = 10;
/// Real seconds one simulated trading day takes: the test's setup must fit in the first.
const SECONDS_PER_DAY: f64 = 20.0;
const JANUARY: Month = Month {
    year: 2026,
    month: 1,
};

fn canary_seed() -> u64 {
    let seed = match std::env::var("ASSAY_CANARY_SEED") {
        Ok(text) => text.parse().expect("ASSAY_CANARY_SEED is a u64"),
        Err(_) => {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).expect("OS randomness");
            u64::from_le_bytes(bytes)
        }
    };
    eprintln!("P-nothing canary seed: {seed} (ASSAY_CANARY_SEED={seed} replays this run)");
    seed
}

/// What one run leaves to search, and what the buyer decrypted.
struct Outcome {
    needles: Vec<Needles>,
    /// The canaries of members picked for a grant (sold to the buyer).
    sold: Vec<usize>,
    buyer_plaintext: Vec<u8>,
}

/// Runs the month; when `data` is given, searches that directory while the server still runs
/// (so the SQLite WAL is there to search too).
async fn month_through_the_server(
    location: StoreLocation,
    wallets: &Path,
    data: Option<&Path>,
) -> Outcome {
    let seed = canary_seed();
    let needles: Vec<Needles> = (0..MEMBERS).map(|m| Needles::new(seed, m)).collect();
    let server = common::server(location, LAST_DAY_OF_JANUARY, SECONDS_PER_DAY).await;
    let base = format!("http://{}", server.addr);
    let client = ExchangeClient::new(&base).unwrap();

    // Members: an encrypted vault each, 40 days of records carrying the member's canary.
    let mut vaults = Vec::new();
    for (m, needle) in needles.iter().enumerate() {
        let path = wallets.join(format!("member-{m}.wallet"));
        let store = SoftwareStore::create(&path, "passphrase", KdfParams::FAST_INSECURE).unwrap();
        let mut vault = Vault::open(store).unwrap();
        let first = LAST_DAY_OF_JANUARY.0 - 40;
        vault
            .add_records(synthetic::generate(
                seed ^ m as u64,
                assay_core::TradingDay(first),
                40,
                Some(&needle.token),
            ))
            .unwrap();
        vault.save().unwrap();
        let payout = PayoutChoice {
            rail: Rail::Usdc,
            destination_commitment: [m as u8; 32],
        };
        let member = client.register(&mut vault, payout).await.unwrap();
        assert_eq!(vault.contents.member, Some(member));
        client.check_checkpoint(&mut vault).await.unwrap();
        vaults.push(vault);
    }
    // M12: the second-to-last member declines thin markets; the last asks more for browsing
    // than any anchor pays, and sells nothing else.
    let (thin, dear) = (MEMBERS as usize - 2, MEMBERS as usize - 1);
    vaults[thin].contents.preferences.competing_buyers_min = 2;
    vaults[dear]
        .contents
        .preferences
        .reserve_unit_price
        .insert(Category::Browsing, Micros::new(1_000_000));
    vaults[dear]
        .contents
        .preferences
        .categories
        .retain(|c| *c == Category::Browsing);

    // The buyer (this test): registered, funded, one browsing and one purchases basket.
    let mut buyer = Buyer::new("p-nothing-buyer");
    buyer.register_and_fund(&client, &base).await;
    // The fewest slots each tier allows (M6), fillable by the eight members who offer (M7);
    // with the anchor alone, one slot is sold (M10).
    for (category, members_per_slot, slots) in
        [(Category::Browsing, 2, 3), (Category::Purchases, 2, 2)]
    {
        let spec = BasketSpec {
            category,
            filter: ProfileFilter::default(),
            window_days: 30,
            members_per_slot,
            slots,
        };
        let accepted = client
            .submit(&buyer.sign(Command::PostBasket { spec }))
            .await
            .unwrap();
        assert!(
            matches!(accepted.events[0], Event::BasketPosted { .. }),
            "{:?}",
            accepted.events
        );
    }

    // M11: each wallet reads the open baskets and decides on the device.
    let today = client.today().await.unwrap();
    assert_eq!(
        today, LAST_DAY_OF_JANUARY,
        "setup took longer than a simulated day; the machine is too loaded for this test"
    );
    let baskets = client.open_baskets().await.unwrap();
    assert_eq!(baskets.len(), 2);
    let mut offers = 0;
    for (m, vault) in vaults.iter_mut().enumerate() {
        for basket in &baskets {
            match client.offer(vault, basket, today).await {
                Ok(_) => offers += 1,
                Err(Error::Ineligible(reason)) => match m {
                    _ if m == thin => {
                        assert!(
                            matches!(reason, Ineligible::ThinMarket { .. }),
                            "{reason:?}"
                        )
                    }
                    _ if m == dear => assert!(
                        matches!(
                            reason,
                            Ineligible::ReserveAboveAnchor { .. } | Ineligible::CategoryDeclined
                        ),
                        "{reason:?}"
                    ),
                    _ => panic!("member {m} ineligible: {reason:?}"),
                },
                Err(error) => panic!("member {m}: {error}"),
            }
        }
    }
    assert_eq!(
        offers,
        2 * (MEMBERS - 2),
        "all but two members offer on both baskets"
    );
    // A refusal comes back typed, with the exchange's code, and consumes no sequence number.
    let before = vaults[0].contents.next_sequence;
    let error = client
        .offer(&mut vaults[0], &baskets[0], today)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "duplicate_offer", "{error}");
    assert!(matches!(error, Error::Exchange { status: 409, .. }));
    assert_eq!(vaults[0].contents.next_sequence, before);

    // The clock closes the day (clearing, grants) and runs January.
    let deadline = Instant::now() + Duration::from_secs_f64(SECONDS_PER_DAY * 3.0);
    while client.payout_root(JANUARY).await.is_err() {
        assert!(Instant::now() < deadline, "January's run never came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // M15: picked wallets deliver sealed data straight to the buyer, who opens it and signs a
    // receipt (a hash) for the log; W5: each wallet checks its share, entry and payout line.
    let rules = client.rules().await.unwrap();
    let secret = DeliverySecret::generate().unwrap();
    let delivery_key = secret.delivery_key(&buyer.key);
    let mut buyer_plaintext = Vec::new();
    let mut sold = Vec::new();
    let mut receipted = std::collections::HashSet::new();
    let mut grant_ids = std::collections::HashSet::new();
    for (m, vault) in vaults.iter_mut().enumerate() {
        client.check_checkpoint(vault).await.unwrap();
        let member = vault.contents.member.unwrap();
        let grants = client.grants(member).await.unwrap();
        if !grants.is_empty() {
            sold.push(m);
        }
        for grant in &grants {
            grant_ids.insert(grant.notice.grant);
            let sealed = deliver(vault, &grant.notice, &delivery_key).unwrap();
            // The buyer's side: only its delivery secret opens the payload.
            let plaintext = secret.open(grant.notice.grant, &sealed).unwrap();
            buyer_plaintext.extend_from_slice(&plaintext);
            let receipt = buyer.sign(Command::Receipt {
                grant: grant.notice.grant,
                delivery_hash: sealed.hash(),
            });
            // The engine records one receipt per grant (see the report on issue 8): the first
            // picked member's delivery gets it; a second is refused with its code.
            if receipted.insert(grant.notice.grant) {
                client.submit(&receipt).await.unwrap();
                accept_receipt(vault, receipt).unwrap();
            } else {
                let error = client.submit(&receipt).await.unwrap_err();
                assert_eq!(error.code(), "receipt_repeated", "{error}");
                buyer.unsign();
            }
            let entry = client.check_entry(vault, grant.log_index).await.unwrap();
            let entry = LogEntry::decode(&entry).unwrap();
            assert!(matches!(
                entry.input.envelope.command,
                Command::CloseTradingDay { .. }
            ));
        }
        let events: Vec<_> = grants.iter().map(|g| g.event.clone()).collect();
        let earned = recompute_earnings(&events, member, &rules).unwrap();
        match client.check_payout(vault, JANUARY).await {
            Ok(checked) => assert!(
                checked.line.amount >= earned,
                "member {m}: {checked:?} < {earned:?}"
            ),
            Err(error) => {
                // Members who sold nothing and get no cold-start top-up have no line.
                assert_eq!(error.code(), "no_payout_line", "member {m}: {error}");
                assert_eq!(earned, Micros::ZERO);
            }
        }
        vault.save().unwrap();
    }
    assert_eq!(grant_ids.len(), 2, "one slot sold in each basket");
    assert!(sold.len() >= 2, "members picked: {sold:?}");

    // What the exchange serves publicly goes into the search too.
    let mut served = Vec::new();
    for path in ["/v1/summary", "/v1/runs", "/v1/baskets", "/v1/markets"] {
        served.extend(common::get(&base, path).await);
    }
    for vault in &vaults {
        let member = vault.contents.member.unwrap().0;
        served.extend(common::get(&base, &format!("/v1/members/{member}/grants")).await);
    }
    let size = client.log_size().await.unwrap();
    for index in 0..size {
        served.extend(client.entry(index).await.unwrap());
    }
    for needle in &needles {
        needle.assert_absent(&served, "the exchange's API and log entries");
    }
    if let Some(data) = data {
        let files = common::search_directory(data, &needles).unwrap();
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        assert!(
            names.iter().any(|f| f.ends_with("assay.db-wal")),
            "the write-ahead log was searched: {names:?}"
        );
    }
    server.stop().await.unwrap();
    Outcome {
        needles,
        sold,
        buyer_plaintext,
    }
}

/// The positive control: the buyer's decrypted data holds each canary sold to it, found by the
/// same search that finds nothing at the exchange.
fn assert_buyer_has_what_was_sold(outcome: &Outcome) {
    for (m, needle) in outcome.needles.iter().enumerate() {
        if outcome.sold.contains(&m) {
            assert!(
                needle.found_in(&outcome.buyer_plaintext),
                "member {m}'s canary was sold but the buyer does not have it"
            );
        }
    }
    assert!(!outcome.sold.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_canary_reaches_the_exchange_on_sqlite() {
    let root = common::temp_dir("p-nothing-sqlite");
    let data = root.join("exchange");
    let wallets = root.join("wallets");
    std::fs::create_dir_all(&wallets).unwrap();
    let started = Instant::now();
    let location = StoreLocation::Sqlite { dir: data.clone() };
    let outcome = month_through_the_server(location, &wallets, Some(&data)).await;
    // Again after the stop, which checkpoints the WAL into the database file.
    let files = common::search_directory(&data, &outcome.needles).unwrap();
    assert!(
        files.iter().any(|f| f.ends_with("assay.db")),
        "the database file was searched: {files:?}"
    );
    assert_buyer_has_what_was_sold(&outcome);
    eprintln!(
        "P-nothing on SQLite: {} files searched after the stop, {:.1} s",
        files.len(),
        started.elapsed().as_secs_f64()
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_canary_reaches_the_exchange_on_postgres() {
    let Ok(url) = std::env::var("ASSAY_TEST_DATABASE_URL") else {
        eprintln!("ASSAY_TEST_DATABASE_URL is not set: skipping PostgreSQL (CI sets it)");
        return;
    };
    let schema = format!("assay_p_nothing_{}", std::process::id());
    let root = common::temp_dir("p-nothing-postgres");
    let wallets = root.join("wallets");
    std::fs::create_dir_all(&wallets).unwrap();
    let started = Instant::now();
    let location = StoreLocation::Postgres {
        url: url.clone(),
        schema: Some(schema.clone()),
    };
    let outcome = month_through_the_server(location, &wallets, None).await;
    let rows = common::search_postgres(&url, &schema, &outcome.needles).await;
    assert!(rows > 0, "the schema's rows were searched");
    assert_buyer_has_what_was_sold(&outcome);
    assay_store::PgStore::drop_schema(&url, &schema)
        .await
        .unwrap();
    eprintln!(
        "P-nothing on PostgreSQL: {rows} rows searched, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    std::fs::remove_dir_all(&root).unwrap();
}

/// The search itself can fail: a canary planted in a file, in hex, or in base64 at any
/// alignment inside a longer text, is found.
#[test]
fn the_search_finds_planted_canaries() {
    use base64::Engine;
    let needle = Needles::new(7, 1);
    let dir = common::temp_dir("p-nothing-planted");
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    for prefix in ["", "x", "xy", "xyz"] {
        let text = format!("{prefix}{}tail", needle.token);
        let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
        assert!(needle.found_in(encoded.as_bytes()), "prefix {prefix:?}");
        let hexed = hex::encode_upper(text.as_bytes());
        assert!(needle.found_in(hexed.as_bytes()));
    }
    std::fs::write(dir.join("nested/clean"), b"nothing here").unwrap();
    assert_eq!(
        common::search_directory(&dir, std::slice::from_ref(&needle))
            .unwrap()
            .len(),
        1
    );
    std::fs::write(dir.join("nested/file"), needle.raw).unwrap();
    let found = common::search_directory(&dir, std::slice::from_ref(&needle)).unwrap_err();
    assert!(found.contains("nested/file"), "{found}");
    std::fs::remove_dir_all(&dir).unwrap();
}
