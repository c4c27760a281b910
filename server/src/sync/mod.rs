//! The sync API's server side: desktop devices registered per branch, and the branch's change
//! feed that keeps a device's offline copy current (`feed`). Owns the `sync_devices` and
//! `sync_changes` SQL; `http/sync.rs` only extracts, calls and maps [`SyncError`].
//!
//! Pushing local operations (the outbox) comes next; the feed is what every device needs first.

mod devices;
mod feed;

pub use devices::AuthenticatedDevice;
use sentra_protocol::FieldError;
use sqlx::PgPool;

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
}

/// The sync service (cheap to clone).
#[derive(Debug, Clone)]
pub struct Sync {
    pub(crate) db: PgPool,
    /// The first copy holds bookings that end at most this many days ago.
    pub(crate) history_days: u32,
}

impl Sync {
    /// A service over `db`.
    pub fn new(db: PgPool) -> Self {
        Self {
            db,
            history_days: 30,
        }
    }
}
