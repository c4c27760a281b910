//! Typed client of the SentraRental server's HTTP API, used by the desktop app and by tests.
//!
//! Owns URL building, JSON decoding and the mapping of failures into [`ApiError`]: a transport
//! failure, a problem+json answer from the server, or a body that does not match the contract.
//! Callers branch on [`ApiError::code`], a stable string shared with the desktop UI.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use sentra_protocol::{Health, Problem, Readiness, VersionInfo};
use serde::de::DeserializeOwned;

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The base URL given to [`ApiClient::new`] is not an absolute http(s) URL.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    /// No HTTP answer: connection refused, DNS failure, timeout.
    #[error("the server at {url} cannot be reached: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error problem document.
    #[error("the server refused the request ({}): {}", problem.code, problem.detail.as_deref().unwrap_or(&problem.title))]
    Server { status: u16, problem: Box<Problem> },
    /// The server answered, but not with what the contract says.
    #[error("unexpected answer from the server (HTTP {status}): {reason}")]
    InvalidResponse { status: u16, reason: String },
}

impl ApiError {
    /// Stable code for this failure, for UIs and logs. Server errors carry the server's code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidBaseUrl { .. } => "invalid_server_url",
            ApiError::Unreachable { .. } => "server_unreachable",
            ApiError::Server { problem, .. } => problem.code.as_str(),
            ApiError::InvalidResponse { .. } => "invalid_response",
        }
    }
}

/// A client bound to one server base URL (for example `http://127.0.0.1:8080`).
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
}

impl ApiClient {
    /// Builds a client. `base_url` must be an absolute `http` or `https` URL.
    pub fn new(base_url: &str) -> Result<Self, ApiError> {
        Self::with_timeout(base_url, Duration::from_secs(10))
    }

    /// Builds a client whose requests give up after `timeout`.
    pub fn with_timeout(base_url: &str, timeout: Duration) -> Result<Self, ApiError> {
        let invalid = |reason: &str| ApiError::InvalidBaseUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("sentra-api-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(&e.to_string()))?;
        Ok(Self { http, base })
    }

    /// The server base URL as configured.
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<Health, ApiError> {
        self.get_json("healthz", &[StatusCode::OK]).await
    }

    /// `GET /readyz`. A not-ready server answers 503 with a body; that is a result, not an error.
    pub async fn readiness(&self) -> Result<Readiness, ApiError> {
        self.get_json("readyz", &[StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE])
            .await
    }

    /// `GET /api/v1/version`.
    pub async fn version(&self) -> Result<VersionInfo, ApiError> {
        self.get_json("api/v1/version", &[StatusCode::OK]).await
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        accepted: &[StatusCode],
    ) -> Result<T, ApiError> {
        let url = self.base.join(path).map_err(|e| ApiError::InvalidBaseUrl {
            url: self.base.to_string(),
            reason: e.to_string(),
        })?;
        let response =
            self.http
                .get(url.clone())
                .send()
                .await
                .map_err(|source| ApiError::Unreachable {
                    url: url.to_string(),
                    source,
                })?;
        decode(response, accepted).await
    }
}

async fn decode<T: DeserializeOwned>(
    response: reqwest::Response,
    accepted: &[StatusCode],
) -> Result<T, ApiError> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ApiError::InvalidResponse {
            status: status.as_u16(),
            reason: format!("reading the body failed: {e}"),
        })?;
    if accepted.contains(&status) {
        return serde_json::from_slice(&bytes).map_err(|e| ApiError::InvalidResponse {
            status: status.as_u16(),
            reason: format!("the body does not match the contract: {e}"),
        });
    }
    match serde_json::from_slice::<Problem>(&bytes) {
        Ok(problem) => Err(ApiError::Server {
            status: status.as_u16(),
            problem: Box::new(problem),
        }),
        Err(_) => Err(ApiError::InvalidResponse {
            status: status.as_u16(),
            reason: "an error without a problem document".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_urls_that_are_not_http() {
        let err = ApiClient::new("ftp://example.invalid").expect_err("ftp is not http");
        assert_eq!(err.code(), "invalid_server_url");
        let err = ApiClient::new("not a url").expect_err("garbage");
        assert_eq!(err.code(), "invalid_server_url");
    }

    #[test]
    fn keeps_a_path_prefix_of_the_base_url() {
        let client = ApiClient::new("http://127.0.0.1:9/sentra").expect("valid");
        assert_eq!(client.base_url(), "http://127.0.0.1:9/sentra");
        assert_eq!(
            client.base.join("healthz").expect("join").as_str(),
            "http://127.0.0.1:9/sentra/healthz"
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_reported_as_unreachable() {
        // Bind then drop a listener to get a loopback port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let client = ApiClient::new(&format!("http://127.0.0.1:{port}")).expect("valid");
        let err = client.health().await.expect_err("nothing listens there");
        assert_eq!(err.code(), "server_unreachable");
    }
}
