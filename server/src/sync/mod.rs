//! The sync API's server side: desktop devices registered per branch, and the branch's change
//! feed that keeps a device's offline copy current (`feed`). Owns the `sync_devices` and
//! `sync_changes` SQL; `http/sync.rs` only extracts, calls and maps [`SyncError`].
//!
//! Devices push what staff did on them (`push`): each operation once, conflicts typed.

mod devices;
mod feed;
mod feed_handover;
mod push;
mod push_inspection;

pub use devices::AuthenticatedDevice;
pub use push::MAX_OPERATIONS;
use sentra_protocol::FieldError;
use sqlx::PgPool;

use crate::booking::BookingService;

/// Why a sync call failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// No device token, an unknown one, or one of a branch the caller does not work at.
    #[error("device not registered")]
    DeviceNotRegistered,
    #[error("device revoked")]
    DeviceRevoked,
    /// The caller may not manage this branch's devices.
    #[error("forbidden")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Storage or another dependency failed.
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// The sync service (cheap to clone).
#[derive(Debug, Clone)]
pub struct Sync {
    pub(crate) db: PgPool,
    /// Confirms and cancels pushed by devices go through the booking engine.
    pub(crate) bookings: BookingService,
    /// Inspections pushed by devices go through the handovers.
    pub(crate) handovers: crate::handover::Handovers,
    /// The first copy holds bookings that end at most this many days ago.
    pub(crate) history_days: u32,
}

impl Sync {
    /// A service over `db`.
    pub fn new(
        db: PgPool,
        bookings: BookingService,
        handovers: crate::handover::Handovers,
    ) -> Self {
        Self {
            db,
            bookings,
            handovers,
            history_days: 30,
        }
    }
}
