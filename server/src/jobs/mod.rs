//! The durable job queue: rows in `jobs`, enqueued in the same transaction as the write that
//! needs them, claimed with `FOR UPDATE SKIP LOCKED` (several servers can run it), deleted in the
//! same transaction when their work succeeded, retried with exponential back-off when it failed.
//!
//! - [`queue`]: what a job is (a payload type per [`JobKind`]) and the one way to enqueue one.
//!   It depends on nothing else in the server, so any feature can enqueue without a cycle.
//! - [`runner`]: claims due jobs and hands each to its kind's handler, with metrics per kind;
//!   it is the only part that knows the features (booking, KYC) the handlers call.
//!
//! To add a kind: a variant in [`JobKind`], a payload struct implementing [`Job`] in `queue`,
//! and its handler (a `Perform` impl) in `runner`.
//!
//! [`JobKind`]: sentra_domain::JobKind

pub mod queue;
pub mod runner;

pub use queue::{
    DataRetention, HoldLapseGuard, HoldRelease, Job, KycPurge, NotificationFanout,
    NotificationSend, PaymentSync, PaymentsReconcile, SettlementCapture, UnitFreed, enqueue,
};
pub use runner::{Workers, run, run_due};
