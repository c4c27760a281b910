//! Availability search and the SKU month calendar.

use chrono::NaiveDate;
use sentra_domain::Uuid;
use serde::{Deserialize, Serialize};

/// A unit free for the requested dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreeAsset {
    pub asset_id: Uuid,
    /// Number plate or serial number.
    pub plate_or_serial: String,
    /// The unit's home branch: a unit elsewhere can be offered with a transfer.
    pub branch_id: Uuid,
    pub branch_code: String,
}

/// `GET /api/v1/availability`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Availability {
    pub sku: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The branch searched, or absent for all branches.
    pub branch: Option<String>,
    /// Units free for the whole range (and the SKU's turnaround buffer after it).
    pub free: Vec<FreeAsset>,
}

/// How much of a SKU is left on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DayState {
    /// Every unit is free.
    Free,
    /// Some units are free.
    PartlyFree,
    /// No unit is free.
    SoldOut,
}

/// One day of a [`SkuCalendar`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub free_units: u32,
    pub total_units: u32,
    pub state: DayState,
}

/// `GET /api/v1/skus/{code}/calendar`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkuCalendar {
    pub sku: String,
    /// `YYYY-MM`.
    pub month: String,
    pub branch: Option<String>,
    pub days: Vec<CalendarDay>,
}
