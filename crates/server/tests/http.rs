//! The service over real HTTP (issue 7): a full month from registration to distribution, the
//! refusal codes as problem+json, idempotent resubmission, and the OpenAPI document, on SQLite
//! and (when `ASSAY_TEST_DATABASE_URL` is set, as CI sets it) on PostgreSQL.

mod common;

use assay_core::{BasketId, Category, Micros, Timestamp, TradingDay};
use assay_engine::{Command, Envelope, PayoutChoice, Rail, Signature};
use assay_market::{BasketSpec, ProfileFilter};
use assay_server::clock::Clock;
use assay_server::run::RunningServer;
use assay_store::StoreLocation;
use common::{start_server, Api, Party};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A server on `location` whose simulated clock starts on `day` and lets a day pass in about
/// `seconds_per_day` of real time.
async fn server(location: StoreLocation, day: TradingDay, seconds_per_day: f64) -> RunningServer {
    let start_time = Timestamp(day.start().0 + 1_000_000);
    let clock = Clock::simulated(start_time, 86_400.0 / seconds_per_day);
    start_server(location, clock, 1_000).await
}

/// 2026-01-31: the genesis lands on January's last day, so the test reaches the month's run
/// quickly while giving the day's trading a few real seconds.
const LAST_DAY_OF_JANUARY: TradingDay = TradingDay(20_484);

async fn full_month(location: StoreLocation) {
    let server = server(location, LAST_DAY_OF_JANUARY, 4.0).await;
    let api = Api::new(&server);

    let mut members: Vec<Party> = (0..12).map(|i| Party::new("member", i)).collect();
    for member in &mut members {
        let payout = PayoutChoice {
            rail: Rail::Usdc,
            destination_commitment: [3; 32],
        };
        let envelope = member.sign(Command::RegisterMember {
            device_key: member.device.verifying_key().into(),
            payout,
        });
        let (status, body) = api.post(&envelope).await;
        assert_eq!(status, 200, "{body}");
    }
    let mut anchor = Party::new("buyer", 0);
    let mut bidder = Party::new("buyer", 1);
    for (index, buyer) in [&mut anchor, &mut bidder].into_iter().enumerate() {
        let envelope = buyer.sign(Command::RegisterBuyer);
        let (status, body) = api.post(&envelope).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(api.deposit(index as u64, 1_000_000_000).await, 200);
    }

    // A browsing basket: 3 slots of 2 members; everyone offers; the bidder takes slot 2.
    let spec = BasketSpec {
        category: Category::Browsing,
        filter: ProfileFilter::default(),
        window_days: 30,
        members_per_slot: 2,
        slots: 3,
    };
    let (status, body) = api.post(&anchor.sign(Command::PostBasket { spec })).await;
    assert_eq!(status, 200, "{body}");
    let basket = BasketId(
        body["events"][0]["BasketPosted"]["basket"]
            .as_u64()
            .unwrap(),
    );
    for member in &mut members {
        let envelope = member.offer(basket);
        let (status, body) = api.post(&envelope).await;
        assert_eq!(status, 200, "{body}");
    }
    let bid = bidder.sign(Command::Bid {
        basket,
        unit_price: Micros::new(30_000),
    });
    let (status, first) = api.post(&bid).await;
    assert_eq!(status, 200);
    // Resubmitting the same envelope returns the original outcome (idempotent).
    let (status, again) = api.post(&bid).await;
    assert_eq!((status, &again), (200, &first));
    // The same sequence number with a different command is a conflict.
    let mut reused = Envelope::sign(
        &bidder.key,
        bid.sequence,
        Command::Bid {
            basket,
            unit_price: Micros::new(31_000),
        },
    );
    assert_eq!(api.post(&reused).await.1["code"], "sequence_reused");
    reused.signature = None;
    assert_eq!(api.post(&reused).await.1["code"], "unsigned");

    // The clock runs the month: days close, then January's run.
    let deadline = Instant::now() + Duration::from_secs(60);
    let run = loop {
        let runs = api.get("/v1/runs").await;
        if let Some(run) = runs.as_array().and_then(|r| r.first()).cloned() {
            break run;
        }
        assert!(Instant::now() < deadline, "January's run never came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(run["month"], "2026-01");
    assert_eq!(run["conservation_ok"], true);
    assert!(run["payouts"].as_u64().unwrap() > 0, "{run}");
    // Demand of 2 (anchor + bid) releases ⌊0.95 × 2⌋ = 1 slot (M10): the anchor sells at
    // 20,000; of the two further slots the bid would have taken one, and the last found no bid
    // and is marked at the floor, 19,000 (M2): spot = (20,000 + 19,000) / 2.
    let markets = api.get("/v1/markets").await;
    let browsing = markets
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["category"] == "browsing")
        .unwrap();
    assert_eq!(browsing["spot_micros"], 19_500, "{browsing}");

    // The log is public: a checkpoint, tiles, proofs and the verifier key.
    let info = api.get("/v1/log").await;
    assert_eq!(info["origin"], "assay.test/log");
    let size = info["size"].as_u64().unwrap();
    // Genesis, 12 members, 2 buyers, 2 deposits, a basket, 12 offers, a bid, the day's close,
    // January's run, its payout files (issue 9) and its settlement; refused and idempotent
    // requests add nothing.
    assert_eq!(size, 35, "{info}");
    // Health reports the sequencer's log size and the state hash at it (checked against a
    // replay of the log in `cli/tests/kill_serve`).
    let health = api.get("/v1/health").await;
    assert_eq!(health["log_size"], size, "{health}");
    assert_eq!(health["state_hash"].as_str().unwrap().len(), 64, "{health}");
    let proof = api
        .get(&format!("/v1/proofs/inclusion?index=3&size={size}"))
        .await;
    assert!(!proof["hashes"].as_array().unwrap().is_empty(), "{proof}");
    let tile = api
        .http
        .get(format!("{}/tile/0/000.p/{}", api.base, size.min(255)))
        .send()
        .await
        .unwrap();
    assert_eq!(tile.status().as_u16(), if size >= 256 { 404 } else { 200 });

    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_month_over_http_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("assay-http-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    full_month(StoreLocation::Sqlite { dir: dir.clone() }).await;
    // A restart replays the log and serves the same view.
    let server = server(
        StoreLocation::Sqlite { dir: dir.clone() },
        LAST_DAY_OF_JANUARY,
        4.0,
    )
    .await;
    let api = Api::new(&server);
    assert_eq!(api.get("/v1/runs").await[0]["month"], "2026-01");
    server.stop().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_month_over_http_on_postgres() {
    let Some(schema) = common::PgSchema::fresh("assay_http") else {
        return;
    };
    full_month(schema.location()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_come_back_as_problem_documents_with_their_codes() {
    let dir = std::env::temp_dir().join(format!("assay-http-refusals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // A slow clock: everything below happens on January 1st.
    let server = server(
        StoreLocation::Sqlite { dir: dir.clone() },
        TradingDay(20_454),
        3_600.0,
    )
    .await;
    let api = Api::new(&server);
    let mut poor = Party::new("poor", 0);
    let mut rich = Party::new("rich", 0);
    api.post(&poor.sign(Command::RegisterBuyer)).await;
    api.post(&rich.sign(Command::RegisterBuyer)).await;
    assert_eq!(api.deposit(1, 1_000_000_000).await, 200);
    let spec = BasketSpec {
        category: Category::Browsing,
        filter: ProfileFilter::default(),
        window_days: 30,
        members_per_slot: 1,
        slots: 3,
    };
    // The same deposit again is the same deposit (idempotent by its reference); the reference
    // used for another buyer or amount is a conflict.
    let (status, first) = api.deposit_with(1, 5, [9; 32]).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(api.deposit_with(1, 5, [9; 32]).await, (200, first));

    let check =
        |expected_status: u16, expected_code: &'static str, (status, body): (u16, Value)| {
            assert_eq!(
                (status, body["code"].as_str().unwrap()),
                (expected_status, expected_code),
                "{body}"
            );
            assert_eq!(
                body["type"],
                format!("https://assay.coop/problems/{expected_code}")
            );
        };
    check(
        402,
        "fee_unpaid",
        api.post(&poor.sign(Command::PostBasket { spec: spec.clone() }))
            .await,
    );
    poor.sequence -= 1; // refused inputs do not consume a sequence number
    let (_, body) = api.post(&rich.sign(Command::PostBasket { spec })).await;
    let basket = BasketId(
        body["events"][0]["BasketPosted"]["basket"]
            .as_u64()
            .unwrap(),
    );
    check(
        422,
        "below_floor",
        api.post(&poor.sign(Command::Bid {
            basket,
            unit_price: Micros::new(1),
        }))
        .await,
    );
    poor.sequence -= 1;
    check(
        402,
        "insufficient_balance",
        api.post(&poor.sign(Command::Bid {
            basket,
            unit_price: Micros::new(30_000),
        }))
        .await,
    );
    poor.sequence -= 1;
    check(
        404,
        "unknown_basket",
        api.post(&poor.sign(Command::Bid {
            basket: BasketId(99),
            unit_price: Micros::new(30_000),
        }))
        .await,
    );
    poor.sequence -= 1;
    check(
        409,
        "sequence_gap",
        api.post(&Envelope::sign(&poor.key, 7, Command::RegisterBuyer))
            .await,
    );
    let mut forged = poor.sign(Command::RegisterBuyer);
    forged.signature = Some(Signature([1; 64]));
    check(401, "bad_signature", api.post(&forged).await);
    check(
        409,
        "deposit_reference_reused",
        api.deposit_with(0, 5, [9; 32]).await,
    );
    poor.sequence -= 1;
    check(
        403,
        "not_exchange",
        api.post(&poor.sign(Command::RecordOperatingCost {
            amount: Micros::new(1),
            invoice_hash: [0; 32],
        }))
        .await,
    );

    let malformed = api
        .http
        .post(format!("{}/v1/commands", api.base))
        .header("content-type", "application/json")
        .body("{\"signer\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["code"], "malformed_body");
    let no_token = api
        .http
        .post(format!("{}/v1/admin/deposits", api.base))
        .json(&json!({"buyer": 0, "amount_micros": 1, "deposit_reference": hex::encode([0u8; 32])}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status().as_u16(), 401);
    let too_big = api
        .http
        .post(format!("{}/v1/commands", api.base))
        .header("content-type", "application/json")
        .body(vec![b' '; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status().as_u16(), 413);

    server.stop().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let document =
        serde_json::to_value(<assay_server::openapi::ApiDoc as utoipa::OpenApi>::openapi())
            .unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for (method, path) in assay_server::routes::ROUTES {
        let operation = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"))[*method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| !r.is_empty()),
            "{method} {path} has no responses"
        );
    }
    assert_eq!(
        paths.len(),
        assay_server::routes::ROUTES.len(),
        "a documented path has no route"
    );
    // Every `$ref` points at a schema the document defines.
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let text = document.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref to {name}");
    }
}
