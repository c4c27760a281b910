//! The Redis calendar as a projection of Postgres: committed occupancy changes are written to it
//! with their asset's calendar version, so a late or repeated write never undoes a newer one, and
//! an asset whose stored version shows a missing change is rebuilt from Postgres on the spot.
//!
//! Writes happen after commit and may fail (Redis down, a timeout). A stale bit then lives until
//! the first of: the asset's next change (its version shows the gap and the asset is rebuilt), a
//! booking attempt that the calendar and Postgres disagree on (rebuilt on the spot), or the
//! periodic reconcile (`SENTRA_RECONCILE_INTERVAL_SECS`). Jobs and booking decisions never read
//! these bits as the truth.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use futures_util::future::join_all;
use sqlx::PgPool;
use uuid::Uuid;

use super::reconcile::{self, CalendarWindow, ReconcileReport};
use crate::cache::{
    Cache, RedisConn,
    calendar::{Applied, AssetCalendar, OccupancyChange, SkuDays},
};

/// A committed change of one asset's occupancy, with the names of its Redis keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetChange {
    pub asset_id: Uuid,
    pub sku_code: String,
    /// The asset's bit in its SKU's day bitmaps.
    pub sku_ordinal: i32,
    pub change: OccupancyChange,
}

/// Writes changes into the calendar and rebuilds it from Postgres.
#[derive(Debug, Clone)]
pub struct Projection {
    db: PgPool,
    cache: Arc<Cache>,
    window: CalendarWindow,
    /// Assets being rebuilt in the background: one rebuild per asset at a time, however many
    /// attempts notice the same stale bits.
    repairing: Arc<Mutex<HashSet<Uuid>>>,
}

impl Projection {
    /// A projection of `db` into `cache` over `window`.
    pub fn new(db: PgPool, cache: Arc<Cache>, window: CalendarWindow) -> Self {
        Self {
            db,
            cache,
            window,
            repairing: Arc::default(),
        }
    }

    /// The Redis layer.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The days the calendar covers.
    pub fn window(&self) -> CalendarWindow {
        self.window
    }

    /// Writes committed changes (best effort: see the module doc for how misses are repaired).
    pub async fn publish(&self, changes: &[AssetChange]) {
        if changes.is_empty() {
            return;
        }
        let conn = match self.cache.main.connection().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "calendar unreachable after commit; the reconciler will catch up");
                return;
            }
        };
        join_all(changes.iter().map(|c| self.publish_one(conn.clone(), c))).await;
    }

    async fn publish_one(&self, mut conn: RedisConn, change: &AssetChange) {
        let calendar =
            AssetCalendar::new(&self.cache.key_prefix, &change.sku_code, change.asset_id);
        let days = SkuDays::new(&self.cache.key_prefix, &change.sku_code);
        let ordinal = u32::try_from(change.sku_ordinal).unwrap_or(0);
        let mut index_conn = conn.clone();
        let (months, index) = tokio::join!(
            calendar.apply(&mut conn, &change.change),
            days.apply(&mut index_conn, ordinal, &change.change)
        );
        let mut gap = false;
        for outcome in [months, index] {
            match outcome {
                Ok(Applied::Gap) => gap = true,
                Ok(Applied::Applied | Applied::AlreadyReflected) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "writing calendar bits failed; the reconciler will");
                }
            }
        }
        if gap {
            tracing::info!(asset = %change.asset_id, "calendar missed a change; rebuilding the asset");
            self.repair(change.asset_id).await;
        }
    }

    /// Rebuilds one asset's calendar from Postgres.
    pub async fn repair(&self, asset: Uuid) {
        if let Err(e) = reconcile::rebuild(&self.db, &self.cache, self.window, Some(&[asset])).await
        {
            tracing::warn!(error = %e, "repairing the calendar failed; the periodic reconciler will");
        }
    }

    /// Rebuilds one asset's calendar in the background (the caller does not wait for Redis),
    /// unless a rebuild of it is already running.
    pub fn repair_in_background(&self, asset: Uuid) {
        let Ok(mut repairing) = self.repairing.lock() else {
            return;
        };
        if !repairing.insert(asset) {
            return;
        }
        drop(repairing);
        let projection = self.clone();
        tokio::spawn(async move {
            // Removed however the task ends, so a failed rebuild can be tried again.
            let _done = RepairDone(projection.repairing.clone(), asset);
            projection.repair(asset).await;
        });
    }

    /// Rebuilds every asset's calendar.
    pub async fn rebuild_all(&self) -> anyhow::Result<ReconcileReport> {
        reconcile::rebuild(&self.db, &self.cache, self.window, None).await
    }
}

/// Takes an asset off the set of running repairs when dropped.
struct RepairDone(Arc<Mutex<HashSet<Uuid>>>, Uuid);

impl Drop for RepairDone {
    fn drop(&mut self) {
        if let Ok(mut repairing) = self.0.lock() {
            repairing.remove(&self.1);
        }
    }
}
