//! Shared test fixtures: an originator configuration, a run id, and seeded random payout lines
//! (SplitMix64, so every failure replays from its seed).
#![allow(dead_code)] // each test binary uses a different part of this module

use assay_core::{MemberId, Micros, Month};
use assay_rails::ach::{AchConfig, Date, Time};
use assay_rails::{
    AccountType, AchAccount, CardReference, Destination, PayoutLine, RoutingNumber, RunId,
    UsdcAddress,
};

/// A way to spoil a valid value, for tables of refusal cases.
pub type Corrupt<T> = fn(&mut T);

pub fn run() -> RunId {
    RunId::new(
        Month {
            year: 2026,
            month: 1,
        },
        1,
    )
    .unwrap()
}

pub fn config() -> AchConfig {
    AchConfig {
        immediate_destination: RoutingNumber::parse("021000021").unwrap(),
        immediate_destination_name: "JPMORGAN CHASE".to_string(),
        immediate_origin: "122105278".to_string(),
        immediate_origin_name: "ASSAY COOPERATIVE".to_string(),
        company_name: "ASSAY COOP".to_string(),
        company_identification: "1234567890".to_string(),
        company_entry_description: "PAYOUT".to_string(),
        odfi: RoutingNumber::parse("122105278").unwrap(),
        effective_entry_date: Date {
            year: 2026,
            month: 2,
            day: 2,
        },
        file_creation_date: Date {
            year: 2026,
            month: 2,
            day: 1,
        },
        file_creation_time: Time { hour: 0, minute: 5 },
        first_file_id_modifier: 'A',
    }
}

/// SplitMix64: a tiny seeded generator, enough for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// A valid routing number: a depository prefix, six random digits, the ABA check digit.
pub fn routing(rng: &mut Rng) -> RoutingNumber {
    let prefixes: Vec<u64> = (1..=12).chain(21..=32).chain(61..=72).chain([80]).collect();
    let prefix = prefixes[rng.below(prefixes.len() as u64) as usize];
    let first_eight = format!("{prefix:02}{:06}", rng.below(1_000_000));
    (0..10)
        .find_map(|check| RoutingNumber::parse(&format!("{first_eight}{check}")).ok())
        .expect("one check digit of ten is right")
}

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn text(rng: &mut Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[rng.below(alphabet.len() as u64) as usize]))
        .collect()
}

pub fn ach_destination(rng: &mut Rng) -> Destination {
    let account_len = 1 + rng.below(17) as usize;
    let mut account = text(rng, ALNUM, account_len);
    if account_len > 2 && rng.below(4) == 0 {
        account.replace_range(1..2, "-");
    }
    let name_len = 1 + rng.below(22) as usize;
    let mut name = text(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ .,'&-", name_len);
    name = name.trim().to_string();
    if name.is_empty() {
        name = "X".to_string();
    }
    let account_type = if rng.below(2) == 0 {
        AccountType::Checking
    } else {
        AccountType::Savings
    };
    Destination::Ach(AchAccount::new(routing(rng), &account, account_type, &name).unwrap())
}

pub fn usdc_destination(rng: &mut Rng) -> Destination {
    let mut bytes = [0u8; 20];
    for chunk in bytes.chunks_mut(8) {
        let random = rng.next().to_be_bytes();
        chunk.copy_from_slice(&random[..chunk.len()]);
    }
    bytes[0] |= 1; // never the zero address
    Destination::Usdc(UsdcAddress::from_bytes(bytes).unwrap())
}

pub fn prepaid_destination(rng: &mut Rng) -> Destination {
    let len = 1 + rng.below(64) as usize;
    let mut reference = text(
        rng,
        b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-",
        len,
    );
    if reference.bytes().all(|b| b.is_ascii_digit()) {
        reference.insert(0, 't'); // never something that could be a card number
        reference.truncate(64);
    }
    Destination::Prepaid(CardReference::parse(&reference).unwrap())
}

/// An amount in whole cents, mostly small, sometimes up to `cents_max`.
pub fn cents_amount(rng: &mut Rng, cents_max: u64) -> Micros {
    let cents = match rng.below(4) {
        0 => 1 + rng.below(cents_max),
        _ => 500 + rng.below(100_000).min(cents_max),
    };
    Micros::new(cents.min(cents_max).max(1) * 10_000)
}

/// `count` lines for members 1, 2, 3 … (ascending, as a run gives them).
pub fn lines(
    seed: u64,
    count: usize,
    make: fn(&mut Rng) -> Destination,
    cents_max: u64,
) -> Vec<PayoutLine> {
    let mut rng = Rng(seed);
    let mut member = 0;
    (0..count)
        .map(|_| {
            member += 1 + rng.below(1_000);
            PayoutLine {
                member: MemberId(member),
                amount: cents_amount(&mut rng, cents_max),
                destination: make(&mut rng),
            }
        })
        .collect()
}
