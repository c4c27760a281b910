//! What can go wrong in an inventory action. `http/inventory.rs` maps each case to one
//! problem+json answer.

use sentra_protocol::FieldError;

/// Why an inventory action failed.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// No such thing, or one in a branch the caller may not know about.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller's role or branches do not allow it (the message says why).
    #[error("{0}")]
    Forbidden(String),
    /// A duplicate code or plate, or a change the thing's state does not allow.
    #[error("{0}")]
    Conflict(String),
    /// The asset is out on a rental (or has open bookings in the way).
    #[error("{0}")]
    AssetInUse(String),
    /// The asset changed since the device that sent the change last saw it.
    #[error("the asset changed since this device last synced")]
    Stale,
    /// The device's operation was carried out before; nothing was done now.
    #[error("this operation was carried out before")]
    DecidedElsewhere,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}
