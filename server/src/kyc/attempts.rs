//! The per-customer daily limit on submissions that reach the (paid) provider: counted before
//! the call, taken back when the failure was ours (outage, quota, credentials).

use uuid::Uuid;

use super::Kyc;
use super::KycFailure;

/// Submissions per customer within 24 hours that reach the provider (each is a paid call).
pub const ATTEMPTS_PER_DAY: i64 = 5;

impl Kyc {
    /// Records an attempt, or answers `rate_limited` when the day's attempts are used up.
    pub(super) async fn count_attempt(&self, customer: Uuid) -> Result<(), KycFailure> {
        let mut tx = self.db.begin().await?;
        // One customer's attempts are counted one at a time.
        sqlx::query("SELECT 1 FROM customers WHERE id = $1 FOR UPDATE")
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM kyc_attempts WHERE customer_id = $1 AND attempted_at <= now() - interval '1 day'")
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        let (count, wait): (i64, Option<f64>) = sqlx::query_as(
            "SELECT count(*), extract(epoch FROM min(attempted_at) + interval '1 day' - now())::float8 \
             FROM kyc_attempts WHERE customer_id = $1",
        )
        .bind(customer)
        .fetch_one(&mut *tx)
        .await?;
        if count >= ATTEMPTS_PER_DAY {
            // Truncation is fine: whole seconds, at most a day.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "0..=86400 s"
            )]
            let seconds = wait.unwrap_or(60.0).ceil().max(1.0) as u64;
            return Err(KycFailure::TooManyAttempts {
                per_day: ATTEMPTS_PER_DAY,
                retry_after_secs: seconds,
            });
        }
        sqlx::query("INSERT INTO kyc_attempts (customer_id) VALUES ($1)")
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes back the customer's newest attempt.
    pub(super) async fn refund_attempt(&self, customer: Uuid) -> sqlx::Result<()> {
        sqlx::query(
            "DELETE FROM kyc_attempts WHERE ctid = (SELECT ctid FROM kyc_attempts WHERE customer_id = $1 \
             ORDER BY attempted_at DESC LIMIT 1)",
        )
        .bind(customer)
        .execute(&self.db)
        .await?;
        Ok(())
    }
}
