//! The verification flow: local NIK checks, the provider's assessment, encrypted storage of the
//! two images, the case record, staff decisions and audited document access. Deleting images
//! (retention, withdrawal) lives in `retention`.

use std::{sync::Arc, time::Duration};

use base64::Engine as _;
use chrono::Utc;
use sentra_domain::{
    ActorKind, DocumentAction, IdentityDocument, KycCaseStatus, KycProvider as KycProviderName, Nik,
};
use sentra_protocol::{FieldError, KycCase, SubmitKycRequest};
use sqlx::PgPool;
use uuid::Uuid;

use super::KycFailure;
use super::{
    consent,
    documents::{binding, log_access},
    provider::{Assessment, Checks, KycError, KycProvider, KycRejectReason, Submission},
    vault::{Sealed, Vault},
};
use crate::storage::Storage;
use zeroize::Zeroizing;

/// Largest accepted image (decoded).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// Who is acting, for the access log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<Uuid>,
    pub client_ip: Option<String>,
}

/// The KYC service.
#[derive(Debug, Clone)]
pub struct Kyc {
    pub(crate) db: PgPool,
    pub(crate) storage: Storage,
    pub(crate) vault: Vault,
    pub(crate) provider: Arc<dyn KycProvider>,
    pub(crate) retention: Duration,
    /// How long an undecided case keeps its images (then they are purged unreviewed).
    pub(crate) review_window: Duration,
    /// How long the personal data around verifications and logins is kept.
    pub(crate) limits: super::limits::RetentionLimits,
}

#[derive(sqlx::FromRow)]
pub(super) struct CaseRow {
    id: Uuid,
    customer_id: Uuid,
    #[sqlx(try_from = "String")]
    status: KycCaseStatus,
    #[sqlx(try_from = "String")]
    provider: KycProviderName,
    nik_masked: String,
    full_name: String,
    checks: serde_json::Value,
    reason: Option<String>,
    created_at: chrono::DateTime<Utc>,
    decided_at: Option<chrono::DateTime<Utc>>,
    purge_after: Option<chrono::DateTime<Utc>>,
    images_purged_at: Option<chrono::DateTime<Utc>>,
}

pub(super) const CASE_COLUMNS: &str = "id, customer_id, status, provider, nik_masked, full_name, checks, reason, \
    created_at, decided_at, purge_after, images_purged_at";

impl From<CaseRow> for KycCase {
    fn from(row: CaseRow) -> Self {
        KycCase {
            id: row.id,
            customer_id: row.customer_id,
            status: row.status,
            provider: row.provider,
            nik_masked: row.nik_masked,
            full_name: row.full_name,
            reason_code: row.checks["reason_code"]
                .as_str()
                .and_then(KycRejectReason::parse),
            reason: row.reason,
            checks: row.checks,
            created_at: row.created_at,
            decided_at: row.decided_at,
            purge_after: row.purge_after,
            images_purged: row.images_purged_at.is_some(),
        }
    }
}

/// A stored document: kind, object key, its sealed form, content type, size.
type SealedDocument = (IdentityDocument, String, Sealed, &'static str, usize);

/// A case about to be written.
struct NewCase {
    id: Uuid,
    customer: Uuid,
    consent_id: Uuid,
    status: KycCaseStatus,
    nik_hash: [u8; 32],
    nik_masked: String,
    full_name: String,
    checks: serde_json::Value,
}

/// The exclusion constraint that lets one KTP verify one account only.
fn one_account_per_ktp(err: sqlx::Error) -> KycFailure {
    if crate::db::has_sqlstate(&err, &["23P01"]) {
        KycFailure::KtpUsedElsewhere
    } else {
        KycFailure::Database(err)
    }
}

/// The member of a case's checks telling a reviewer that the NIK verified another account.
const DUPLICATE_FLAG: &str = "nik_verified_on_another_account";

/// A case as its customer sees it: whether the NIK is taken is for reviewers only.
pub(super) fn customer_view(mut case: KycCase) -> KycCase {
    if let Some(checks) = case.checks.as_object_mut() {
        checks.remove(DUPLICATE_FLAG);
    }
    case
}

/// Tells the reviewer (in the case's checks) that the NIK verified another account.
fn with_duplicate_flag(
    mut checks: serde_json::Value,
    verified_elsewhere: bool,
) -> serde_json::Value {
    if verified_elsewhere && let Some(members) = checks.as_object_mut() {
        members.insert(DUPLICATE_FLAG.to_owned(), serde_json::Value::Bool(true));
    }
    checks
}

/// JPEG or PNG, by magic bytes.
fn content_type(image: &[u8]) -> Option<&'static str> {
    if image.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if image.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

fn decode_image(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Vec<u8> {
    let text = text.trim();
    let text = text.split_once(";base64,").map_or(text, |(_, data)| data);
    match base64::engine::general_purpose::STANDARD.decode(text) {
        Ok(bytes) if bytes.len() > MAX_IMAGE_BYTES => {
            errors.push(FieldError::new(field, "the photo is larger than 5 MB"));
            Vec::new()
        }
        Ok(bytes) if content_type(&bytes).is_none() => {
            errors.push(FieldError::new(field, "expected a JPEG or PNG photo"));
            Vec::new()
        }
        Ok(bytes) => bytes,
        Err(_) => {
            errors.push(FieldError::new(field, "expected the photo as base64"));
            Vec::new()
        }
    }
}

/// The local checks of a submission: a structurally valid NIK, a name, two JPEG/PNG photos.
/// The checked submission; the decoded photos are zeroized when dropped.
type Checked = (Nik, String, Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>);

fn check_submission(request: &SubmitKycRequest) -> Result<Checked, KycFailure> {
    let mut errors = Vec::new();
    let today = Utc::now().date_naive();
    let nik = Nik::parse(&request.nik, today)
        .map_err(|e| errors.push(FieldError::new("nik", e.to_string())))
        .ok();
    let full_name = crate::text::checked(
        "full_name",
        sentra_domain::TextRule::line(200),
        &request.full_name,
        &mut errors,
    );
    let ktp = Zeroizing::new(decode_image("ktp_image", &request.ktp_image, &mut errors));
    let selfie = Zeroizing::new(decode_image(
        "selfie_image",
        &request.selfie_image,
        &mut errors,
    ));
    let (Some(nik), true) = (nik, errors.is_empty()) else {
        return Err(KycFailure::Invalid(errors));
    };
    Ok((nik, full_name, ktp, selfie))
}

impl Kyc {
    /// Checks, assesses and stores one submission; answers the new case.
    #[tracing::instrument(name = "kyc.submit", skip_all, fields(customer = %customer))]
    pub async fn submit(
        &self,
        customer: Uuid,
        request: &SubmitKycRequest,
        actor: &Actor,
    ) -> Result<KycCase, KycFailure> {
        let retention_days = u32::try_from(self.retention.as_secs() / 86_400).unwrap_or(u32::MAX);
        let consent_id = consent::current(&self.db, customer, retention_days).await?;
        let (nik, full_name, ktp, selfie) = check_submission(request)?;
        self.count_attempt(customer).await?;
        let assessment = self
            .provider
            .assess(&Submission {
                nik: &nik,
                full_name: &full_name,
                ktp_image: &ktp,
                selfie_image: &selfie,
            })
            .await;
        let assessment = match assessment {
            Ok(assessment) => assessment,
            Err(e) => {
                if matches!(
                    e,
                    KycError::QuotaExhausted | KycError::Unauthorized | KycError::Unavailable(_)
                ) {
                    // Our side failed, not the customer's photos: the attempt does not count.
                    self.refund_attempt(customer).await?;
                }
                return Err(e.into());
            }
        };
        let (status, checks, reason) = match assessment {
            Assessment::Verified(checks) => (KycCaseStatus::Verified, checks, None),
            Assessment::Rejected { reason, checks } => {
                (KycCaseStatus::Rejected, checks, Some(reason))
            }
            Assessment::NeedsReview(checks) => (KycCaseStatus::PendingReview, checks, None),
        };
        // One KTP verifies one account, decided only now: after the attempt was counted and the
        // provider looked at the photos, and without a different answer. A NIK verified on
        // another account turns what would be "verified" into "pending review" for a person to
        // look at; asking "is this NIK taken?" with made-up photos gets the same answer as for
        // a free NIK, so the endpoint is no oracle for the NIKs of verified customers.
        let nik_hash = self.vault.nik_hash(nik.as_str());
        let verified_elsewhere = self.verified_elsewhere(&nik_hash, customer).await?;
        let status = if verified_elsewhere && status != KycCaseStatus::Rejected {
            KycCaseStatus::PendingReview
        } else {
            status
        };
        let id = Uuid::now_v7();
        // Images first: a case row never points at documents that were not stored. If the
        // transaction below fails, the objects left behind are unreadable: their wrapped keys
        // were never saved.
        let mut sealed = Vec::with_capacity(2);
        for (kind, image) in [
            (IdentityDocument::Ktp, &ktp),
            (IdentityDocument::Selfie, &selfie),
        ] {
            let key = format!("kyc/{id}/{kind}");
            let document = self.vault.seal(&binding(id, customer, kind), image)?;
            self.storage.put(&key, document.ciphertext.clone()).await?;
            sealed.push((
                kind,
                key,
                document,
                content_type(image).unwrap_or("image/jpeg"),
                image.len(),
            ));
        }
        let mut case = NewCase {
            id,
            customer,
            consent_id,
            status,
            nik_hash,
            nik_masked: nik.masked(),
            full_name,
            checks: with_duplicate_flag(checks_json(&checks, reason), verified_elsewhere),
        };
        let mut recorded = self.record_case(&case, &sealed, actor).await;
        if matches!(recorded, Err(KycFailure::KtpUsedElsewhere)) {
            // Another account's case with this NIK was verified in the meantime: a reviewer
            // decides, and the customer gets the same answer as above.
            case.status = KycCaseStatus::PendingReview;
            case.checks = with_duplicate_flag(case.checks, true);
            recorded = self.record_case(&case, &sealed, actor).await;
        }
        if let Err(e) = recorded {
            // Nothing points at the uploaded objects; remove them rather than leave ciphertext.
            for (_, key, ..) in &sealed {
                if let Err(delete) = self.storage.delete(key).await {
                    tracing::warn!(error = %delete, "could not remove an unrecorded KYC object");
                }
            }
            return Err(e);
        }
        tracing::info!(case = %id, status = %case.status, provider = %self.provider.name(), "KYC case created");
        Ok(customer_view(self.case(id).await?))
    }

    /// Writes the case, its documents' wrapped keys and the upload log in one transaction, after
    /// checking that the consent still stands (a withdrawal meanwhile wins).
    async fn record_case(
        &self,
        case: &NewCase,
        sealed: &[SealedDocument],
        actor: &Actor,
    ) -> Result<(), KycFailure> {
        let mut tx = self.db.begin().await?;
        let consent: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM consents WHERE id = $1 AND withdrawn_at IS NULL FOR SHARE",
        )
        .bind(case.consent_id)
        .fetch_optional(&mut *tx)
        .await?;
        if consent.is_none() {
            return Err(consent::required());
        }
        let (id, customer, status) = (case.id, case.customer, case.status);
        let decided = status.is_decided();
        sqlx::query(
            "INSERT INTO kyc_cases (id, customer_id, consent_id, provider, status, nik_hash, nik_masked, full_name, \
             checks, decided_at, purge_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             CASE WHEN $10 THEN now() END, \
             now() + make_interval(secs => CASE WHEN $10 THEN $11 ELSE $12 END))",
        )
        .bind(id)
        .bind(customer)
        .bind(case.consent_id)
        .bind(self.provider.name().as_str())
        .bind(status.as_str())
        .bind(case.nik_hash.as_slice())
        .bind(&case.nik_masked)
        .bind(&case.full_name)
        .bind(&case.checks)
        .bind(decided)
        .bind(self.retention_secs())
        .bind(self.review_window.as_secs_f64())
        .execute(&mut *tx)
        .await
        .map_err(one_account_per_ktp)?;
        for (kind, key, document, content_type, size) in sealed {
            sqlx::query(
                "INSERT INTO kyc_documents (case_id, kind, object_key, wrapped_key, key_id, format, content_type, size_bytes) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(kind.as_str())
            .bind(key)
            .bind(&document.wrapped_key)
            .bind(&document.key_id)
            .bind(document.format)
            .bind(content_type)
            .bind(i32::try_from(*size).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await?;
            log_access(&mut tx, id, *kind, DocumentAction::Upload, actor).await?;
        }
        sqlx::query("UPDATE customers SET kyc_status = $2 WHERE id = $1")
            .bind(customer)
            .bind(status.customer_status().as_str())
            .execute(&mut *tx)
            .await?;
        // Every case has its deletion time from the start: after the decision's retention
        // period, or at the end of the review window if nobody decides.
        self.schedule_purge(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    fn retention_secs(&self) -> f64 {
        self.retention.as_secs_f64()
    }

    pub(super) async fn schedule_purge(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        case: Uuid,
    ) -> sqlx::Result<()> {
        // Every case has its purge time (review window, then retention); the job runs then.
        let purge_after: Option<Option<chrono::DateTime<chrono::Utc>>> =
            sqlx::query_scalar("SELECT purge_after FROM kyc_cases WHERE id = $1")
                .bind(case)
                .fetch_optional(&mut **tx)
                .await?;
        match purge_after {
            Some(Some(run_at)) => {
                // One purge job per case, at its current deletion time.
                sqlx::query(
                    "DELETE FROM jobs WHERE kind = 'kyc_purge' AND payload->>'case_id' = $1",
                )
                .bind(case.to_string())
                .execute(&mut **tx)
                .await?;
                let purge = crate::jobs::KycPurge { case_id: case };
                crate::jobs::enqueue(tx, &purge, Some(run_at)).await?;
            }
            // Never leave a decided case's images without a purge: fail the transaction.
            Some(None) => {
                return Err(sqlx::Error::Encode(
                    format!("verification {case} has no purge time").into(),
                ));
            }
            None => {}
        }
        Ok(())
    }

    /// Whether a case of another customer with this NIK is verified.
    async fn verified_elsewhere(
        &self,
        nik_hash: &[u8; 32],
        customer: Uuid,
    ) -> Result<bool, KycFailure> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM kyc_cases WHERE nik_hash = $1 AND status = 'verified' AND customer_id <> $2)",
        )
        .bind(nik_hash.as_slice())
        .bind(customer)
        .fetch_one(&self.db)
        .await?)
    }

    /// One case.
    #[tracing::instrument(name = "kyc.case", skip_all, fields(case = %id))]
    pub async fn case(&self, id: Uuid) -> Result<KycCase, KycFailure> {
        let row: Option<CaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM kyc_cases WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.db)
        .await?;
        row.map(KycCase::from)
            .ok_or_else(|| KycFailure::NotFound("Verification"))
    }

    /// The customer's newest case.
    #[tracing::instrument(name = "kyc.latest_of", skip_all, fields(customer = %customer))]
    pub async fn latest_of(&self, customer: Uuid) -> Result<KycCase, KycFailure> {
        let row: Option<CaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM kyc_cases WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 1"
        )))
        .bind(customer)
        .fetch_optional(&self.db)
        .await?;
        row.map(|row| customer_view(KycCase::from(row)))
            .ok_or_else(|| KycFailure::NotFound("Verification"))
    }

    /// Cases waiting for a person, oldest first.
    #[tracing::instrument(name = "kyc.pending_reviews", skip_all)]
    pub async fn pending_reviews(&self) -> Result<Vec<KycCase>, KycFailure> {
        let rows: Vec<CaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM kyc_cases WHERE status = 'pending_review' ORDER BY created_at LIMIT 200"
        )))
        .fetch_all(&self.db)
        .await?;
        Ok(rows.into_iter().map(KycCase::from).collect())
    }

    /// A reviewer's decision on a pending case.
    #[tracing::instrument(name = "kyc.decide", skip_all, fields(case = %case, reviewer = %reviewer))]
    pub async fn decide(
        &self,
        case: Uuid,
        reviewer: Uuid,
        approve: bool,
        reason: Option<&str>,
    ) -> Result<KycCase, KycFailure> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if !approve && reason.is_none() {
            return Err(KycFailure::Invalid(vec![FieldError::new(
                "reason",
                "say why the verification is rejected; the customer sees it",
            )]));
        }
        if reason.is_some_and(|r| r.chars().count() > 500) {
            return Err(KycFailure::Invalid(vec![FieldError::new(
                "reason",
                "must have at most 500 characters",
            )]));
        }
        let mut tx = self.db.begin().await?;
        let status = if approve {
            KycCaseStatus::Verified
        } else {
            KycCaseStatus::Rejected
        };
        let reason_code = (!approve).then_some(KycRejectReason::RejectedByStaff.as_str());
        let customer: Option<Uuid> = sqlx::query_scalar(
            "UPDATE kyc_cases SET status = $2, reason = $3, decided_by = $4, decided_at = now(), \
             purge_after = now() + make_interval(secs => $5), \
             checks = checks || jsonb_build_object('reason_code', $6::text) \
             WHERE id = $1 AND status = $7 RETURNING customer_id",
        )
        .bind(case)
        .bind(status.as_str())
        .bind(reason)
        .bind(reviewer)
        .bind(self.retention_secs())
        .bind(reason_code)
        .bind(KycCaseStatus::PendingReview.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(one_account_per_ktp)?;
        let Some(customer) = customer else {
            self.case(case).await?;
            return Err(KycFailure::AlreadyDecided);
        };
        sqlx::query("UPDATE customers SET kyc_status = $2 WHERE id = $1")
            .bind(customer)
            .bind(status.customer_status().as_str())
            .execute(&mut *tx)
            .await?;
        self.schedule_purge(&mut tx, case).await?;
        tx.commit().await?;
        self.case(case).await
    }
}

fn checks_json(checks: &Checks, reason: Option<KycRejectReason>) -> serde_json::Value {
    let mut value = serde_json::to_value(checks).unwrap_or_default();
    if let (Some(reason), Some(map)) = (reason, value.as_object_mut()) {
        map.insert("reason_code".to_owned(), reason.as_str().into());
    }
    value
}
