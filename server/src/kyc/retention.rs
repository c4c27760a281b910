//! Ending the processing of identity documents: the purge of raw images once the retention
//! period is over (run by the durable `kyc_purge` job) and the withdrawal of consent, which
//! closes pending reviews and deletes the customer's photos at once. Results stay.

use chrono::Utc;
use sentra_domain::{
    ActorKind, CustomerKycStatus, DocumentAction, IdentityDocument, KycCaseStatus, KycRejectReason,
};
use sentra_protocol::ConsentWithdrawal;
use uuid::Uuid;

use super::KycFailure;
use super::documents::log_access;
use super::service::{Actor, Kyc};

impl Kyc {
    /// Withdraws the customer's consent (UU PDP): uploads need a new consent, cases waiting for
    /// review are closed unprocessed, and every stored photo of the customer is deleted now by
    /// the purge job instead of after the retention period. Decided results stay.
    #[tracing::instrument(name = "kyc.withdraw_consent", skip_all, fields(customer = %customer))]
    pub async fn withdraw_consent(&self, customer: Uuid) -> Result<ConsentWithdrawal, KycFailure> {
        let mut tx = self.db.begin().await?;
        let withdrawn_at: chrono::DateTime<Utc> = sqlx::query_scalar(
            "UPDATE consents SET withdrawn_at = now() WHERE customer_id = $1 AND purpose = 'kyc' \
             AND withdrawn_at IS NULL RETURNING withdrawn_at",
        )
        .bind(customer)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| KycFailure::NotFound("Consent"))?;
        let closed = sqlx::query(
            "UPDATE kyc_cases SET status = $2, decided_at = now(), reason = 'Consent withdrawn', \
             checks = checks || jsonb_build_object('reason_code', $3::text) \
             WHERE customer_id = $1 AND status = 'pending_review'",
        )
        .bind(customer)
        .bind(KycCaseStatus::Rejected.as_str())
        .bind(KycRejectReason::ConsentWithdrawn.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if closed > 0 {
            sqlx::query(
                "UPDATE customers SET kyc_status = $2 WHERE id = $1 AND kyc_status = 'pending'",
            )
            .bind(customer)
            .bind(CustomerKycStatus::Unverified.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let purging: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE kyc_cases SET purge_after = now() WHERE customer_id = $1 AND images_purged_at IS NULL RETURNING id",
        )
        .bind(customer)
        .fetch_all(&mut *tx)
        .await?;
        for case in &purging {
            self.schedule_purge(&mut tx, *case).await?;
        }
        tx.commit().await?;
        tracing::info!(
            reviews_closed = closed,
            photos_deleted = purging.len(),
            "KYC consent withdrawn"
        );
        Ok(ConsentWithdrawal {
            withdrawn_at,
            reviews_closed: u32::try_from(closed).unwrap_or(u32::MAX),
            photos_deleted: u32::try_from(purging.len()).unwrap_or(u32::MAX),
        })
    }

    /// Deletes the case's raw images (object and wrapped key) and logs it; the result stays.
    /// Idempotent: the `kyc_purge` job may run it again after a failure.
    #[tracing::instrument(name = "kyc.purge", skip_all, fields(case = %case))]
    pub async fn purge(&self, case: Uuid) -> anyhow::Result<()> {
        // A decision after the job was queued moved the deletion time: the later job does it.
        let due: Option<bool> = sqlx::query_scalar(
            "SELECT coalesce(purge_after <= now(), false) FROM kyc_cases WHERE id = $1",
        )
        .bind(case)
        .fetch_optional(&self.db)
        .await?;
        if due != Some(true) {
            return Ok(());
        }
        // Nobody reviewed it in time: closed unreviewed (case and customer in one transaction),
        // then its photos go.
        let mut tx = self.db.begin().await?;
        let lapsed = sqlx::query(
            "UPDATE kyc_cases SET status = $2, decided_at = now(), reason = 'Not reviewed within the review window', \
             checks = checks || jsonb_build_object('reason_code', $3::text) \
             WHERE id = $1 AND status = 'pending_review'",
        )
        .bind(case)
        .bind(KycCaseStatus::Rejected.as_str())
        .bind(KycRejectReason::ReviewWindowLapsed.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if lapsed > 0 {
            sqlx::query(
                "UPDATE customers SET kyc_status = $2 WHERE kyc_status = 'pending' \
                 AND id = (SELECT customer_id FROM kyc_cases WHERE id = $1)",
            )
            .bind(case)
            .bind(CustomerKycStatus::Unverified.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let documents: Vec<StoredDocument> = sqlx::query_as(
            "SELECT kind, object_key, purged_at IS NOT NULL AS purged FROM kyc_documents WHERE case_id = $1",
        )
        .bind(case)
        .fetch_all(&self.db)
        .await?;
        for StoredDocument { kind, key, purged } in documents {
            if !purged {
                // The key first: from this commit on the object is unreadable and viewers get
                // "deleted", even before the object itself is gone.
                let mut tx = self.db.begin().await?;
                sqlx::query(
                    "UPDATE kyc_documents SET purged_at = now(), wrapped_key = NULL WHERE case_id = $1 AND kind = $2",
                )
                .bind(case)
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await?;
                let system = Actor {
                    kind: ActorKind::System,
                    id: None,
                    client_ip: None,
                };
                log_access(&mut tx, case, kind, DocumentAction::Purge, &system).await?;
                tx.commit().await?;
            }
            // Deleting a missing object is fine, so a retried job finishes what failed before.
            self.storage.delete(&key).await?;
        }
        sqlx::query("UPDATE kyc_cases SET images_purged_at = coalesce(images_purged_at, now()) WHERE id = $1")
            .bind(case)
            .execute(&self.db)
            .await?;
        tracing::info!(case = %case, "KYC images purged after the retention period");
        Ok(())
    }
}

/// One stored identity document of a case.
#[derive(sqlx::FromRow)]
struct StoredDocument {
    #[sqlx(try_from = "String")]
    kind: IdentityDocument,
    #[sqlx(rename = "object_key")]
    key: String,
    purged: bool,
}
