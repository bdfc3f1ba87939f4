//! Where a member is paid (rule D4), validated when parsed, and the commitment the public log
//! holds instead of the details.
//!
//! Destinations are private: the log never sees them. It records
//! `SHA-256(COMMITMENT_DOMAIN ‖ salt ‖ canonical bytes)` with a per-member 32-byte salt, so a
//! member (or an auditor the member shows the salt to) can check which destination a run paid,
//! and nobody else can guess it from the log, not even by trying every routing number.
//!
//! Canonical bytes, version 1 (pinned by a golden test; a change needs a new domain tag):
//! - ACH: `0x01`, the 9 routing digits, `0x01` checking or `0x02` savings, one length byte and
//!   the account number, one length byte and the holder's name (all ASCII).
//! - USDC: `0x02` and the 20 address bytes.
//! - Prepaid: `0x03`, one length byte and the card reference.

use crate::usdc::keccak256;
use crate::{Error, Rail};
use sha2::{Digest, Sha256};
use std::fmt;

/// Domain tag of destination commitments; it ends in NUL so no tag is a prefix of another.
pub const COMMITMENT_DOMAIN: &[u8] = b"assay/rails/destination-commitment/v1\0";

/// Domain tag of the message a member signs to hand the exchange a destination (issue 9).
pub const DESTINATION_REQUEST_DOMAIN: &[u8] = b"assay/destination-request/v1\n";

/// What a member signs with their key to hand the exchange `destination` and the `salt` of
/// their logged commitment: `DESTINATION_REQUEST_DOMAIN ‖ member id (u64, big-endian) ‖ salt ‖
/// canonical bytes`. The member id binds the request to one member's commitment.
pub fn destination_request_message(
    member: assay_core::MemberId,
    destination: &Destination,
    salt: &Salt,
) -> Vec<u8> {
    let mut message = DESTINATION_REQUEST_DOMAIN.to_vec();
    message.extend_from_slice(&member.0.to_be_bytes());
    message.extend_from_slice(&salt.0);
    message.extend_from_slice(&destination.canonical_bytes());
    message
}

/// Longest DFI account number: the NACHA entry detail field is 17 characters.
pub const ACCOUNT_NUMBER_LEN_MAX: usize = 17;
/// Longest account holder name: the NACHA individual name field is 22 characters.
pub const ACCOUNT_NAME_LEN_MAX: usize = 22;
/// Longest prepaid card reference (the processor's token for a card, never a card number).
pub const CARD_REFERENCE_LEN_MAX: usize = 64;

/// Up to `N` ASCII bytes stored inline, so a destination costs no heap allocation.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
struct Ascii<const N: usize> {
    bytes: [u8; N],
    len: u8,
}

impl<const N: usize> Ascii<N> {
    /// `None` if `text` is longer than `N` or not ASCII.
    fn new(text: &str) -> Option<Ascii<N>> {
        if text.len() > N || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0; N];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        // N ≤ 64 for every use, so the length fits in a byte.
        Some(Ascii {
            bytes,
            len: text.len() as u8,
        })
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)])
            .expect("only ASCII is stored (checked in Ascii::new), and ASCII is UTF-8")
    }
}

/// A US bank routing (ABA) number: nine digits whose check digit is valid.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoutingNumber([u8; 9]);

impl RoutingNumber {
    /// Parses nine ASCII digits. Refuses a wrong ABA check digit
    /// (`3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 mod 10`) and a first pair of digits
    /// outside the Federal Reserve's ranges for depository institutions (01–12, 21–32, 61–72,
    /// 80); 00, the US government's, is no member's bank and would let `000000000` through.
    pub fn parse(text: &str) -> Result<RoutingNumber, Error> {
        let bytes: [u8; 9] = text
            .as_bytes()
            .try_into()
            .map_err(|_| Error::RoutingNumber {
                reason: "must be exactly 9 digits",
            })?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(Error::RoutingNumber {
                reason: "must be exactly 9 digits",
            });
        }
        let prefix = (bytes[0] - b'0') * 10 + (bytes[1] - b'0');
        if !matches!(prefix, 1..=12 | 21..=32 | 61..=72 | 80) {
            return Err(Error::RoutingNumber {
                reason:
                    "first two digits are not a depository institution's (01-12, 21-32, 61-72, 80)",
            });
        }
        if aba_check_digit(&bytes[..8]) != bytes[8] - b'0' {
            return Err(Error::RoutingNumber {
                reason: "check digit is wrong",
            });
        }
        Ok(RoutingNumber(bytes))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("nine ASCII digits (checked in parse)")
    }

    /// The first eight digits: the NACHA "DFI identification" that entry hashes add up.
    pub fn dfi_identification(&self) -> u64 {
        self.0[..8]
            .iter()
            .fold(0, |n, digit| n * 10 + u64::from(digit - b'0'))
    }

    /// The ninth digit.
    pub fn check_digit(&self) -> u8 {
        self.0[8] - b'0'
    }
}

/// The ABA check digit for the first eight digits (ASCII).
pub(crate) fn aba_check_digit(first_eight: &[u8]) -> u8 {
    const WEIGHTS: [u32; 8] = [3, 7, 1, 3, 7, 1, 3, 7];
    let sum: u32 = first_eight
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Debug for RoutingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoutingNumber({})", self.as_str())
    }
}

/// Checking or savings: decides the NACHA transaction code (22 or 32 for a credit).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum AccountType {
    Checking,
    Savings,
}

impl AccountType {
    /// The NACHA transaction code of an automated deposit (credit) to this kind of account.
    pub fn credit_transaction_code(self) -> u8 {
        match self {
            AccountType::Checking => 22,
            AccountType::Savings => 32,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            AccountType::Checking => "checking",
            AccountType::Savings => "savings",
        }
    }
}

/// A US bank account that can receive an ACH credit.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct AchAccount {
    routing: RoutingNumber,
    account_number: Ascii<ACCOUNT_NUMBER_LEN_MAX>,
    account_type: AccountType,
    name: Ascii<ACCOUNT_NAME_LEN_MAX>,
}

impl AchAccount {
    /// Validates the account number (1–17 of `0-9 A-Z a-z -`) and the holder's name (1–22
    /// printable ASCII characters, no leading or trailing space, because the fixed-width
    /// record pads with spaces and a reader could not tell them apart).
    pub fn new(
        routing: RoutingNumber,
        account_number: &str,
        account_type: AccountType,
        name: &str,
    ) -> Result<AchAccount, Error> {
        let account_ok = !account_number.is_empty()
            && account_number
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let account_number =
            Ascii::new(account_number)
                .filter(|_| account_ok)
                .ok_or(Error::AccountNumber {
                    reason: "must be 1 to 17 characters of 0-9, A-Z, a-z or '-'",
                })?;
        let name_ok = !name.is_empty()
            && name.bytes().all(|b| (0x20..=0x7e).contains(&b))
            && !name.starts_with(' ')
            && !name.ends_with(' ');
        let name = Ascii::new(name)
            .filter(|_| name_ok)
            .ok_or(Error::AccountName {
                reason:
                    "must be 1 to 22 printable ASCII characters without leading or trailing spaces",
            })?;
        Ok(AchAccount {
            routing,
            account_number,
            account_type,
            name,
        })
    }

    pub fn routing(&self) -> RoutingNumber {
        self.routing
    }

    pub fn account_number(&self) -> &str {
        self.account_number.as_str()
    }

    pub fn account_type(&self) -> AccountType {
        self.account_type
    }

    pub fn name(&self) -> &str {
        self.name.as_str()
    }
}

impl fmt::Debug for AchAccount {
    /// Redacted: logs and panics must not carry a member's account number or name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AchAccount")
            .field("routing", &self.routing)
            .field("account_number", &redact(self.account_number()))
            .field("account_type", &self.account_type)
            .finish_non_exhaustive()
    }
}

/// An EVM address that receives USDC.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsdcAddress([u8; 20]);

impl UsdcAddress {
    /// Refuses the zero address: tokens sent there are burned.
    pub fn from_bytes(bytes: [u8; 20]) -> Result<UsdcAddress, Error> {
        if bytes == [0; 20] {
            return Err(Error::UsdcAddress {
                reason: "the zero address burns what it receives",
            });
        }
        Ok(UsdcAddress(bytes))
    }

    /// Parses `0x` and 40 hex digits. All-lowercase or all-uppercase hex is taken as is; mixed
    /// case must be a valid EIP-55 checksum, so a mistyped address is caught.
    pub fn parse(text: &str) -> Result<UsdcAddress, Error> {
        let digits =
            text.strip_prefix("0x")
                .filter(|d| d.len() == 40)
                .ok_or(Error::UsdcAddress {
                    reason: "must be 0x and 40 hex digits",
                })?;
        let mut bytes = [0u8; 20];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| Error::UsdcAddress {
            reason: "must be 0x and 40 hex digits",
        })?;
        let address = UsdcAddress::from_bytes(bytes)?;
        let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
        let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
        if has_lower && has_upper && address.to_checksum() != text {
            return Err(Error::UsdcAddress {
                reason: "mixed-case address fails its EIP-55 checksum",
            });
        }
        Ok(address)
    }

    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The EIP-55 mixed-case form, `0x` and 40 hex digits.
    pub fn to_checksum(&self) -> String {
        let lower = hex::encode(self.0);
        let hash = keccak256(lower.as_bytes());
        let mut text = String::with_capacity(42);
        text.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            text.push(if nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        text
    }
}

impl fmt::Debug for UsdcAddress {
    /// In full: the address is public on chain once paid.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UsdcAddress({})", self.to_checksum())
    }
}

/// A prepaid card processor's reference (token) for a member's card.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct CardReference(Ascii<CARD_REFERENCE_LEN_MAX>);

impl CardReference {
    /// 1–64 characters of `0-9 A-Z a-z _ -`. A reference that looks like a card number (13–19
    /// digits passing the Luhn check) is refused: the exchange holds tokens, never card numbers.
    pub fn parse(text: &str) -> Result<CardReference, Error> {
        let ok = !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let reference = Ascii::new(text)
            .filter(|_| ok)
            .ok_or(Error::CardReference {
                reason: "must be 1 to 64 characters of 0-9, A-Z, a-z, '_' or '-'",
            })?;
        if looks_like_card_number(text) {
            return Err(Error::CardReference {
                reason: "looks like a card number; pass the processor's token instead",
            });
        }
        Ok(CardReference(reference))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

fn looks_like_card_number(text: &str) -> bool {
    if !(13..=19).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = text
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let digit = u32::from(b - b'0');
            match (i % 2 == 1, digit * 2) {
                (false, _) => digit,
                (true, doubled) if doubled > 9 => doubled - 9,
                (true, doubled) => doubled,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl fmt::Debug for CardReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardReference({})", redact(self.as_str()))
    }
}

/// Keeps the last four characters, as on a bank statement.
fn redact(text: &str) -> String {
    let keep = text.len().saturating_sub(4);
    format!("…{}", &text[keep..])
}

/// A member's chosen payout destination (rule D4). Private: only its [`Commitment`] is public.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Destination {
    Ach(AchAccount),
    Usdc(UsdcAddress),
    Prepaid(CardReference),
}

impl Destination {
    pub fn rail(&self) -> Rail {
        match self {
            Destination::Ach(_) => Rail::Ach,
            Destination::Usdc(_) => Rail::Usdc,
            Destination::Prepaid(_) => Rail::Prepaid,
        }
    }

    /// Parses the text form a wallet submits:
    /// `ach:ROUTING:ACCOUNT:checking|savings:NAME` (the name may contain `:`),
    /// `usdc:0xADDRESS`, or `prepaid:REFERENCE`.
    pub fn parse(text: &str) -> Result<Destination, Error> {
        let (kind, rest) = text.split_once(':').ok_or(Error::DestinationText {
            reason: "must start with ach:, usdc: or prepaid:",
        })?;
        match kind {
            "ach" => {
                let mut parts = rest.splitn(4, ':');
                let mut next = || {
                    parts.next().ok_or(Error::DestinationText {
                        reason: "ach needs ROUTING:ACCOUNT:TYPE:NAME",
                    })
                };
                let routing = RoutingNumber::parse(next()?)?;
                let account = next()?;
                let account_type = match next()? {
                    "checking" => AccountType::Checking,
                    "savings" => AccountType::Savings,
                    _ => {
                        return Err(Error::DestinationText {
                            reason: "ach account type must be checking or savings",
                        })
                    }
                };
                let name = next()?;
                AchAccount::new(routing, account, account_type, name).map(Destination::Ach)
            }
            "usdc" => UsdcAddress::parse(rest).map(Destination::Usdc),
            "prepaid" => CardReference::parse(rest).map(Destination::Prepaid),
            _ => Err(Error::DestinationText {
                reason: "must start with ach:, usdc: or prepaid:",
            }),
        }
    }

    /// The text form [`parse`](Self::parse) reads (addresses in EIP-55 form). Deliberately not
    /// `Display`: printing a destination should be a visible decision.
    pub fn to_text(&self) -> String {
        match self {
            Destination::Ach(account) => format!(
                "ach:{}:{}:{}:{}",
                account.routing.as_str(),
                account.account_number(),
                account.account_type.as_str(),
                account.name()
            ),
            Destination::Usdc(address) => format!("usdc:{}", address.to_checksum()),
            Destination::Prepaid(reference) => format!("prepaid:{}", reference.as_str()),
        }
    }

    /// The canonical bytes, version 1 (see the module documentation).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + CARD_REFERENCE_LEN_MAX);
        match self {
            Destination::Ach(account) => {
                out.push(0x01);
                out.extend_from_slice(&account.routing.0);
                out.push(match account.account_type {
                    AccountType::Checking => 0x01,
                    AccountType::Savings => 0x02,
                });
                push_with_length(&mut out, account.account_number());
                push_with_length(&mut out, account.name());
            }
            Destination::Usdc(address) => {
                out.push(0x02);
                out.extend_from_slice(&address.0);
            }
            Destination::Prepaid(reference) => {
                out.push(0x03);
                push_with_length(&mut out, reference.as_str());
            }
        }
        out
    }

    /// `SHA-256(COMMITMENT_DOMAIN ‖ salt ‖ canonical bytes)`: what the public log holds.
    pub fn commitment(&self, salt: &Salt) -> Commitment {
        let mut hasher = Sha256::new();
        hasher.update(COMMITMENT_DOMAIN);
        hasher.update(salt.0);
        hasher.update(self.canonical_bytes());
        Commitment(hasher.finalize().into())
    }
}

fn push_with_length(out: &mut Vec<u8>, text: &str) {
    // Every field is at most 64 bytes (the type checks it), so the length fits in one byte.
    debug_assert!(text.len() <= CARD_REFERENCE_LEN_MAX);
    out.push(text.len() as u8);
    out.extend_from_slice(text.as_bytes());
}

/// A member's 32 secret bytes that blind the commitment. The caller draws or derives them and
/// keeps them with the destination; they never go to the log.
#[derive(Copy, Clone, PartialEq, Eq)]
pub struct Salt(pub [u8; 32]);

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Salt(…)")
    }
}

/// A destination commitment, public in the log.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Commitment(pub [u8; 32]);

impl fmt::Display for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Commitment({self})")
    }
}
