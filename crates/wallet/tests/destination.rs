//! `ExchangeClient::store_destination` through a real server (issue 9): the member registers a
//! commitment, hands over the destination and salt, and a request whose salt does not match is
//! refused with the server's code.

mod common;

use assay_engine::{PayoutChoice, Rail};
use assay_rails::{Destination, Salt};
use assay_store::StoreLocation;
use assay_wallet::client::ExchangeClient;
use assay_wallet::{Error, KdfParams, SoftwareStore, Vault};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_hands_over_the_destination_it_committed_to() {
    let root = common::temp_dir("destination");
    let server = common::server(
        StoreLocation::Sqlite {
            dir: root.join("exchange"),
        },
        common::LAST_DAY_OF_JANUARY,
        600.0,
    )
    .await;
    let client = ExchangeClient::new(&format!("http://{}", server.addr)).unwrap();
    let store = SoftwareStore::create(
        &root.join("member.wallet"),
        "pass",
        KdfParams::FAST_INSECURE,
    )
    .unwrap();
    let mut vault = Vault::open(store).unwrap();
    vault.save().unwrap();
    let destination = Destination::parse("prepaid:card-tok-wallet-1").unwrap();
    let salt = Salt([42; 32]);
    let unregistered = client.store_destination(&vault, &destination, &salt).await;
    assert_eq!(unregistered.unwrap_err().code(), "not_registered");
    let payout = PayoutChoice {
        rail: Rail::Prepaid,
        destination_commitment: destination.commitment(&salt).0,
    };
    client.register(&mut vault, payout).await.unwrap();

    let wrong = client
        .store_destination(&vault, &destination, &Salt([43; 32]))
        .await
        .unwrap_err();
    match wrong {
        Error::Exchange { status, code, .. } => {
            assert_eq!(
                (status, code.as_str()),
                (422, "destination_commitment_mismatch")
            )
        }
        other => panic!("{other:?}"),
    }
    let commitment = client
        .store_destination(&vault, &destination, &salt)
        .await
        .unwrap();
    assert_eq!(commitment, destination.commitment(&salt).0);
    server.stop().await.unwrap();
    std::fs::remove_dir_all(&root).unwrap();
}
