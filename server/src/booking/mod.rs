//! The booking engine: Postgres decides, Redis makes it fast.
//!
//! - [`repo`]: the Postgres arbiter (per-asset row lock and calendar version, exclusion
//!   constraint, hold-token compare-and-set).
//! - [`service`]: one booking attempt end to end — validation, the calendar's fast "taken" answer
//!   (confirmed in Postgres), the per-asset Redlock, the transaction, the calendar write.
//! - [`projection`]: committed changes into the Redis calendar, versioned so it never goes back.
//! - [`availability`]: free units of a SKU for dates (counts per branch, pages of units), the SKU
//!   month calendar, and the ranked candidates of a booking by SKU.
//! - [`fleet`]: the cached fleet of each SKU and the branch list that search reads.
//! - [`candidates`]: the units a booking by SKU tries, from the calendar or from Postgres.
//! - [`assign`]: how those candidates are ranked (nearest branch, best fit, spread wear).
//! - [`by_sku`]: booking by SKU — tries the ranked units; "sold out" only when Postgres says so.
//! - [`reconcile`]: rebuilds the calendar from Postgres (start-up, periodically, and whenever
//!   Redis and Postgres are seen to disagree).
//! - [`expiry`]: the sweeper that expires lapsed payment windows.
//! - [`waitlist`]: queues for sold-out dates and the timed offers made when a unit frees.
//! - `crate::jobs`: the durable Postgres job queue those offers run from.

pub mod assign;
pub mod availability;
pub mod by_sku;
pub mod candidates;
pub mod directory;
mod error;
pub mod expiry;
pub mod fleet;
pub mod projection;
pub mod reconcile;
pub mod repo;
mod row;
pub mod service;
pub mod waitlist;

pub use by_sku::SkuBooking;
pub use error::{BookingError, Conflict};
pub use service::{BookingService, BookingSettings, CreateBooking};
