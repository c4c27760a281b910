//! The periodic reconcile: incremental ticks (only the assets whose Postgres calendar version
//! moved since the last tick) with a full comparison every [`FULL_EVERY`] ticks and whenever an
//! index is missing in Redis; each tick's duration goes to `/metrics`.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::{CalendarWindow, ReconcileReport, rebuild};
use crate::cache::{Cache, calendar::SkuDays};

/// Ticks between two full comparisons (the others are incremental).
pub const FULL_EVERY: u64 = 12;

/// What a reconcile tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickKind {
    /// Compared every asset with Redis.
    Full,
    /// Rewrote only the assets whose Postgres version moved since the last tick.
    Incremental,
}

impl TickKind {
    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            TickKind::Full => "full",
            TickKind::Incremental => "incremental",
        }
    }
}

/// The periodic reconcile, remembering each asset's calendar version as of its last tick.
#[derive(Debug)]
pub struct Reconciler {
    db: PgPool,
    cache: std::sync::Arc<Cache>,
    window: CalendarWindow,
    /// Calendar versions Postgres had at the last tick; `None` before the first (full) one.
    seen: Option<HashMap<Uuid, i64>>,
    /// Incremental ticks since the last full one that succeeded.
    since_full: u64,
}

impl Reconciler {
    /// A reconciler whose first tick is a full one.
    pub fn new(db: PgPool, cache: std::sync::Arc<Cache>, window: CalendarWindow) -> Self {
        Self {
            db,
            cache,
            window,
            seen: None,
            since_full: 0,
        }
    }

    /// One tick: full on the first, after [`FULL_EVERY`]` - 1` incremental ones (a full tick
    /// that fails stays owed) and when an index is missing; otherwise only the assets whose
    /// version moved.
    pub async fn tick(&mut self) -> anyhow::Result<(TickKind, ReconcileReport)> {
        let versions: HashMap<Uuid, i64> =
            sqlx::query_as("SELECT id, calendar_version FROM assets")
                .fetch_all(&self.db)
                .await?
                .into_iter()
                .collect();
        let full = self.seen.is_none()
            || self.since_full + 1 >= FULL_EVERY
            || self.an_index_is_missing().await?;
        if full {
            let report = rebuild(&self.db, &self.cache, self.window, None).await?;
            self.seen = Some(versions);
            self.since_full = 0;
            return Ok((TickKind::Full, report));
        }
        self.since_full += 1;
        let seen = self.seen.get_or_insert_with(HashMap::new);
        let moved: Vec<Uuid> = versions
            .iter()
            .filter(|(id, version)| seen.get(*id) != Some(*version))
            .map(|(id, _)| *id)
            .collect();
        let mut report = ReconcileReport::default();
        if !moved.is_empty() {
            report = rebuild(&self.db, &self.cache, self.window, Some(&moved)).await?;
        }
        // Only after the rewrite succeeded: a failed tick retries the same assets.
        *seen = versions;
        Ok((TickKind::Incremental, report))
    }

    /// Whether some SKU with units has no built day index in Redis.
    async fn an_index_is_missing(&self) -> anyhow::Result<bool> {
        let skus: Vec<String> = sqlx::query_scalar(
            "SELECT s.code FROM skus s WHERE EXISTS (SELECT 1 FROM assets a WHERE a.sku_id = s.id)",
        )
        .fetch_all(&self.db)
        .await?;
        if skus.is_empty() {
            return Ok(false);
        }
        let keys: Vec<String> = skus
            .iter()
            .map(|sku| SkuDays::new(&self.cache.key_prefix, sku).built_key())
            .collect();
        let mut conn = self.cache.main.connection().await?;
        let built: Vec<Option<String>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut conn).await?;
        Ok(built.iter().any(Option::is_none))
    }
}

/// Rebuilds everything at start, then reconciles every `interval`, recording each tick's
/// duration in `metrics`.
pub async fn run(
    db: PgPool,
    cache: std::sync::Arc<Cache>,
    window: CalendarWindow,
    interval: std::time::Duration,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) {
    let mut reconciler = Reconciler::new(db, cache, window);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let started = std::time::Instant::now();
        match reconciler.tick().await {
            Ok((kind, report)) => {
                metrics.reconcile_done(kind.as_str(), started.elapsed(), report.keys_repaired);
                if report.keys_repaired > 0 {
                    tracing::info!(
                        kind = kind.as_str(),
                        assets = report.assets,
                        repaired = report.keys_repaired,
                        "calendar drift repaired"
                    );
                }
            }
            Err(e) => {
                metrics.reconcile_done("failed", started.elapsed(), 0);
                tracing::warn!(error = %e, "calendar reconcile failed; retrying next tick");
            }
        }
    }
}
