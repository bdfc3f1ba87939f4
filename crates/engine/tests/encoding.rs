//! The log entry encoding is pinned (STYLE: "one canonical, versioned encoding of log entries,
//! pinned by golden tests", because hashes depend on exact bytes). A change here breaks every
//! existing log: bump `ENTRY_VERSION` and keep a reader for the old one instead.

mod common;

use assay_core::{BasketId, Micros, Timestamp};
use assay_engine::{events_digest, Command, Envelope, Event, Input, LogEntry, ENTRY_VERSION};
use common::key;

fn golden_entry() -> LogEntry {
    let envelope = Envelope::sign(
        &key(42),
        3,
        Command::Bid {
            basket: BasketId(7),
            unit_price: Micros::new(22_000),
        },
    );
    let input = Input {
        envelope,
        timestamp: Timestamp(1_767_225_600_000_001),
    };
    let events = [Event::BidAccepted {
        basket: BasketId(7),
        buyer: assay_core::BuyerId(1),
        unit_price: Micros::new(22_000),
    }];
    LogEntry::new(input, &events)
}

#[test]
fn entry_bytes_are_pinned() {
    let entry = golden_entry();
    let encoded = hex::encode(entry.encode());
    let golden = include_str!("../test_data/bid_entry.hex").trim();
    assert_eq!(
        encoded, golden,
        "the entry encoding changed (see the module docs)"
    );
    assert_eq!(entry.version, ENTRY_VERSION);
    assert_eq!(LogEntry::decode(&entry.encode()), Some(entry));
}

#[test]
fn malformed_entries_are_refused_not_panicked_on() {
    let bytes = golden_entry().encode();
    for cut in 0..bytes.len() {
        assert_eq!(
            LogEntry::decode(&bytes[..cut]),
            None,
            "a truncated entry ({cut} bytes) decoded"
        );
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(
        LogEntry::decode(&trailing),
        None,
        "trailing bytes are refused"
    );
    let digest = events_digest(&[]);
    assert_eq!(digest.len(), 32);
}

#[test]
fn envelopes_read_as_json_with_hex_keys_and_signatures() {
    let envelope = Envelope::sign(
        &key(42),
        3,
        Command::Bid {
            basket: BasketId(7),
            unit_price: Micros::new(22_000),
        },
    );
    let json = serde_json::to_value(&envelope).unwrap();
    assert_eq!(json["signer"].as_str().unwrap().len(), 64);
    assert_eq!(json["signature"].as_str().unwrap().len(), 128);
    assert_eq!(json["command"]["Bid"]["unit_price"], 22_000);
    let back: Envelope = serde_json::from_value(json).unwrap();
    assert_eq!(back, envelope);
}
