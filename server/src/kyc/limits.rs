//! Retention limits for the personal data around verifications and logins, applied by the daily
//! `data_retention` job (UU PDP Pasal 42–44: processing ends when the retention period is
//! reached). Each limit is configurable; the defaults and what each one removes are listed in
//! `docs/privacy/processing.md`:
//! - a decided verification's result loses the name, the masked NIK, the provider's reference and
//!   the reviewer's words (status and the keyed NIK hash stay: one KTP, one account);
//! - a consent loses its address and user agent (the proof of the words and the time stays);
//! - the document access log loses addresses (who looked, and when, stays);
//! - login-failure counters whose window ended and that lock nothing are deleted.

use std::time::Duration;

use chrono::Utc;

use super::{KycFailure, service::Kyc};
use crate::jobs::{self, DataRetention};

/// How long each kind of personal data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionLimits {
    /// After the decision, for a verification's result details.
    pub case_results: Duration,
    /// After acceptance, for a consent's address and user agent.
    pub consent_addresses: Duration,
    /// After the access, for the access log's addresses.
    pub access_log_addresses: Duration,
    /// After the counting window started, for login-failure counters.
    pub login_failures: Duration,
}

/// What one pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub case_results: u64,
    pub consent_addresses: u64,
    pub access_log_addresses: u64,
    pub login_failures: u64,
}

const EVERY: chrono::Duration = chrono::Duration::days(1);

impl Kyc {
    /// Removes what is past its limit; with `schedule_next`, queues tomorrow's pass in the same
    /// transaction.
    #[tracing::instrument(name = "kyc.apply_retention", skip_all)]
    pub async fn apply_retention(&self, schedule_next: bool) -> Result<Removed, KycFailure> {
        let limits = self.limits;
        let secs = |d: Duration| d.as_secs_f64();
        let mut tx = self.db.begin().await?;
        let case_results = sqlx::query(
            "UPDATE kyc_cases SET full_name = '', nik_masked = repeat('*', 16), reason = NULL, \
             checks = checks - 'provider_reference' - 'customer_note' \
             WHERE decided_at < now() - make_interval(secs => $1) \
               AND (full_name <> '' OR nik_masked <> repeat('*', 16) OR reason IS NOT NULL \
                    OR checks ? 'provider_reference' OR checks ? 'customer_note')",
        )
        .bind(secs(limits.case_results))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let consent_addresses = sqlx::query(
            "UPDATE consents SET client_ip = '', user_agent = '' \
             WHERE accepted_at < now() - make_interval(secs => $1) \
               AND (client_ip <> '' OR user_agent <> '')",
        )
        .bind(secs(limits.consent_addresses))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let access_log_addresses = sqlx::query(
            "UPDATE pii_access_log SET client_ip = NULL \
             WHERE at < now() - make_interval(secs => $1) AND client_ip IS NOT NULL",
        )
        .bind(secs(limits.access_log_addresses))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let login_failures = sqlx::query(
            "DELETE FROM login_failures WHERE window_started < now() - make_interval(secs => $1) \
             AND (locked_until IS NULL OR locked_until < now())",
        )
        .bind(secs(limits.login_failures))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if schedule_next {
            jobs::enqueue(&mut tx, &DataRetention {}, Some(Utc::now() + EVERY)).await?;
        }
        tx.commit().await?;
        let removed = Removed {
            case_results,
            consent_addresses,
            access_log_addresses,
            login_failures,
        };
        tracing::info!(?removed, "personal data past its retention period removed");
        Ok(removed)
    }

    /// Makes sure the daily pass is scheduled (at start-up).
    pub async fn schedule_retention(&self) -> sqlx::Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('data_retention'))")
            .execute(&mut *tx)
            .await?;
        let scheduled: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = 'data_retention')")
                .fetch_one(&mut *tx)
                .await?;
        if !scheduled {
            jobs::enqueue(&mut tx, &DataRetention {}, Some(Utc::now() + EVERY)).await?;
        }
        tx.commit().await
    }
}
