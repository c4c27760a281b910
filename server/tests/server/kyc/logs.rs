//! The NIK and the identity photos never reach the logs: the real server binary runs with debug
//! logging while a customer verifies (including a refused submission) and staff review the
//! documents, and its whole output is searched afterwards.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::{Value, json};

use super::{fake_verihubs::photo, flow::submission};
use crate::support::{TEST_DATA_KEY, TEST_JWT_SECRET, TEST_LABEL_SECRET};

const NIK: &str = "3171015708450001";

/// The real server binary with debug JSON logs captured.
struct LoggedServer {
    child: sentra_test_support::KillOnDrop,
    base: String,
    _database: sentra_test_support::TestDatabase,
    storage: tempfile::TempDir,
}

impl LoggedServer {
    async fn start() -> anyhow::Result<Self> {
        let database = sentra_test_support::TestDatabase::create(&sentra_server::MIGRATOR).await?;
        sentra_server::demo::seed(&sqlx::PgPool::connect(database.url()).await?).await?;
        let storage = tempfile::tempdir()?;
        let port = sentra_test_support::free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_sentra-server"));
        command
            .env_clear()
            .env("DATABASE_URL", database.url())
            .env(
                "REDIS_URL",
                sentra_test_support::RedisServer::shared()?.url(),
            )
            .env(
                "SENTRA_REDIS_KEY_PREFIX",
                sentra_test_support::unique_key_prefix(),
            )
            .env("SENTRA_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("SENTRA_JWT_SECRET", TEST_JWT_SECRET)
            .env("SENTRA_LABEL_SECRET", TEST_LABEL_SECRET)
            .env("SENTRA_DATA_KEY", TEST_DATA_KEY)
            .env("SENTRA_STORAGE_URL", storage.path())
            .env("SENTRA_LOG", "debug")
            .env("SENTRA_LOG_FORMAT", "json")
            // Files, not pipes: a full pipe would block the server mid-test.
            .stdout(Stdio::from(std::fs::File::create(
                storage.path().join("server.log"),
            )?))
            .stderr(Stdio::from(std::fs::File::create(
                storage.path().join("server.err"),
            )?));
        let server = sentra_test_support::KillOnDrop(sentra_test_support::spawn_tied(command)?);
        let client = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..300 {
            if client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::ensure!(ready, "the server did not become ready");

        Ok(Self {
            child: server,
            base,
            _database: database,
            storage,
        })
    }

    /// Stops the server (SIGTERM, so it flushes) and returns everything it wrote.
    fn stop_and_read_logs(self) -> anyhow::Result<String> {
        // Stop the server and read everything it wrote.
        #[expect(unsafe_code, reason = "kill(2) on our own child's pid")]
        unsafe {
            libc::kill(libc::pid_t::try_from(self.child.0.id())?, libc::SIGTERM);
        }
        let mut child = self.child;
        let _ = child.0.wait();
        let mut logs = std::fs::read_to_string(self.storage.path().join("server.log"))?;
        logs.push_str(&std::fs::read_to_string(
            self.storage.path().join("server.err"),
        )?);
        Ok(logs)
    }
}

#[tokio::test]
async fn identity_data_never_appears_in_the_logs() -> anyhow::Result<()> {
    let server = LoggedServer::start().await?;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let send_json = |path: &str, token: Option<&str>, body: Value| {
        let mut request = client.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await?;
            let status = response.status().as_u16();
            anyhow::Ok((
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            ))
        }
    };
    send_json("/api/v1/customers", None, json!({"full_name": "Siti", "email": "siti.log@example.com", "password": "rahasia-sekali-2026"})).await?;
    let (_, tokens) = send_json(
        "/api/v1/auth/customer/login",
        None,
        json!({"login": "siti.log@example.com", "password": "rahasia-sekali-2026"}),
    )
    .await?;
    let customer = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let text: Value = client
        .get(format!("{base}/api/v1/kyc/consent"))
        .send()
        .await?
        .json()
        .await?;
    send_json(
        "/api/v1/customers/me/consents",
        Some(&customer),
        json!({"version": text["version"], "accepted": true}),
    )
    .await?;
    // A NIK with a typo (refused locally), then the real one (manual review).
    let (status, _) = send_json(
        "/api/v1/customers/me/kyc",
        Some(&customer),
        submission("3171015708450000", &photo("ktp"), &photo("selfie")),
    )
    .await?;
    assert_eq!(status, 422);
    let (status, case) = send_json(
        "/api/v1/customers/me/kyc",
        Some(&customer),
        submission(NIK, &photo("ktp"), &photo("selfie")),
    )
    .await?;
    assert_eq!(status, 201, "{case}");
    let (_, staff) = send_json(
        "/api/v1/auth/staff/login",
        None,
        json!({"email": "admin.jkt@demo.sentrarental.id", "password": "demo-jkt-2026"}),
    )
    .await?;
    let staff = staff["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let case_id = case["id"].as_str().unwrap_or_default();
    let document = client
        .get(format!("{base}/api/v1/kyc/cases/{case_id}/documents/ktp"))
        .bearer_auth(&staff)
        .send()
        .await?;
    assert_eq!(document.status(), 200);
    send_json(
        &format!("/api/v1/kyc/cases/{case_id}/decision"),
        Some(&staff),
        json!({"approve": true}),
    )
    .await?;

    let logs = server.stop_and_read_logs()?;
    assert!(logs.contains("KYC case created"), "the logs were captured");
    for secret in [NIK, "3171015708450000", "ktp", "selfie"].map(str::to_owned) {
        let needle = if secret.len() == 16 {
            secret.clone()
        } else {
            b64_fragment(&photo(&secret))
        };
        assert!(!logs.contains(&needle), "the logs contain {secret}");
    }
    Ok(())
}

/// A stretch of the photo's base64 (as it would appear if a body were logged).
fn b64_fragment(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)[..24].to_owned()
}
