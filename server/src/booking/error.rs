//! What can go wrong in a booking action, as the booking engine sees it. `http/bookings.rs`
//! maps each case to one problem+json answer.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sentra_domain::{AssetStatus, BookingStatus};
use sentra_protocol::FieldError;

/// Why requested dates were refused, as far as the caller may know: never who holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict {
    /// Set when everything in the way is other customers' unpaid holds: until when the last of
    /// them is held (the dates may free up then).
    pub held_until: Option<DateTime<Utc>>,
}

/// Why a booking action failed.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("asset not found")]
    UnknownAsset,
    #[error("booking not found")]
    NotFound,
    /// Postgres holds a booking in the way (checked there, not only in the calendar).
    #[error("the asset is not available for these dates")]
    Taken(Conflict),
    #[error("the asset cannot be rented: it is {0}")]
    NotRentable(AssetStatus),
    /// The asset moved to another branch between reading it and booking it; nothing decided.
    #[error("the asset moved to another branch while it was being booked")]
    Moved,
    /// Another attempt on the asset holds its lock; nothing decided.
    #[error("another booking of this asset is in progress")]
    Busy { retry_after: Duration },
    #[error("the payment window lapsed")]
    HoldExpired,
    #[error("a {status} booking cannot be {action}")]
    InvalidState {
        status: BookingStatus,
        action: &'static str,
    },
    /// Another request with the same idempotency key decided first; this attempt was rolled back.
    #[error("another request with this idempotency key decided first")]
    DecidedElsewhere,
    /// The waitlist entry an offer was meant for is no longer waiting; no offer was made.
    #[error("the waitlist entry is no longer waiting")]
    EntryGone,
    /// Every unit of the SKU that Postgres called free was taken or locked by concurrent
    /// bookings while this one tried them; nothing decided.
    #[error("every free unit of this SKU was being booked by someone else")]
    Contended { retry_after: Duration },
    /// No unit of the SKU is free for the dates (in the scope asked): Postgres says so.
    #[error("no unit of this SKU is free for these dates")]
    SoldOut,
    #[error("unknown SKU")]
    UnknownSku,
    #[error("unknown branch")]
    UnknownBranch,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<super::availability::SearchError> for BookingError {
    fn from(err: super::availability::SearchError) -> Self {
        use super::availability::SearchError;
        match err {
            SearchError::UnknownSku => BookingError::UnknownSku,
            SearchError::UnknownBranch => BookingError::UnknownBranch,
            SearchError::Database(e) => BookingError::Database(e),
        }
    }
}
