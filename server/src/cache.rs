//! The Redis connection, opened lazily and shared.
//!
//! Redis is a derived layer (calendar bits, locks, waitlist index): the server starts and
//! answers `/healthz` while Redis is down, and `/readyz` says so.

use std::time::Duration;

use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;

/// A lazily connected Redis handle with the configured key prefix.
#[derive(Debug)]
pub struct Cache {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    key_prefix: String,
}

impl Cache {
    /// Parses the URL; no connection is made yet.
    pub fn new(url: &SecretString, key_prefix: String) -> anyhow::Result<Self> {
        let client = redis::Client::open(url.expose_secret())
            .map_err(|e| anyhow::anyhow!("REDIS_URL is not a valid Redis URL: {e}"))?;
        Ok(Self {
            client,
            connection: OnceCell::new(),
            key_prefix,
        })
    }

    /// The shared multiplexed connection, connecting on first use.
    pub async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        self.connection
            .get_or_try_init(|| async {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(2)))
                    .set_response_timeout(Some(Duration::from_secs(2)));
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await
            .cloned()
    }

    /// `key` with the configured prefix.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.key_prefix)
    }

    /// True when Redis answers PING.
    pub async fn ping(&self) -> bool {
        match self.connection().await {
            Ok(mut conn) => redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .is_ok(),
            Err(_) => false,
        }
    }
}
