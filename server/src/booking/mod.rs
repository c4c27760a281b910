//! The booking engine: Postgres decides, Redis makes it fast.
//!
//! - [`repo`]: the Postgres arbiter (exclusion constraint, hold-token compare-and-set).
//! - [`service`]: one booking attempt end to end — validation, the fast "taken" answer from the
//!   calendar, the per-asset Redlock, the transaction, the calendar bits after commit.
//! - [`availability`]: free units of a SKU for dates, and the SKU month calendar.
//! - [`reconcile`]: rebuilds the calendar bits from Postgres (start-up, periodically, and whenever
//!   Redis and Postgres are seen to disagree).
//! - [`expiry`]: the sweeper that expires lapsed payment windows.
//! - [`waitlist`]: queues for sold-out dates and the timed offers made when a unit frees.
//! - `crate::jobs`: the durable Postgres job queue those offers run from.

pub mod availability;
pub mod directory;
pub mod expiry;
pub mod reconcile;
pub mod repo;
pub mod service;
pub mod waitlist;

pub use service::{BookingError, BookingService, BookingSettings, CreateBooking};
