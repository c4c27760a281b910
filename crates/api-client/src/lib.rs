//! Typed client of the SentraRental server's HTTP API, used by the desktop app and by tests.
//!
//! One method per documented operation ([`endpoints::ALL`]), taking and returning the
//! `sentra-protocol` types. Owns URL building, the bearer token, JSON decoding and the mapping of
//! failures into [`ApiError`]: a transport failure, a problem+json answer from the server, or a
//! body that does not match the contract. Callers branch on [`ApiError::code`], a stable string
//! shared with the desktop UI.
//!
//! The methods live next to the feature they serve: `auth`, `customers`, `bookings`
//! (availability, bookings, waitlist), `inventory`, `kyc` and `operations` (health, metrics).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use sentra_protocol::Problem;

mod auth;
mod bookings;
mod customers;
pub mod endpoints;
#[cfg(test)]
mod every_method_tests;
mod handovers;
mod inventory;
mod kyc;
mod maintenance;
mod notifications;
mod operations;
mod payments;
mod sync;
mod transport;

pub use bookings::JoinedWaitlist;
pub use kyc::KycDocument;
pub use sync::DEVICE_HEADER;

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
    /// The call was built wrongly (a path parameter missing); a bug in the caller.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The server answered with an error problem document.
    #[error("the server refused the request ({}): {}", problem.code, problem.detail.as_deref().unwrap_or(&problem.title))]
    Server {
        status: u16,
        problem: Box<Problem>,
        /// When the server said to try again (`Retry-After`), if it did.
        retry_after: Option<Duration>,
    },
    /// The server answered, but not with what the contract says.
    #[error("unexpected answer from the server (HTTP {status}): {reason}")]
    InvalidResponse { status: u16, reason: String },
}

impl ApiError {
    /// Stable code for this failure, for UIs and logs. Server errors carry the server's code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidBaseUrl { .. } => "invalid_server_url",
            ApiError::InvalidRequest(_) => "invalid_request",
            ApiError::Unreachable { .. } => "server_unreachable",
            ApiError::Server { problem, .. } => problem.code.as_str(),
            ApiError::InvalidResponse { .. } => "invalid_response",
        }
    }

    /// The HTTP status of an answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Server { status, .. } | ApiError::InvalidResponse { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// The server's problem document, if it sent one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ApiError::Server { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

/// A client bound to one server base URL (for example `http://127.0.0.1:8080`).
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
    /// Sent as `Authorization: Bearer …` on every call when set.
    token: Option<Arc<str>>,
}

/// Never prints the token: a client in a log line or a span field stays harmless.
impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
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
        Ok(Self {
            http,
            base,
            token: None,
        })
    }

    /// The same client acting with `access_token` (shares the connection pool).
    #[must_use]
    pub fn with_token(&self, access_token: &str) -> Self {
        Self {
            token: Some(Arc::from(access_token)),
            ..self.clone()
        }
    }

    /// The same client without a token (anonymous calls).
    #[must_use]
    pub fn anonymous(&self) -> Self {
        Self {
            token: None,
            ..self.clone()
        }
    }

    /// The server base URL as configured.
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let client = ApiClient::new("http://127.0.0.1:9")
            .expect("valid")
            .with_token("secret-access-token");
        let shown = format!("{client:?}");
        assert!(!shown.contains("secret-access-token"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

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
        let request = client
            .request(endpoints::BOOKING, &["a b/c"])
            .and_then(|r| {
                r.build()
                    .map_err(|e| ApiError::InvalidRequest(e.to_string()))
            })
            .expect("builds");
        assert_eq!(
            request.url().as_str(),
            "http://127.0.0.1:9/sentra/api/v1/bookings/a%20b%2Fc",
            "the prefix is kept and a parameter stays one segment"
        );
        assert_eq!(
            client
                .request(endpoints::BOOKING, &[])
                .expect_err("id missing")
                .code(),
            "invalid_request"
        );
        for dots in ["", ".", ".."] {
            assert_eq!(
                client
                    .request(endpoints::UPDATE_SKU, &[dots])
                    .expect_err("would change the path")
                    .code(),
                "invalid_request",
                "{dots:?}"
            );
        }
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
        assert_eq!(err.status(), None);
    }
}
