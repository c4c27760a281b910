//! Liveness (`/healthz`), readiness (`/readyz`), version and metrics endpoints.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use sentra_protocol::{API_VERSION, Health, Readiness, ReadinessCheck, VersionInfo};

use crate::state::AppState;

/// How long a dependency may take to answer a readiness probe.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The server's build version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The server is running", body = Health)))]
#[tracing::instrument(name = "http.health.healthz", skip_all)]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: VERSION.to_owned(),
    })
}

/// Postgres, Redis and object storage answer. 503 with the same body when one does not.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Every dependency answers", body = Readiness),
        (status = 503, description = "A dependency does not answer", body = Readiness)))]
#[tracing::instrument(name = "http.health.readyz", skip_all)]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let postgres = async {
        let probe = crate::db::ping(&state.db);
        match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: postgres failed");
                false
            }
            Err(_) => {
                tracing::warn!("readiness: postgres timed out");
                false
            }
        }
    };
    let redis = async {
        let ok = tokio::time::timeout(CHECK_TIMEOUT, state.cache.ping())
            .await
            .unwrap_or(false);
        if !ok {
            tracing::warn!("readiness: redis failed");
        }
        ok
    };
    let storage = async {
        let probe = state.kyc.storage.check();
        match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: object storage failed");
                false
            }
            Err(_) => {
                tracing::warn!("readiness: object storage timed out");
                false
            }
        }
    };
    let (postgres, redis, storage) = tokio::join!(postgres, redis, storage);
    let checks = vec![
        ReadinessCheck {
            name: "postgres".to_owned(),
            ok: postgres,
        },
        ReadinessCheck {
            name: "redis".to_owned(),
            ok: redis,
        },
        ReadinessCheck {
            name: "object_storage".to_owned(),
            ok: storage,
        },
    ];
    let ready = checks.iter().all(|c| c.ok);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, checks }))
}

/// Server and API contract version.
#[utoipa::path(get, path = "/api/v1/version", tag = "operations",
    responses((status = 200, description = "Versions", body = VersionInfo)))]
#[tracing::instrument(name = "http.health.version", skip_all)]
pub async fn version() -> Json<VersionInfo> {
    Json(VersionInfo {
        version: VERSION.to_owned(),
        api_version: API_VERSION,
    })
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String)))]
#[tracing::instrument(name = "http.health.metrics", skip_all)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
