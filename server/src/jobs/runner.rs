//! Runs due jobs: one claim per transaction, the kind's handler, then delete (done) or back off
//! (failed, retried up to an hour apart; the error stays in `last_error` for operators).

use std::{sync::Arc, time::Instant};

use sentra_domain::JobKind;
use sqlx::PgPool;

use super::queue::{
    DataRetention, HoldLapseGuard, HoldRelease, Job, KycPurge, NotificationFanout,
    NotificationSend, PaymentSync, PaymentsReconcile, SettlementCapture, UnitFreed,
};
use crate::{
    booking::{BookingService, waitlist},
    kyc::Kyc,
    metrics::Metrics,
    notify::Notify,
    payments::Payments,
};

/// What jobs need to do their work.
#[derive(Debug, Clone)]
pub struct Workers {
    pub bookings: BookingService,
    pub kyc: Kyc,
    pub payments: Payments,
    pub notify: Notify,
    /// Where each job's outcome and duration are counted (absent in tests that do not care).
    pub metrics: Option<Arc<Metrics>>,
}

/// Jobs claimed per run.
const BATCH: usize = 50;

/// A job kind's handler.
trait Perform: Job {
    async fn perform(self, workers: &Workers, db: &PgPool) -> anyhow::Result<()>;
}

impl Perform for UnitFreed {
    async fn perform(self, workers: &Workers, db: &PgPool) -> anyhow::Result<()> {
        let offer = waitlist::unit_freed(&workers.bookings, db, &self).await?;
        tracing::info!(booking = %self.booking_id, ?offer, "freed unit handed to the waitlist");
        Ok(())
    }
}

impl Perform for KycPurge {
    async fn perform(self, workers: &Workers, _db: &PgPool) -> anyhow::Result<()> {
        workers.kyc.purge(self.case_id).await
    }
}

impl Perform for PaymentSync {
    async fn perform(self, workers: &Workers, _db: &PgPool) -> anyhow::Result<()> {
        workers.payments.sync(self.hold_id).await
    }
}

impl Perform for HoldRelease {
    async fn perform(self, workers: &Workers, _db: &PgPool) -> anyhow::Result<()> {
        workers.payments.release(self.hold_id).await
    }
}

impl Perform for HoldLapseGuard {
    async fn perform(self, workers: &Workers, _db: &PgPool) -> anyhow::Result<()> {
        workers.payments.lapse_guard(self.hold_id).await
    }
}

impl Perform for SettlementCapture {
    async fn perform(self, workers: &Workers, _db: &PgPool) -> anyhow::Result<()> {
        Ok(workers
            .payments
            .finish_settlement(self.settlement_id)
            .await?)
    }
}

impl Perform for DataRetention {
    async fn perform(self, workers: &Workers, _db: &PgPool) -> anyhow::Result<()> {
        workers.kyc.apply_retention(true).await?;
        let cleared = workers.notify.forget_old_bodies().await?;
        tracing::info!(
            cleared,
            "notification bodies past their retention period cleared"
        );
        Ok(())
    }
}

impl Perform for NotificationFanout {
    async fn perform(self, workers: &Workers, _db: &PgPool) -> anyhow::Result<()> {
        workers.notify.fan_out(self.event_id).await.map(|_| ())
    }
}

impl Perform for NotificationSend {
    async fn perform(self, workers: &Workers, _db: &PgPool) -> anyhow::Result<()> {
        let outcome = workers.notify.send(self.message_id).await?;
        tracing::debug!(message = %self.message_id, ?outcome, "notification job done");
        Ok(())
    }
}

impl Perform for PaymentsReconcile {
    async fn perform(self, workers: &Workers, _db: &PgPool) -> anyhow::Result<()> {
        workers.payments.reconcile(true).await.map(|_| ())
    }
}

/// Reads the payload as `J` and runs its handler.
async fn decode_and_perform<J: Perform>(
    payload: serde_json::Value,
    workers: &Workers,
    db: &PgPool,
) -> anyhow::Result<()> {
    let job: J = serde_json::from_value(payload)
        .map_err(|e| anyhow::anyhow!("the {} payload does not parse: {e}", J::KIND))?;
    job.perform(workers, db).await
}

async fn perform(
    workers: &Workers,
    db: &PgPool,
    kind: &str,
    payload: serde_json::Value,
) -> anyhow::Result<()> {
    match kind.parse::<JobKind>()? {
        JobKind::UnitFreed => decode_and_perform::<UnitFreed>(payload, workers, db).await,
        JobKind::KycPurge => decode_and_perform::<KycPurge>(payload, workers, db).await,
        JobKind::PaymentSync => decode_and_perform::<PaymentSync>(payload, workers, db).await,
        JobKind::HoldRelease => decode_and_perform::<HoldRelease>(payload, workers, db).await,
        JobKind::HoldLapseGuard => decode_and_perform::<HoldLapseGuard>(payload, workers, db).await,
        JobKind::SettlementCapture => {
            decode_and_perform::<SettlementCapture>(payload, workers, db).await
        }
        JobKind::PaymentsReconcile => {
            decode_and_perform::<PaymentsReconcile>(payload, workers, db).await
        }
        JobKind::DataRetention => decode_and_perform::<DataRetention>(payload, workers, db).await,
        JobKind::NotificationFanout => {
            decode_and_perform::<NotificationFanout>(payload, workers, db).await
        }
        JobKind::NotificationSend => {
            decode_and_perform::<NotificationSend>(payload, workers, db).await
        }
    }
}

/// Runs due jobs until none is left (or `BATCH` ran); returns how many succeeded.
pub async fn run_due(workers: &Workers, db: &PgPool) -> anyhow::Result<usize> {
    let mut done = 0;
    for _ in 0..BATCH {
        let mut tx = db.begin().await?;
        let job: Option<(i64, String, serde_json::Value, i32)> = sqlx::query_as(
            "SELECT id, kind, payload, attempts FROM jobs WHERE run_at <= now() \
             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, kind, payload, attempts)) = job else {
            return Ok(done);
        };
        let span = tracing::info_span!("job", job = id, kind = %kind, attempts);
        let started = Instant::now();
        let outcome =
            tracing::Instrument::instrument(perform(workers, db, &kind, payload), span).await;
        let took = started.elapsed();
        let label = kind.parse::<JobKind>().map_or("unknown", JobKind::as_str);
        let ok = outcome.is_ok();
        match outcome {
            Ok(()) => {
                sqlx::query("DELETE FROM jobs WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                done += 1;
            }
            Err(e) => {
                // Back off exponentially, up to an hour, from the moment it failed (not from the
                // transaction's start: the work may have taken long); the error stays for
                // operators.
                if label == JobKind::KycPurge.as_str() {
                    // Personal data past its retention period is still stored: an operator must
                    // look (alert on this log and on the kyc_purge failures in the jobs metric).
                    tracing::error!(job = id, kind, attempts, error = %e,
                        "KYC purge failed: identity documents are kept past their deletion time; will retry");
                } else {
                    tracing::warn!(job = id, kind, error = %e, "job failed; will retry");
                }
                sqlx::query(
                    "UPDATE jobs SET attempts = attempts + 1, last_error = $2, \
                     run_at = clock_timestamp() + make_interval(secs => least(3600, power(2, $3)::int)) WHERE id = $1",
                )
                .bind(id)
                .bind(format!("{e:#}"))
                .bind(attempts.min(12))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
        }
        // Counted once the outcome is committed.
        if let Some(metrics) = &workers.metrics {
            metrics.job_done(label, ok, took);
        }
    }
    Ok(done)
}

/// Runs due jobs every `interval` until the process ends.
pub async fn run(workers: Workers, db: PgPool, interval: std::time::Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = run_due(&workers, &db).await {
            tracing::warn!(error = %e, "running jobs failed; retrying next tick");
        }
    }
}
