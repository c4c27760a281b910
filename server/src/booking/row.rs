//! A booking as stored: the row every booking query reads, its columns, and how the API shows it.

use chrono::{DateTime, NaiveDate, Utc};
use sentra_domain::{BookingKind, BookingStatus, Money};
use uuid::Uuid;

/// A booking row as the API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BookingRow {
    pub id: Uuid,
    pub branch_id: Uuid,
    pub asset_id: Uuid,
    pub customer_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    pub kind: BookingKind,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub occupied_end: NaiveDate,
    #[sqlx(try_from = "String")]
    pub status: BookingStatus,
    pub expires_at: Option<DateTime<Utc>>,
    pub hold_token: Option<Uuid>,
    pub total_idr: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl BookingRow {
    /// The booking as the API shows it (without the customer's QR code).
    pub fn to_dto(&self) -> sentra_protocol::Booking {
        sentra_protocol::Booking {
            id: self.id,
            branch_id: self.branch_id,
            asset_id: self.asset_id,
            customer_id: self.customer_id,
            kind: self.kind,
            start: self.start_date,
            end: self.end_date,
            blocked_until: self.occupied_end,
            status: self.status,
            expires_at: self.expires_at,
            hold_token: self.hold_token,
            total_idr: Money::from_rupiah(self.total_idr),
            created_at: self.created_at,
            updated_at: self.updated_at,
            qr_payload: None,
        }
    }
}

/// Columns of [`BookingRow`], for `SELECT`/`RETURNING`.
pub const BOOKING_COLUMNS: &str = "id, branch_id, asset_id, customer_id, kind, \
    lower(period) AS start_date, upper(period) AS end_date, upper(occupied) AS occupied_end, \
    status, expires_at, hold_token, total_idr, created_at, updated_at";
