//! Sync API bodies: desktop devices registered per branch, and the branch's change feed that
//! keeps a device's offline copy current.
//!
//! A device pulls with the cursor of its last page until `has_more` is false. The first pulls
//! (no cursor) send the whole branch; later ones only what changed. A record that left the branch
//! (cancelled bookings stay; deleted or transferred records go) comes as a tombstone:
//! `deleted: true` and no record.

use chrono::{DateTime, NaiveDate, Utc};
use sentra_domain::{CustomerKycStatus, MembershipTier, Uuid};
use serde::{Deserialize, Serialize};

use crate::{Asset, Booking, Sku};

/// `POST /api/v1/sync/devices`: a branch admin registers a counter PC for their branch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterDeviceRequest {
    /// The branch code, e.g. `JKT01`.
    pub branch: String,
    /// What staff call the machine, e.g. `Kasir 1`.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 80))]
    pub name: String,
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    pub id: Uuid,
    pub branch_id: Uuid,
    pub branch_code: String,
    pub name: String,
    pub registered_at: DateTime<Utc>,
    /// Set once HQ revoked it: its pulls are refused from then on.
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// The answer to a registration: the device and its token, shown this once. The desktop keeps
/// the token in the OS keychain and sends it as `X-Sentra-Device`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceRegistration {
    pub device: Device,
    pub device_token: String,
}

debug_without_secrets!(DeviceRegistration { device; device_token });

/// `GET /api/v1/sync/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceList {
    pub items: Vec<Device>,
}

/// `GET /api/v1/sync/devices`: the devices of one branch, or of every branch the caller works at.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DeviceQuery {
    /// Branch code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// `GET /api/v1/sync/pull`, with the device's `X-Sentra-Device` header.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SyncPullQuery {
    /// `next_cursor` of the previous page; absent for the first pull (the whole branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Records per page (1-1000, default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

sentra_domain::stored_enum! {
    /// What kind of record a change is about.
    pub enum SyncEntity as "sync entity" {
        Sku = "sku",
        Asset = "asset",
        Booking = "booking",
        /// A handover record (append-only: never changes once sent).
        Inspection = "inspection",
        /// A printed surat jalan or agreement.
        Document = "document",
        /// A maintenance work order.
        WorkOrder = "work_order",
    }
}

/// A customer as the counter needs them: who is coming, and whether they may rent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CounterCustomer {
    pub id: Uuid,
    pub full_name: String,
    pub membership_tier: MembershipTier,
    pub kyc_status: CustomerKycStatus,
    /// From the latest verified case, like `************0001`; never the full NIK.
    pub nik_masked: Option<String>,
}

/// A booking with its customer's counter fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncBooking {
    pub booking: Booking,
    /// Absent for maintenance blocks.
    pub customer: Option<CounterCustomer>,
}

/// One record's current state (or its tombstone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncChange {
    pub entity: SyncEntity,
    pub id: Uuid,
    /// The record left the branch (deleted, or moved to another branch): drop it.
    pub deleted: bool,
    /// With `entity: sku` and not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    /// With `entity: asset` and not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<Asset>,
    /// With `entity: booking` and not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<SyncBooking>,
    /// With `entity: inspection` and not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspection: Option<crate::Inspection>,
    /// With `entity: document` and not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<crate::RentalDocumentInfo>,
    /// With `entity: work_order` and not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_order: Option<crate::WorkOrder>,
}

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncPage {
    pub changes: Vec<SyncChange>,
    /// Send it back as `cursor` next time (opaque).
    pub next_cursor: String,
    /// Pull again at once: more is waiting.
    pub has_more: bool,
    /// True while the first full copy of the branch is being sent.
    pub snapshot: bool,
    /// Bookings ending before this day are not in the first copy (older history stays online).
    pub window_start: NaiveDate,
}

/// `POST /api/v1/sync/push`, with the device's `X-Sentra-Device` header: what staff did on the
/// device, in the order they did it. Each operation has an id the device made up; sending an
/// operation again (a retry, a duplicate, a late batch) changes nothing and answers its first
/// result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    /// At most 100.
    pub operations: Vec<PushOperation>,
}

/// One operation of a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushOperation {
    /// Made up by the device (a UUID), unique per operation.
    pub op_id: Uuid,
    pub action: PushAction,
}

/// What the operation does. The server decides booking states: an action the booking's current
/// state does not allow is a conflict, answered with the booking as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PushAction {
    /// A deposit taken at the counter confirms a held booking.
    ConfirmBooking { booking_id: Uuid, hold_token: Uuid },
    /// The customer called it off.
    CancelBooking { booking_id: Uuid },
    /// A new odometer reading or status of an asset, on top of what the device saw: if the asset
    /// changed meanwhile, a conflict with the asset as it is.
    UpdateAsset {
        asset_id: Uuid,
        /// The status and odometer the device showed when staff made the change.
        seen_status: sentra_domain::AssetStatus,
        seen_odometer_km: Option<i32>,
        /// `active`, `maintenance` or `retired`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        odometer_km: Option<i32>,
    },
    /// An inspection recorded on the device (offline too). A PICKUP or RETURN hands the booking
    /// over or takes it back, judged at the time the inspection was taken; any kind is stored
    /// once, however often it is sent. The booking's state not allowing it is a conflict.
    RecordInspection {
        inspection: crate::InspectionInput,
        /// Why a PICKUP came before the booking's first day.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        early_reason: Option<String>,
    },
}

impl PushAction {
    /// The action's name, as `kind` in the JSON.
    pub const fn kind(&self) -> &'static str {
        match self {
            PushAction::ConfirmBooking { .. } => "confirm_booking",
            PushAction::CancelBooking { .. } => "cancel_booking",
            PushAction::UpdateAsset { .. } => "update_asset",
            PushAction::RecordInspection { .. } => "record_inspection",
        }
    }
}

sentra_domain::stored_enum! {
    /// How an operation ended.
    pub enum PushOutcome as "push outcome" {
        /// Done.
        Applied = "applied",
        /// The record changed meanwhile, or its state does not allow it: show the user the record
        /// as it is now (in the result) and let them decide.
        Conflict = "conflict",
        /// Not possible at all (unknown record, invalid values): drop it from the outbox.
        Rejected = "rejected",
    }
}

/// The result of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResult {
    pub op_id: Uuid,
    pub outcome: PushOutcome,
    /// For a conflict or a rejection: the stable error code (`invalid_state`, `hold_expired`,
    /// `stale_record`, `not_found`, `validation_failed`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The booking as it is after the operation (or as it is, for a conflict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<Booking>,
    /// The asset as it is after the operation (or as it is, for a conflict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<Asset>,
    /// The stored inspection (a `record_inspection` applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspection: Option<crate::Inspection>,
    /// True when this operation had been received before: this is its first result.
    pub replayed: bool,
}

/// The answer to a push: one result per operation, in the order sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<PushResult>,
}
