//! `LoggedServer`: the real server binary with debug JSON logs written to a file, for tests that
//! read what an operator would see.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use crate::support::{TEST_DATA_KEY, TEST_JWT_SECRET, TEST_LABEL_SECRET};

/// The real server binary with debug JSON logs captured.
pub(crate) struct LoggedServer {
    child: sentra_test_support::KillOnDrop,
    pub(crate) base: String,
    _database: sentra_test_support::TestDatabase,
    storage: tempfile::TempDir,
}

impl LoggedServer {
    /// Starts the server with the demo data and `extra` environment variables.
    pub(crate) async fn start(extra: &[(&str, &str)]) -> anyhow::Result<Self> {
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
            .envs(extra.iter().copied())
            // Files, not pipes: a full pipe would block the server mid-test.
            .stdout(Stdio::from(std::fs::File::create(
                storage.path().join("server.log"),
            )?))
            .stderr(Stdio::from(std::fs::File::create(
                storage.path().join("server.err"),
            )?));
        let server = sentra_test_support::KillOnDrop(sentra_test_support::spawn_tied(command)?);
        let client = sentra_api_client::ApiClient::new(&base)?;
        let mut ready = false;
        // Bounded: 300 polls of the readiness probe, 50 ms apart.
        for _ in 0..300 {
            if client.readiness().await.is_ok_and(|r| r.ready) {
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

    /// What the server has written to its standard output so far.
    pub(crate) fn logs_so_far(&self) -> anyhow::Result<String> {
        Ok(std::fs::read_to_string(
            self.storage.path().join("server.log"),
        )?)
    }

    /// Stops the server (SIGTERM, so it flushes) and returns everything it wrote.
    pub(crate) fn stop_and_read_logs(self) -> anyhow::Result<String> {
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
