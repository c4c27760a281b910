//! The Indonesian national identity number (NIK, Nomor Induk Kependudukan).
//!
//! This module owns reading a NIK from text, the facts encoded in it (place of first
//! registration, birth date, gender) and keeping it out of logs: a [`Nik`] only ever prints
//! in masked form and cannot be serialized.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A structurally valid NIK: 16 digits laid out as `PP KK CC DD MM YY SSSS`.
///
/// - `PP` province, `KK` regency (kabupaten/kota), `CC` district (kecamatan): where the person
///   was first registered, not where they live now.
/// - `DD MM YY` birth date; women have 40 added to the day (so 41–71).
/// - `SSSS` a serial number, never `0000`.
///
/// A NIK is personal data. `Debug` and `Display` both print the masked form
/// (`************0001`), and the type deliberately implements neither `Serialize` nor
/// `Deserialize`: writing the full number anywhere must be an explicit call to
/// [`Nik::as_str`], never an accident of logging or serializing a struct that contains one.
/// (Deserializing would also need today's date, which a pure parser takes as an argument.)
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nik {
    digits: String,
    gender: Gender,
    birth_date: NaiveDate,
}

/// Gender as encoded in a NIK's birth day.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// The wire name: `"MALE"` or `"FEMALE"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Male => "MALE",
            Self::Female => "FEMALE",
        }
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Why a text is not a valid NIK. The messages never repeat the input, which is personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    #[error("a NIK has 16 digits, but {length} characters were given")]
    WrongLength { length: usize },
    #[error("a NIK may contain only the digits 0-9")]
    NotDigits,
    #[error("{0:02} is not an Indonesian province code")]
    UnknownProvince(u8),
    #[error("the regency (kabupaten/kota) code of a NIK cannot be 00")]
    ZeroRegency,
    #[error("the district (kecamatan) code of a NIK cannot be 00")]
    ZeroDistrict,
    #[error("the birth date in a NIK is not a real date on or before today")]
    InvalidBirthDate,
    #[error("the serial number of a NIK cannot be 0000")]
    ZeroSerial,
}

/// Number of digits in a NIK.
const NIK_LENGTH: usize = 16;

/// Added to the birth day of women.
const FEMALE_DAY_OFFSET: u8 = 40;

/// Whether `code` is a province code issued by Dukcapil.
///
/// Includes 92–96 for the Papua provinces split off in 2022. People registered before the
/// split keep the NIK they had, so their NIK still starts with the old province's code.
pub const fn is_known_province(code: u8) -> bool {
    matches!(code, 11..=19 | 21 | 31..=36 | 51..=53 | 61..=65 | 71..=76 | 81..=82 | 91..=96)
}

impl Nik {
    /// Reads a NIK, ignoring surrounding whitespace.
    ///
    /// `today` is the current date, passed in so parsing stays pure. A NIK stores only two
    /// digits of the birth year, so the century is inferred: the year is `20YY` if that birth
    /// date is not after `today`, otherwise `19YY`. NIKs are issued at birth nowadays, so
    /// children have one too; the cost is that someone aged 100 or more reads as a child.
    pub fn parse(input: &str, today: NaiveDate) -> Result<Nik, NikError> {
        let text = input.trim();
        let length = text.chars().count();
        if length != NIK_LENGTH {
            return Err(NikError::WrongLength { length });
        }
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(NikError::NotDigits);
        }
        let digits = text.as_bytes();
        let province = two_digits(digits, 0);
        if !is_known_province(province) {
            return Err(NikError::UnknownProvince(province));
        }
        if two_digits(digits, 2) == 0 {
            return Err(NikError::ZeroRegency);
        }
        if two_digits(digits, 4) == 0 {
            return Err(NikError::ZeroDistrict);
        }
        let (gender, birth_date) = birth_facts(digits, today)?;
        if serial_of(digits) == 0 {
            return Err(NikError::ZeroSerial);
        }
        Ok(Nik {
            digits: text.to_owned(),
            gender,
            birth_date,
        })
    }

    /// The gender encoded in the birth day.
    pub fn gender(&self) -> Gender {
        self.gender
    }

    /// The birth date, with the century inferred as described on [`Nik::parse`].
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// The province code (`PP`), e.g. 31 for DKI Jakarta.
    pub fn province_code(&self) -> u8 {
        two_digits(self.digits.as_bytes(), 0)
    }

    /// The regency or city code within the province (`KK`), never 0.
    pub fn regency_code(&self) -> u8 {
        two_digits(self.digits.as_bytes(), 2)
    }

    /// The district code within the regency (`CC`), never 0.
    pub fn district_code(&self) -> u8 {
        two_digits(self.digits.as_bytes(), 4)
    }

    /// The serial number (`SSSS`), 1–9999.
    pub fn serial(&self) -> u16 {
        serial_of(self.digits.as_bytes())
    }

    /// The full 16 digits.
    ///
    /// This is personal data: store it only where the law requires it, and prefer
    /// [`Nik::masked`] for anything shown, logged or sent elsewhere.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// Twelve asterisks and the last four digits: `************0001`. Staff need no more to
    /// tell two customers apart; the first digits (province, regency) beside a full name narrow
    /// the rest of the number down to a few guesses.
    pub fn masked(&self) -> String {
        format!("************{}", &self.digits[12..])
    }
}

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Nik").field(&self.masked()).finish()
    }
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.masked())
    }
}

/// The number formed by the two ASCII digits at `at`.
fn two_digits(digits: &[u8], at: usize) -> u8 {
    (digits[at] - b'0') * 10 + (digits[at + 1] - b'0')
}

/// The number formed by the last four ASCII digits.
fn serial_of(digits: &[u8]) -> u16 {
    digits[12..]
        .iter()
        .fold(0, |serial, digit| serial * 10 + u16::from(digit - b'0'))
}

/// Decodes `DD MM YY` into the gender and the birth date.
fn birth_facts(digits: &[u8], today: NaiveDate) -> Result<(Gender, NaiveDate), NikError> {
    let encoded_day = two_digits(digits, 6);
    let (gender, day) = match encoded_day {
        1..=31 => (Gender::Male, encoded_day),
        41..=71 => (Gender::Female, encoded_day - FEMALE_DAY_OFFSET),
        _ => return Err(NikError::InvalidBirthDate),
    };
    let month = u32::from(two_digits(digits, 8));
    let two_digit_year = i32::from(two_digits(digits, 10));
    let born_on = |century: i32| {
        NaiveDate::from_ymd_opt(century + two_digit_year, month, u32::from(day))
            .filter(|date| *date <= today)
    };
    let birth_date = born_on(2000)
        .or_else(|| born_on(1900))
        .ok_or(NikError::InvalidBirthDate)?;
    Ok((gender, birth_date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;

    const SAMPLE: &str = "3171015708450001";

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
    }

    fn today() -> NaiveDate {
        date(2026, 6, 15)
    }

    fn parse(input: &str) -> Result<Nik, NikError> {
        Nik::parse(input, today())
    }

    #[test]
    fn sample_nik_decodes_its_parts() {
        let nik = parse(SAMPLE).expect("valid sample");
        assert_eq!(nik.gender(), Gender::Female);
        assert_eq!(nik.birth_date(), date(1945, 8, 17));
        assert_eq!(nik.province_code(), 31);
        assert_eq!(nik.regency_code(), 71);
        assert_eq!(nik.district_code(), 1);
        assert_eq!(nik.serial(), 1);
        assert_eq!(nik.as_str(), SAMPLE);
        assert_eq!(nik.masked(), "************0001");
    }

    #[test]
    fn debug_and_display_never_show_the_full_number() {
        let nik = parse(SAMPLE).expect("valid sample");
        let shown = [format!("{nik}"), format!("{nik:?}"), format!("{nik:#?}")];
        for text in shown {
            assert!(!text.contains(SAMPLE), "{text}");
            assert!(!text.contains("570845"), "{text}");
            assert!(text.contains("************0001"), "{text}");
        }
        assert_eq!(nik.to_string(), "************0001");
        let wrapped = Some(nik);
        assert!(!format!("{wrapped:?}").contains(SAMPLE));
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        let nik = parse(&format!(" \t{SAMPLE}\n")).expect("valid");
        assert_eq!(nik.as_str(), SAMPLE);
    }

    #[test]
    fn men_have_the_plain_day() {
        let nik = parse("3273011708850003").expect("valid");
        assert_eq!(nik.gender(), Gender::Male);
        assert_eq!(nik.birth_date(), date(1985, 8, 17));
        assert_eq!(nik.serial(), 3);
    }

    #[test]
    fn women_have_forty_added_to_the_day() {
        let first = parse("3273014101900001").expect("valid");
        assert_eq!(first.gender(), Gender::Female);
        assert_eq!(first.birth_date(), date(1990, 1, 1));
        let last = parse("3273017112990001").expect("valid");
        assert_eq!(last.gender(), Gender::Female);
        assert_eq!(last.birth_date(), date(1999, 12, 31));
    }

    #[test]
    fn days_between_the_male_and_female_ranges_are_invalid() {
        for day in ["00", "32", "40", "72", "99"] {
            let input = format!("327301{day}01900001");
            assert_eq!(
                parse(&input).map(|_| ()),
                Err(NikError::InvalidBirthDate),
                "{day}"
            );
        }
    }

    #[test]
    fn century_prefers_2000s_unless_that_is_in_the_future() {
        let child = parse("3171010503200001").expect("valid");
        assert_eq!(child.birth_date(), date(2020, 3, 5));
        let born_today = parse("3171011506260001").expect("valid");
        assert_eq!(born_today.birth_date(), today());
        let born_tomorrow_a_century_ago = parse("3171011606260001").expect("valid");
        assert_eq!(born_tomorrow_a_century_ago.birth_date(), date(1926, 6, 16));
    }

    #[test]
    fn leap_day_only_in_leap_years() {
        let leap = parse("3171012902960001").expect("1996 is a leap year");
        assert_eq!(leap.birth_date(), date(1996, 2, 29));
        let female_leap = parse("3171016902000001").expect("2000 is a leap year");
        assert_eq!(female_leap.birth_date(), date(2000, 2, 29));
        assert_eq!(female_leap.gender(), Gender::Female);
        assert_eq!(
            parse("3171012902970001").map(|_| ()),
            Err(NikError::InvalidBirthDate)
        );
        assert_eq!(
            parse("3171016902970001").map(|_| ()),
            Err(NikError::InvalidBirthDate)
        );
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for input in ["3171013102900001", "3171011513900001", "3171011500900001"] {
            assert_eq!(
                parse(input).map(|_| ()),
                Err(NikError::InvalidBirthDate),
                "{input}"
            );
        }
    }

    #[test]
    fn wrong_length_is_rejected() {
        assert_eq!(
            parse("317101570845001").map(|_| ()),
            Err(NikError::WrongLength { length: 15 })
        );
        assert_eq!(
            parse("31710157084500011").map(|_| ()),
            Err(NikError::WrongLength { length: 17 })
        );
        assert_eq!(
            parse("").map(|_| ()),
            Err(NikError::WrongLength { length: 0 })
        );
        assert_eq!(
            parse("3171 0157 0845 0001").map(|_| ()),
            Err(NikError::WrongLength { length: 19 })
        );
    }

    #[test]
    fn non_digits_are_rejected() {
        for input in ["31710157084500a1", "3171-15708450001", "+171015708450001"] {
            assert_eq!(
                parse(input).map(|_| ()),
                Err(NikError::NotDigits),
                "{input}"
            );
        }
        // Full-width digits are 16 characters but not ASCII digits.
        let full_width = "３１７１０１５７０８４５０００１";
        assert_eq!(parse(full_width).map(|_| ()), Err(NikError::NotDigits));
    }

    #[test]
    fn unknown_provinces_are_rejected() {
        for code in [
            "00", "10", "20", "22", "30", "37", "50", "54", "66", "77", "83", "90", "97",
        ] {
            let input = format!("{code}71015708450001");
            let expected = NikError::UnknownProvince(code.parse().expect("two digits"));
            assert_eq!(parse(&input).map(|_| ()), Err(expected), "{code}");
        }
    }

    #[test]
    fn new_papua_provinces_are_known() {
        for code in 91..=96 {
            let nik = parse(&format!("{code}71015708450001")).expect("valid Papua province");
            assert_eq!(nik.province_code(), code);
        }
    }

    #[test]
    fn zero_regency_district_and_serial_are_rejected() {
        assert_eq!(
            parse("3100015708450001").map(|_| ()),
            Err(NikError::ZeroRegency)
        );
        assert_eq!(
            parse("3171005708450001").map(|_| ()),
            Err(NikError::ZeroDistrict)
        );
        assert_eq!(
            parse("3171015708450000").map(|_| ()),
            Err(NikError::ZeroSerial)
        );
    }

    #[test]
    fn error_messages_do_not_repeat_the_input() {
        for input in ["3100015708450001", "3171015708450000", "3171013102900001"] {
            let message = parse(input).expect_err("invalid").to_string();
            assert!(!message.contains(input), "{message}");
            assert!(!message.contains(&input[6..12]), "{message}");
        }
    }

    #[test]
    fn gender_wire_names() {
        assert_eq!(
            serde_json::to_string(&Gender::Female).expect("ser"),
            "\"FEMALE\""
        );
        assert_eq!(Gender::Male.to_string(), "MALE");
    }

    fn known_province() -> impl Strategy<Value = u8> {
        prop::sample::select(
            (10..=99)
                .filter(|code| is_known_province(*code))
                .collect::<Vec<u8>>(),
        )
    }

    proptest! {
        #[test]
        fn nik_built_from_valid_parts_parses_back_to_them(
            province in known_province(),
            regency in 1_u8..=99,
            district in 1_u8..=99,
            female in any::<bool>(),
            days_before_today in 0_i64..36_000,
            serial in 1_u16..=9999,
        ) {
            let birth = today() - chrono::Duration::days(days_before_today);
            let encoded_day = birth.day() + if female { 40 } else { 0 };
            let text = format!(
                "{province:02}{regency:02}{district:02}{encoded_day:02}{:02}{:02}{serial:04}",
                birth.month(),
                birth.year() % 100,
            );
            let nik = parse(&text).expect("built from valid parts");
            prop_assert_eq!(nik.province_code(), province);
            prop_assert_eq!(nik.regency_code(), regency);
            prop_assert_eq!(nik.district_code(), district);
            prop_assert_eq!(nik.birth_date(), birth);
            let gender = if female { Gender::Female } else { Gender::Male };
            prop_assert_eq!(nik.gender(), gender);
            prop_assert_eq!(nik.serial(), serial);
            prop_assert_eq!(nik.as_str(), text.as_str());
        }

        #[test]
        fn any_parsed_nik_is_internally_consistent(
            province in known_province(),
            rest in "[0-9]{14}",
        ) {
            let text = format!("{province:02}{rest}");
            if let Ok(nik) = parse(&text) {
                let day = nik.birth_date().day();
                prop_assert!((1..=31).contains(&day));
                let offset = if nik.gender() == Gender::Female { 40 } else { 0 };
                prop_assert_eq!(format!("{:02}", day + offset), &text[6..8]);
                prop_assert!(nik.birth_date() <= today());
                let masked = nik.masked();
                prop_assert_eq!(&masked[12..], &text[12..]);
                prop_assert_eq!(&masked[..12], "************");
            }
        }
    }
}
