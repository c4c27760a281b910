//! Verifications that go back to a person (UU PDP): a verified customer whose name or phone
//! changed is reviewed again against the KTP, and a customer rejected by the automated checks
//! may ask for a human review of that decision. Either way the case returns to the review queue
//! while its photos are still stored; once they are gone, the customer verifies again.

use sentra_domain::{CustomerKycStatus, KycCaseStatus, KycRejectReason};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{KycFailure, service::Kyc};
use sentra_protocol::KycCase;

/// Sends a verified customer's latest verification back to review after their name or phone
/// changed (in the caller's transaction): pending review while its photos are stored, else
/// unverified (they submit again).
pub async fn after_profile_change(conn: &mut PgConnection, customer: Uuid) -> sqlx::Result<()> {
    let verified: bool = sqlx::query_scalar(
        "SELECT kyc_status = 'verified' FROM customers WHERE id = $1 FOR UPDATE",
    )
    .bind(customer)
    .fetch_one(&mut *conn)
    .await?;
    if !verified {
        return Ok(());
    }
    let reopened: Option<Uuid> = sqlx::query_scalar(
        "UPDATE kyc_cases SET status = 'pending_review', decided_at = NULL, decided_by = NULL, \
         checks = checks || jsonb_build_object('review_because', 'profile_changed') \
         WHERE id = (SELECT id FROM kyc_cases WHERE customer_id = $1 AND status = 'verified' \
                     ORDER BY created_at DESC LIMIT 1) \
           AND images_purged_at IS NULL AND coalesce(purge_after > now(), true) \
         RETURNING id",
    )
    .bind(customer)
    .fetch_optional(&mut *conn)
    .await?;
    let status = if reopened.is_some() {
        CustomerKycStatus::Pending
    } else {
        CustomerKycStatus::Unverified
    };
    sqlx::query("UPDATE customers SET kyc_status = $2 WHERE id = $1")
        .bind(customer)
        .bind(status.as_str())
        .execute(&mut *conn)
        .await?;
    tracing::info!(customer = %customer, reopened = reopened.is_some(), "profile changed after verification");
    Ok(())
}

impl Kyc {
    /// The customer asks a person to review their latest verification, rejected by the
    /// automated checks. `note` (optional) is for the reviewer.
    #[tracing::instrument(name = "kyc.ask_for_review", skip_all, fields(customer = %customer))]
    pub async fn ask_for_human_review(
        &self,
        customer: Uuid,
        note: Option<&str>,
    ) -> Result<KycCase, KycFailure> {
        let note = note
            .map(|n| crate::text::checked_one("note", sentra_domain::TextRule::note(500), n))
            .transpose()
            .map_err(|e| {
                KycFailure::Invalid(vec![sentra_protocol::FieldError::new(
                    e.field,
                    e.error.to_string(),
                )])
            })?;
        let mut tx = self.db.begin().await?;
        let reopened: Option<Uuid> = sqlx::query_scalar(
            "UPDATE kyc_cases SET status = 'pending_review', decided_at = NULL, \
             checks = checks || jsonb_build_object('review_because', 'customer_asked', \
                                                    'customer_note', $4::text) \
             WHERE id = (SELECT id FROM kyc_cases WHERE customer_id = $1 \
                         ORDER BY created_at DESC LIMIT 1) \
               AND status = $2 AND decided_by IS NULL \
               AND coalesce(checks->>'reason_code', '') NOT IN ($3, 'review_window_lapsed') \
               AND images_purged_at IS NULL AND coalesce(purge_after > now(), true) \
             RETURNING id",
        )
        .bind(customer)
        .bind(KycCaseStatus::Rejected.as_str())
        .bind(KycRejectReason::ConsentWithdrawn.as_str())
        .bind(note.as_deref())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(case) = reopened else {
            return Err(KycFailure::NothingToReview);
        };
        sqlx::query("UPDATE customers SET kyc_status = $2 WHERE id = $1")
            .bind(customer)
            .bind(CustomerKycStatus::Pending.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(case = %case, "human review asked for");
        self.latest_of(customer).await
    }
}
