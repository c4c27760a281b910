//! The consent text for processing identity documents (UU PDP Pasal 20–24), and recording a
//! customer's acceptance with the proof Pasal 24 asks for: which wording (version and SHA-256),
//! when, and from which address.
//!
//! The text names the purpose, the data, the retention period and the customer's rights, and it
//! is a separate consent, not bundled with the rental terms. Consent is bound to the words: the
//! client sends the SHA-256 of the text it displayed, only the current text's hash is accepted,
//! and every text consented to is kept in the insert-only `consent_texts`. Any change of the
//! wording (the retention period included) changes the hash, so consents to other words no longer
//! allow uploads.

use sentra_protocol::{Consent, ConsentText, FieldError};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::KycFailure;

/// The current version of the consent text.
pub const VERSION: &str = "kyc-2026-11-v1";

/// The consent text for a retention period of `retention_days`.
pub fn text(retention_days: u32) -> ConsentText {
    let text_id = format!(
        "Saya menyetujui SentraRental memproses foto KTP, swafoto (data biometrik), NIK, nama dan \
         tanggal lahir saya untuk satu tujuan: memverifikasi identitas saya sebelum menyewa. Data \
         dapat diperiksa melalui penyedia verifikasi berlisensi (Verihubs) terhadap data \
         kependudukan. Foto KTP dan swafoto disimpan terenkripsi dan dihapus {retention_days} hari \
         setelah keputusan verifikasi; hasil verifikasi (tanpa foto) disimpan selama hubungan sewa \
         dan masa sengketa. Saya dapat menarik persetujuan, meminta akses, koreksi atau penghapusan \
         data kapan saja melalui layanan pelanggan; penarikan diproses paling lambat 3 x 24 jam."
    );
    let text_en = format!(
        "I agree that SentraRental processes my KTP photo, selfie (biometric data), NIK, name and \
         birth date for one purpose: verifying my identity before I rent. The data may be checked \
         through a licensed verification provider (Verihubs) against population records. The KTP \
         photo and selfie are stored encrypted and deleted {retention_days} days after the \
         verification decision; the result (without photos) is kept for the rental relationship \
         and any dispute period. I may withdraw consent, or ask for access, correction or \
         deletion, at any time through customer service; a withdrawal is processed within 3 x 24 \
         hours."
    );
    let sha256 = format!("{:x}", digest(&text_id, &text_en));
    ConsentText {
        version: VERSION.to_owned(),
        text_id,
        text_en,
        sha256,
        retention_days,
    }
}

/// SHA-256 of the exact wording (both languages).
fn digest(text_id: &str, text_en: &str) -> sha2::digest::Output<Sha256> {
    let mut hasher = Sha256::new();
    hasher.update(text_id.as_bytes());
    hasher.update(b"\n\n");
    hasher.update(text_en.as_bytes());
    hasher.finalize()
}

/// What the customer's client says it showed and what the customer did.
#[derive(Debug, Clone, Copy)]
pub struct Given<'a> {
    pub version: &'a str,
    /// SHA-256 (hex) of the text displayed.
    pub sha256: &'a str,
    pub accepted: bool,
}

/// Records that `customer` accepted the current text, which their client displayed.
pub async fn record(
    db: &PgPool,
    customer: Uuid,
    retention_days: u32,
    given: Given<'_>,
    client_ip: &str,
    user_agent: &str,
) -> Result<Consent, KycFailure> {
    let current = text(retention_days);
    let (version, accepted) = (given.version, given.accepted);
    let mut errors = Vec::new();
    if !given.sha256.eq_ignore_ascii_case(&current.sha256) {
        errors.push(FieldError::new(
            "sha256",
            "this is not the SHA-256 of the current consent text; show it again (GET /api/v1/kyc/consent)",
        ));
    }
    if version != current.version {
        errors.push(FieldError::new(
            "version",
            format!(
                "the current consent text is version {}; show it again",
                current.version
            ),
        ));
    }
    if !accepted {
        errors.push(FieldError::new(
            "accepted",
            "consent is given only by ticking the box (true)",
        ));
    }
    if !errors.is_empty() {
        return Err(KycFailure::Invalid(errors));
    }
    let hash = digest(&current.text_id, &current.text_en);
    let id = Uuid::now_v7();
    let mut tx = db.begin().await?;
    // The words themselves, kept for as long as any consent names them (insert-only).
    sqlx::query(
        "INSERT INTO consent_texts (sha256, version, text_id, text_en, retention_days) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(hash.as_slice())
    .bind(&current.version)
    .bind(&current.text_id)
    .bind(&current.text_en)
    .bind(i32::try_from(retention_days).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await?;
    let accepted_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "INSERT INTO consents (id, customer_id, purpose, text_version, text_sha256, client_ip, user_agent) \
         VALUES ($1, $2, 'kyc', $3, $4, $5, $6) RETURNING accepted_at",
    )
    .bind(id)
    .bind(customer)
    .bind(&current.version)
    .bind(hash.as_slice())
    .bind(client_ip)
    .bind(user_agent.chars().take(300).collect::<String>())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Consent {
        id,
        version: current.version,
        sha256: current.sha256,
        accepted_at,
    })
}

/// The customer's consent to the current words (for `retention_days`), or `consent_required`.
pub async fn current(db: &PgPool, customer: Uuid, retention_days: u32) -> Result<Uuid, KycFailure> {
    let current = text(retention_days);
    let hash = digest(&current.text_id, &current.text_en);
    let id: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM consents WHERE customer_id = $1 AND purpose = 'kyc' AND text_sha256 = $2 \
         AND withdrawn_at IS NULL ORDER BY accepted_at DESC LIMIT 1",
    )
    .bind(customer)
    .bind(hash.as_slice())
    .fetch_optional(db)
    .await?;
    id.ok_or_else(required)
}

/// The `consent_required` answer.
pub fn required() -> KycFailure {
    KycFailure::ConsentRequired
}
