//! Job payloads and the one function that enqueues them, inside the caller's transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sentra_domain::JobKind;
use serde::{Serialize, de::DeserializeOwned};
use sqlx::PgConnection;
use uuid::Uuid;

/// A job's payload: stored as JSON in `jobs.payload` under its [`Job::KIND`].
pub trait Job: Serialize + DeserializeOwned + Send + Sync {
    /// The kind stored with it.
    const KIND: JobKind;
}

/// Enqueues `job` in the caller's transaction, due now or at `run_at`: it exists only if the
/// write that needs it commits.
pub async fn enqueue<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    run_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    let payload = serde_json::to_value(job).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("INSERT INTO jobs (kind, payload, run_at) VALUES ($1, $2, coalesce($3, now()))")
        .bind(J::KIND.as_str())
        .bind(payload)
        .bind(run_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// A unit of a SKU freed up on `[start, end)` (a cancellation, a lapsed payment, an early
/// return): the waitlist gets an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnitFreed {
    /// The booking whose end freed the unit.
    pub booking_id: Uuid,
    /// The unit freed (for the log: the offer may go to any free unit of the SKU).
    pub asset_id: Uuid,
    pub sku_id: Uuid,
    pub branch_id: Uuid,
    /// First freed day.
    pub start: NaiveDate,
    /// Day after the last freed day.
    pub end: NaiveDate,
}

impl Job for UnitFreed {
    const KIND: JobKind = JobKind::UnitFreed;
}

/// A verification's retention period is over: delete its raw images and wrapped keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KycPurge {
    pub case_id: Uuid,
}

impl Job for KycPurge {
    const KIND: JobKind = JobKind::KycPurge;
}

/// A payment hold may have moved at its provider: ask it and catch up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PaymentSync {
    pub hold_id: Uuid,
}

impl Job for PaymentSync {
    const KIND: JobKind = JobKind::PaymentSync;
}

/// A hold is no longer needed: void or release it at its provider. Also enqueued by the
/// database when a booking ends (`bookings_let_holds_go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HoldRelease {
    pub hold_id: Uuid,
}

impl Job for HoldRelease {
    const KIND: JobKind = JobKind::HoldRelease;
}

/// A card hold is about to lapse: tell staff if the rental still needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HoldLapseGuard {
    pub hold_id: Uuid,
}

impl Job for HoldLapseGuard {
    const KIND: JobKind = JobKind::HoldLapseGuard;
}

/// A confirmed bill waits for its capture to be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SettlementCapture {
    pub settlement_id: Uuid,
}

impl Job for SettlementCapture {
    const KIND: JobKind = JobKind::SettlementCapture;
}

/// The daily comparison of the ledger with each provider (it schedules the next run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PaymentsReconcile {}

impl Job for PaymentsReconcile {
    const KIND: JobKind = JobKind::PaymentsReconcile;
}

/// The daily removal of personal data past its retention period (it schedules the next run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataRetention {}

impl Job for DataRetention {
    const KIND: JobKind = JobKind::DataRetention;
}

/// Something happened that customers or staff are told about (written by a database trigger
/// with the event): write its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotificationFanout {
    pub event_id: i64,
}

impl Job for NotificationFanout {
    const KIND: JobKind = JobKind::NotificationFanout;
}

/// One message may go out: send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotificationSend {
    pub message_id: Uuid,
}

impl Job for NotificationSend {
    const KIND: JobKind = JobKind::NotificationSend;
}
