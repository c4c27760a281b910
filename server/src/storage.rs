//! Object storage for files too large or too sensitive for Postgres (identity documents, handover
//! photos), through the `object_store` crate: a local directory by default, S3 (or any
//! S3-compatible service) when `SENTRA_STORAGE_URL` is `s3://bucket/prefix`.
//!
//! This module stores bytes as given; callers encrypt personal data before it gets here.

use std::sync::Arc;

use anyhow::Context;
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, aws::AmazonS3Builder, local::LocalFileSystem,
    path::Path,
};
use secrecy::ExposeSecret;

use crate::config::StorageConfig;

/// A configured object store with its key prefix.
#[derive(Debug, Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    /// Human-readable location for logs (`s3://bucket/prefix` or the directory), never secrets.
    location: String,
}

impl Storage {
    /// Opens the store named by the configuration (creating a local directory if needed).
    pub fn open(config: &StorageConfig) -> anyhow::Result<Self> {
        if let Some(rest) = config.url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let mut builder = AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(&config.s3_region)
                .with_access_key_id(&config.s3_access_key_id)
                .with_secret_access_key(config.s3_secret_access_key.expose_secret());
            if !config.s3_endpoint.is_empty() {
                builder = builder
                    .with_endpoint(&config.s3_endpoint)
                    .with_allow_http(config.s3_endpoint.starts_with("http://"));
            }
            let store = builder
                .build()
                .context("SENTRA_STORAGE_URL: configuring S3")?;
            return Ok(Self {
                store: Arc::new(store),
                prefix: prefix.trim_matches('/').to_owned(),
                location: config.url.clone(),
            });
        }
        let dir = config.url.strip_prefix("file://").unwrap_or(&config.url);
        std::fs::create_dir_all(dir)
            .with_context(|| format!("SENTRA_STORAGE_URL: creating the directory {dir}"))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("SENTRA_STORAGE_URL: opening the directory {dir}"))?;
        Ok(Self {
            store: Arc::new(store),
            prefix: String::new(),
            location: dir.to_owned(),
        })
    }

    /// Where objects go, for logs.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn path(&self, key: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }

    /// Stores `bytes` under `key` (replacing any object there).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.store
            .put(&self.path(key), PutPayload::from(bytes))
            .await
            .with_context(|| format!("storing object {key}"))?;
        Ok(())
    }

    /// The object under `key`, or `None` when there is none.
    pub async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match self.store.get(&self.path(key)).await {
            Ok(result) => Ok(Some(
                result
                    .bytes()
                    .await
                    .with_context(|| format!("reading object {key}"))?
                    .to_vec(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading object {key}")),
        }
    }

    /// Deletes the object under `key`; deleting a missing object is not an error.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting object {key}")),
        }
    }

    /// Checks that the store answers (readiness): a missing object is a fine answer.
    pub async fn check(&self) -> anyhow::Result<()> {
        self.get("readiness-probe").await.map(|_| ())
    }
}
