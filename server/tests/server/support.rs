//! `TestApp`: the real server on a free port, with its own database and Redis key prefix.

use std::collections::HashMap;

use sentra_server::Config;
use sentra_test_support::{RedisServer, TestDatabase, unique_key_prefix};
use tokio::sync::oneshot;

/// A running server for one test. Shuts down on drop.
pub(crate) struct TestApp {
    pub(crate) base_url: String,
    pub(crate) db: sqlx::PgPool,
    pub(crate) client: reqwest::Client,
    _database: TestDatabase,
    _shutdown: oneshot::Sender<()>,
}

impl TestApp {
    /// Starts a server with a fresh database and the shared Redis.
    pub(crate) async fn spawn() -> anyhow::Result<Self> {
        let redis = RedisServer::shared()?.url();
        Self::spawn_with_redis(&redis).await
    }

    /// Starts a server pointed at `redis_url` (a closed port simulates Redis being down).
    pub(crate) async fn spawn_with_redis(redis_url: &str) -> anyhow::Result<Self> {
        let database = TestDatabase::create(&sentra_server::MIGRATOR).await?;
        let vars = HashMap::from([
            ("DATABASE_URL".to_owned(), database.url().to_owned()),
            ("REDIS_URL".to_owned(), redis_url.to_owned()),
            ("SENTRA_REDIS_KEY_PREFIX".to_owned(), unique_key_prefix()),
            ("SENTRA_LISTEN_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
            ("SENTRA_DB_MAX_CONNECTIONS".to_owned(), "5".to_owned()),
        ]);
        let config = Config::from_lookup(|name| vars.get(name).cloned())?;
        let server = sentra_server::start(config).await?;
        let base_url = format!("http://{}", server.local_addr()?);
        let db = server.state().db.clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.serve(async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            base_url,
            db,
            client: reqwest::Client::new(),
            _database: database,
            _shutdown: shutdown,
        })
    }

    /// GET `path`, returning status, content type and body text.
    pub(crate) async fn get(&self, path: &str) -> anyhow::Result<(u16, String, String)> {
        let response = self
            .client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((status, content_type, response.text().await?))
    }
}
