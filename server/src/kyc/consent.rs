//! The consent text for processing identity documents (UU PDP Pasal 20–24), and recording a
//! customer's acceptance with the proof Pasal 24 asks for: which wording (version and SHA-256),
//! when, and from which address.
//!
//! The text names the purpose, the data, the retention period and the customer's rights, and it
//! is a separate consent, not bundled with the rental terms. Changing the wording means a new
//! version: consents to an older version no longer allow uploads.

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

/// Records that `customer` accepted the current text of `version`.
pub async fn record(
    db: &PgPool,
    customer: Uuid,
    retention_days: u32,
    version: &str,
    accepted: bool,
    client_ip: &str,
    user_agent: &str,
) -> Result<Consent, KycFailure> {
    let current = text(retention_days);
    let mut errors = Vec::new();
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
    .fetch_one(db)
    .await?;
    Ok(Consent {
        id,
        version: current.version,
        sha256: current.sha256,
        accepted_at,
    })
}

/// The customer's consent to the current text, or `consent_required`.
pub async fn current(db: &PgPool, customer: Uuid) -> Result<Uuid, KycFailure> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM consents WHERE customer_id = $1 AND purpose = 'kyc' AND text_version = $2 \
         AND withdrawn_at IS NULL ORDER BY accepted_at DESC LIMIT 1",
    )
    .bind(customer)
    .bind(VERSION)
    .fetch_optional(db)
    .await?;
    id.ok_or_else(required)
}

/// The `consent_required` answer.
pub fn required() -> KycFailure {
    KycFailure::ConsentRequired
}
