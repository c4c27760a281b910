//! Availability search (counts per branch with the price, for customers; free units a page at a
//! time, for staff) and the SKU month calendar. Every answer here is bounded by the number of
//! branches or the page size, never by the size of the fleet.

use chrono::NaiveDate;
use sentra_domain::{BranchTimeZone, Money, Uuid};
use serde::{Deserialize, Serialize};

/// A point on the map (WGS 84 degrees): a branch's location, or where a customer is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    /// -90 to 90; Jakarta is about -6.2.
    pub latitude: f64,
    /// -180 to 180; Jakarta is about 106.8.
    pub longitude: f64,
}

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

/// How many units of the SKU one branch has free for the whole range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BranchAvailability {
    pub branch_code: String,
    pub branch_name: String,
    /// `Asia/Jakarta` (WIB), `Asia/Makassar` (WITA) or `Asia/Jayapura` (WIT).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, pattern = "^Asia/(Jakarta|Makassar|Jayapura)$", example = "Asia/Makassar")
    )]
    pub time_zone: BranchTimeZone,
    /// Units free for the whole range (and the SKU's turnaround buffer after it).
    pub free_units: u32,
    /// Straight-line distance from `near`, in whole kilometres, when `near` was given and the
    /// branch has a location.
    pub distance_km: Option<u32>,
}

/// What the rental costs: the SKU's daily rate times the nights, and the refundable deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceQuote {
    /// Nights from `start` to `end` (a one-day rental is one night).
    pub nights: u32,
    /// Whole Rupiah per day.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 450_000))]
    pub daily_rate_idr: Money,
    /// `daily_rate_idr` × `nights`, whole Rupiah.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 1_350_000))]
    pub total_idr: Money,
    /// Held on the customer's card (or paid in cash) and released after the return.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 2_000_000))]
    pub deposit_idr: Money,
}

/// `GET /api/v1/availability`: the customers' search. Counts per branch and the price; never
/// the units themselves (customers book the SKU and the server assigns a unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Availability {
    pub sku: String,
    pub sku_name: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The branch searched, or absent for all branches.
    pub branch: Option<String>,
    /// Free units over every branch listed.
    pub free_units: u32,
    /// The branches with units of this SKU: nearest first when `near` was given, else by code.
    pub branches: Vec<BranchAvailability>,
    pub price: PriceQuote,
}

/// `GET /api/v1/availability/units`: free units for staff, one page at a time (by the SKU's unit
/// order). Pass `next_cursor` back as `cursor` for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreeUnitPage {
    pub sku: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub branch: Option<String>,
    /// Free units over the whole search (every page).
    pub free_units: u32,
    pub items: Vec<FreeAsset>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
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

/// `GET /api/v1/availability`: the customers' search.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SearchQuery {
    /// SKU code, e.g. `AVANZA-13G-AT`.
    pub sku: String,
    /// Pickup day (`YYYY-MM-DD`, branch-local).
    pub start: NaiveDate,
    /// Return day, exclusive.
    pub end: NaiveDate,
    /// Branch code; absent searches every branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Where the customer is (with `lon`): branches nearest first, with their distance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude, with `lat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// `GET /api/v1/availability/units`: the staff's pages of free units.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UnitsQuery {
    /// SKU code, e.g. `AVANZA-13G-AT`.
    pub sku: String,
    /// Pickup day (`YYYY-MM-DD`, branch-local).
    pub start: NaiveDate,
    /// Return day, exclusive.
    pub end: NaiveDate,
    /// Branch code; absent lists every branch the caller works at (HQ: every branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Units per page (1-200, default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `GET /api/v1/skus/{code}/calendar`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CalendarQuery {
    /// `YYYY-MM`.
    pub month: String,
    /// Branch code; absent counts every branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}
