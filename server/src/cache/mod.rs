//! Redis, the derived and rebuildable layer: connections (one node or a cluster), the bitmap
//! calendar, Redlock and the waitlist index. Nothing here is the only copy of a fact — Postgres
//! is — so every function may fail without harming correctness, only speed.
//!
//! The server starts and answers `/healthz` while Redis is down; connections are opened lazily
//! and re-opened by the connection manager after a failure.

pub mod calendar;
pub mod redlock;
pub mod waitlist_index;

use std::time::Duration;

use redis::{
    Cmd, Pipeline, RedisFuture, Value,
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClient,
    cluster_async::ClusterConnection,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;

/// How long one Redis command may take before the caller treats Redis as unavailable.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where a Redis deployment lives.
#[derive(Debug, Clone)]
pub enum RedisTarget {
    /// One stand-alone node.
    Node(SecretString),
    /// A Redis Cluster, given by some of its nodes.
    Cluster(Vec<SecretString>),
}

/// A connection to a node or a cluster; cheap to clone (multiplexed).
#[derive(Clone)]
pub enum RedisConn {
    /// Auto-reconnecting multiplexed connection to one node.
    Node(ConnectionManager),
    /// Cluster connection routing each command by its key's slot.
    Cluster(ClusterConnection),
}

impl std::fmt::Debug for RedisConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RedisConn::Node(_) => "RedisConn::Node",
            RedisConn::Cluster(_) => "RedisConn::Cluster",
        })
    }
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Node(c) => c.req_packed_command(cmd),
            RedisConn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Node(c) => c.req_packed_commands(pipeline, offset, count),
            RedisConn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Node(c) => c.get_db(),
            RedisConn::Cluster(c) => c.get_db(),
        }
    }
}

/// A lazily connected Redis handle.
#[derive(Debug)]
pub struct RedisHandle {
    target: RedisTarget,
    connection: OnceCell<RedisConn>,
}

impl RedisHandle {
    /// Remembers where Redis is; validates the URLs but does not connect yet.
    pub fn new(target: RedisTarget) -> anyhow::Result<Self> {
        match &target {
            RedisTarget::Node(url) => {
                redis::Client::open(url.expose_secret())
                    .map_err(|e| anyhow::anyhow!("not a valid Redis URL: {e}"))?;
            }
            RedisTarget::Cluster(urls) => {
                ClusterClient::new(
                    urls.iter()
                        .map(|u| u.expose_secret().to_owned())
                        .collect::<Vec<String>>(),
                )
                .map_err(|e| anyhow::anyhow!("not a valid Redis Cluster node list: {e}"))?;
            }
        }
        Ok(Self {
            target,
            connection: OnceCell::new(),
        })
    }

    /// The shared connection, connecting on first use.
    pub async fn connection(&self) -> redis::RedisResult<RedisConn> {
        self.connection
            .get_or_try_init(|| async {
                match &self.target {
                    RedisTarget::Node(url) => {
                        let client = redis::Client::open(url.expose_secret())?;
                        let config = ConnectionManagerConfig::new()
                            .set_connection_timeout(Some(Duration::from_secs(1)))
                            .set_response_timeout(Some(RESPONSE_TIMEOUT))
                            .set_number_of_retries(2);
                        Ok(RedisConn::Node(
                            ConnectionManager::new_with_config(client, config).await?,
                        ))
                    }
                    RedisTarget::Cluster(urls) => {
                        let client = redis::cluster::ClusterClientBuilder::new(
                            urls.iter().map(|u| u.expose_secret().to_owned()),
                        )
                        .connection_timeout(Duration::from_secs(1))
                        .response_timeout(RESPONSE_TIMEOUT)
                        .build()?;
                        Ok(RedisConn::Cluster(client.get_async_connection().await?))
                    }
                }
            })
            .await
            .cloned()
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

/// The server's Redis layer: the main deployment (calendar, waitlist) and the key prefix.
#[derive(Debug)]
pub struct Cache {
    /// Calendar bitmaps and waitlist index live here.
    pub main: RedisHandle,
    /// Prepended to every key (isolates tenants and tests).
    pub key_prefix: String,
}

impl Cache {
    /// The Redlock key of one asset: `lock:{SKU:asset}` (one hash slot with its calendar keys).
    pub fn asset_lock_key(&self, sku_code: &str, asset: uuid::Uuid) -> String {
        format!("{}lock:{{{sku_code}:{asset}}}", self.key_prefix)
    }

    /// True when the main deployment answers PING.
    pub async fn ping(&self) -> bool {
        self.main.ping().await
    }
}
