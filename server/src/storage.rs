//! Object storage for files too large or too sensitive for Postgres (identity documents, handover
//! photos), through the `object_store` crate: a local directory by default, S3 (or any
//! S3-compatible service) when `SENTRA_STORAGE_URL` is `s3://bucket/prefix`.
//!
//! This module stores bytes as given; callers encrypt personal data before it gets here.

use std::sync::Arc;

use anyhow::Context;
use futures_util::StreamExt;
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart, aws::AmazonS3Builder,
    local::LocalFileSystem, path::Path, signer::Signer,
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
    /// The S3 client again, for presigned URLs (none for a local directory).
    signer: Option<Arc<dyn Signer>>,
}

/// A file being written in parts. Dropped without [`ObjectWriter::finish`], the upload is
/// aborted (in the background), so no half-written object is ever left under the key.
pub struct ObjectWriter {
    key: String,
    writer: Option<WriteMultipart>,
}

impl std::fmt::Debug for ObjectWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectWriter")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl ObjectWriter {
    /// Adds bytes (buffered into parts; waits while too many parts are in flight).
    pub async fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let writer = self
            .writer
            .as_mut()
            .context("the upload was already finished")?;
        writer
            .wait_for_capacity(4)
            .await
            .with_context(|| format!("storing object {}", self.key))?;
        writer.write(bytes);
        Ok(())
    }

    /// Completes the object: only now does it exist under its key.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        let writer = self
            .writer
            .take()
            .context("the upload was already finished")?;
        writer
            .finish()
            .await
            .with_context(|| format!("storing object {}", self.key))?;
        Ok(())
    }

    /// Abandons the object.
    pub async fn abort(mut self) {
        if let Some(writer) = self.writer.take()
            && let Err(e) = writer.abort().await
        {
            tracing::warn!(key = %self.key, error = %e, "aborting an upload failed");
        }
    }
}

impl Drop for ObjectWriter {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            let key = std::mem::take(&mut self.key);
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    if let Err(e) = writer.abort().await {
                        tracing::warn!(%key, error = %e, "aborting a dropped upload failed");
                    }
                });
            }
        }
    }
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
            let store = Arc::new(
                builder
                    .build()
                    .context("SENTRA_STORAGE_URL: configuring S3")?,
            );
            return Ok(Self {
                store: store.clone(),
                prefix: prefix.trim_matches('/').to_owned(),
                location: config.url.clone(),
                signer: Some(store),
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
            signer: None,
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

    /// Starts writing the object under `key` in parts (for bodies never held whole in memory).
    pub async fn writer(&self, key: &str) -> anyhow::Result<ObjectWriter> {
        let upload = self
            .store
            .put_multipart(&self.path(key))
            .await
            .with_context(|| format!("starting to store object {key}"))?;
        Ok(ObjectWriter {
            key: key.to_owned(),
            writer: Some(WriteMultipart::new(upload)),
        })
    }

    /// Reads the object under `key` as a stream, giving each chunk to `each` (e.g. a hasher),
    /// and answers its size; `None` when there is no such object.
    pub async fn read_each(
        &self,
        key: &str,
        mut each: impl FnMut(&[u8]),
    ) -> anyhow::Result<Option<u64>> {
        let result = match self.store.get(&self.path(key)).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading object {key}")),
        };
        let mut stream = result.into_stream();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.with_context(|| format!("reading object {key}"))?;
            size += chunk.len() as u64;
            each(&chunk);
        }
        Ok(Some(size))
    }

    /// A URL through which a client may `PUT` the object under `key` for `valid_for`, when the
    /// store is S3 (`None` for a local directory).
    pub async fn presigned_put(
        &self,
        key: &str,
        valid_for: std::time::Duration,
    ) -> anyhow::Result<Option<String>> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let url = signer
            .signed_url(axum::http::Method::PUT, &self.path(key), valid_for)
            .await
            .with_context(|| format!("presigning object {key}"))?;
        Ok(Some(url.to_string()))
    }

    /// The size of the object under `key`, or `None` when there is none (reads no bytes).
    pub async fn size(&self, key: &str) -> anyhow::Result<Option<u64>> {
        match self.store.head(&self.path(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading object {key}")),
        }
    }

    /// Copies the object under `from` to `to` (replacing any object there).
    pub async fn copy(&self, from: &str, to: &str) -> anyhow::Result<()> {
        self.store
            .copy(&self.path(from), &self.path(to))
            .await
            .with_context(|| format!("copying object {from} to {to}"))
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
