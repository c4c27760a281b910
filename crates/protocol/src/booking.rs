//! Booking bodies: create, confirm, the booking itself and lists of them.

use chrono::{DateTime, NaiveDate, Utc};
use sentra_domain::{BookingStatus, Money, Uuid};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/bookings` (with an `Idempotency-Key` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateBookingRequest {
    /// The asset to rent (from an availability search).
    pub asset_id: Uuid,
    /// The customer renting it.
    pub customer_id: Uuid,
    /// Pickup day, a local date in the asset's branch time zone.
    pub start: NaiveDate,
    /// Return day (exclusive): a one-day rental has `end` = `start` + 1.
    pub end: NaiveDate,
}

/// `POST /api/v1/bookings/{id}/confirm`: staff confirm a pending booking (manual deposit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmBookingRequest {
    /// The hold token returned when the booking was created.
    pub hold_token: Uuid,
}

/// A booking (or a maintenance block) of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Booking {
    pub id: Uuid,
    /// The asset's home branch.
    pub branch_id: Uuid,
    pub asset_id: Uuid,
    /// Absent for maintenance blocks.
    pub customer_id: Option<Uuid>,
    /// `RENTAL` or `MAINTENANCE`.
    pub kind: String,
    /// Pickup day (local date of the branch).
    pub start: NaiveDate,
    /// Return day, exclusive.
    pub end: NaiveDate,
    /// The asset stays blocked until this day (exclusive): `end` plus the turnaround buffer.
    pub blocked_until: NaiveDate,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "PENDING_PAYMENT"))]
    pub status: BookingStatus,
    /// When an unpaid booking lapses (`PENDING_PAYMENT` only).
    pub expires_at: Option<DateTime<Utc>>,
    /// Proof of holding this booking; needed to confirm it. Keep it private.
    pub hold_token: Option<Uuid>,
    /// Rental price in whole Rupiah.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 1_350_000))]
    pub total_idr: Money,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The signed booking code (`SR1:B:…`) customers show at the counter as a QR code; present
    /// in the customer's own booking list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_payload: Option<String>,
}

/// `GET /api/v1/bookings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingList {
    pub items: Vec<Booking>,
}
