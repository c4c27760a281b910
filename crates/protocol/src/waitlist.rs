//! Waitlist bodies.

use chrono::NaiveDate;
use sentra_domain::{Uuid, WaitlistStatus};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/waitlist`: wait for a unit of a SKU on dates that are sold out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinWaitlistRequest {
    pub customer_id: Uuid,
    /// SKU code, e.g. `AVANZA-13G-AT`.
    pub sku: String,
    /// Branch code to wait in; absent means any branch.
    pub branch: Option<String>,
    /// Pickup day.
    pub start: NaiveDate,
    /// Return day (exclusive).
    pub end: NaiveDate,
}

/// A waitlist entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistEntry {
    pub id: Uuid,
    pub sku: String,
    pub branch_id: Option<Uuid>,
    pub customer_id: Uuid,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// `OFFERED` means a booking is held for you: pay before it lapses.
    pub status: WaitlistStatus,
    /// 1-based place in the queue while `WAITING`.
    pub position: Option<u64>,
    /// The booking held for you while `OFFERED`.
    pub offer_booking_id: Option<Uuid>,
}

/// `GET /api/v1/skus/{code}/waitlist`: a SKU's open queue (waiting and offered entries) in
/// order: pickup day, then membership tier and joining time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistQueue {
    pub sku: String,
    pub items: Vec<WaitlistEntry>,
}

/// Query of `GET /api/v1/skus/{code}/waitlist`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct WaitlistQueueQuery {
    /// Branch code; without it, every queue the caller runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}
