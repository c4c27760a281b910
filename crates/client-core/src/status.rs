//! The server status panel: which server, its version, and whether its dependencies answer.

use sentra_api_client::ApiClient;
use sentra_protocol::ReadinessCheck;
use serde::Serialize;

use crate::CoreError;

/// What the UI shows about the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerStatus {
    /// The base URL the app talks to.
    pub server_url: String,
    /// The server's build version.
    pub version: String,
    /// The server's API contract version.
    pub api_version: u32,
    /// True when every dependency check passed.
    pub ready: bool,
    /// One entry per server dependency (postgres, redis).
    pub checks: Vec<ReadinessCheck>,
}

/// Asks the server for its version and readiness.
pub async fn server_status(client: &ApiClient) -> Result<ServerStatus, CoreError> {
    let version = client.version().await?;
    let readiness = client.readiness().await?;
    Ok(ServerStatus {
        server_url: client.base_url().to_owned(),
        version: version.version,
        api_version: version.api_version,
        ready: readiness.ready,
        checks: readiness.checks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_server_gives_a_typed_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let client = ApiClient::new(&format!("http://127.0.0.1:{port}")).expect("valid url");
        let err = server_status(&client).await.expect_err("no server");
        assert_eq!(err.code, "server_unreachable");
        assert!(err.message.contains("cannot be reached"), "{}", err.message);
    }
}
