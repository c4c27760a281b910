//! Handover bodies: pickups and returns at the counter, inspection records, their verification,
//! the photo and signature uploads they refer to, and overdue rentals.

use chrono::{DateTime, Utc};
use sentra_domain::{
    InspectionKind, Uuid,
    inspection::{ChecklistAnswer, DamageMark},
};
use serde::{Deserialize, Serialize};

use crate::Booking;

/// A photo on a record: an upload of this branch, optionally for one checklist line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhotoInput {
    /// The id `POST /api/v1/uploads` answered with (status COMPLETE).
    pub upload_id: Uuid,
    /// The checklist line the photo shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checklist_key: Option<String>,
}

/// An inspection as the inspector records it. The `id` is made by the client, so sending the
/// same record again (a retry, an offline push) stores it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectionInput {
    pub id: Uuid,
    /// PICKUP and RETURN records come with their pickup or return; DELIVERY and TRANSFER are
    /// recorded on their own (`POST /api/v1/inspections`).
    pub kind: InspectionKind,
    /// The booking the handover belongs to (all kinds but TRANSFER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<Uuid>,
    /// The asset (needed for a TRANSFER; otherwise the booking's asset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<Uuid>,
    /// The record this one corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<Uuid>,
    /// One answer per line of the SKU's checklist template.
    pub checklist: Vec<ChecklistAnswer>,
    pub odometer_km: u32,
    /// Fuel in eighths of a tank, 0 (empty) to 8 (full).
    pub fuel_eighths: u8,
    #[serde(default)]
    pub damages: Vec<DamageMark>,
    #[serde(default)]
    pub photos: Vec<PhotoInput>,
    /// Upload id of the customer's signature image (required but for TRANSFER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_signature: Option<Uuid>,
    /// Upload id of the staff member's signature image.
    pub staff_signature: Uuid,
    /// When the inspection was done (an offline record's own time); default: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<DateTime<Utc>>,
    /// The desktop device that recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Uuid>,
}

/// `POST /api/v1/bookings/{id}/pickup`: hand the asset over (CONFIRMED → ACTIVE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PickupRequest {
    /// The PICKUP inspection.
    pub inspection: InspectionInput,
    /// Why the asset leaves before the booking's first day (required then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_reason: Option<String>,
}

/// `POST /api/v1/bookings/{id}/return`: take the asset back (ACTIVE → RETURNED).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnRequest {
    /// The RETURN inspection.
    pub inspection: InspectionInput,
}

/// A stored file a record refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordFile {
    pub object_key: String,
    /// SHA-256 of the file's (plain) bytes, lowercase hex.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checklist_key: Option<String>,
}

/// A stored inspection record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inspection {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub branch_id: Uuid,
    pub booking_id: Option<Uuid>,
    pub kind: InspectionKind,
    pub corrects: Option<Uuid>,
    /// The record's place in the asset's chain (1, 2, 3, ...).
    pub seq: u32,
    pub checklist: Vec<ChecklistAnswer>,
    pub odometer_km: u32,
    pub fuel_eighths: u8,
    pub damages: Vec<DamageMark>,
    pub photos: Vec<RecordFile>,
    pub inspector_id: Uuid,
    pub device_id: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    /// SHA-256 of the record's canonical JSON (RFC 8785), lowercase hex.
    pub tamper_proof_hash: String,
    /// The previous record's hash in the asset's chain.
    pub prev_hash: Option<String>,
    /// The public page a scanned document QR opens (`/v/{hash}`).
    pub verify_path: String,
}

/// A pickup or return: the booking as it is now and the record of the handover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Handover {
    pub booking: Booking,
    pub inspection: Inspection,
}

/// One thing verification found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerificationFinding {
    /// `payload_altered`, `column_differs`, `photo_altered`, `photo_missing`,
    /// `signature_altered`, `signature_missing`, `record_missing`, `chain_broken`.
    pub code: String,
    /// What differs: a payload member (`odometer_km`), a file (`photos[1]`) or a chain place
    /// (`seq 2`).
    pub subject: String,
    /// For a person.
    pub detail: String,
}

/// `GET /api/v1/inspections/{id}/verify`: the record recomputed from what is stored now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    pub inspection_id: Uuid,
    /// The hash recorded when the record was made.
    pub tamper_proof_hash: String,
    /// The hash of the payload as stored now.
    pub recomputed_hash: String,
    /// True when nothing was found.
    pub verified: bool,
    /// Photos and signatures whose bytes were read and hashed.
    pub files_checked: u32,
    pub findings: Vec<VerificationFinding>,
}

/// What an upload is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UploadPurpose {
    /// A handover photo.
    Photo,
    /// A signature image (personal data: encrypted at rest).
    Signature,
}

/// A stored (or, for a presigned upload, expected) file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Upload {
    pub id: Uuid,
    pub purpose: UploadPurpose,
    pub content_type: String,
    /// `PENDING` (presigned, not checked yet) or `COMPLETE`.
    pub status: String,
    pub size_bytes: Option<u64>,
    pub sha256: Option<String>,
}

/// `POST /api/v1/uploads/presign`: ask for a URL to put a photo straight into S3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresignRequest {
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    pub size_bytes: u64,
    /// SHA-256 of the bytes the client will put, lowercase hex.
    pub sha256: String,
}

/// Where to `PUT` the bytes; then `POST /api/v1/uploads/{id}/complete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresignedUpload {
    pub upload: Upload,
    pub url: String,
    pub method: String,
    pub expires_at: DateTime<Utc>,
}

/// An ACTIVE rental past its due time at one branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverdueRental {
    pub booking: Booking,
    pub plate_or_serial: String,
    /// Noon (branch time) on the return day.
    pub due_at: DateTime<Utc>,
    pub overdue_minutes: u64,
    /// The asset's next booking, if any.
    pub next_booking: Option<Booking>,
    /// Whether the next booking's first day is reached by the overdue rental (swap the unit).
    pub next_at_risk: bool,
}

/// `GET /api/v1/branches/{code}/overdue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverdueList {
    pub items: Vec<OverdueRental>,
}

/// A printed rental document (surat jalan or agreement) as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RentalDocumentInfo {
    pub id: Uuid,
    /// `SURAT_JALAN` or `AGREEMENT`.
    pub kind: String,
    /// `SJ/JKT01/2026/000001` or `PS/JKT01/2026/000001`: gap-free per branch, kind and year.
    pub number: String,
    pub booking_id: Uuid,
    /// The handover record the document prints (its QR opens that record's verify page).
    pub inspection_id: Uuid,
    /// SHA-256 of the stored PDF, lowercase hex.
    pub sha256: String,
    pub size_bytes: u64,
    pub created_at: DateTime<Utc>,
    /// Where the PDF is fetched (`GET`, staff).
    pub pdf_path: String,
}

/// `POST /api/v1/maintenance/plans` (HQ): a service plan for every unit of a SKU, or one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatePlanRequest {
    /// The SKU code (every unit of the model), or
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<Uuid>,
    /// "Servis berkala 10.000 km".
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_km: Option<u32>,
    /// How many days the workshop keeps the unit (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_days: Option<u32>,
}

/// A service plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenancePlan {
    pub id: Uuid,
    pub sku_id: Option<Uuid>,
    pub asset_id: Option<Uuid>,
    pub name: String,
    pub every_days: Option<u32>,
    pub every_km: Option<u32>,
    pub duration_days: u32,
}

/// `POST /api/v1/assets/{id}/work-orders`: take a unit into the workshop for `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenWorkOrderRequest {
    /// First workshop day (branch-local).
    pub start: chrono::NaiveDate,
    /// The day the unit is back in service (exclusive).
    pub end: chrono::NaiveDate,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<Uuid>,
    /// Move confirmed bookings on those days to another free unit of the same model at the
    /// branch; without it, such bookings make the request fail with `maintenance_conflict`.
    #[serde(default)]
    pub reassign: bool,
}

/// A booking moved to another unit to make room for maintenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReassignedBooking {
    pub booking_id: Uuid,
    pub from_asset_id: Uuid,
    pub to_asset_id: Uuid,
}

/// `POST /api/v1/work-orders/{id}/close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CloseWorkOrderRequest {
    /// What the service cost, integer Rupiah.
    pub cost_idr: i64,
    #[serde(default)]
    pub notes: String,
}

/// A work order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkOrder {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub branch_id: Uuid,
    pub plan_id: Option<Uuid>,
    /// The MAINTENANCE booking that blocks the calendar.
    pub block_booking_id: Uuid,
    /// `OPEN` or `CLOSED`.
    pub status: String,
    pub start: chrono::NaiveDate,
    pub end: chrono::NaiveDate,
    pub odometer_km: Option<u32>,
    pub reason: String,
    pub reassigned: Vec<ReassignedBooking>,
    pub cost_idr: Option<i64>,
    pub notes: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A unit's next service under one plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceDue {
    pub asset_id: Uuid,
    pub plate_or_serial: String,
    pub plan_id: Uuid,
    pub plan_name: String,
    /// `DUE_SOON` or `OVERDUE`.
    pub state: String,
    /// The earlier of the calendar date and the date the kilometres are projected to be reached.
    pub due_date: Option<chrono::NaiveDate>,
    pub due_km: Option<u32>,
    /// The latest handover odometer reading.
    pub odometer_km: Option<u32>,
}

/// `GET /api/v1/branches/{code}/maintenance`: services due or overdue, and open work orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenanceOverview {
    pub due: Vec<ServiceDue>,
    pub open_work_orders: Vec<WorkOrder>,
}
