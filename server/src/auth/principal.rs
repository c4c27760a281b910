//! The authenticated caller, extracted from `Authorization: Bearer <access token>`.

use axum::{extract::FromRequestParts, http::request::Parts};
pub use sentra_domain::{Role, SubjectKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::jwt;
use crate::error::AppError;

/// The access token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the staff user's or the customer's id.
    pub sub: Uuid,
    /// The session the token was issued to; the token stops working when it ends.
    pub sid: Uuid,
    pub kind: SubjectKind,
    pub role: Role,
    /// Branches a staff member belonged to when the token was issued (for clients; the server
    /// reads the current ones from the account on every request).
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

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AppError;

    /// The caller the access policy already authenticated (see `http::policy`). A handler on a
    /// public route that asks for a `Principal` is a programming error and answers 401.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(|| {
            AppError::unauthorized(
                "Log in and send the access token (as `Authorization: Bearer …`)",
            )
        })
    }
}
