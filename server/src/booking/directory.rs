//! A short-lived in-process cache of what a booking attempt needs to know about an asset before
//! it asks Redis (its SKU code, buffer days, branch time zone, status). It keeps the fast
//! "already taken" answer free of Postgres round trips. Nothing that decides a booking reads it:
//! the transaction works from a fresh row.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::sync::RwLock;
use uuid::Uuid;

use super::repo::{self, AssetContext};

/// How long a cached asset is trusted for the fast path.
const TTL: Duration = Duration::from_secs(30);

/// A cached asset and when it was read.
type CachedAsset = (Instant, Arc<AssetContext>);

/// The cache.
#[derive(Debug, Default, Clone)]
pub struct AssetDirectory {
    entries: Arc<RwLock<HashMap<Uuid, CachedAsset>>>,
}

impl AssetDirectory {
    /// The asset, from the cache when fresh enough, else from Postgres. The flag says whether
    /// it was just read from Postgres (then it may serve the transaction as it is).
    pub async fn get(
        &self,
        db: &PgPool,
        asset: Uuid,
    ) -> sqlx::Result<Option<(Arc<AssetContext>, bool)>> {
        if let Some((at, context)) = self.entries.read().await.get(&asset)
            && at.elapsed() < TTL
        {
            return Ok(Some((context.clone(), false)));
        }
        Ok(self.reload(db, asset).await?.map(|context| (context, true)))
    }

    /// The asset read from Postgres now (and cached from now on).
    pub async fn reload(
        &self,
        db: &PgPool,
        asset: Uuid,
    ) -> sqlx::Result<Option<Arc<AssetContext>>> {
        let Some(context) = repo::asset_context(db, asset).await? else {
            self.entries.write().await.remove(&asset);
            return Ok(None);
        };
        let context = Arc::new(context);
        self.entries
            .write()
            .await
            .insert(asset, (Instant::now(), context.clone()));
        Ok(Some(context))
    }
}
