//! The OpenAPI document (`/openapi.json`, browsable at `/docs` with vendored Swagger UI assets).

use sentra_protocol::{
    ErrorCode, FieldError, Health, Problem, Readiness, ReadinessCheck, VersionInfo,
};
use utoipa::OpenApi;

use super::health;

/// The API description, built from the handlers' annotations.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "SentraRental API",
        description = "Rental operations for Indonesian multi-branch rental businesses. \
                       Errors are RFC 9457 problem+json documents with a stable `code`."
    ),
    paths(health::healthz, health::readyz, health::version, health::metrics),
    components(schemas(Health, Readiness, ReadinessCheck, VersionInfo, Problem, FieldError, ErrorCode)),
    tags((name = "operations", description = "Health, readiness, version and metrics"))
)]
pub struct ApiDoc;
