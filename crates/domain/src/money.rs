//! Amounts of money in Indonesian Rupiah.
//!
//! The Rupiah has no subunit in practice, so an amount is a whole number of Rupiah held in an
//! `i64`. There are no floats anywhere: arithmetic is checked and returns `None` on overflow.
//! This module also owns the Indonesian way of writing amounts (`Rp 1.250.000`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A whole number of Rupiah; negative amounts (refunds, corrections) are allowed.
///
/// Serializes as a plain JSON integer. `Display` writes the Indonesian form: `Rp 1.250.000`,
/// `Rp 0`, `-Rp 50.000`.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

/// Why a text could not be read as a Rupiah amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount is empty")]
    Empty,
    #[error("amount has no digits")]
    NoDigits,
    #[error("amount contains {0:?}, which is not a digit or a thousands separator")]
    InvalidCharacter(char),
    #[error(
        "thousands separators must split the amount into groups of three digits, e.g. 1.250.000"
    )]
    MisplacedSeparator,
    #[error("amount is too large")]
    Overflow,
}

impl Money {
    /// No money at all.
    pub const ZERO: Money = Money(0);

    /// An amount of whole Rupiah.
    pub const fn from_rupiah(rupiah: i64) -> Self {
        Self(rupiah)
    }

    /// The amount in whole Rupiah.
    pub const fn rupiah(self) -> i64 {
        self.0
    }

    /// `self + other`, or `None` if the result does not fit.
    pub const fn checked_add(self, other: Money) -> Option<Money> {
        match self.0.checked_add(other.0) {
            Some(sum) => Some(Money(sum)),
            None => None,
        }
    }

    /// `self - other`, or `None` if the result does not fit.
    pub const fn checked_sub(self, other: Money) -> Option<Money> {
        match self.0.checked_sub(other.0) {
            Some(difference) => Some(Money(difference)),
            None => None,
        }
    }

    /// `self * factor` (e.g. a daily rate times a number of days), or `None` if it does not fit.
    pub const fn checked_mul(self, factor: i64) -> Option<Money> {
        match self.0.checked_mul(factor) {
            Some(product) => Some(Money(product)),
            None => None,
        }
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Reads an amount the way people type it in Indonesia.
    ///
    /// Accepted: plain digits (`1250000`), digits grouped by dots (`1.250.000`), either one
    /// prefixed by `Rp` with or without a space (`Rp 1.250.000`, `Rp1.250.000`, case-insensitive),
    /// and a leading minus for negative amounts (`-Rp 50.000`, `-50000`), which is exactly what
    /// [`Display`](fmt::Display) writes. Surrounding whitespace is ignored.
    ///
    /// Rejected: decimals or commas (`1.250.000,00`), groups that are not three digits
    /// (`1.25`, `12.50.000`), a dotted amount starting with zero (`0.250`), anything else that is
    /// not a digit, and amounts outside the `i64` range.
    pub fn parse_rupiah(input: &str) -> Result<Money, MoneyError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let text = strip_currency_prefix(text);
        if text.is_empty() {
            return Err(MoneyError::NoDigits);
        }
        let magnitude = parse_magnitude(text)?;
        let rupiah = if negative {
            0_i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        };
        rupiah.map(Money).ok_or(MoneyError::Overflow)
    }
}

/// Removes a leading `Rp` (any case) and the whitespace after it, if present.
fn strip_currency_prefix(text: &str) -> &str {
    match text.get(..2) {
        Some(prefix) if prefix.eq_ignore_ascii_case("rp") => text[2..].trim_start(),
        _ => text,
    }
}

/// Parses unsigned digits, either plain or grouped in threes by dots.
fn parse_magnitude(text: &str) -> Result<u64, MoneyError> {
    if let Some(bad) = text.chars().find(|c| !c.is_ascii_digit() && *c != '.') {
        return Err(MoneyError::InvalidCharacter(bad));
    }
    if text.contains('.') {
        let mut groups = text.split('.');
        let first = groups.next().unwrap_or_default();
        let first_is_valid = (1..=3).contains(&first.len()) && !first.starts_with('0');
        if !first_is_valid || groups.any(|group| group.len() != 3) {
            return Err(MoneyError::MisplacedSeparator);
        }
    }
    text.bytes()
        .filter(u8::is_ascii_digit)
        .try_fold(0_u64, |total, digit| {
            total
                .checked_mul(10)
                .and_then(|total| total.checked_add(u64::from(digit - b'0')))
        })
        .ok_or(MoneyError::Overflow)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let mut text = String::with_capacity(digits.len() + digits.len() / 3 + 4);
        if self.is_negative() {
            text.push('-');
        }
        text.push_str("Rp ");
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                text.push('.');
            }
            text.push(digit);
        }
        f.pad(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(rupiah: i64) -> Money {
        Money::from_rupiah(rupiah)
    }

    #[test]
    fn display_uses_dot_thousands_separators() {
        assert_eq!(rp(1_250_000).to_string(), "Rp 1.250.000");
        assert_eq!(rp(0).to_string(), "Rp 0");
        assert_eq!(rp(-50_000).to_string(), "-Rp 50.000");
        assert_eq!(rp(999).to_string(), "Rp 999");
        assert_eq!(rp(1_000).to_string(), "Rp 1.000");
        assert_eq!(rp(100_000).to_string(), "Rp 100.000");
        assert_eq!(rp(-1).to_string(), "-Rp 1");
    }

    #[test]
    fn display_handles_the_extremes_of_i64() {
        assert_eq!(
            Money::from_rupiah(i64::MAX).to_string(),
            "Rp 9.223.372.036.854.775.807"
        );
        assert_eq!(
            Money::from_rupiah(i64::MIN).to_string(),
            "-Rp 9.223.372.036.854.775.808"
        );
    }

    #[test]
    fn display_respects_width() {
        assert_eq!(format!("{:>12}", rp(5_000)), "    Rp 5.000");
    }

    #[test]
    fn parse_accepts_the_common_written_forms() {
        for input in [
            "1250000",
            "1.250.000",
            "Rp 1.250.000",
            "Rp1.250.000",
            "rp 1250000",
            "  RP  1.250.000 ",
        ] {
            assert_eq!(Money::parse_rupiah(input), Ok(rp(1_250_000)), "{input:?}");
        }
        assert_eq!(Money::parse_rupiah("0"), Ok(Money::ZERO));
        assert_eq!(Money::parse_rupiah("Rp 0"), Ok(Money::ZERO));
        assert_eq!(Money::parse_rupiah("-Rp 50.000"), Ok(rp(-50_000)));
        assert_eq!(Money::parse_rupiah("-50000"), Ok(rp(-50_000)));
        assert_eq!(Money::parse_rupiah("999"), Ok(rp(999)));
    }

    #[test]
    fn parse_rejects_junk_and_empty_input() {
        assert_eq!(Money::parse_rupiah(""), Err(MoneyError::Empty));
        assert_eq!(Money::parse_rupiah("   "), Err(MoneyError::Empty));
        assert_eq!(Money::parse_rupiah("Rp"), Err(MoneyError::NoDigits));
        assert_eq!(Money::parse_rupiah("-"), Err(MoneyError::NoDigits));
        assert_eq!(
            Money::parse_rupiah("12a"),
            Err(MoneyError::InvalidCharacter('a'))
        );
        assert_eq!(
            Money::parse_rupiah("1.250.000,00"),
            Err(MoneyError::InvalidCharacter(','))
        );
        assert_eq!(
            Money::parse_rupiah("--5"),
            Err(MoneyError::InvalidCharacter('-'))
        );
        assert_eq!(
            Money::parse_rupiah("USD 5"),
            Err(MoneyError::InvalidCharacter('U'))
        );
    }

    #[test]
    fn parse_rejects_misplaced_dots() {
        for input in [
            "1.25",
            "1.2500",
            ".250",
            "1..250",
            "1.250.",
            "1234.567",
            "12.50.000",
            "0.250",
            ".",
        ] {
            assert_eq!(
                Money::parse_rupiah(input),
                Err(MoneyError::MisplacedSeparator),
                "{input:?}"
            );
        }
    }

    #[test]
    fn parse_handles_the_extremes_of_i64() {
        assert_eq!(Money::parse_rupiah("9223372036854775807"), Ok(rp(i64::MAX)));
        assert_eq!(
            Money::parse_rupiah("-Rp 9.223.372.036.854.775.808"),
            Ok(rp(i64::MIN))
        );
        assert_eq!(
            Money::parse_rupiah("9223372036854775808"),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::parse_rupiah("-9223372036854775809"),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::parse_rupiah("99999999999999999999999"),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn parse_reads_back_what_display_writes() {
        for rupiah in [0, 7, -7, 1_000, -1_250_000, i64::MAX, i64::MIN] {
            let written = rp(rupiah).to_string();
            assert_eq!(Money::parse_rupiah(&written), Ok(rp(rupiah)), "{written}");
        }
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        assert_eq!(rp(100).checked_add(rp(50)), Some(rp(150)));
        assert_eq!(rp(100).checked_sub(rp(150)), Some(rp(-50)));
        assert_eq!(rp(150_000).checked_mul(3), Some(rp(450_000)));
        assert_eq!(rp(i64::MAX).checked_add(rp(1)), None);
        assert_eq!(rp(i64::MIN).checked_sub(rp(1)), None);
        assert_eq!(rp(i64::MIN).checked_mul(-1), None);
        assert_eq!(rp(i64::MAX / 2 + 1).checked_mul(2), None);
        assert_eq!(rp(i64::MIN).checked_add(rp(i64::MAX)), Some(rp(-1)));
    }

    #[test]
    fn negativity_and_ordering() {
        assert!(rp(-1).is_negative());
        assert!(!Money::ZERO.is_negative());
        assert!(!rp(1).is_negative());
        assert!(rp(-1) < Money::ZERO && Money::ZERO < rp(1));
        assert_eq!(rp(42).rupiah(), 42);
    }

    #[test]
    fn serde_is_a_plain_integer() {
        assert_eq!(
            serde_json::to_string(&rp(1_250_000)).expect("ser"),
            "1250000"
        );
        assert_eq!(
            serde_json::from_str::<Money>("-50000").expect("de"),
            rp(-50_000)
        );
        assert_eq!(
            serde_json::to_string(&rp(i64::MIN)).expect("ser"),
            "-9223372036854775808"
        );
        assert!(serde_json::from_str::<Money>("1.5").is_err());
        assert!(serde_json::from_str::<Money>("\"1000\"").is_err());
        assert!(serde_json::from_str::<Money>("9223372036854775808").is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn display_then_parse_is_identity(rupiah in any::<i64>()) {
                let money = Money::from_rupiah(rupiah);
                prop_assert_eq!(Money::parse_rupiah(&money.to_string()), Ok(money));
            }

            #[test]
            fn plain_digits_parse_to_their_value(rupiah in 0_i64..=i64::MAX) {
                prop_assert_eq!(Money::parse_rupiah(&rupiah.to_string()), Ok(rp(rupiah)));
            }
        }
    }
}
