//! The run as a whole: its id, and the sum check that the rails pay exactly the members' total
//! (rules D4, D6).

use crate::ach::{self, AchConfig, AchLimits};
use crate::usdc::{Distribution, DocumentOptions};
use crate::{prepaid, Error, PayoutLine, Rail, RailFile};
use assay_core::{Micros, Month};
use std::fmt;

/// Largest run sequence within a month; a month has one run (rule D4), re-issues take the next.
pub const RUN_SEQUENCE_MAX: u8 = 99;

/// Which run: the month it pays and a sequence number (1 for the month's run, 2 and up for a
/// re-issue). Text form `2026-01r1`, used in file names and in every file's content.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId {
    month: Month,
    sequence: u8,
}

impl RunId {
    /// Years 2000–2099 only, because NACHA dates carry two-digit years.
    pub fn new(month: Month, sequence: u8) -> Result<RunId, Error> {
        if !(2000..=2099).contains(&month.year) || !(1..=12).contains(&month.month) {
            return Err(Error::RunId {
                reason: "month must be in 2000-01..2099-12",
            });
        }
        if !(1..=RUN_SEQUENCE_MAX).contains(&sequence) {
            return Err(Error::RunId {
                reason: "sequence must be 1 to 99",
            });
        }
        Ok(RunId { month, sequence })
    }

    /// Parses the text form, `YYYY-MMrN` without leading zeros in `N`.
    pub fn parse(text: &str) -> Result<RunId, Error> {
        let bad = Error::RunId {
            reason: "must look like 2026-01r1",
        };
        let (month, sequence) = text.split_once('r').ok_or(bad)?;
        let bytes = month.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = bytes.get(range)?;
            part.iter().all(u8::is_ascii_digit).then(|| {
                part.iter()
                    .fold(0, |n, digit| n * 10 + u32::from(digit - b'0'))
            })
        };
        let well_formed = bytes.len() == 7
            && bytes[4] == b'-'
            && !sequence.is_empty()
            && sequence.len() <= 2
            && !sequence.starts_with('0')
            && sequence.bytes().all(|b| b.is_ascii_digit());
        let (Some(year), Some(month_number), true) = (digits(0..4), digits(5..7), well_formed)
        else {
            return Err(Error::RunId {
                reason: "must look like 2026-01r1",
            });
        };
        let sequence = sequence.parse::<u8>().map_err(|_| Error::RunId {
            reason: "must look like 2026-01r1",
        })?;
        // Both fit: four and two digits.
        RunId::new(
            Month {
                year: year as i32,
                month: month_number as u8,
            },
            sequence,
        )
    }

    pub fn month(&self) -> Month {
        self.month
    }

    pub fn sequence(&self) -> u8 {
        self.sequence
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}r{}", self.month, self.sequence)
    }
}

/// Money each rail pays in a run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RailTotals {
    pub ach: Micros,
    pub usdc: Micros,
    pub prepaid: Micros,
}

impl RailTotals {
    /// Totals of the run's lines as split per rail, refusing a line handed to the wrong rail.
    pub fn of_lines(
        ach: &[PayoutLine],
        usdc: &[PayoutLine],
        prepaid: &[PayoutLine],
    ) -> Result<RailTotals, Error> {
        let sum = |rail: Rail, lines: &[PayoutLine]| -> Result<Micros, Error> {
            lines.iter().try_fold(Micros::ZERO, |total, line| {
                crate::check_rail(line, rail)?;
                Ok(total.checked_add(line.amount)?)
            })
        };
        Ok(RailTotals {
            ach: sum(Rail::Ach, ach)?,
            usdc: sum(Rail::Usdc, usdc)?,
            prepaid: sum(Rail::Prepaid, prepaid)?,
        })
    }

    /// Totals of the files the writers produced.
    pub fn of_files<'a>(
        files: impl IntoIterator<Item = &'a RailFile>,
    ) -> Result<RailTotals, Error> {
        let mut totals = RailTotals::default();
        for file in files {
            let slot = match file.rail() {
                Rail::Ach => &mut totals.ach,
                Rail::Usdc => &mut totals.usdc,
                Rail::Prepaid => &mut totals.prepaid,
            };
            *slot = slot.checked_add(file.total())?;
        }
        Ok(totals)
    }

    /// Σ over rails, checked.
    pub fn total(&self) -> Result<Micros, Error> {
        Ok(Micros::sum([self.ach, self.usdc, self.prepaid])?)
    }
}

/// Checks that the rails together pay exactly `expected`, the run's member total, to the
/// micro-dollar: after the run the exchange holds no member money beyond sub-threshold
/// balances (rule D6), and no member is paid twice.
pub fn check_sum(expected: Micros, totals: &RailTotals) -> Result<(), Error> {
    let found = totals.total()?;
    if found != expected {
        return Err(Error::SumMismatch { expected, found });
    }
    Ok(())
}

/// Every file of a run, and the USDC tree for members' claims.
#[derive(Debug)]
pub struct RunFiles {
    pub ach: Vec<RailFile>,
    /// The tree, for [`Distribution::claims`]; `None` if no member chose USDC.
    pub usdc: Option<Distribution>,
    pub usdc_document: Option<RailFile>,
    pub prepaid: Option<RailFile>,
}

impl RunFiles {
    pub fn files(&self) -> impl Iterator<Item = &RailFile> {
        self.ach
            .iter()
            .chain(self.usdc_document.as_ref())
            .chain(self.prepaid.as_ref())
    }
}

/// Writes every rail's files for a run (rule D4) and checks that together they pay exactly
/// `expected_total`, the members' total the run computed (rule D6).
///
/// `lines` must be in strictly ascending member order, which also means no member is paid
/// twice. Each rail keeps that order. `ach_config` is the originator's configuration; without
/// one a run may pay the other rails but refuses any ACH line (`ach_not_configured`).
pub fn write_run(
    ach_config: Option<&AchConfig>,
    limits: &AchLimits,
    run: RunId,
    lines: &[PayoutLine],
    expected_total: Micros,
    usdc_options: DocumentOptions,
) -> Result<RunFiles, Error> {
    for pair in lines.windows(2) {
        if pair[1].member <= pair[0].member {
            return Err(Error::LinesNotAscending {
                previous: pair[0].member,
                member: pair[1].member,
            });
        }
    }
    let on = |rail: Rail| {
        lines
            .iter()
            .filter(move |line| line.destination.rail() == rail)
    };
    let ach = match ach_config {
        Some(config) => ach::write_files(config, limits, run, on(Rail::Ach))?,
        None => match on(Rail::Ach).count() {
            0 => Vec::new(),
            lines => {
                return Err(Error::AchNotConfigured {
                    lines: lines as u64,
                })
            }
        },
    };
    let usdc = match on(Rail::Usdc).next() {
        Some(_) => Some(Distribution::build(run, on(Rail::Usdc))?),
        None => None,
    };
    let usdc_document = usdc
        .as_ref()
        .map(|distribution| distribution.document(usdc_options))
        .transpose()?;
    let prepaid = prepaid::write_file(run, on(Rail::Prepaid))?;
    let files = RunFiles {
        ach,
        usdc,
        usdc_document,
        prepaid,
    };
    let totals = RailTotals::of_files(files.files())?;
    check_sum(expected_total, &totals)?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Destination;
    use assay_core::MemberId;

    fn line(member: u64, micros: u64, destination: &str) -> PayoutLine {
        PayoutLine {
            member: MemberId(member),
            amount: Micros::new(micros),
            destination: Destination::parse(destination).unwrap(),
        }
    }

    #[test]
    fn run_ids_round_trip_through_text() {
        let run = RunId::new(
            Month {
                year: 2026,
                month: 1,
            },
            1,
        )
        .unwrap();
        assert_eq!(run.to_string(), "2026-01r1");
        assert_eq!(RunId::parse("2026-01r1").unwrap(), run);
        assert_eq!(RunId::parse("2099-12r99").unwrap().sequence(), 99);
        for bad in [
            "2026-1r1",
            "2026-01r0",
            "2026-01r01",
            "2026-13r1",
            "1999-01r1",
            "2026-01",
            "2026-01r100",
            "2026/01r1",
        ] {
            assert_eq!(
                RunId::parse(bad).unwrap_err().code(),
                "run_id_invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn rails_must_sum_to_the_member_total_to_the_micro_dollar() {
        // rules D4, D6: every member dollar of the run leaves on some rail, none twice.
        let ach = [line(1, 5_000_000, "ach:021000021:1:checking:A")];
        let usdc = [line(
            2,
            7_123_457,
            "usdc:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        )];
        let prepaid = [line(3, 6_000_000, "prepaid:tok_3")];
        let totals = RailTotals::of_lines(&ach, &usdc, &prepaid).unwrap();
        assert_eq!(totals.total().unwrap(), Micros::new(18_123_457));
        check_sum(Micros::new(18_123_457), &totals).unwrap();
        for off in [18_123_456, 18_123_458, 0] {
            let error = check_sum(Micros::new(off), &totals).unwrap_err();
            assert_eq!(error.code(), "sum_mismatch");
        }
        let error = RailTotals::of_lines(&usdc, &[], &[]).unwrap_err();
        assert_eq!(error.code(), "rail_mismatch");
        let overflow = [line(1, u64::MAX, "prepaid:a"), line(2, 1, "prepaid:b")];
        let error = RailTotals::of_lines(&[], &[], &overflow).unwrap_err();
        assert_eq!(error.code(), "money_overflow");
    }
}
