//! Customer accounts: self-registration and profile.

use sentra_domain::{MembershipTier, Uuid};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/customers`: register with a phone number, an e-mail address, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProfileRequest {
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

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
    /// `regular`, `silver`, `gold` or `platinum` (waitlist priority).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "gold"))]
    pub membership_tier: MembershipTier,
    /// `unverified`, `pending`, `verified` or `rejected` (KTP check).
    pub kyc_status: String,
}
