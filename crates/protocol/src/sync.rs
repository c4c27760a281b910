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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceRegistration {
    pub device: Device,
    pub device_token: String,
}

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
    /// From the latest verification, like `3171********0001`; never the full NIK.
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
