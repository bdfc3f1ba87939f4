//! Issue 8's third acceptance line, through `ExchangeClient` against real servers (rule W5): a
//! checkpoint inconsistent with one seen before, and a payout line missing from the run's
//! payout root, each give a clear error with a stable code, and the vault — in memory and its
//! file, byte for byte — stays as it was. (A wrong passphrase and a tampered vault file are
//! covered the same way, bytes compared, by `keystore::tests` in the crate.)

mod common;

use assay_core::{Category, Month};
use assay_engine::{Command, Envelope, PayoutChoice, Rail};
use assay_market::{BasketSpec, ProfileFilter};
use assay_store::StoreLocation;
use assay_wallet::checker::PayoutDelivery;
use assay_wallet::client::ExchangeClient;
use assay_wallet::{synthetic, KdfParams, SoftwareStore, Vault};
use axum::extract::{Path as UrlPath, State};
use axum::routing::get;
use axum::Router;
use common::{Buyer, LAST_DAY_OF_JANUARY};
use std::path::Path;
use std::time::{Duration, Instant};

const JANUARY: Month = Month {
    year: 2026,
    month: 1,
};

fn new_vault(path: &Path) -> Vault<SoftwareStore> {
    let store = SoftwareStore::create(path, "passphrase", KdfParams::FAST_INSECURE).unwrap();
    let mut vault = Vault::open(store).unwrap();
    vault.save().unwrap();
    vault
}

/// Calls `check`, expects `code`, and checks the vault's file and contents did not change.
fn assert_refused_and_unchanged<T: std::fmt::Debug>(
    vault: &Vault<SoftwareStore>,
    before_file: &[u8],
    result: Result<T, assay_wallet::Error>,
    code: &str,
) {
    let error = result.unwrap_err();
    assert_eq!(error.code(), code, "{error}");
    assert!(!error.to_string().is_empty());
    assert_eq!(
        std::fs::read(vault.store().path()).unwrap(),
        before_file,
        "the vault file was rewritten after {code}"
    );
}

/// Grows a server's log by registering members from fresh keys, then lets a checkpoint cover
/// them (checkpoints are signed at most every 500 ms, on an append).
async fn grow(client: &ExchangeClient, label: &str, members: u64) {
    for index in 0..=members {
        if index == members {
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        let key = common::key(&format!("{label}-{index}"));
        let command = Command::RegisterMember {
            device_key: common::key(&format!("{label}-device-{index}"))
                .verifying_key()
                .into(),
            payout: PayoutChoice {
                rail: Rail::Ach,
                destination_commitment: [0; 32],
            },
        };
        client
            .submit(&Envelope::sign(&key, 0, command))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_log_is_refused_and_the_vault_file_is_unchanged() {
    let root = common::temp_dir("fork");
    // Two exchanges under the same log key and origin, with different histories: a split view.
    let honest = common::server(
        StoreLocation::Sqlite {
            dir: root.join("honest"),
        },
        LAST_DAY_OF_JANUARY,
        3_600.0,
    )
    .await;
    let fork = common::server(
        StoreLocation::Sqlite {
            dir: root.join("fork"),
        },
        assay_core::TradingDay(LAST_DAY_OF_JANUARY.0 - 10),
        3_600.0,
    )
    .await;
    let honest_client = ExchangeClient::new(&format!("http://{}", honest.addr)).unwrap();
    let fork_client = ExchangeClient::new(&format!("http://{}", fork.addr)).unwrap();
    let mut vault = new_vault(&root.join("member.wallet"));

    grow(&honest_client, "honest", 2).await;
    let seen = honest_client.check_checkpoint(&mut vault).await.unwrap();
    assert!(seen >= 3, "{seen}");
    let checker_before = vault.contents.checker.clone();
    let file_before = std::fs::read(vault.store().path()).unwrap();

    // A larger checkpoint whose consistency proof does not lead from the one seen.
    grow(&fork_client, "fork", seen + 2).await;
    let result = fork_client.check_checkpoint(&mut vault).await;
    assert_refused_and_unchanged(&vault, &file_before, result, "checkpoint_inconsistent");
    assert_eq!(vault.contents.checker, checker_before);

    // The honest log, grown further, is still accepted afterwards: the refusal kept the state.
    grow(&honest_client, "honest-more", 1).await;
    assert!(honest_client.check_checkpoint(&mut vault).await.unwrap() > seen);
    // A reopened vault remembers the honest checkpoint, and still refuses the fork.
    let path = vault.store().path().to_path_buf();
    drop(vault);
    let mut vault = Vault::open(SoftwareStore::open(&path, "passphrase").unwrap()).unwrap();
    let file_before = std::fs::read(&path).unwrap();
    let checker_before = vault.contents.checker.clone();
    let error = fork_client.check_checkpoint(&mut vault).await.unwrap_err();
    // Which of the three the fork is depends on the sizes the two logs reached.
    assert!(
        [
            "checkpoint_inconsistent",
            "equivocation",
            "checkpoint_rolled_back"
        ]
        .contains(&error.code()),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), file_before);
    assert_eq!(vault.contents.checker, checker_before);

    honest.stop().await.unwrap();
    fork.stop().await.unwrap();
    std::fs::remove_dir_all(&root).unwrap();
}

/// A lying exchange: forwards every GET to the real one, but adds one micro-dollar to the
/// payout lines it serves.
async fn lying_proxy(upstream: String) -> (String, tokio::task::JoinHandle<()>) {
    async fn payout(
        State(upstream): State<String>,
        UrlPath((month, member)): UrlPath<(String, u64)>,
    ) -> axum::response::Response {
        let body = common::get(&upstream, &format!("/v1/runs/{month}/payouts/{member}")).await;
        let mut line: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let amount = line["amount_micros"].as_u64().unwrap();
        line["amount_micros"] = (amount + 1).into();
        axum::Json(line).into_response()
    }
    async fn forward(
        State(upstream): State<String>,
        uri: axum::http::Uri,
    ) -> axum::response::Response {
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        common::get(&upstream, path).await.into_response()
    }
    use axum::response::IntoResponse;
    let app = Router::new()
        .route("/v1/runs/{month}/payouts/{member}", get(payout))
        .fallback(forward)
        .with_state(upstream);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_line_outside_the_root_is_refused_and_nothing_changes() {
    let root = common::temp_dir("payout");
    let server = common::server(
        StoreLocation::Sqlite {
            dir: root.join("exchange"),
        },
        LAST_DAY_OF_JANUARY,
        6.0,
    )
    .await;
    let base = format!("http://{}", server.addr);
    let client = ExchangeClient::new(&base).unwrap();
    let mut vault = new_vault(&root.join("member.wallet"));
    vault
        .add_records(synthetic::generate(
            1,
            assay_core::TradingDay(LAST_DAY_OF_JANUARY.0 - 40),
            40,
            None,
        ))
        .unwrap();
    let payout = PayoutChoice {
        rail: Rail::Usdc,
        destination_commitment: [5; 32],
    };
    client.register(&mut vault, payout).await.unwrap();
    let mut buyer = Buyer::new("payout-buyer");
    buyer.register_and_fund(&client, &base).await;
    let spec = BasketSpec {
        category: Category::Browsing,
        filter: ProfileFilter::default(),
        window_days: 30,
        members_per_slot: 1,
        slots: 3,
    };
    client
        .submit(&buyer.sign(Command::PostBasket { spec }))
        .await
        .unwrap();
    let today = client.today().await.unwrap();
    let basket = client.open_baskets().await.unwrap().remove(0);
    client.offer(&mut vault, &basket, today).await.unwrap();
    // Not yet run: the exchange's code comes through.
    let early = client.check_payout(&vault, JANUARY).await.unwrap_err();
    assert_eq!(early.code(), "unknown_run", "{early}");

    let deadline = Instant::now() + Duration::from_secs(30);
    while client.payout_root(JANUARY).await.is_err() {
        assert!(Instant::now() < deadline, "January's run never came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    vault.save().unwrap();
    let honest = client.check_payout(&vault, JANUARY).await.unwrap();
    assert!(honest.line.amount.get() > 0);
    // The member never handed the exchange its destination: the line is in the root, held.
    assert_eq!(honest.delivery, PayoutDelivery::Held);

    let (lying, proxy) = lying_proxy(base.clone()).await;
    let liar = ExchangeClient::new(&lying).unwrap();
    let contents_before = vault.contents.clone();
    let file_before = std::fs::read(vault.store().path()).unwrap();
    let result = liar.check_payout(&vault, JANUARY).await;
    assert_refused_and_unchanged(&vault, &file_before, result, "payout_line_missing");
    assert_eq!(vault.contents, contents_before);

    proxy.abort();
    server.stop().await.unwrap();
    std::fs::remove_dir_all(&root).unwrap();
}
