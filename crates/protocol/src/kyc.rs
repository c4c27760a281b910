//! KTP verification bodies: consent, submission, cases, staff decisions and the access log.

use chrono::{DateTime, Utc};
use sentra_domain::{
    ActorKind, DocumentAction, IdentityDocument, KycCaseStatus, KycProvider, KycRejectReason, Uuid,
};
use serde::{Deserialize, Serialize};

/// `GET /api/v1/kyc/consent`: the consent text a customer must accept before uploading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentText {
    /// Version to send back when accepting.
    pub version: String,
    /// The text in Bahasa Indonesia.
    pub text_id: String,
    /// The text in English.
    pub text_en: String,
    /// SHA-256 (hex) of the exact wording, stored with the consent as proof.
    pub sha256: String,
    /// Days after the decision until the KTP image and selfie are deleted.
    pub retention_days: u32,
}

/// `POST /api/v1/customers/me/consents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GiveConsentRequest {
    /// The version of the text shown to the customer.
    pub version: String,
    /// SHA-256 (hex) of the exact text shown, as `GET /api/v1/kyc/consent` gave it: consent is
    /// to those words, and only the current ones are accepted.
    #[serde(default)]
    pub sha256: String,
    /// Must be `true`: the customer ticked the box themselves.
    pub accepted: bool,
}

/// A recorded consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub id: Uuid,
    pub version: String,
    pub sha256: String,
    pub accepted_at: DateTime<Utc>,
}

/// `DELETE /api/v1/customers/me/consents/kyc`: what withdrawing consent did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentWithdrawal {
    pub withdrawn_at: DateTime<Utc>,
    /// Verifications still waiting for review, now closed unprocessed.
    pub reviews_closed: u32,
    /// Verifications whose photos are being deleted now (within minutes, not after retention).
    pub photos_deleted: u32,
}

/// `POST /api/v1/customers/me/kyc`: the KTP photo, a selfie, and the NIK and name as printed.
/// Personal data: `Debug` prints none of it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitKycRequest {
    /// The 16-digit NIK as printed on the KTP.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[0-9]{16}$", example = "3171015708450001")
    )]
    pub nik: String,
    /// The name as printed on the KTP.
    pub full_name: String,
    /// JPEG or PNG, base64, at most 5 MB.
    pub ktp_image: String,
    /// JPEG or PNG, base64, at most 5 MB.
    pub selfie_image: String,
}

debug_without_secrets!(SubmitKycRequest { ; nik, full_name, ktp_image, selfie_image });

/// A verification case. The NIK is only ever shown masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KycCase {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub status: KycCaseStatus,
    pub provider: KycProvider,
    /// Like `************0001`.
    pub nik_masked: String,
    pub full_name: String,
    /// Stable code of a rejection.
    pub reason_code: Option<KycRejectReason>,
    /// The reviewer's words, for a staff decision.
    pub reason: Option<String>,
    /// What each check answered.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub checks: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// When the raw images are (or were) deleted.
    pub purge_after: Option<DateTime<Utc>>,
    pub images_purged: bool,
}

/// `GET /api/v1/kyc/reviews`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KycCaseList {
    pub items: Vec<KycCase>,
}

/// `POST /api/v1/customers/me/kyc/review`: a person should look at my rejected verification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HumanReviewRequest {
    /// For the reviewer (at most 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `POST /api/v1/kyc/cases/{id}/decision`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KycDecisionRequest {
    pub approve: bool,
    /// Required when rejecting; shown to the customer.
    #[serde(default)]
    pub reason: Option<String>,
}

/// One access to an identity document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessLogEntry {
    pub document: IdentityDocument,
    pub action: DocumentAction,
    pub actor_kind: ActorKind,
    pub actor_id: Option<Uuid>,
    pub client_ip: Option<String>,
    pub at: DateTime<Utc>,
}

/// `GET /api/v1/kyc/cases/{id}/access-log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessLog {
    pub items: Vec<AccessLogEntry>,
}
