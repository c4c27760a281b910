//! A real SentraRental server on a free port for the desktop tests.

use std::collections::HashMap;

use sentra_test_support::{RedisServer, TestDatabase, unique_key_prefix};
use tokio::sync::oneshot;

/// The running server; stops on drop.
pub(crate) struct RunningServer {
    pub(crate) url: String,
    pub(crate) database: TestDatabase,
    _shutdown: oneshot::Sender<()>,
    _storage: tempfile::TempDir,
}

/// A server with the demo data (`make run`'s branches, fleet and logins).
pub(crate) async fn start_with_demo() -> anyhow::Result<RunningServer> {
    let server = start().await?;
    sentra_server::demo::seed(&server.database.pool().await?).await?;
    Ok(server)
}

pub(crate) async fn start() -> anyhow::Result<RunningServer> {
    let database = TestDatabase::create(&sentra_server::MIGRATOR).await?;
    let storage = tempfile::tempdir()?;
    let vars = HashMap::from([
        ("DATABASE_URL", database.url().to_owned()),
        ("REDIS_URL", RedisServer::shared()?.url()),
        ("SENTRA_REDIS_KEY_PREFIX", unique_key_prefix()),
        ("SENTRA_LISTEN_ADDR", "127.0.0.1:0".to_owned()),
        (
            "SENTRA_JWT_SECRET",
            "desktop-test-secret-0123456789-abcdef".to_owned(),
        ),
        (
            "SENTRA_LABEL_SECRET",
            "desktop-label-secret-0123456789-abcdef".to_owned(),
        ),
        (
            "SENTRA_DATA_KEY",
            "ZGVza3RvcC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGU=".to_owned(),
        ),
        ("SENTRA_STORAGE_URL", storage.path().display().to_string()),
    ]);
    let config = sentra_server::Config::from_lookup(|name| vars.get(name).cloned())?;
    let server = sentra_server::start(config).await?;
    let url = format!("http://{}", server.local_addr()?);
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    Ok(RunningServer {
        url,
        database,
        _shutdown: shutdown,
        _storage: storage,
    })
}

/// A URL where nothing listens.
pub(crate) fn closed_url() -> anyhow::Result<String> {
    Ok(format!(
        "http://127.0.0.1:{}",
        sentra_test_support::free_port()?
    ))
}
