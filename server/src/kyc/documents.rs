//! Viewing identity documents: who may open one, opening it (decrypted under its binding, every
//! view logged), the access log, and the customer's own copy of everything (UU PDP's right of
//! access, `GET /api/v1/customers/me/export`).

use chrono::Utc;
use sentra_domain::{ActorKind, DocumentAction, IdentityDocument};
use sentra_protocol::{AccessLogEntry, ExportedAccess, ExportedConsent, ExportedDocument, KycCase};
use uuid::Uuid;

use super::{
    KycFailure,
    service::{Actor, CASE_COLUMNS, CaseRow, Kyc, customer_view},
    vault::Wrapped,
};

/// An identity document's row, with what decides whether it may still be viewed.
#[derive(sqlx::FromRow)]
struct StoredDocument {
    object_key: String,
    wrapped_key: Option<Vec<u8>>,
    content_type: String,
    /// Past its deletion time, or its consent withdrawn.
    expired: bool,
    key_id: String,
    format: i16,
    customer_id: Uuid,
}

/// What an identity document is bound to (its associated data): the case, its customer and the
/// kind of document.
pub(super) fn binding(case: Uuid, customer: Uuid, kind: IdentityDocument) -> String {
    format!("doc|v1|kyc|{case}|{customer}|{kind}")
}

impl Kyc {
    /// Whether a branch admin of `branches` may open the case's documents: only for a customer
    /// with a booking at one of those branches within the last or the next 30 days.
    #[tracing::instrument(name = "kyc.branch_may_open", skip_all, fields(case = %case))]
    pub async fn branch_may_open(&self, case: Uuid, branches: &[Uuid]) -> Result<bool, KycFailure> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM kyc_cases c JOIN bookings b ON b.customer_id = c.customer_id \
             WHERE c.id = $1 AND b.branch_id = ANY($2) \
               AND b.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE', 'RETURNED', 'COMPLETED') \
               AND b.period && daterange(current_date - 30, current_date + 31))",
        )
        .bind(case)
        .bind(branches)
        .fetch_one(&self.db)
        .await?)
    }

    /// A decrypted document (`ktp` or `selfie`), logged as viewed by `actor`.
    #[tracing::instrument(name = "kyc.document", skip_all, fields(case = %case))]
    pub async fn document(
        &self,
        case: Uuid,
        kind: IdentityDocument,
        actor: &Actor,
    ) -> Result<(String, Vec<u8>), KycFailure> {
        // Past its deletion time or after the consent was withdrawn, a document is gone for
        // viewers even if the purge job has not run yet.
        let row: Option<StoredDocument> = sqlx::query_as(
            "SELECT d.object_key, d.wrapped_key, d.content_type, \
                    coalesce(c.purge_after <= now(), false) OR cs.withdrawn_at IS NOT NULL AS expired, \
                    d.key_id, d.format, c.customer_id \
             FROM kyc_documents d JOIN kyc_cases c ON c.id = d.case_id \
             JOIN consents cs ON cs.id = c.consent_id \
             WHERE d.case_id = $1 AND d.kind = $2",
        )
        .bind(case)
        .bind(kind.as_str())
        .fetch_optional(&self.db)
        .await?;
        let Some(StoredDocument {
            object_key: key,
            wrapped_key,
            content_type,
            expired,
            key_id,
            format,
            customer_id: customer,
        }) = row
        else {
            return Err(KycFailure::NotFound("Document"));
        };
        let (Some(wrapped_key), false) = (wrapped_key, expired) else {
            return Err(KycFailure::Purged);
        };
        let ciphertext = self.storage.get(&key).await?.ok_or_else(|| {
            KycFailure::Internal(anyhow::anyhow!("document {key} missing from storage"))
        })?;
        // The binding is computed from the case, its customer and the kind asked for, so a row
        // pointing at another case's object or key does not decrypt.
        let bound = if format == 0 {
            key.clone()
        } else {
            binding(case, customer, kind)
        };
        let wrapped = Wrapped {
            wrapped_key: &wrapped_key,
            key_id: &key_id,
            format,
        };
        let bytes = self
            .vault
            .open(&bound, wrapped, &ciphertext)
            .map_err(|e| {
                tracing::error!(case = %case, kind = %kind, "an identity document did not decrypt: altered or moved");
                KycFailure::Internal(e.into())
            })?
            .to_vec();
        let mut tx = self.db.begin().await?;
        log_access(&mut tx, case, kind, DocumentAction::View, actor).await?;
        tx.commit().await?;
        Ok((content_type, bytes))
    }

    /// Every access to the case's documents, oldest first.
    #[tracing::instrument(name = "kyc.access_log", skip_all, fields(case = %case))]
    pub async fn access_log(&self, case: Uuid) -> Result<Vec<AccessLogEntry>, KycFailure> {
        self.case(case).await?;
        let rows: Vec<AccessRow> = sqlx::query_as(
            "SELECT kind, action, actor_kind, actor_id, client_ip, at FROM pii_access_log WHERE case_id = $1 ORDER BY id",
        )
        .bind(case)
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| AccessLogEntry {
                document: row.kind,
                action: row.action,
                actor_kind: row.actor_kind,
                actor_id: row.actor_id,
                client_ip: row.client_ip,
                at: row.at,
            })
            .collect())
    }
}

#[derive(sqlx::FromRow)]
struct AccessRow {
    #[sqlx(try_from = "String")]
    kind: IdentityDocument,
    #[sqlx(try_from = "String")]
    action: DocumentAction,
    #[sqlx(try_from = "String")]
    actor_kind: ActorKind,
    actor_id: Option<Uuid>,
    client_ip: Option<String>,
    at: chrono::DateTime<Utc>,
}

pub(super) async fn log_access(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    case: Uuid,
    kind: IdentityDocument,
    action: DocumentAction,
    actor: &Actor,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO pii_access_log (case_id, kind, action, actor_kind, actor_id, client_ip) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(case)
    .bind(kind.as_str())
    .bind(action.as_str())
    .bind(actor.kind.as_str())
    .bind(actor.id)
    .bind(actor.client_ip.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What the KYC side holds about one customer, for their export.
#[derive(Debug)]
pub struct SubjectData {
    pub consents: Vec<ExportedConsent>,
    pub verifications: Vec<KycCase>,
    pub document_access: Vec<ExportedAccess>,
    pub documents: Vec<ExportedDocument>,
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: Uuid,
    purpose: String,
    text_version: String,
    text_sha256: Vec<u8>,
    text_id: Option<String>,
    text_en: Option<String>,
    accepted_at: chrono::DateTime<Utc>,
    client_ip: String,
    user_agent: String,
    withdrawn_at: Option<chrono::DateTime<Utc>>,
}

impl Kyc {
    /// Everything about `customer`: consents with the words consented to, every verification
    /// (as the customer sees it), the access log of their documents, and, when asked, their
    /// documents still stored (each one logged as viewed by them).
    #[tracing::instrument(name = "kyc.subject_data", skip_all, fields(customer = %customer))]
    pub async fn subject_data(
        &self,
        customer: Uuid,
        with_documents: bool,
        actor: &Actor,
    ) -> Result<SubjectData, KycFailure> {
        let consents: Vec<ConsentRow> = sqlx::query_as(
            "SELECT c.id, c.purpose, c.text_version, c.text_sha256, t.text_id, t.text_en, \
                    c.accepted_at, c.client_ip, c.user_agent, c.withdrawn_at \
             FROM consents c LEFT JOIN consent_texts t ON t.sha256 = c.text_sha256 \
             WHERE c.customer_id = $1 ORDER BY c.accepted_at",
        )
        .bind(customer)
        .fetch_all(&self.db)
        .await?;
        let cases: Vec<CaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM kyc_cases WHERE customer_id = $1 ORDER BY created_at"
        )))
        .bind(customer)
        .fetch_all(&self.db)
        .await?;
        let access: Vec<(Uuid, AccessRow)> = sqlx::query_as::<_, AccessWithCase>(
            "SELECT l.case_id, l.kind, l.action, l.actor_kind, l.actor_id, l.client_ip, l.at \
             FROM pii_access_log l JOIN kyc_cases c ON c.id = l.case_id \
             WHERE c.customer_id = $1 ORDER BY l.id",
        )
        .bind(customer)
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|row| (row.case_id, row.entry))
        .collect();
        let verifications: Vec<KycCase> = cases
            .into_iter()
            .map(|row| customer_view(KycCase::from(row)))
            .collect();
        let mut documents = Vec::new();
        if with_documents {
            for case in verifications.iter().filter(|c| !c.images_purged) {
                for kind in IdentityDocument::ALL.iter().copied() {
                    match self.document(case.id, kind, actor).await {
                        Ok((content_type, bytes)) => documents.push(ExportedDocument {
                            case_id: case.id,
                            kind,
                            content_type,
                            data_base64: base64::Engine::encode(
                                &base64::engine::general_purpose::STANDARD,
                                &bytes,
                            ),
                        }),
                        // Deleted, or past its deletion time: nothing to hand over.
                        Err(KycFailure::Purged | KycFailure::NotFound(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(SubjectData {
            consents: consents
                .into_iter()
                .map(|c| ExportedConsent {
                    id: c.id,
                    purpose: c.purpose,
                    version: c.text_version,
                    sha256: crate::handover::records::hex(&c.text_sha256),
                    text_id: c.text_id,
                    text_en: c.text_en,
                    accepted_at: c.accepted_at,
                    client_ip: c.client_ip,
                    user_agent: c.user_agent,
                    withdrawn_at: c.withdrawn_at,
                })
                .collect(),
            verifications,
            document_access: access
                .into_iter()
                .map(|(case_id, row)| ExportedAccess {
                    case_id,
                    document: row.kind,
                    action: row.action,
                    actor_kind: row.actor_kind,
                    at: row.at,
                })
                .collect(),
            documents,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AccessWithCase {
    case_id: Uuid,
    #[sqlx(flatten)]
    entry: AccessRow,
}
