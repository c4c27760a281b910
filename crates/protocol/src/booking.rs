//! Booking bodies: create, confirm, the booking itself and lists of them.

use chrono::{DateTime, NaiveDate, Utc};
use sentra_domain::{BookingKind, BookingStatus, Money, Uuid};
use serde::{Deserialize, Serialize};

use crate::availability::Location;

/// `POST /api/v1/bookings` (with an `Idempotency-Key` header). Either a model (`sku`, with an
/// optional `branch` or `near`): the server assigns a free unit; or one unit (`asset_id`), as
/// staff do at the counter. Exactly one of `sku` and `asset_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateBookingRequest {
    /// The SKU (model) to rent, e.g. `AVANZA-13G-AT`; the server picks the unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// With `sku`: only this branch. Absent: any branch, nearest to `near` first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// With `sku` and no `branch`: where the customer is, so the nearest branch is tried first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near: Option<Location>,
    /// One specific unit (staff at the counter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<Uuid>,
    /// The customer renting it.
    pub customer_id: Uuid,
    /// Pickup day, a local date in the asset's branch time zone.
    pub start: NaiveDate,
    /// Return day (exclusive): a one-day rental has `end` = `start` + 1.
    pub end: NaiveDate,
}

/// `POST /api/v1/bookings/{id}/confirm`: staff confirm a pending booking (manual deposit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    pub kind: BookingKind,
    /// Pickup day (local date of the branch).
    pub start: NaiveDate,
    /// Return day, exclusive.
    pub end: NaiveDate,
    /// The asset stays blocked until this day (exclusive): `end` plus the turnaround buffer.
    pub blocked_until: NaiveDate,
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

/// `GET /api/v1/bookings`: one branch's bookings, newest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct BookingListQuery {
    /// Branch code, e.g. `JKT01`.
    pub branch: String,
    /// Only bookings in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// At most this many (1-500, default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}
