//! A rental's life at the counter: when the asset may be handed over, when it is due back, when
//! a rental is overdue, and how far an overdue rental keeps holding its asset.
//!
//! A booking's period is the half-open range of branch-local days `[start, end)`: the customer
//! picks up on `start` and brings the asset back on `end` by [`RETURN_BY`]. Every rule takes the
//! branch's local date or the current instant as an argument; nothing here reads the clock.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use crate::{BookingStatus, BranchTimeZone};

/// The time of day, in the branch's time zone, by which a rental is due back on its end day.
pub const RETURN_BY: NaiveTime = match NaiveTime::from_hms_opt(12, 0, 0) {
    Some(time) => time,
    None => panic!("12:00 is a time"),
};

/// The longest reason accepted for an early pickup.
pub const MAX_REASON_CHARS: usize = 300;

/// How a pickup relates to the booking's first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickupTiming {
    /// On the first day.
    OnTime,
    /// This many days before the first day (a reason was given; the asset is held from today).
    Early { days: u32 },
    /// After the first day but before the end (the customer came late; the days are paid).
    Late,
}

/// Why a pickup is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickupRefusal {
    #[error("the booking starts on {start}; an earlier pickup needs a reason")]
    EarlyWithoutReason { start: NaiveDate },
    #[error("a reason has at most {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
    #[error("the rental period ended on {end}; the booking can only be closed as a no-show")]
    PeriodOver { end: NaiveDate },
    #[error("an early pickup is at most {max} days before the first day")]
    TooEarly { max: u32 },
}

/// The most days a pickup may come before the booking's first day.
pub const MAX_EARLY_DAYS: u32 = 3;

/// Decides whether a booking of `[start, end)` may be picked up on the branch's `today`.
///
/// On the first day it may; before it only with a non-blank `early_reason` (and at most
/// [`MAX_EARLY_DAYS`] early); after the first day while the period lasts it may (late pickup);
/// from the end day on it may not.
pub fn pickup_timing(
    start: NaiveDate,
    end: NaiveDate,
    today: NaiveDate,
    early_reason: Option<&str>,
) -> Result<PickupTiming, PickupRefusal> {
    if today >= end {
        return Err(PickupRefusal::PeriodOver { end });
    }
    if today >= start {
        return Ok(if today == start {
            PickupTiming::OnTime
        } else {
            PickupTiming::Late
        });
    }
    let reason = early_reason.map(str::trim).unwrap_or_default();
    if reason.is_empty() {
        return Err(PickupRefusal::EarlyWithoutReason { start });
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(PickupRefusal::ReasonTooLong);
    }
    let days = u32::try_from((start - today).num_days()).unwrap_or(u32::MAX);
    if days > MAX_EARLY_DAYS {
        return Err(PickupRefusal::TooEarly {
            max: MAX_EARLY_DAYS,
        });
    }
    Ok(PickupTiming::Early { days })
}

/// The instant a rental ending on `end` is due back at a branch in `zone`.
pub fn due_at(end: NaiveDate, zone: BranchTimeZone) -> DateTime<Utc> {
    end.and_time(RETURN_BY)
        .and_local_timezone(zone.utc_offset())
        .single()
        .expect("fixed offsets have no gaps")
        .to_utc()
}

/// Whether a booking in `status` ending on `end` is overdue at `now`: the customer still has the
/// asset (ACTIVE) after it was due back.
pub fn is_overdue(
    status: BookingStatus,
    end: NaiveDate,
    zone: BranchTimeZone,
    now: DateTime<Utc>,
) -> bool {
    status == BookingStatus::Active && now > due_at(end, zone)
}

/// How many days past `end` an overdue rental holds its asset at `now`: through the branch's
/// current day (the asset is not back, so no one may be promised it today), and never less than
/// before. 0 when the rental is not overdue.
pub fn overrun_days(end: NaiveDate, zone: BranchTimeZone, now: DateTime<Utc>) -> u32 {
    if now <= due_at(end, zone) {
        return 0;
    }
    let today = zone.local_date_of(now);
    let through = today + Days::new(1);
    u32::try_from((through - end).num_days()).unwrap_or(0)
}

/// The overrun an overdue rental may take without running into the next holding booking of the
/// asset: `wanted`, cut at the day that booking's occupancy starts (`next_start`), given the
/// rental occupies `[.., end + buffer_days)` today with `current` overrun days.
///
/// Never shrinks an overrun already taken.
pub fn overrun_within(
    wanted: u32,
    current: u32,
    end: NaiveDate,
    buffer_days: u32,
    next_start: Option<NaiveDate>,
) -> u32 {
    let limit = next_start.map_or(u32::MAX, |next| {
        let room = (next - end).num_days() - i64::from(buffer_days);
        u32::try_from(room.max(0)).unwrap_or(0)
    });
    wanted.min(limit).max(current)
}

/// Whether a booking is at risk because the rental before it on the same asset is overdue and
/// would, if it ran on through the overdue rental's `wanted` overrun plus its buffer, reach into
/// this booking's first occupied day.
pub fn next_booking_at_risk(
    overdue_end: NaiveDate,
    wanted_overrun: u32,
    buffer_days: u32,
    next_start: NaiveDate,
) -> bool {
    overdue_end + Days::new(u64::from(wanted_overrun) + u64::from(buffer_days)) > next_start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
    }

    #[test]
    fn pickup_on_the_first_day_late_or_early_with_a_reason() {
        assert_eq!(
            pickup_timing(date(10), date(12), date(10), None),
            Ok(PickupTiming::OnTime)
        );
        assert_eq!(
            pickup_timing(date(10), date(12), date(11), None),
            Ok(PickupTiming::Late)
        );
        assert_eq!(
            pickup_timing(date(10), date(12), date(9), Some("  ")),
            Err(PickupRefusal::EarlyWithoutReason { start: date(10) })
        );
        assert_eq!(
            pickup_timing(date(10), date(12), date(8), Some("flight moved")),
            Ok(PickupTiming::Early { days: 2 })
        );
        assert_eq!(
            pickup_timing(date(10), date(12), date(6), Some("flight moved")),
            Err(PickupRefusal::TooEarly { max: 3 })
        );
        assert_eq!(
            pickup_timing(date(10), date(12), date(12), None),
            Err(PickupRefusal::PeriodOver { end: date(12) })
        );
        let long = "x".repeat(MAX_REASON_CHARS + 1);
        assert_eq!(
            pickup_timing(date(10), date(12), date(9), Some(&long)),
            Err(PickupRefusal::ReasonTooLong)
        );
    }

    #[test]
    fn due_at_noon_branch_time_and_overdue_only_while_active() {
        let due = due_at(date(12), BranchTimeZone::Wita);
        assert_eq!(due.to_rfc3339(), "2026-12-12T04:00:00+00:00");
        let after = due + chrono::Duration::minutes(1);
        assert!(is_overdue(
            BookingStatus::Active,
            date(12),
            BranchTimeZone::Wita,
            after
        ));
        assert!(!is_overdue(
            BookingStatus::Active,
            date(12),
            BranchTimeZone::Wita,
            due
        ));
        assert!(!is_overdue(
            BookingStatus::Returned,
            date(12),
            BranchTimeZone::Wita,
            after
        ));
    }

    #[test]
    fn an_overdue_rental_holds_its_asset_through_the_branch_day() {
        let zone = BranchTimeZone::Wib;
        let due = due_at(date(12), zone);
        assert_eq!(overrun_days(date(12), zone, due), 0);
        // 13:00 WIB on the end day: the end day itself is held.
        assert_eq!(
            overrun_days(date(12), zone, due + chrono::Duration::hours(1)),
            1
        );
        // Two days later at 20:00 WIB: held through that day.
        assert_eq!(
            overrun_days(date(12), zone, due + chrono::Duration::hours(56)),
            3
        );
    }

    #[test]
    fn the_overrun_stops_at_the_next_booking_and_never_shrinks() {
        // Next booking's occupancy starts on the 14th, 1 buffer day: room for 1 overrun day.
        assert_eq!(overrun_within(3, 0, date(12), 1, Some(date(14))), 1);
        assert_eq!(overrun_within(3, 0, date(12), 1, None), 3);
        assert_eq!(overrun_within(1, 2, date(12), 0, None), 2);
        assert_eq!(overrun_within(2, 0, date(12), 0, Some(date(12))), 0);
        assert!(next_booking_at_risk(date(12), 1, 1, date(14)).eq(&false));
        assert!(next_booking_at_risk(date(12), 2, 1, date(14)));
        assert!(next_booking_at_risk(date(12), 1, 0, date(12)));
    }
}
