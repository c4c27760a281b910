//! Inventory bodies: branches, SKUs, assets, transfers between branches, QR labels and scans.

use chrono::{DateTime, NaiveDate, Utc};
use sentra_domain::label::LabelKind;
use sentra_domain::{AssetStatus, BookingStatus, BranchTimeZone, ChecklistItem, SkuCategory, Uuid};
use serde::{Deserialize, Serialize};

use crate::availability::Location;

/// A branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Branch {
    pub id: Uuid,
    /// Short code used on paper (`JKT01`).
    pub code: String,
    pub name: String,
    pub address: String,
    /// `Asia/Jakarta` (WIB), `Asia/Makassar` (WITA) or `Asia/Jayapura` (WIT).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, pattern = "^Asia/(Jakarta|Makassar|Jayapura)$", example = "Asia/Jakarta")
    )]
    pub time_zone: BranchTimeZone,
    /// Where the branch is: customers booking a model without naming a branch get the nearest.
    pub location: Option<Location>,
}

/// `POST /api/v1/branches`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateBranchRequest {
    /// 2-12 upper-case letters and digits.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Z0-9]{2,12}$", example = "SUB01")
    )]
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub address: String,
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^Asia/(Jakarta|Makassar|Jayapura)$",
            example = "Asia/Jakarta"
        )
    )]
    pub time_zone: String,
    /// Where the branch is (optional; without it the branch is offered after located ones).
    #[serde(default)]
    pub location: Option<Location>,
}

/// `GET /api/v1/branches`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BranchList {
    pub items: Vec<Branch>,
}

/// How a late return is charged.
#[derive(Debug, Clone, Default, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LateFee {
    /// Minutes after the agreed time that cost nothing (0-1440).
    #[cfg_attr(feature = "openapi", schema(maximum = 1440))]
    pub grace_minutes: u32,
    /// Rupiah per started late hour.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub per_hour_idr: i64,
    /// Most one late day costs, in Rupiah (at least the hourly fee).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000_000))]
    pub daily_cap_idr: i64,
}

/// One checklist line of a SKU's pickup/return inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistLine {
    pub key: String,
    pub label_id: String,
    pub label_en: String,
    #[serde(default)]
    pub requires_photo: bool,
}

impl From<ChecklistLine> for ChecklistItem {
    fn from(line: ChecklistLine) -> Self {
        ChecklistItem {
            key: line.key,
            label_id: line.label_id,
            label_en: line.label_en,
            requires_photo: line.requires_photo,
        }
    }
}

/// A SKU: what customers book (a model), with its prices and inspection checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sku {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub category: SkuCategory,
    pub daily_rate_idr: i64,
    pub deposit_idr: i64,
    pub late_fee: LateFee,
    /// The price of one eighth of a tank, charged when it comes back with less fuel (0: never).
    #[serde(default)]
    pub fuel_per_eighth_idr: i64,
    /// Days an asset stays blocked after a rental (cleaning, inspection).
    pub turnaround_buffer_days: i32,
    pub checklist: Vec<ChecklistLine>,
}

/// `POST /api/v1/skus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSkuRequest {
    /// 2-32 upper-case letters, digits and dashes.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Z0-9-]{2,32}$", example = "XPANDER-ULT")
    )]
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
    pub name: String,
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(car|motorbike|equipment)$", example = "car")
    )]
    pub category: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1_000_000_000))]
    pub daily_rate_idr: i64,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10_000_000_000_i64))]
    pub deposit_idr: i64,
    pub late_fee: LateFee,
    /// The price of one eighth of a tank missing at return (0: fuel is not charged).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000_000))]
    pub fuel_per_eighth_idr: i64,
    #[serde(default)]
    pub turnaround_buffer_days: i32,
    #[serde(default)]
    pub checklist: Vec<ChecklistLine>,
}

/// `PATCH /api/v1/skus/{code}`: only the fields sent change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateSkuRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_rate_idr: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposit_idr: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_fee: Option<LateFee>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel_per_eighth_idr: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turnaround_buffer_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checklist: Option<Vec<ChecklistLine>>,
}

/// `GET /api/v1/skus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkuList {
    pub items: Vec<Sku>,
}

/// One rentable thing: a vehicle or a piece of equipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Asset {
    pub id: Uuid,
    pub sku_code: String,
    pub sku_name: String,
    pub home_branch_id: Uuid,
    pub home_branch_code: String,
    /// Number plate (vehicles) or serial number (equipment).
    pub plate_or_serial: String,
    pub status: AssetStatus,
    pub odometer_km: Option<i32>,
    /// Version of the newest printed QR label; older labels no longer scan.
    pub label_version: i32,
}

/// `POST /api/v1/assets`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateAssetRequest {
    pub sku_code: String,
    pub branch_code: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 40, example = "B 1234 SRT")
    )]
    pub plate_or_serial: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub odometer_km: Option<i32>,
}

/// `PATCH /api/v1/assets/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateAssetRequest {
    /// `active`, `maintenance` or `retired` (retired is final).
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(active|maintenance|retired)$")
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Odometer reading; it never goes down.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odometer_km: Option<i32>,
}

/// `GET /api/v1/assets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetList {
    pub items: Vec<Asset>,
}

/// `POST /api/v1/assets/{id}/transfer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferRequest {
    /// The new home branch.
    pub to_branch_code: String,
    /// Why it moves (printed on the note).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub reason: String,
}

/// A branch as printed on a transfer note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoteBranch {
    pub code: String,
    pub name: String,
    pub address: String,
}

/// A booking that moved with the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovedBooking {
    pub id: Uuid,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub status: BookingStatus,
}

/// The internal transfer note: the record of the move and the data of its surat jalan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferNote {
    pub id: Uuid,
    /// `TR/<from branch>/<year>/<sequence>`.
    pub number: String,
    pub asset_id: Uuid,
    pub plate_or_serial: String,
    pub sku_name: String,
    pub odometer_km: Option<i32>,
    pub from: NoteBranch,
    pub to: NoteBranch,
    pub reason: String,
    /// Future bookings now served by the new branch.
    pub moved_bookings: Vec<MovedBooking>,
    /// Name of the staff member who made the transfer.
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
}

/// The signed QR text of an asset's label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabelPayload {
    pub asset_id: Uuid,
    pub label_version: i32,
    /// What the QR code contains (`SR1:A:…`).
    pub payload: String,
}

/// `POST /api/v1/scans`: what the desktop's scanner read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanRequest {
    pub payload: String,
}

/// What a genuine scanned code names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanResult {
    pub kind: LabelKind,
    pub asset: Option<Asset>,
    pub booking: Option<crate::Booking>,
}

/// `GET /api/v1/assets`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AssetQuery {
    /// Branch code; without it, every branch the caller works at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}
