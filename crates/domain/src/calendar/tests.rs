//! Tests of branch time zones and date ranges, including property tests.
use std::collections::BTreeSet;

use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
}

fn range(start: NaiveDate, end: NaiveDate) -> DateRange {
    DateRange::new(start, end).expect("valid test range")
}

fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, 0)
        .single()
        .expect("valid test instant")
}

#[test]
fn zones_parse_from_iana_names_and_aliases() {
    let cases = [
        ("Asia/Jakarta", BranchTimeZone::Wib),
        ("Asia/Pontianak", BranchTimeZone::Wib),
        ("Asia/Makassar", BranchTimeZone::Wita),
        ("Asia/Ujung_Pandang", BranchTimeZone::Wita),
        ("Asia/Jayapura", BranchTimeZone::Wit),
    ];
    for (name, zone) in cases {
        assert_eq!(BranchTimeZone::from_iana(name), Ok(zone), "{name}");
        assert_eq!(name.parse::<BranchTimeZone>(), Ok(zone), "{name}");
    }
}

#[test]
fn unknown_zones_are_rejected() {
    for name in [
        "Asia/Singapore",
        "asia/jakarta",
        "WIB",
        "",
        "UTC",
        "Asia/Jakarta ",
    ] {
        assert_eq!(
            BranchTimeZone::from_iana(name),
            Err(TimeZoneError(name.to_owned())),
            "{name:?}"
        );
    }
}

#[test]
fn zone_names_offsets_and_abbreviations() {
    let expected = [
        (BranchTimeZone::Wib, "Asia/Jakarta", "WIB", 7),
        (BranchTimeZone::Wita, "Asia/Makassar", "WITA", 8),
        (BranchTimeZone::Wit, "Asia/Jayapura", "WIT", 9),
    ];
    for (zone, iana, abbreviation, hours) in expected {
        assert_eq!(zone.iana(), iana);
        assert_eq!(zone.to_string(), iana);
        assert_eq!(zone.abbreviation(), abbreviation);
        assert_eq!(zone.utc_offset().local_minus_utc(), hours * 3600);
    }
}

#[test]
fn zone_serde_uses_canonical_iana_names() {
    let json = serde_json::to_string(&BranchTimeZone::Wita).expect("ser");
    assert_eq!(json, "\"Asia/Makassar\"");
    let alias: BranchTimeZone = serde_json::from_str("\"Asia/Ujung_Pandang\"").expect("de");
    assert_eq!(alias, BranchTimeZone::Wita);
    assert_eq!(
        serde_json::to_string(&alias).expect("ser"),
        "\"Asia/Makassar\""
    );
    assert!(serde_json::from_str::<BranchTimeZone>("\"Europe/Paris\"").is_err());
}

#[test]
fn same_local_date_starts_an_hour_earlier_in_makassar_than_in_jakarta() {
    let day = date(2026, 3, 1);
    let jakarta = BranchTimeZone::Wib.start_of_day(day);
    let makassar = BranchTimeZone::Wita.start_of_day(day);
    assert_eq!(jakarta, utc(2026, 2, 28, 17, 0));
    assert_eq!(makassar, utc(2026, 2, 28, 16, 0));
    assert_eq!(jakarta - makassar, chrono::Duration::hours(1));
    assert_eq!(
        BranchTimeZone::Wit.start_of_day(day),
        utc(2026, 2, 28, 15, 0)
    );
}

#[test]
fn local_date_depends_on_the_branch_zone() {
    let instant = utc(2026, 5, 31, 16, 30);
    assert_eq!(
        BranchTimeZone::Wib.local_date_of(instant),
        date(2026, 5, 31)
    );
    assert_eq!(
        BranchTimeZone::Wita.local_date_of(instant),
        date(2026, 6, 1)
    );
    assert_eq!(BranchTimeZone::Wit.local_date_of(instant), date(2026, 6, 1));
}

#[test]
fn new_rejects_empty_reversed_and_out_of_range() {
    let day = date(2026, 1, 10);
    assert_eq!(
        DateRange::new(day, day),
        Err(DateRangeError::EndNotAfterStart {
            start: day,
            end: day
        })
    );
    assert!(matches!(
        DateRange::new(date(2026, 1, 11), day),
        Err(DateRangeError::EndNotAfterStart { .. })
    ));
    assert_eq!(
        DateRange::new(date(1899, 12, 31), day),
        Err(DateRangeError::DateOutOfRange(date(1899, 12, 31)))
    );
    assert!(DateRange::new(day, NaiveDate::MAX).is_err());
    assert!(DateRange::new(date(9999, 12, 30), DateRange::LATEST).is_ok());
}

#[test]
fn range_crossing_a_month_and_a_year_boundary() {
    let new_year = range(date(2025, 12, 30), date(2026, 1, 2));
    assert_eq!(new_year.nights(), 3);
    let days: Vec<NaiveDate> = new_year.days().collect();
    assert_eq!(
        days,
        vec![date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 1)]
    );
    assert_eq!(new_year.days().len(), 3);
    assert!(new_year.contains(date(2025, 12, 31)));
    assert!(new_year.contains(date(2026, 1, 1)));
    assert!(!new_year.contains(date(2026, 1, 2)));
    assert!(!new_year.contains(date(2025, 12, 29)));

    let (start, end) = new_year.to_instants(BranchTimeZone::Wib);
    assert_eq!(start, utc(2025, 12, 29, 17, 0));
    assert_eq!(end, utc(2026, 1, 1, 17, 0));
}

#[test]
fn leap_day_is_counted() {
    let february = range(date(2028, 2, 28), date(2028, 3, 1));
    assert_eq!(february.nights(), 2);
    assert!(february.contains(date(2028, 2, 29)));
    assert_eq!(range(date(2026, 2, 28), date(2026, 3, 1)).nights(), 1);
}

#[test]
fn back_to_back_ranges_do_not_overlap() {
    let first = range(date(2026, 4, 1), date(2026, 4, 3));
    let second = range(date(2026, 4, 3), date(2026, 4, 5));
    let straddling = range(date(2026, 4, 2), date(2026, 4, 4));
    assert!(!first.overlaps(&second));
    assert!(!second.overlaps(&first));
    assert!(first.overlaps(&straddling));
    assert!(second.overlaps(&straddling));
    assert!(first.overlaps(&first));
}

#[test]
fn from_instants_rounds_a_partial_end_day_up() {
    let zone = BranchTimeZone::Wib;
    // Picked up 2026-04-01 09:00 WIB, returned 2026-04-03 10:00 WIB.
    let picked_up = utc(2026, 4, 1, 2, 0);
    let returned = utc(2026, 4, 3, 3, 0);
    let covered = DateRange::from_instants(picked_up, returned, zone).expect("ordered");
    assert_eq!(covered, range(date(2026, 4, 1), date(2026, 4, 4)));

    // Returned exactly at local midnight: the end day is not occupied.
    let at_midnight = zone.start_of_day(date(2026, 4, 3));
    let covered = DateRange::from_instants(picked_up, at_midnight, zone).expect("ordered");
    assert_eq!(covered, range(date(2026, 4, 1), date(2026, 4, 3)));
}

#[test]
fn from_instants_rejects_unordered_and_out_of_range_instants() {
    let zone = BranchTimeZone::Wita;
    let instant = utc(2026, 4, 1, 2, 0);
    assert!(matches!(
        DateRange::from_instants(instant, instant, zone),
        Err(DateRangeError::InstantsNotOrdered { .. })
    ));
    assert!(matches!(
        DateRange::from_instants(utc(2026, 4, 2, 0, 0), instant, zone),
        Err(DateRangeError::InstantsNotOrdered { .. })
    ));
    assert!(matches!(
        DateRange::from_instants(DateTime::<Utc>::MIN_UTC, instant, zone),
        Err(DateRangeError::InstantOutOfRange(_))
    ));
    assert!(matches!(
        DateRange::from_instants(instant, DateTime::<Utc>::MAX_UTC, zone),
        Err(DateRangeError::InstantOutOfRange(_))
    ));
}

#[test]
fn serde_shape_is_start_and_end_dates() {
    let rental = range(date(2026, 1, 30), date(2026, 2, 2));
    let json = serde_json::to_string(&rental).expect("ser");
    assert_eq!(json, r#"{"start":"2026-01-30","end":"2026-02-02"}"#);
    let back: DateRange = serde_json::from_str(&json).expect("de");
    assert_eq!(back, rental);
    assert_eq!(rental.to_string(), "[2026-01-30, 2026-02-02)");
}

#[test]
fn deserializing_checks_the_range_rules() {
    for json in [
        r#"{"start":"2026-02-02","end":"2026-01-30"}"#,
        r#"{"start":"2026-02-02","end":"2026-02-02"}"#,
        r#"{"start":"1800-01-01","end":"2026-02-02"}"#,
        r#"{"start":"2026-02-30","end":"2026-03-02"}"#,
        r#"{"start":"2026-02-02"}"#,
    ] {
        assert!(serde_json::from_str::<DateRange>(json).is_err(), "{json}");
    }
}

fn any_zone() -> impl Strategy<Value = BranchTimeZone> {
    prop::sample::select(BranchTimeZone::ALL.to_vec())
}

/// Ranges anywhere in the supported span, up to about three years long.
fn any_range() -> impl Strategy<Value = DateRange> {
    let span = (DateRange::LATEST - DateRange::EARLIEST).num_days() - 1200;
    (0..span, 1_i64..=1100).prop_map(|(offset, length)| {
        let start = DateRange::EARLIEST + chrono::Duration::days(offset);
        range(start, start + chrono::Duration::days(length))
    })
}

/// Short ranges packed into a two-month window, so that overlaps are common.
fn nearby_range() -> impl Strategy<Value = DateRange> {
    (0_i64..60, 1_i64..=15).prop_map(|(offset, length)| {
        let start = date(2026, 12, 1) + chrono::Duration::days(offset);
        range(start, start + chrono::Duration::days(length))
    })
}

proptest! {
    #[test]
    fn instants_round_trip_to_the_same_range(rental in any_range(), zone in any_zone()) {
        let (start, end) = rental.to_instants(zone);
        prop_assert_eq!(start.with_timezone(&zone.utc_offset()).time(), NaiveTime::MIN);
        prop_assert_eq!(DateRange::from_instants(start, end, zone), Ok(rental));
    }

    #[test]
    fn overlap_is_symmetric_and_matches_shared_days(a in nearby_range(), b in nearby_range()) {
        let days_a: BTreeSet<NaiveDate> = a.days().collect();
        let days_b: BTreeSet<NaiveDate> = b.days().collect();
        let shares_a_day = days_a.intersection(&days_b).next().is_some();
        prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
        prop_assert_eq!(a.overlaps(&b), shares_a_day);
    }

    #[test]
    fn days_agree_with_nights_and_contains(rental in nearby_range()) {
        let days: Vec<NaiveDate> = rental.days().collect();
        prop_assert_eq!(days.len(), rental.nights() as usize);
        prop_assert_eq!(days.first().copied(), Some(rental.start()));
        prop_assert!(days.iter().all(|day| rental.contains(*day)));
        prop_assert!(!rental.contains(rental.end()));
        prop_assert!(days.windows(2).all(|pair| pair[0].succ_opt() == Some(pair[1])));
    }

    #[test]
    fn serde_round_trips(rental in any_range()) {
        let json = serde_json::to_string(&rental).expect("ser");
        prop_assert_eq!(serde_json::from_str::<DateRange>(&json).expect("de"), rental);
    }
}

#[test]
fn the_buffer_days_follow_the_return_day() {
    let end = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    assert_eq!(
        occupied_until(end, 2),
        NaiveDate::from_ymd_opt(2027, 1, 2).expect("date")
    );
    assert_eq!(occupied_until(end, 0), end);
    assert_eq!(occupied_until(end, -3), end);
}
