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
    pub pickups: Vec<DayEntry>,
    /// Rentals out that come back today.
    pub returns: Vec<DayEntry>,
    /// Rentals out past their return day, oldest first.
    pub overdue: Vec<DayEntry>,
}

/// One line of the counter's day: the booking, its customer, and the plate staff look for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayEntry {
    #[serde(flatten)]
    pub rental: SyncBooking,
    pub plate: Option<String>,
}

impl Store {
    /// What the counter handles on `today`.
    pub fn counter_day(&self, today: NaiveDate) -> Result<CounterDay, crate::CoreError> {
        let day = today.to_string();
        let active = BookingStatus::Active.as_str();
        Ok(CounterDay {
            date: today,
            pickups: self.list(
                "SELECT b.body, a.body FROM bookings b LEFT JOIN assets a ON a.id = b.asset_id \
                 WHERE b.start_date = ?1 AND b.status = ?2 ORDER BY b.start_date, b.id LIMIT ?3",
                &day,
                BookingStatus::Confirmed.as_str(),
            )?,
            returns: self.list(
                "SELECT b.body, a.body FROM bookings b LEFT JOIN assets a ON a.id = b.asset_id \
                 WHERE b.end_date = ?1 AND b.status = ?2 ORDER BY b.end_date, b.id LIMIT ?3",
                &day,
                active,
            )?,
            overdue: self.list(
                "SELECT b.body, a.body FROM bookings b LEFT JOIN assets a ON a.id = b.asset_id \
                 WHERE b.end_date < ?1 AND b.status = ?2 ORDER BY b.end_date, b.id LIMIT ?3",
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

    fn list(&self, sql: &str, day: &str, status: &str) -> Result<Vec<DayEntry>, crate::CoreError> {
        let mut statement = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| storage_error(&e))?;
        let rows = statement
            .query_map(params![day, status, LIST_LIMIT], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
            })
            .map_err(|e| storage_error(&e))?;
        rows.map(|row| {
            let (booking, asset) = row.map_err(|e| storage_error(&e))?;
            let plate = asset
                .map(|body| serde_json::from_str::<sentra_protocol::Asset>(&body))
                .transpose()
                .map_err(|e| json_error(&e))?
                .map(|asset| asset.plate_or_serial);
            Ok(DayEntry {
                rental: serde_json::from_str(&booking).map_err(|e| json_error(&e))?,
                plate,
            })
        })
        .collect()
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
