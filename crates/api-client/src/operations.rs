//! Operations endpoints: liveness, readiness, version and metrics.

use reqwest::StatusCode;
use sentra_protocol::{Health, Readiness, VersionInfo};

use crate::{ApiClient, ApiError, endpoints};

impl ApiClient {
    /// `GET /healthz`.
    pub async fn health(&self) -> Result<Health, ApiError> {
        let request = self.request(endpoints::HEALTH, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /readyz`. A not-ready server answers 503 with a body; that is a result, not an error.
    pub async fn readiness(&self) -> Result<Readiness, ApiError> {
        let request = self.request(endpoints::READINESS, &[])?;
        self.json(request, &[StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE])
            .await
    }

    /// `GET /api/v1/version`.
    pub async fn version(&self) -> Result<VersionInfo, ApiError> {
        let request = self.request(endpoints::VERSION, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /metrics`: the OpenMetrics text.
    pub async fn metrics(&self) -> Result<String, ApiError> {
        let request = self.request(endpoints::METRICS, &[])?;
        let (_, bytes) = self.bytes(request).await?;
        String::from_utf8(bytes).map_err(|e| ApiError::InvalidResponse {
            status: 200,
            reason: format!("metrics are not UTF-8: {e}"),
        })
    }
}
