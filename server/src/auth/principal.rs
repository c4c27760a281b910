//! The authenticated caller, extracted from `Authorization: Bearer <access token>`.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AuthService, jwt};
use crate::error::AppError;

/// Staff or customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Staff,
    Customer,
}

impl SubjectKind {
    /// As stored in `refresh_tokens.subject_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Staff => "staff",
            SubjectKind::Customer => "customer",
        }
    }
}

/// What the caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Inspector,
    BranchAdmin,
    HqAdmin,
}

impl Role {
    /// Parses a stored role.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "customer" => Some(Role::Customer),
            "inspector" => Some(Role::Inspector),
            "branch_admin" => Some(Role::BranchAdmin),
            "hq_admin" => Some(Role::HqAdmin),
            _ => None,
        }
    }
}

/// The access token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the staff user's or the customer's id.
    pub sub: Uuid,
    pub kind: SubjectKind,
    pub role: Role,
    /// Branches a staff member belongs to (empty for customers; HQ sees all regardless).
    pub branches: Vec<Uuid>,
    /// Issued at and expiry, seconds since 1970.
    pub iat: i64,
    pub exp: i64,
}

impl jwt::Expiring for Claims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: Uuid,
    pub kind: SubjectKind,
    pub role: Role,
    pub branches: Vec<Uuid>,
}

impl Principal {
    /// Whether the caller may act for `branch`.
    pub fn can_access_branch(&self, branch: Uuid) -> bool {
        self.role == Role::HqAdmin || self.branches.contains(&branch)
    }
}

impl<S> FromRequestParts<S> for Principal
where
    AuthService: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = AuthService::from_ref(state);
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(|| {
                AppError::unauthorized(
                    "Log in and send the access token as `Authorization: Bearer …`",
                )
            })?;
        let claims = auth.verify_access(token.trim()).map_err(|e| {
            tracing::debug!(reason = %e, "access token refused");
            AppError::unauthorized(
                "The access token is not valid or has expired; refresh it or log in again",
            )
        })?;
        Ok(Principal {
            id: claims.sub,
            kind: claims.kind,
            role: claims.role,
            branches: claims.branches,
        })
    }
}
