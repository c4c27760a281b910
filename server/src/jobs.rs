//! The durable job queue: rows in `jobs`, enqueued in the same transaction as the write that
//! needs them, claimed with `FOR UPDATE SKIP LOCKED` (several servers can run it), deleted in the
//! same transaction when their work succeeded, retried with back-off when it failed.
//!
//! Kinds: `unit_freed` (offer freed days to the waitlist) and `kyc_purge` (delete a verification's
//! raw images once its retention period is over).

use sqlx::PgPool;

use crate::{
    booking::{BookingService, waitlist},
    kyc::Kyc,
};

/// What jobs need to do their work.
#[derive(Debug, Clone)]
pub struct Workers {
    pub bookings: BookingService,
    pub kyc: Kyc,
}

/// Jobs claimed per run.
const BATCH: usize = 50;

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
        match perform(workers, db, &kind, payload).await {
            Ok(()) => {
                sqlx::query("DELETE FROM jobs WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                done += 1;
            }
            Err(e) => {
                // Back off exponentially, up to an hour; the error stays for operators.
                tracing::warn!(job = id, kind, error = %e, "job failed; will retry");
                sqlx::query(
                    "UPDATE jobs SET attempts = attempts + 1, last_error = $2, \
                     run_at = now() + make_interval(secs => least(3600, power(2, $3)::int)) WHERE id = $1",
                )
                .bind(id)
                .bind(format!("{e:#}"))
                .bind(attempts.min(12))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
        }
    }
    Ok(done)
}

async fn perform(
    workers: &Workers,
    db: &PgPool,
    kind: &str,
    payload: serde_json::Value,
) -> anyhow::Result<()> {
    match kind {
        "unit_freed" => {
            let freed: waitlist::UnitFreed = serde_json::from_value(payload)?;
            waitlist::unit_freed(&workers.bookings, db, &freed).await?;
            Ok(())
        }
        "kyc_purge" => {
            let case = payload["case_id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("kyc_purge without a case_id"))?;
            workers.kyc.purge(case).await
        }
        other => anyhow::bail!("unknown job kind {other:?}"),
    }
}
