//! Liveness, readiness and version bodies (`/healthz`, `/readyz`, `/api/v1/version`).

use serde::{Deserialize, Serialize};

/// `/healthz`: the process is up and serving HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `ok` when the server answers at all.
    pub status: String,
    /// Server build version.
    pub version: String,
}

/// `/readyz`: whether the server can do useful work (its dependencies answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// True when every check passed (HTTP 200); false otherwise (HTTP 503).
    pub ready: bool,
    /// One entry per dependency, in a fixed order.
    pub checks: Vec<ReadinessCheck>,
}

/// One dependency check of [`Readiness`]. Carries no internal detail: that goes to the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadinessCheck {
    /// `postgres` or `redis`.
    pub name: String,
    /// Whether the dependency answered in time.
    pub ok: bool,
}

/// `/api/v1/version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionInfo {
    /// Server build version (the workspace version).
    pub version: String,
    /// HTTP API contract version, see [`crate::API_VERSION`].
    pub api_version: u32,
}
