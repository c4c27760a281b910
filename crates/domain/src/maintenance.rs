//! Maintenance plans and when an asset's next service falls due: every N days, every N km, or
//! whichever comes first, with the kilometres projected forward from the odometer readings taken
//! at handovers.

use chrono::{Days, NaiveDate};

/// How often a service is due. At least one of the two is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub every_days: Option<u32>,
    pub every_km: Option<u32>,
}

/// Whether a service is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServiceState {
    /// Not within the warning window yet.
    Ok,
    /// Due within [`DUE_SOON_DAYS`].
    DueSoon,
    /// Past its date or its kilometres.
    Overdue,
}

impl ServiceState {
    /// The name as sent: `OK`, `DUE_SOON`, `OVERDUE`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::DueSoon => "DUE_SOON",
            Self::Overdue => "OVERDUE",
        }
    }
}

/// How many days ahead a service counts as due soon.
pub const DUE_SOON_DAYS: u32 = 14;

/// When the next service falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Projection {
    /// By the calendar: the last service (or the start) plus `every_days`.
    pub by_days: Option<NaiveDate>,
    /// The odometer reading the next service is due at.
    pub due_km: Option<u32>,
    /// The day the odometer is projected to reach `due_km` at the recent daily distance (none
    /// without enough readings to tell).
    pub by_km: Option<NaiveDate>,
    /// The earlier of the two dates.
    pub due_date: Option<NaiveDate>,
    pub state: ServiceState,
}

/// Average kilometres per day over `readings` (date, km), from the earliest to the latest;
/// `None` with fewer than two readings on different days or no distance driven.
pub fn km_per_day(readings: &[(NaiveDate, u32)]) -> Option<f64> {
    let first = readings.iter().min_by_key(|(d, _)| *d)?;
    let last = readings.iter().max_by_key(|(d, _)| *d)?;
    let days = (last.0 - first.0).num_days();
    if days <= 0 || last.1 <= first.1 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let rate = f64::from(last.1 - first.1) / days as f64;
    Some(rate)
}

/// Projects the next service of a plan.
///
/// `last_service` is the date and odometer of the last service under the plan (none: the asset
/// has not had one, and `since` — when it joined the fleet — starts the count, at 0 km).
/// `readings` are handover odometer readings; the latest is the current reading.
pub fn project(
    interval: Interval,
    last_service: Option<(NaiveDate, u32)>,
    since: NaiveDate,
    readings: &[(NaiveDate, u32)],
    today: NaiveDate,
) -> Projection {
    let (from_date, from_km) = last_service.unwrap_or((since, 0));
    let by_days = interval
        .every_days
        .map(|days| from_date + Days::new(u64::from(days)));
    let due_km = interval.every_km.map(|km| from_km.saturating_add(km));
    let current_km = readings
        .iter()
        .max_by_key(|(d, _)| *d)
        .map_or(from_km, |(_, km)| *km);
    let km_passed = due_km.is_some_and(|due| current_km >= due);
    let by_km = due_km.and_then(|due| {
        if current_km >= due {
            return Some(today);
        }
        let rate = km_per_day(readings)?;
        let days = (f64::from(due - current_km) / rate).ceil();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let days = days.clamp(0.0, 36_500.0) as u64;
        Some(today + Days::new(days))
    });
    let due_date = match (by_days, by_km) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let state = if km_passed || due_date.is_some_and(|d| d < today) {
        ServiceState::Overdue
    } else if due_date.is_some_and(|d| d <= today + Days::new(u64::from(DUE_SOON_DAYS))) {
        ServiceState::DueSoon
    } else {
        ServiceState::Ok
    };
    Projection {
        by_days,
        due_km,
        by_km,
        due_date,
        state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).expect("date")
    }

    #[test]
    fn the_distance_driven_per_day_comes_from_the_readings() {
        assert_eq!(km_per_day(&[]), None);
        assert_eq!(km_per_day(&[(date(12, 1), 1000)]), None);
        assert_eq!(
            km_per_day(&[
                (date(11, 1), 1000),
                (date(11, 11), 2000),
                (date(11, 6), 1200)
            ]),
            Some(100.0)
        );
    }

    #[test]
    fn a_service_falls_due_by_days_or_km_whichever_first() {
        let interval = Interval {
            every_days: Some(90),
            every_km: Some(5000),
        };
        // Last service on 1 Oct at 10,000 km; 100 km a day since, 14,000 km on 1 Dec.
        let readings = [(date(10, 1), 10_000), (date(11, 10), 14_000)];
        let p = project(
            interval,
            Some((date(10, 1), 10_000)),
            date(1, 1),
            &readings,
            date(12, 1),
        );
        assert_eq!(p.by_days, Some(date(12, 30)));
        assert_eq!(p.due_km, Some(15_000));
        // 1,000 km to go at 100 km a day: 10 days.
        assert_eq!(p.by_km, Some(date(12, 11)));
        assert_eq!(p.due_date, Some(date(12, 11)));
        assert_eq!(p.state, ServiceState::DueSoon);

        // Past the kilometres: overdue today, whatever the calendar says.
        let over = [(date(10, 1), 10_000), (date(11, 30), 15_200)];
        let p = project(
            interval,
            Some((date(10, 1), 10_000)),
            date(1, 1),
            &over,
            date(12, 1),
        );
        assert_eq!(p.state, ServiceState::Overdue);

        // Days only, never serviced: counted from joining the fleet.
        let days_only = Interval {
            every_days: Some(180),
            every_km: None,
        };
        let p = project(days_only, None, date(5, 1), &[], date(12, 1));
        assert_eq!(p.due_date, Some(date(10, 28)));
        assert_eq!(p.state, ServiceState::Overdue);
        let p = project(days_only, None, date(11, 1), &[], date(12, 1));
        assert_eq!(p.state, ServiceState::Ok);
    }
}
