//! Login, token and session bodies.

use chrono::{DateTime, Utc};
use sentra_domain::{Role, SubjectKind, Uuid};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/auth/staff/login`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffLoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /api/v1/auth/customer/login`: e-mail or phone (`+62…`) and password.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerLoginRequest {
    pub login: String,
    pub password: String,
}

/// `POST /api/v1/auth/refresh` and `/logout`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `POST /api/v1/auth/password`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Who the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: Uuid,
    pub kind: SubjectKind,
    pub role: Role,
    /// Branches a staff member belongs to.
    pub branches: Vec<Uuid>,
}

/// A login or refresh result.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Exchange at `/api/v1/auth/refresh` for a new pair; each works once.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub me: Me,
}

debug_without_secrets!(StaffLoginRequest { email; password });
debug_without_secrets!(CustomerLoginRequest { login; password });
debug_without_secrets!(RefreshRequest { ; refresh_token });
debug_without_secrets!(ChangePasswordRequest { ; current_password, new_password });
debug_without_secrets!(TokenResponse {
    token_type, expires_in, refresh_expires_at, me;
    access_token, refresh_token
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_with_secrets_never_print_them() {
        let login = StaffLoginRequest {
            email: "admin@demo".into(),
            password: "hunter2-secret".into(),
        };
        let text = format!("{login:?}");
        assert!(
            text.contains("admin@demo") && !text.contains("hunter2"),
            "{text}"
        );
        let refresh = RefreshRequest {
            refresh_token: "rt-secret-value".into(),
        };
        assert!(!format!("{refresh:?}").contains("rt-secret-value"));
        let register = crate::RegisterCustomerRequest {
            full_name: "Budi".into(),
            password: "kata-sandi-rahasia".into(),
            ..Default::default()
        };
        assert!(!format!("{register:?}").contains("kata-sandi-rahasia"));
        let update = crate::UpdateProfileRequest {
            current_password: Some("kata-sandi-rahasia".into()),
            ..Default::default()
        };
        assert!(!format!("{update:?}").contains("kata-sandi-rahasia"));
        let kyc = crate::SubmitKycRequest {
            nik: "3171015708450001".into(),
            full_name: "Siti Rahayu".into(),
            ktp_image: "aGVsbG8=".into(),
            selfie_image: "d29ybGQ=".into(),
        };
        let text = format!("{kyc:?}");
        for personal in ["3171015708450001", "Siti", "aGVsbG8=", "d29ybGQ="] {
            assert!(!text.contains(personal), "{text}");
        }
    }
}
