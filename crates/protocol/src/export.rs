//! The data subject's rights (UU PDP): `GET /api/v1/customers/me/export`, everything
//! SentraRental holds about the caller as one JSON document, and `DELETE /api/v1/customers/me`,
//! erasure.

use chrono::{DateTime, Utc};
use sentra_domain::{ActorKind, DocumentAction, IdentityDocument, Uuid};
use serde::{Deserialize, Serialize};

use crate::{Booking, CustomerProfile, KycCase};

/// `GET /api/v1/customers/me/export` query.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ExportQuery {
    /// Include the customer's own KTP photos and selfies still stored (base64). Each one
    /// included is logged in the document access log, like any view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<bool>,
}

/// The customer's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerExport {
    pub exported_at: DateTime<Utc>,
    pub profile: CustomerProfile,
    /// Every booking, newest first.
    pub bookings: Vec<Booking>,
    /// Every consent given, with the words consented to (when kept).
    pub consents: Vec<ExportedConsent>,
    /// Every identity verification: its result, never the NIK in full.
    pub verifications: Vec<KycCase>,
    /// Who did what with the customer's identity documents, and when.
    pub document_access: Vec<ExportedAccess>,
    /// The customer's own documents still stored, when asked for.
    pub documents: Vec<ExportedDocument>,
}

/// One consent and its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedConsent {
    pub id: Uuid,
    pub purpose: String,
    pub version: String,
    /// SHA-256 (hex) of the words consented to.
    pub sha256: String,
    /// The words (Bahasa Indonesia and English), when the text is kept.
    pub text_id: Option<String>,
    pub text_en: Option<String>,
    pub accepted_at: DateTime<Utc>,
    pub client_ip: String,
    pub user_agent: String,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// One access to one of the customer's identity documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedAccess {
    pub case_id: Uuid,
    pub document: IdentityDocument,
    pub action: DocumentAction,
    /// The customer, staff, or the system (a deletion).
    pub actor_kind: ActorKind,
    pub at: DateTime<Utc>,
}

/// One of the customer's own documents.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedDocument {
    pub case_id: Uuid,
    pub kind: IdentityDocument,
    pub content_type: String,
    /// The image, base64.
    pub data_base64: String,
}

debug_without_secrets!(ExportedDocument { case_id, kind, content_type; data_base64 });

/// `DELETE /api/v1/customers/me`: erase my account.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EraseAccountRequest {
    /// The account's password, to confirm.
    pub current_password: String,
}

debug_without_secrets!(EraseAccountRequest { ; current_password });

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountErased {
    /// Bookings kept under a pseudonym, as tax and dispute law requires (no name, no contact).
    pub bookings_kept: u32,
    /// Identity photos being deleted (within minutes).
    pub photos_deleted: u32,
}
