//! The counter's questions to the offline copy: today's pickups, returns and overdue rentals,
//! and an asset's bookings. Dates are the branch's local dates, decided by the caller.

use chrono::NaiveDate;
use rusqlite::params;
use sentra_domain::BookingStatus;
use sentra_protocol::SyncBooking;
use serde::Serialize;

use super::{Store, json_error, storage_error};

/// The most rows one list returns (a branch's day is far smaller).
const LIST_LIMIT: i64 = 500;

/// The counter's day, from the offline copy.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CounterDay {
    pub date: NaiveDate,
    /// Confirmed bookings starting today.
    pub pickups: Vec<SyncBooking>,
    /// Rentals out that come back today.
    pub returns: Vec<SyncBooking>,
    /// Rentals out past their return day, oldest first.
    pub overdue: Vec<SyncBooking>,
}

impl Store {
    /// What the counter handles on `today`.
    pub fn counter_day(&self, today: NaiveDate) -> Result<CounterDay, crate::CoreError> {
        let day = today.to_string();
        let active = BookingStatus::Active.as_str();
        Ok(CounterDay {
            date: today,
            pickups: self.list(
                "SELECT body FROM bookings WHERE start_date = ?1 AND status = ?2 \
                 ORDER BY start_date, id LIMIT ?3",
                &day,
                BookingStatus::Confirmed.as_str(),
            )?,
            returns: self.list(
                "SELECT body FROM bookings WHERE end_date = ?1 AND status = ?2 \
                 ORDER BY end_date, id LIMIT ?3",
                &day,
                active,
            )?,
            overdue: self.list(
                "SELECT body FROM bookings WHERE end_date < ?1 AND status = ?2 \
                 ORDER BY end_date, id LIMIT ?3",
                &day,
                active,
            )?,
        })
    }

    /// The bookings of `asset` that end on or after `from`, soonest first.
    pub fn asset_bookings(
        &self,
        asset: uuid::Uuid,
        from: NaiveDate,
    ) -> Result<Vec<SyncBooking>, crate::CoreError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT body FROM bookings WHERE asset_id = ?1 AND end_date >= ?2 \
                 ORDER BY start_date LIMIT ?3",
            )
            .map_err(|e| storage_error(&e))?;
        let rows = statement
            .query_map(
                params![asset.to_string(), from.to_string(), LIST_LIMIT],
                |row| row.get::<_, String>(0),
            )
            .map_err(|e| storage_error(&e))?;
        decode_all(rows)
    }

    fn list(
        &self,
        sql: &str,
        day: &str,
        status: &str,
    ) -> Result<Vec<SyncBooking>, crate::CoreError> {
        let mut statement = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| storage_error(&e))?;
        let rows = statement
            .query_map(params![day, status, LIST_LIMIT], |row| {
                row.get::<_, String>(0)
            })
            .map_err(|e| storage_error(&e))?;
        decode_all(rows)
    }
}

fn decode_all(
    rows: impl Iterator<Item = rusqlite::Result<String>>,
) -> Result<Vec<SyncBooking>, crate::CoreError> {
    rows.map(|row| {
        let body = row.map_err(|e| storage_error(&e))?;
        serde_json::from_str(&body).map_err(|e| json_error(&e))
    })
    .collect()
}
