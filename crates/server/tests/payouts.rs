//! Issue 9 end to end through a real server: members register on each rail with a committed
//! destination and hand the exchange the details; January's run writes the rails' files into
//! `DATA/payouts/2026-01/`, logs their hashes, and settles. The test reads the files back with
//! the rails' readers, checks Σ rails + held + rollover = the run's member total to the
//! micro-dollar (D4, D6, D9), matches the logged hashes to the files, regenerates the run from
//! the log and the private table to the same bytes, and finds no destination detail in the log
//! or any public route. The ACH files carry the originator the operator configured; regenerated
//! without one, the ACH lines are held and the other rails' files are unchanged. SQLite always;
//! PostgreSQL when `ASSAY_TEST_DATABASE_URL` is set.

mod common;

use assay_core::{Category, MemberId, Micros, Month, TradingDay};
use assay_engine::command::{offtake_consent_message, sign_bytes};
use assay_engine::{Command, LogEntry};
use assay_rails::usdc::{verify, Leaf};
use assay_rails::{ach, prepaid, Destination, UsdcAddress};
use assay_server::ach_config::AchOriginator;
use assay_server::clock::Clock;
use assay_server::destinations::{Destinations, SealingKey};
use assay_server::payouts::{run_dir, PayoutWriter};
use assay_store::{AnyStore, LogStore, StoreLocation};
use common::{data_dir_of, morning, start_server, start_server_with_ach, Api, Party, FIRST_DAY};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

const JANUARY: Month = Month {
    year: 2026,
    month: 1,
};

/// The operator's originator, unlike the test values in every field.
fn originator() -> AchOriginator {
    AchOriginator::from_toml_str(assay_server::ach_config::EXAMPLE_TOML).unwrap()
}

/// Each member's destination; the last one never sends it, so its line is held.
fn destinations() -> Vec<Destination> {
    [
        "ach:021000021:4417123456:checking:ALICE PAYEE",
        "ach:122105278:8812345678:savings:BOB PAYEE",
        "usdc:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "usdc:0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
        "prepaid:card-tok-7f3a9c21e8",
        "ach:011000015:5550001111:checking:CAROL HELD",
    ]
    .iter()
    .map(|text| Destination::parse(text).unwrap())
    .collect()
}

/// Strings that must never leave the exchange's private side.
fn secrets() -> Vec<String> {
    let mut secrets = vec![
        "4417123456".to_string(),
        "8812345678".to_string(),
        "5550001111".to_string(),
        "card-tok-7f3a9c21e8".to_string(),
        "ALICE PAYEE".to_string(),
    ];
    for text in [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
    ] {
        let address = UsdcAddress::parse(text).unwrap();
        secrets.push(hex::encode(address.as_bytes()));
    }
    secrets
}

async fn get(api: &Api, path: &str) -> (u16, String) {
    let response = api
        .http
        .get(format!("{}{path}", api.base))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Each member's own payout line as the member route serves it (W5, issue 9).
async fn payout_lines(api: &Api, members: &[(Party, u64, Destination)]) -> Vec<Value> {
    let mut lines = Vec::new();
    for (_, id, _) in members {
        let (code, body) = get(api, &format!("/v1/runs/2026-01/payouts/{id}")).await;
        assert_eq!(code, 200, "{body}");
        lines.push(serde_json::from_str(&body).unwrap());
    }
    lines
}

async fn january_payouts(location: StoreLocation) {
    let data_dir = data_dir_of(&location);
    let clock = Clock::manual(morning(FIRST_DAY));
    let server = start_server_with_ach(location.clone(), clock.clone(), Some(originator())).await;
    let api = Api::new(&server);

    let mut members = Vec::new();
    for (index, destination) in destinations().into_iter().enumerate() {
        let mut party = Party::new("payouts-member", index as u64);
        let events = api
            .accept(&party.sign(party.register_member_paid_to(&destination)))
            .await;
        let id = events[0]["MemberRegistered"]["member"].as_u64().unwrap();
        members.push((party, id, destination));
    }
    for (party, id, destination) in &members[..members.len() - 1] {
        let body = party.destination_body(*id, &destination.to_text(), &party.salt());
        let response = api.destination_request(*id, &body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    // Refused requests change nothing in the private table either: had one replaced member
    // 0's row, the run would hold its line (the row would not match its commitment) and the
    // ACH file would not carry its account (both checked below).
    let (party, id, _) = &members[0];
    let other = "ach:021000021:9990009990:checking:MALLORY";
    let stranger = Party::new("payouts-stranger", 0);
    for (body, code) in [
        (stranger.destination_body(*id, other, &party.salt()), 401),
        (party.destination_body(*id, other, &party.salt()), 422),
        (
            party.destination_body(
                *id,
                "ach:021000022:9990009990:checking:MALLORY",
                &party.salt(),
            ),
            422,
        ),
    ] {
        let response = api.destination_request(*id, &body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), code);
    }
    let mut buyer = Party::new("payouts-buyer", 0);
    let events = api.accept(&buyer.sign(Command::RegisterBuyer)).await;
    let buyer_id = events[0]["BuyerRegistered"]["buyer"].as_u64().unwrap();
    assert_eq!(api.deposit(buyer_id, 1_000_000_000).await, 200);
    for (index, (party, id, _)) in members.iter().enumerate() {
        // Values that are not whole cents, so ACH and prepaid leave sub-cent rests (D4).
        let value = Micros::new(10_000_003 * (index as u64 + 1));
        let consent = sign_bytes(
            &party.key,
            &offtake_consent_message(&buyer.public_key(), Category::Location, 12, value),
        );
        let command = Command::OffTake {
            member: MemberId(*id),
            member_key: party.public_key(),
            category: Category::Location,
            months: 12,
            value,
            member_consent: consent,
        };
        api.accept(&buyer.sign(command)).await;
    }

    // February 1st: January's run, its files and its settlement.
    let now = clock.now();
    clock.advance(morning(TradingDay(FIRST_DAY.0 + 31)).0 - now.0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status: Value = loop {
        let (code, body) = get(&api, "/v1/payouts/2026-01").await;
        if code == 200 {
            let status: Value = serde_json::from_str(&body).unwrap();
            if status["status"] == "settled" {
                break status;
            }
        }
        assert!(Instant::now() < deadline, "January was never settled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (_, all) = get(&api, "/v1/payouts").await;
    let all: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert!(status["finished_micros"].as_i64() >= status["started_micros"].as_i64());
    assert!(status["started_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-02-01T"));

    // The held member: the one who never sent a destination.
    assert_eq!(status["held_lines"], 1, "{status}");
    let held_total = status["held_total_micros"].as_u64().unwrap();
    // Each member's own line says so: held for that member, sent in a logged file of its rail
    // for the others.
    let lines = payout_lines(&api, &members).await;
    let (held_line, sent_lines) = lines.split_last().unwrap();
    assert_eq!(held_line["status"], "held", "{held_line}");
    assert!(held_line["file"].is_null(), "{held_line}");
    assert_eq!(held_line["amount_micros"].as_u64(), Some(held_total));
    for line in sent_lines {
        assert_eq!(line["status"], "sent", "{line}");
        let file = status["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|file| file["name"] == line["file"])
            .unwrap_or_else(|| panic!("{line} names no logged file: {status}"));
        assert_eq!(
            file["rail"].as_str(),
            line["rail"].as_str().map(str::to_lowercase).as_deref(),
            "{line}"
        );
    }

    // Every file named in the log is on disk with the logged hash, and reads back.
    let dir = run_dir(&data_dir, JANUARY);
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut read_total = 0u64;
    let mut logged_names = Vec::new();
    for file in status["files"].as_array().unwrap() {
        let name = file["name"].as_str().unwrap();
        logged_names.push(name.to_string());
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            file["sha256"],
            "{name}"
        );
        let total = match file["rail"].as_str().unwrap() {
            "ach" => {
                let read = ach::read_file(&bytes).unwrap();
                // The configured originator, in the file header and every batch header.
                let header = &read.header;
                assert_eq!(header.immediate_destination.as_str(), "026009593");
                assert_eq!(header.immediate_destination_name, "FEDERAL RESERVE BANK");
                assert_eq!(header.immediate_origin, "1987654321");
                assert_eq!(header.immediate_origin_name, "PRAIRIE DATA COOP");
                assert!(!read.batches.is_empty());
                for batch in &read.batches {
                    assert_eq!(batch.header.company_name, "PRAIRIE DATA");
                    assert_eq!(batch.header.company_identification, "1987654321");
                    assert_eq!(batch.header.company_entry_description, "DIVIDEND");
                    assert_eq!(batch.header.odfi_identification, 1_100_001);
                }
                for entry in read.entries() {
                    // Trace numbers start with the ODFI's first 8 digits.
                    assert_eq!(entry.trace_number / 10_000_000, 1_100_001, "{entry:?}");
                }
                assert_eq!(
                    read.entries().count() as u64,
                    file["lines"].as_u64().unwrap()
                );
                read.total().unwrap().get()
            }
            "prepaid" => {
                let read = prepaid::read_file(&bytes).unwrap();
                assert_eq!(read.rows.len() as u64, file["lines"].as_u64().unwrap());
                read.total.get()
            }
            "usdc" => {
                let document: Value = serde_json::from_slice(&bytes).unwrap();
                let root: [u8; 32] = hex::decode(&document["root"].as_str().unwrap()[2..])
                    .unwrap()
                    .try_into()
                    .unwrap();
                let mut sum = 0;
                for (position, value) in document["values"].as_array().unwrap().iter().enumerate() {
                    let value = &value["value"];
                    let leaf = Leaf {
                        index: value[0].as_str().unwrap().parse().unwrap(),
                        account: UsdcAddress::parse(value[1].as_str().unwrap()).unwrap(),
                        amount: Micros::new(value[2].as_str().unwrap().parse().unwrap()),
                    };
                    let proof: Vec<[u8; 32]> = document["proofs"][position.to_string()]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|h| {
                            hex::decode(&h.as_str().unwrap()[2..])
                                .unwrap()
                                .try_into()
                                .unwrap()
                        })
                        .collect();
                    assert!(verify(&root, &leaf, &proof), "USDC leaf {position}");
                    sum += leaf.amount.get();
                }
                sum
            }
            rail => panic!("rail {rail}"),
        };
        assert_eq!(total, file["total_micros"].as_u64().unwrap(), "{name}");
        read_total += total;
    }
    logged_names.sort();
    assert_eq!(
        on_disk, logged_names,
        "the directory holds exactly the logged files"
    );
    for rail in status["rails"].as_array().unwrap() {
        assert!(
            rail["lines"].as_u64().unwrap() > 0,
            "every rail pays: {status}"
        );
    }

    // Σ rails + held + rollover = the run's member total (D4, D6, D9), to the micro-dollar.
    let (_, runs) = get(&api, "/v1/runs").await;
    let runs: Value = serde_json::from_str(&runs).unwrap();
    let run = &runs[0];
    let payouts_total = run["payouts_total_micros"].as_u64().unwrap();
    let rollover = run["rollover_out_micros"].as_u64().unwrap();
    assert!(held_total > 0 && rollover > 0);
    assert_eq!(read_total + held_total + rollover, payouts_total + rollover);
    assert_eq!(read_total + held_total, payouts_total);
    assert_eq!(status["payouts_total_micros"].as_u64(), Some(payouts_total));

    server.stop().await.unwrap();

    // The log: the recorded hashes are the files', and no entry holds a destination detail.
    let store = AnyStore::open(&location).await.unwrap();
    let size = store.head().await.unwrap().size;
    let entries = store.entries(0, size).await.unwrap();
    let mut run_end = None;
    let mut logged = Vec::new();
    for (index, bytes) in entries.iter().enumerate() {
        let entry = LogEntry::decode(bytes).unwrap();
        match &entry.input.envelope.command {
            Command::RunMonthlyDistribution { .. } => run_end = Some(index + 1),
            Command::RecordPayoutFiles { files, held, .. } => {
                assert_eq!(held, &vec![MemberId(members.last().unwrap().1)]);
                logged = files.clone();
            }
            _ => {}
        }
        for secret in secrets() {
            assert!(
                !bytes
                    .windows(secret.len())
                    .any(|w| w.eq_ignore_ascii_case(secret.as_bytes())),
                "entry {index} holds {secret}"
            );
        }
    }
    assert_eq!(logged.len(), logged_names.len());
    for file in &logged {
        let bytes = std::fs::read(dir.join(&file.name)).unwrap();
        assert_eq!(<[u8; 32]>::from(Sha256::digest(&bytes)), file.sha256);
    }

    // Regenerating from the log and the private table gives the same bytes.
    let state =
        assay_engine::replay(entries[..run_end.unwrap()].iter().map(Vec::as_slice)).unwrap();
    let regenerated_dir = data_dir.join("regenerated");
    let destinations = Destinations::new(
        AnyStore::open(&location).await.unwrap(),
        SealingKey::load_or_create(&data_dir).unwrap(),
    );
    let destinations = std::sync::Arc::new(destinations);
    let writer = PayoutWriter::new(&regenerated_dir, destinations.clone(), Some(originator()));
    let written = writer.write(&state, JANUARY).await.unwrap();
    assert_eq!(written.files, logged);
    for file in &logged {
        assert_eq!(
            std::fs::read(run_dir(&regenerated_dir, JANUARY).join(&file.name)).unwrap(),
            std::fs::read(dir.join(&file.name)).unwrap(),
            "{}",
            file.name
        );
    }
    // Without an originator no ACH file is written: the ACH members are held too (their
    // money stays theirs, D9), and the other rails' files are the same bytes.
    let unconfigured_dir = data_dir.join("unconfigured");
    let writer = PayoutWriter::new(&unconfigured_dir, destinations, None);
    let unconfigured = writer.write(&state, JANUARY).await.unwrap();
    let ach_members: Vec<MemberId> = members
        .iter()
        .filter(|(_, _, destination)| destination.rail() == assay_rails::Rail::Ach)
        .map(|(_, id, _)| MemberId(*id))
        .collect();
    assert_eq!(ach_members.len(), 3);
    assert_eq!(unconfigured.held, ach_members);
    let others: Vec<_> = logged
        .iter()
        .filter(|file| file.rail != assay_engine::Rail::Ach)
        .cloned()
        .collect();
    assert_eq!(others.len(), 2);
    assert_eq!(unconfigured.files, others);
    assert_ne!(
        unconfigured.settlement_reference,
        written.settlement_reference
    );
    // The files do carry the details (so the searches above could have found them).
    let everything: Vec<u8> = logged
        .iter()
        .flat_map(|file| std::fs::read(dir.join(&file.name)).unwrap())
        .collect();
    for secret in ["4417123456", "card-tok-7f3a9c21e8"] {
        assert!(everything
            .windows(secret.len())
            .any(|w| w == secret.as_bytes()));
    }
    store.close().await;

    // The public API of a restarted server holds none of them either.
    let clock = Clock::manual(morning(TradingDay(FIRST_DAY.0 + 31)));
    let server = start_server(location.clone(), clock, 1_000).await;
    let api = Api::new(&server);
    let mut paths = vec![
        "/v1/summary".to_string(),
        "/v1/runs".to_string(),
        "/v1/payouts".to_string(),
        "/v1/payouts/2026-01".to_string(),
        "/v1/openapi.json".to_string(),
    ];
    for (_, id, _) in &members {
        paths.push(format!("/v1/runs/2026-01/payouts/{id}"));
        paths.push(format!("/v1/members/{id}/grants"));
    }
    for path in &paths {
        let (_, body) = get(&api, path).await;
        for secret in secrets() {
            assert!(
                !body.to_lowercase().contains(&secret.to_lowercase()),
                "{path} holds {secret}"
            );
        }
    }
    let (_, after_restart) = get(&api, "/v1/payouts/2026-01").await;
    let after_restart: Value = serde_json::from_str(&after_restart).unwrap();
    assert_eq!(after_restart, status, "the status is rebuilt from the log");
    assert_eq!(
        payout_lines(&api, &members).await,
        lines,
        "the lines' statuses are rebuilt from the log"
    );
    server.stop().await.unwrap();
    std::fs::remove_dir_all(&data_dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn january_pays_every_rail_from_the_private_table_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("assay-payouts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    january_payouts(StoreLocation::Sqlite { dir }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn january_pays_every_rail_from_the_private_table_on_postgres() {
    let Some(schema) = common::PgSchema::fresh("assay_payouts") else {
        return;
    };
    january_payouts(schema.location()).await;
}
