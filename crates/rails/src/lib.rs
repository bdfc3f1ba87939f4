//! Payout rails as pure formats (rule D4): the monthly run pays each member by ACH, USDC or a
//! prepaid card, as the member chose. This crate turns the run's lines into the bytes each rail
//! takes, and reads those bytes back with every control total checked.
//!
//! Invariant: nothing here does network or file I/O, reads a clock or draws randomness. Dates,
//! times, salts and run ids arrive as arguments; writers return bytes (or stream into a caller's
//! `impl Write`) and the caller writes files.
//!
//! Invariant: money is never rounded here. An amount a rail cannot carry exactly (ACH and prepaid
//! pay whole cents) is refused, so what the files pay is what the run's lines say, to the
//! micro-dollar ([`check_sum`], rules D4 and D6).
//!
//! | rail | writer | reader |
//! |---|---|---|
//! | ACH (NACHA PPD credits) | [`ach::write_files`] | [`ach::read_file`] |
//! | USDC (OpenZeppelin `StandardMerkleTree`) | [`usdc::Distribution`] | — (OZ's `load` reads it) |
//! | prepaid card load | [`prepaid::write_file`] | [`prepaid::read_file`] |

pub mod ach;
mod destination;
mod error;
pub mod prepaid;
mod run;
pub mod usdc;

pub use destination::{
    destination_request_message, AccountType, AchAccount, CardReference, Commitment, Destination,
    RoutingNumber, Salt, UsdcAddress, COMMITMENT_DOMAIN, DESTINATION_REQUEST_DOMAIN,
};
pub use error::Error;
pub use run::{check_sum, write_run, RailTotals, RunFiles, RunId, RUN_SEQUENCE_MAX};

use assay_core::{MemberId, Micros};
use sha2::{Digest, Sha256};
use std::fmt;

/// Micro-USD in one cent: ACH and prepaid processors count cents.
pub const MICROS_PER_CENT: u64 = 10_000;

/// The three ways a member can be paid (rule D4).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rail {
    Ach,
    Usdc,
    Prepaid,
}

impl fmt::Display for Rail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rail::Ach => "ach",
            Rail::Usdc => "usdc",
            Rail::Prepaid => "prepaid",
        })
    }
}

/// One member's payout in a run: who, how much, and where to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutLine {
    pub member: MemberId,
    pub amount: Micros,
    pub destination: Destination,
}

/// One file a rail produced: its name, its exact bytes and their SHA-256 (for the log), and the
/// number of payout lines and money it carries.
#[derive(Clone, PartialEq, Eq)]
pub struct RailFile {
    rail: Rail,
    name: String,
    bytes: Vec<u8>,
    sha256: [u8; 32],
    lines: u64,
    total: Micros,
}

impl RailFile {
    fn new(rail: Rail, name: String, bytes: Vec<u8>, lines: u64, total: Micros) -> RailFile {
        let sha256 = Sha256::digest(&bytes).into();
        RailFile {
            rail,
            name,
            bytes,
            sha256,
            lines,
            total,
        }
    }

    pub fn rail(&self) -> Rail {
        self.rail
    }

    /// A file name the caller may use, e.g. `ach-2026-01r1-a.ach`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// SHA-256 of [`bytes`](Self::bytes), the digest the public log records for this file.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// Payout lines (ACH entries, distribution leaves, card loads) in the file.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Money the file pays.
    pub fn total(&self) -> Micros {
        self.total
    }
}

impl fmt::Debug for RailFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RailFile")
            .field("rail", &self.rail)
            .field("name", &self.name)
            .field("len", &self.bytes.len())
            .field("sha256", &hex::encode(self.sha256))
            .field("lines", &self.lines)
            .field("total", &self.total)
            .finish()
    }
}

/// Checks that a line was handed to the rail its destination is on.
fn check_rail(line: &PayoutLine, rail: Rail) -> Result<(), Error> {
    let found = line.destination.rail();
    if found != rail {
        return Err(Error::RailMismatch {
            member: line.member,
            expected: rail,
            found,
        });
    }
    Ok(())
}

/// Checks that a line belongs to `rail` and pays something; every writer starts with this.
fn check_line(line: &PayoutLine, rail: Rail) -> Result<(), Error> {
    check_rail(line, rail)?;
    if line.amount.is_zero() {
        return Err(Error::AmountZero {
            member: line.member,
        });
    }
    Ok(())
}

/// Whole cents of a line's amount, refusing sub-cent remainders (rails pay in cents; see the
/// crate invariant on rounding).
fn whole_cents(line: &PayoutLine, rail: Rail) -> Result<u64, Error> {
    let micros = line.amount.get();
    if !micros.is_multiple_of(MICROS_PER_CENT) {
        return Err(Error::AmountNotWholeCents {
            member: line.member,
            amount: line.amount,
            rail,
        });
    }
    Ok(micros / MICROS_PER_CENT)
}
