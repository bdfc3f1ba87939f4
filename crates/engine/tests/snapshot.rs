//! Engine-state snapshots (issue 7): they round-trip, a snapshot plus the log's tail is a full
//! replay (rule L3), their bytes are pinned, and every kind of damage is refused with its code.

mod common;

use assay_core::{Category, Micros};
use assay_engine::{
    decode_snapshot, encode_snapshot, read_snapshot_header, replay, replay_one, Command,
    ProposalKind, SnapshotError, State, SNAPSHOT_HEADER_BYTES, SNAPSHOT_VERSION,
};
use common::*;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// A market with something in every part of the state: members (founding and public), funded
/// buyers, a closed basket with grants, an open basket with offers and a bid, a closed trading
/// day, an open election.
fn world() -> Harness {
    let mut h = Harness::new(&default_rules());
    let members: Vec<Person> = (0..6).map(|seed| h.member(seed, seed < 2)).collect();
    let a = h.buyer(1, 5_000_000_000);
    let b = h.buyer(2, 5_000_000_000);
    let basket = h.post(&a, spec(Category::Browsing, 1, 3)).unwrap();
    for (tag, member) in members.iter().enumerate() {
        h.offer(member, basket, 0, tag as u64).unwrap();
    }
    h.bid(&b, basket, 26_000).unwrap();
    h.close_day();
    let open = h.post(&b, spec(Category::Location, 1, 2)).unwrap();
    h.offer(&members[0], open, 0, 1).unwrap();
    h.offer(&members[1], open, 0, 2).unwrap();
    h.propose(&members[2], ProposalKind::Election { seat: 0 })
        .unwrap();
    assert!(!h.state.baskets.is_empty() && !h.state.grants.is_empty());
    assert!(!h.state.governance.proposals.is_empty());
    h
}

fn snapshot_of(h: &Harness) -> Vec<u8> {
    encode_snapshot(&h.state, h.entries.len() as u64)
}

/// Recomputes the payload checksum after a deliberate change, so the check under test is the
/// one after it.
fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
    let payload_len = (bytes.len() - SNAPSHOT_HEADER_BYTES) as u64;
    bytes[82..90].copy_from_slice(&payload_len.to_le_bytes());
    let checksum: [u8; 32] = Sha256::digest(&bytes[SNAPSHOT_HEADER_BYTES..]).into();
    bytes[90..122].copy_from_slice(&checksum);
    bytes
}

/// Replaces the payload with `state`'s encoding, keeping the header's claims.
fn with_payload(bytes: &[u8], state: &State) -> Vec<u8> {
    let mut forged = bytes[..SNAPSHOT_HEADER_BYTES].to_vec();
    forged.extend_from_slice(&postcard::to_allocvec(state).unwrap());
    reseal(forged)
}

fn refused(bytes: &[u8]) -> &'static str {
    decode_snapshot(bytes)
        .expect_err("damaged snapshot decoded")
        .code()
}

#[test]
fn a_snapshot_round_trips() {
    let h = world();
    let bytes = snapshot_of(&h);
    let (header, state) = decode_snapshot(&bytes).unwrap();
    // Equality covers the key indexes, which the payload leaves out and decoding rebuilds.
    assert_eq!(state, h.state);
    assert_eq!(header.version, SNAPSHOT_VERSION);
    assert_eq!(header.log_size, h.entries.len() as u64);
    assert_eq!(header.state_hash, h.state.hash());
    assert_eq!(header.rules_hash, default_rules().hash());
    assert_eq!(read_snapshot_header(&bytes).unwrap(), header);
    // Deterministic: the same state always encodes to the same bytes.
    assert_eq!(encode_snapshot(&state, header.log_size), bytes);
}

/// Rule L3: the snapshot after any prefix, plus the rest of the log, is the full replay; and the
/// decoded state goes on accepting and refusing exactly as the original does.
#[test]
fn a_snapshot_plus_the_tail_equals_a_full_replay() {
    let h = world();
    for cut in [1, h.entries.len() / 2, h.entries.len()] {
        let prefix = replay(h.entries[..cut].iter().map(Vec::as_slice)).unwrap();
        let (_, mut state) = decode_snapshot(&encode_snapshot(&prefix, cut as u64)).unwrap();
        for (index, entry) in h.entries.iter().enumerate().skip(cut) {
            replay_one(&mut state, index as u64, entry).unwrap();
        }
        assert_eq!(state.hash(), h.state.hash());
        assert_eq!(state, h.state);
    }
    let (_, decoded) = decode_snapshot(&snapshot_of(&h)).unwrap();
    let mut original = h.clone();
    let mut restored = h.clone();
    restored.state = decoded;
    // A known device key is refused through the rebuilt index; a new member is accepted.
    for harness in [&mut original, &mut restored] {
        let device = harness.state.members[0].device_key;
        let taken = harness.submit(
            &key(9_999),
            Command::RegisterMember {
                device_key: device,
                payout: harness.state.members[0].payout,
            },
        );
        assert_eq!(taken.unwrap_err().code(), "device_in_use");
        harness.member(77, false);
    }
    assert_eq!(original.state, restored.state);
}

/// Changing `State`'s shape changes these bytes: bump `SNAPSHOT_VERSION` (see the module docs).
#[test]
fn snapshot_bytes_are_pinned() {
    let bytes = snapshot_of(&world());
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        "bef7320b748f1b6ec56655cad6919327cd6e0578bf59fde415f4bfe883a9bb5c",
        "the snapshot encoding changed: bump SNAPSHOT_VERSION"
    );
}

#[test]
fn truncated_snapshots_are_refused() {
    let bytes = snapshot_of(&world());
    for len in [
        0,
        7,
        SNAPSHOT_HEADER_BYTES - 1,
        SNAPSHOT_HEADER_BYTES,
        bytes.len() - 1,
    ] {
        assert_eq!(refused(&bytes[..len]), "snapshot_truncated", "cut at {len}");
    }
}

#[test]
fn each_kind_of_damage_is_refused_with_its_code() {
    let h = world();
    let bytes = snapshot_of(&h);
    let check = |change: &dyn Fn(&mut Vec<u8>), code: &str| {
        let mut damaged = bytes.clone();
        change(&mut damaged);
        assert_eq!(refused(&damaged), code);
    };
    check(&|b| b[0] ^= 1, "snapshot_magic");
    check(
        &|b| b[8..10].copy_from_slice(&99u16.to_le_bytes()),
        "snapshot_version",
    );
    check(&|b| b.push(0), "snapshot_trailing_bytes");
    check(
        &|b| b[82..90].copy_from_slice(&u64::MAX.to_le_bytes()),
        "snapshot_too_large",
    );
    let last = bytes.len() - 1;
    check(&|b| b[last] ^= 0x40, "snapshot_checksum");
    check(&|b| b[95] ^= 1, "snapshot_checksum");
    // The header's claims are checked against the decoded state.
    check(&|b| b[10] ^= 1, "snapshot_inconsistent");
    check(&|b| b[18] ^= 1, "snapshot_rules_hash");
    check(&|b| b[50] ^= 1, "snapshot_state_hash");
    // A payload with a valid checksum that is not a state.
    let mut garbage = bytes[..SNAPSHOT_HEADER_BYTES].to_vec();
    garbage.extend_from_slice(&[0xFF; 64]);
    assert_eq!(refused(&reseal(garbage)), "snapshot_payload");
}

/// A state changed behind the header's back (its checksum recomputed) is refused by the
/// recomputed state hash or by its own contradictions, never taken.
#[test]
fn a_forged_state_is_refused() {
    let h = world();
    let bytes = snapshot_of(&h);

    let mut richer = h.state.clone();
    richer.buyers[0].available = Micros::new(richer.buyers[0].available.get() + 1);
    assert_eq!(
        refused(&with_payload(&bytes, &richer)),
        "snapshot_state_hash"
    );

    let mut twin = h.state.clone();
    twin.members[1].key = twin.members[0].key;
    assert_eq!(
        refused(&with_payload(&bytes, &twin)),
        "snapshot_inconsistent"
    );

    let mut extra_input = h.state.clone();
    *extra_input.sequences.values_mut().next().unwrap() += 1;
    assert_eq!(
        refused(&with_payload(&bytes, &extra_input)),
        "snapshot_inconsistent"
    );

    let mut other_rules = h.state.clone();
    let exchange = other_rules.exchange.as_mut().unwrap();
    exchange.rules.breaker.drop_bps += 1;
    assert_eq!(
        refused(&with_payload(&bytes, &other_rules)),
        "snapshot_rules_hash"
    );
}

#[test]
fn errors_say_what_is_wrong() {
    let error = SnapshotError::Version { version: 9 };
    assert_eq!(
        error.to_string(),
        format!("snapshot format version 9; this build reads {SNAPSHOT_VERSION}")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// Any change to any one byte of a snapshot is refused.
    #[test]
    fn any_changed_byte_is_refused(position in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let bytes = snapshot_bytes();
        let mut damaged = bytes.to_vec();
        let position = position.index(damaged.len());
        damaged[position] ^= flip;
        prop_assert!(decode_snapshot(&damaged).is_err(), "byte {} changed", position);
    }
}

fn snapshot_bytes() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| snapshot_of(&world()))
}
