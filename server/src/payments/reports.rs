//! HQ's view of the money: holds still holding something per branch with their expiry, the
//! ledger's authorised, captured and returned totals per branch and day (branch time), and the
//! daily reconciliation that asks each provider about every hold it may still move and lists
//! each difference with the ledger.

use chrono::{DateTime, Utc};
use sentra_domain::{
    Money,
    payment::{HoldStatus, PaymentProvider, RemoteState},
};
use sentra_protocol::{
    DayTotals, OpenHold, PaymentsReport, Reconciliation, ReconciliationDifference,
};

use super::{Payments, gateway::GatewayError, holds};
use crate::jobs::{self, PaymentsReconcile};

/// How often the reconciliation runs.
pub const RECONCILE_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// A hold still holding money, as the report reads it.
#[derive(Debug, sqlx::FromRow)]
struct OpenRow {
    branch_code: String,
    hold_id: uuid::Uuid,
    booking_id: uuid::Uuid,
    provider: String,
    status: String,
    held: i64,
    lapses_at: Option<DateTime<Utc>>,
    attention: Option<String>,
}

/// What the provider's state means in our terms (for comparing).
fn expected(remote: RemoteState) -> &'static [HoldStatus] {
    match remote {
        RemoteState::Pending => &[HoldStatus::Pending],
        RemoteState::Authorised => &[HoldStatus::Authorised],
        // After a capture the rest is freed: captured, or released once confirmed.
        RemoteState::Captured => &[HoldStatus::Captured, HoldStatus::Released],
        RemoteState::Cancelled => &[
            HoldStatus::Voided,
            HoldStatus::Released,
            HoldStatus::Expired,
        ],
        RemoteState::Expired => &[HoldStatus::Expired, HoldStatus::Voided],
        RemoteState::Failed => &[HoldStatus::Failed],
    }
}

impl Payments {
    /// The report: open holds, daily totals over the last `days` days, the latest reconciliation.
    pub async fn report(&self, days: u32) -> anyhow::Result<PaymentsReport> {
        let open: Vec<OpenRow> = sqlx::query_as(
            "SELECT br.code AS branch_code, h.id AS hold_id, h.booking_id, h.provider, h.status, \
                    h.authorised_idr - h.captured_idr - h.returned_idr AS held, h.lapses_at, \
                    h.attention \
             FROM payment_holds h JOIN branches br ON br.id = h.branch_id \
             WHERE h.status IN ('AUTHORISED', 'CAPTURED') \
             ORDER BY br.code, h.lapses_at NULLS LAST, h.created_at",
        )
        .fetch_all(&self.db)
        .await?;
        let totals: Vec<(chrono::NaiveDate, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT (l.created_at AT TIME ZONE br.time_zone)::date AS day, br.code, \
                    coalesce(sum(l.amount_idr) FILTER (WHERE l.entry = 'AUTHORISED'), 0)::bigint, \
                    coalesce(sum(l.amount_idr) FILTER (WHERE l.entry = 'CAPTURED'), 0)::bigint, \
                    coalesce(sum(l.amount_idr) FILTER (WHERE l.entry IN ('RELEASED', 'VOIDED', 'EXPIRED', 'REFUNDED')), 0)::bigint \
             FROM payment_ledger l JOIN branches br ON br.id = l.branch_id \
             WHERE l.created_at > now() - make_interval(days => $1) \
             GROUP BY 1, 2 ORDER BY 1 DESC, 2",
        )
        .bind(i32::try_from(days).unwrap_or(31))
        .fetch_all(&self.db)
        .await?;
        let latest: Option<(DateTime<Utc>, i32, serde_json::Value)> = sqlx::query_as(
            "SELECT ran_at, compared, differences FROM payment_reconciliations ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.db)
        .await?;
        Ok(PaymentsReport {
            open_holds: open
                .into_iter()
                .map(|row| OpenHold {
                    branch_code: row.branch_code,
                    hold_id: row.hold_id,
                    booking_id: row.booking_id,
                    provider: PaymentProvider::parse(&row.provider)
                        .unwrap_or(PaymentProvider::Manual),
                    status: HoldStatus::parse(&row.status).unwrap_or(HoldStatus::Authorised),
                    held: Money::from_rupiah(row.held),
                    lapses_at: row.lapses_at,
                    attention: row.attention,
                })
                .collect(),
            days: totals
                .into_iter()
                .map(
                    |(day, branch_code, authorised, captured, returned)| DayTotals {
                        day,
                        branch_code,
                        authorised: Money::from_rupiah(authorised),
                        captured: Money::from_rupiah(captured),
                        returned: Money::from_rupiah(returned),
                    },
                )
                .collect(),
            reconciliation: latest.map(|(ran_at, compared, differences)| Reconciliation {
                ran_at,
                compared: u32::try_from(compared).unwrap_or(0),
                differences: serde_json::from_value(differences).unwrap_or_default(),
            }),
        })
    }

    /// Compares every provider hold changed in the last two days (or still open) with what its
    /// provider says and stores the differences (the daily job also schedules its next run).
    pub async fn reconcile(&self, schedule_next: bool) -> anyhow::Result<Reconciliation> {
        let rows: Vec<holds::HoldRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM payment_holds WHERE provider <> 'manual' \
             AND (status IN ('PENDING', 'AUTHORISED', 'CAPTURED') OR updated_at > now() - interval '2 days') \
             ORDER BY created_at",
            holds::HOLD_COLUMNS
        )))
        .fetch_all(&self.db)
        .await?;
        let mut differences = Vec::new();
        let mut conn = self.db.acquire().await?;
        for row in &rows {
            if !holds::ledger_balances(&mut conn, row).await? {
                differences.push(ReconciliationDifference {
                    hold_id: row.id,
                    reference: row.order_id.clone(),
                    provider: row.provider(),
                    ours: format!("{}: the ledger does not balance with the hold", row.status),
                    theirs: "(not asked)".to_owned(),
                });
                continue;
            }
            let ours = format!(
                "{} captured {}",
                row.status,
                Money::from_rupiah(row.captured_idr)
            );
            let theirs = match self
                .gateway(row.provider())?
                .status(&row.payment_ref())
                .await
            {
                Ok(report) => {
                    let agrees = expected(report.state).contains(&row.status())
                        && (report.state != RemoteState::Captured
                            || report.captured == Money::from_rupiah(row.captured_idr));
                    if agrees {
                        continue;
                    }
                    format!("{:?} captured {}", report.state, report.captured)
                }
                Err(GatewayError::NotFound) => "unknown to the provider".to_owned(),
                Err(e) => format!("could not be read: {e}"),
            };
            differences.push(ReconciliationDifference {
                hold_id: row.id,
                reference: row.order_id.clone(),
                provider: row.provider(),
                ours,
                theirs,
            });
        }
        let compared = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        let mut tx = self.db.begin().await?;
        let ran_at: DateTime<Utc> = sqlx::query_scalar(
            "INSERT INTO payment_reconciliations (compared, differences) VALUES ($1, $2) RETURNING ran_at",
        )
        .bind(i32::try_from(compared).unwrap_or(i32::MAX))
        .bind(serde_json::to_value(&differences)?)
        .fetch_one(&mut *tx)
        .await?;
        if schedule_next {
            jobs::enqueue(
                &mut tx,
                &PaymentsReconcile {},
                Some(Utc::now() + RECONCILE_EVERY),
            )
            .await?;
        }
        tx.commit().await?;
        if !differences.is_empty() {
            tracing::warn!(
                count = differences.len(),
                "the ledger and the providers differ"
            );
        }
        Ok(Reconciliation {
            ran_at,
            compared,
            differences,
        })
    }

    /// Makes sure a reconciliation is scheduled (at start-up).
    pub async fn schedule_reconciliation(&self) -> anyhow::Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('payments_reconcile'))")
            .execute(&mut *tx)
            .await?;
        let scheduled: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = 'payments_reconcile')",
        )
        .fetch_one(&mut *tx)
        .await?;
        if !scheduled {
            jobs::enqueue(
                &mut tx,
                &PaymentsReconcile {},
                Some(Utc::now() + RECONCILE_EVERY),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
