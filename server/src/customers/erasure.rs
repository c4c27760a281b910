//! Erasing a customer (UU PDP Pasal 43, `DELETE /api/v1/customers/me`).
//!
//! One transaction. The customer row stays as a pseudonym: bookings, invoices, payment ledgers
//! and handover records keep pointing at its id, as tax and dispute law needs. Everything that
//! names or reaches the person goes:
//! - the name, phone, e-mail and password, and every session;
//! - each verification's name, masked NIK, NIK hash, checks and reasons, and the photos
//!   (unviewable at once, their keys and objects destroyed by the purge job queued with it);
//! - consents are withdrawn and lose their address and user agent (the proof of what was agreed
//!   and when stays);
//! - the customer's own rows in the document access log lose their id and address (staff views
//!   stay, as audit);
//! - waiting waitlist entries, queued messages, login-failure counters and verification attempts.
//!
//! A processor that verified the customer (Verihubs) is owed the deletion request its contract
//! foresees: it is recorded in `processor_requests` for the notifier. A customer with a rental
//! still open (pending, confirmed, out, or returned and not settled) cannot be erased yet.

use sentra_domain::{CustomerKycStatus, KycCaseStatus, KycRejectReason};
use uuid::Uuid;

use super::{CustomerError, Customers};
use crate::auth::{
    SubjectKind,
    session::{self, EndedBecause},
    throttle,
};

/// What an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    /// Bookings kept under the pseudonym (for tax and disputes).
    pub bookings_kept: u32,
    /// Identity photos being deleted.
    pub photos_deleted: u32,
}

impl Customers {
    /// Erases `customer` (see the module docs). Erasing twice is harmless.
    #[tracing::instrument(name = "customers.erase", skip_all, fields(customer = %customer))]
    pub async fn erase(&self, customer: Uuid) -> Result<Erased, CustomerError> {
        let mut tx = self.db.begin().await?;
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT phone, email FROM customers WHERE id = $1 FOR UPDATE")
                .bind(customer)
                .fetch_optional(&mut *tx)
                .await?;
        let (phone, email) = row.ok_or(CustomerError::NotFound)?;
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM bookings WHERE customer_id = $1 \
             AND status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE', 'RETURNED')",
        )
        .bind(customer)
        .fetch_one(&mut *tx)
        .await?;
        if open > 0 {
            return Err(CustomerError::OpenRentals(
                u32::try_from(open).unwrap_or(u32::MAX),
            ));
        }
        sqlx::query(
            "UPDATE customers SET full_name = 'Pelanggan terhapus', phone = NULL, email = NULL, \
             password_hash = NULL, kyc_status = $2, erased_at = coalesce(erased_at, now()) \
             WHERE id = $1",
        )
        .bind(customer)
        .bind(CustomerKycStatus::Unverified.as_str())
        .execute(&mut *tx)
        .await?;
        session::end_all(
            &mut tx,
            SubjectKind::Customer,
            customer,
            EndedBecause::AccountErased,
        )
        .await?;
        sqlx::query(
            "DELETE FROM refresh_tokens WHERE subject_kind = 'customer' AND subject_id = $1",
        )
        .bind(customer)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE consents SET withdrawn_at = coalesce(withdrawn_at, now()), client_ip = '', \
             user_agent = '' WHERE customer_id = $1",
        )
        .bind(customer)
        .execute(&mut *tx)
        .await?;
        let photos = erase_verifications(&mut tx, customer).await?;
        erase_traces(&mut tx, customer, email, phone).await?;
        let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE customer_id = $1")
            .bind(customer)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(
            bookings_kept = kept,
            photos_deleted = photos,
            "customer erased"
        );
        Ok(Erased {
            bookings_kept: u32::try_from(kept).unwrap_or(u32::MAX),
            photos_deleted: u32::try_from(photos).unwrap_or(u32::MAX),
        })
    }
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Postgres>;

/// The customer's verifications lose everything that identifies them; the photos become
/// unviewable now and are purged by the job queued here. Returns how many photos go.
async fn erase_verifications(tx: &mut Tx<'_>, customer: Uuid) -> sqlx::Result<i64> {
    // Owed to the processor before the reference goes with the checks.
    sqlx::query(
        "INSERT INTO processor_requests (id, processor, kind, reference) \
             SELECT gen_random_uuid(), provider, 'erasure', checks->>'provider_reference' \
             FROM kyc_cases WHERE customer_id = $1 AND provider <> 'manual' \
               AND checks->>'provider_reference' IS NOT NULL",
    )
    .bind(customer)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
            "UPDATE kyc_cases SET \
               status = CASE WHEN status = 'pending_review' THEN $2 ELSE status END, \
               decided_at = coalesce(decided_at, now()), \
               full_name = '', nik_masked = repeat('*', 16), \
               nik_hash = sha256(convert_to(gen_random_uuid()::text, 'UTF8')), \
               checks = CASE WHEN status = 'pending_review' \
                             THEN jsonb_build_object('reason_code', $3::text) ELSE '{}'::jsonb END, \
               reason = NULL, purge_after = now() \
             WHERE customer_id = $1",
        )
        .bind(customer)
        .bind(KycCaseStatus::Rejected.as_str())
        .bind(KycRejectReason::ConsentWithdrawn.as_str())
        .execute(&mut **tx)
        .await?;
    // From this commit on the photos cannot be viewed (their deletion time has come); the
    // purge job, queued now, destroys their keys and objects and logs it.
    let photos: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM kyc_documents WHERE wrapped_key IS NOT NULL \
             AND case_id IN (SELECT id FROM kyc_cases WHERE customer_id = $1)",
    )
    .bind(customer)
    .fetch_one(&mut **tx)
    .await?;
    let cases: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM kyc_cases WHERE customer_id = $1 AND images_purged_at IS NULL",
    )
    .bind(customer)
    .fetch_all(&mut **tx)
    .await?;
    for case in cases {
        crate::jobs::enqueue(tx, &crate::jobs::KycPurge { case_id: case }, None).await?;
    }
    sqlx::query(
        "UPDATE pii_access_log SET actor_id = NULL, client_ip = NULL \
             WHERE actor_kind = 'customer' AND (actor_id IS NOT NULL OR client_ip IS NOT NULL) \
               AND case_id IN (SELECT id FROM kyc_cases WHERE customer_id = $1)",
    )
    .bind(customer)
    .execute(&mut **tx)
    .await?;
    Ok(photos)
}

/// Waiting waitlist entries end; queued messages, attempts and login counters go.
async fn erase_traces(
    tx: &mut Tx<'_>,
    customer: Uuid,
    email: Option<String>,
    phone: Option<String>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE waitlist SET status = 'LEFT' WHERE customer_id = $1 AND status = 'WAITING'",
    )
    .bind(customer)
    .execute(&mut **tx)
    .await?;
    // Messages to or about them (staff were told of their overdue rental by name).
    sqlx::query(
        "DELETE FROM notification_outbox WHERE customer_id = $1 \
         OR booking_id IN (SELECT id FROM bookings WHERE customer_id = $1)",
    )
    .bind(customer)
    .execute(&mut **tx)
    .await?;
    for table in ["notification_events", "kyc_attempts"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE customer_id = $1"
        )))
        .bind(customer)
        .execute(&mut **tx)
        .await?;
    }
    let counters: Vec<String> = [
        Some(throttle::account_key(SubjectKind::Customer, customer)),
        email.map(|e| format!("login:customer:{e}")),
        phone.map(|p| format!("login:customer:{p}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    sqlx::query("DELETE FROM login_failures WHERE key = ANY($1)")
        .bind(&counters)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
