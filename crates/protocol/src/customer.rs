//! Customer accounts: self-registration and profile.

use sentra_domain::{CustomerKycStatus, MembershipTier, Uuid};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/customers`: register with a phone number, an e-mail address, or both.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterCustomerRequest {
    pub full_name: String,
    /// Indonesian mobile number: `+62812…` or `0812…`.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// At least 10 characters.
    pub password: String,
}

/// `PATCH /api/v1/customers/me`: fields to change (absent ones stay).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProfileRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Required when the phone or e-mail (the login) changes; the old address is told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_password: Option<String>,
}

debug_without_secrets!(RegisterCustomerRequest { full_name, phone, email; password });
debug_without_secrets!(UpdateProfileRequest { full_name, phone, email; current_password });

/// A customer's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerProfile {
    pub id: Uuid,
    pub full_name: String,
    /// Normalised to `+62…`.
    pub phone: Option<String>,
    /// Lower-case.
    pub email: Option<String>,
    /// Waitlist priority.
    pub membership_tier: MembershipTier,
    /// The KTP check.
    pub kyc_status: CustomerKycStatus,
}
