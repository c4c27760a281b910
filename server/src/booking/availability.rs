//! Availability search: which units of a SKU are free for a date range (in one branch or all),
//! and a SKU's month calendar (sold out / partly free / free per day).
//!
//! Answered from Redis: the per-SKU day bitmaps (bit n = the asset with ordinal n is occupied
//! that day) for the days asked, OR-ed together client-side — a handful of small reads, whatever
//! the fleet size, and no long script blocking Redis. The fleet list (ordinal → asset) is cached
//! in process and reloaded when the SKU's `fleet_version` changes. If Redis cannot answer, the
//! same question goes to Postgres (GiST index of the exclusion constraint).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::NaiveDate;
use sqlx::PgPool;
use tokio::sync::RwLock;
use uuid::Uuid;

use super::projection::Projection;
use crate::cache::calendar::{SkuDays, bit_is_set};

/// One unit of a SKU's fleet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FleetAsset {
    pub id: Uuid,
    pub sku_ordinal: i32,
    pub branch_id: Uuid,
    pub branch_code: String,
    pub plate_or_serial: String,
    pub status: String,
}

/// A SKU's fleet as of `version`.
#[derive(Debug)]
pub struct Fleet {
    pub sku_id: Uuid,
    pub sku_code: String,
    pub buffer_days: i32,
    pub version: i64,
    pub assets: Vec<FleetAsset>,
}

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("unknown SKU")]
    UnknownSku,
    #[error("unknown branch")]
    UnknownBranch,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A cached fleet and when its version was last checked.
type CachedFleet = (Instant, Arc<Fleet>);

/// The plain Postgres search: free active units of SKU $1 (in branch $2, or any) for the
/// occupied days `[$3, $4)`, one anti-join probing the exclusion constraint's index per asset.
pub const PLAIN_SEARCH: &str = "SELECT a.id FROM assets a WHERE a.sku_id = $1 AND a.status = 'active' \
       AND ($2::uuid IS NULL OR a.home_branch_id = $2) \
       AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.asset_id = a.id \
           AND b.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') \
           AND b.occupied && daterange($3, $4, '[)')) \
     ORDER BY a.sku_ordinal";

/// How often a cached fleet's version is checked against Postgres.
const RECHECK: Duration = Duration::from_secs(1);

/// A search's answer: the fleet and the indexes (into `fleet.assets`) of the free units.
#[derive(Debug)]
pub struct FreeUnits {
    pub fleet: Arc<Fleet>,
    pub free: Vec<usize>,
    pub source: Source,
}

impl FreeUnits {
    /// The free units.
    pub fn assets(&self) -> impl Iterator<Item = &FleetAsset> {
        self.free.iter().map(|&i| &self.fleet.assets[i])
    }
}

/// How a search was answered (for tests and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Redis,
    Postgres,
}

/// Availability search with its fleet cache.
#[derive(Debug, Clone)]
pub struct Availability {
    db: PgPool,
    /// The calendar (its Redis layer, and the rebuild when it is missing).
    projection: Projection,
    /// Fleets by SKU code, with when their version was last checked against Postgres.
    fleets: Arc<RwLock<HashMap<String, CachedFleet>>>,
    /// Held while a rebuild triggered by a search runs, so a burst of searches starts one.
    rebuilding: Arc<tokio::sync::Mutex<()>>,
}

impl Availability {
    /// A searcher over `db` and `cache`.
    pub fn new(db: PgPool, projection: Projection) -> Self {
        Self {
            db,
            projection,
            fleets: Arc::default(),
            rebuilding: Arc::default(),
        }
    }

    /// The SKU's fleet, from the cache when its version is current. The version is checked at
    /// most every [`RECHECK`], so a fleet change shows in searches within that time.
    pub async fn fleet(&self, sku_code: &str) -> Result<Arc<Fleet>, SearchError> {
        if let Some((checked, fleet)) = self.fleets.read().await.get(sku_code)
            && checked.elapsed() < RECHECK
        {
            return Ok(fleet.clone());
        }
        let head: Option<(Uuid, i64, i32)> = sqlx::query_as(
            "SELECT id, fleet_version, turnaround_buffer_days FROM skus WHERE code = $1",
        )
        .bind(sku_code)
        .fetch_optional(&self.db)
        .await?;
        let (sku_id, version, buffer_days) = head.ok_or(SearchError::UnknownSku)?;
        if let Some((checked, fleet)) = self.fleets.write().await.get_mut(sku_code)
            && fleet.version == version
        {
            *checked = Instant::now();
            return Ok(fleet.clone());
        }
        let assets: Vec<FleetAsset> = sqlx::query_as(
            "SELECT a.id, a.sku_ordinal, a.home_branch_id AS branch_id, b.code AS branch_code, \
                    a.plate_or_serial, a.status \
             FROM assets a JOIN branches b ON b.id = a.home_branch_id WHERE a.sku_id = $1 ORDER BY a.sku_ordinal",
        )
        .bind(sku_id)
        .fetch_all(&self.db)
        .await?;
        let fleet = Arc::new(Fleet {
            sku_id,
            sku_code: sku_code.to_owned(),
            buffer_days,
            version,
            assets,
        });
        self.fleets
            .write()
            .await
            .insert(sku_code.to_owned(), (Instant::now(), fleet.clone()));
        Ok(fleet)
    }

    /// Active units of `sku_code` (in `branch_code`, or any branch) free for a rental
    /// `[start, end)`, including the SKU's turnaround buffer after it.
    pub async fn free_assets(
        &self,
        sku_code: &str,
        branch_code: Option<&str>,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<FreeUnits, SearchError> {
        self.search(sku_code, branch_code, start, end, true).await
    }

    /// The same answer from Postgres alone (the cached fleet and one range scan of the bookings):
    /// what search falls back to, and the strongest Postgres-only baseline of the benchmark.
    pub async fn free_assets_in_postgres(
        &self,
        sku_code: &str,
        branch_code: Option<&str>,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<FreeUnits, SearchError> {
        self.search(sku_code, branch_code, start, end, false).await
    }

    async fn search(
        &self,
        sku_code: &str,
        branch_code: Option<&str>,
        start: NaiveDate,
        end: NaiveDate,
        use_redis: bool,
    ) -> Result<FreeUnits, SearchError> {
        let fleet = self.fleet(sku_code).await?;
        if let Some(code) = branch_code
            && !fleet.assets.iter().any(|a| a.branch_code == code)
            && !self.branch_exists(code).await?
        {
            return Err(SearchError::UnknownBranch);
        }
        let blocked_until = end + chrono::Days::new(u64::try_from(fleet.buffer_days).unwrap_or(0));
        let candidates = fleet.assets.iter().enumerate().filter(|(_, a)| {
            a.status == "active" && branch_code.is_none_or(|code| a.branch_code == code)
        });
        let from_redis = if use_redis {
            self.occupied_union(&fleet.sku_code, start, blocked_until)
                .await
        } else {
            Ok(None)
        };
        let (free, source) = match from_redis {
            Ok(Some(union)) => {
                let free = candidates
                    .filter(|(_, a)| !bit_is_set(&union, u32::try_from(a.sku_ordinal).unwrap_or(0)))
                    .map(|(i, _)| i)
                    .collect();
                (free, Source::Redis)
            }
            unbuilt_or_failed => {
                match unbuilt_or_failed {
                    Err(e) => {
                        tracing::warn!(error = %e, "availability from Redis failed; asking Postgres");
                    }
                    Ok(_) if use_redis => self.rebuild_in_background(),
                    Ok(_) => {}
                }
                let taken = self
                    .taken_in_postgres(fleet.sku_id, start, blocked_until)
                    .await?;
                let free = candidates
                    .filter(|(_, a)| !taken.contains(&a.id))
                    .map(|(i, _)| i)
                    .collect();
                (free, Source::Postgres)
            }
        };
        Ok(FreeUnits {
            fleet,
            free,
            source,
        })
    }

    /// The plain Postgres answer: one anti-join probing the exclusion constraint's index per
    /// asset (the benchmark's simplest baseline).
    pub async fn free_assets_postgres(
        &self,
        sku_id: Uuid,
        branch_id: Option<Uuid>,
        start: NaiveDate,
        blocked_until: NaiveDate,
    ) -> sqlx::Result<Vec<Uuid>> {
        sqlx::query_scalar(PLAIN_SEARCH)
            .bind(sku_id)
            .bind(branch_id)
            .bind(start)
            .bind(blocked_until)
            .fetch_all(&self.db)
            .await
    }

    /// Per day of `[first, end)`: (free units, rentable units), for the SKU month calendar. A
    /// day counts a unit free when it is not occupied that day (buffer days included).
    pub async fn day_counts(
        &self,
        sku_code: &str,
        branch_code: Option<&str>,
        first: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<(NaiveDate, usize, usize)>, SearchError> {
        let fleet = self.fleet(sku_code).await?;
        if let Some(code) = branch_code
            && !self.branch_exists(code).await?
        {
            return Err(SearchError::UnknownBranch);
        }
        let rentable: Vec<&FleetAsset> = fleet
            .assets
            .iter()
            .filter(|a| {
                a.status == "active" && branch_code.is_none_or(|code| a.branch_code == code)
            })
            .collect();
        let index = SkuDays::new(&self.projection.cache().key_prefix, &fleet.sku_code);
        let bitmaps = match self.projection.cache().main.connection().await {
            Ok(mut conn) => index.read(&mut conn, first, end).await.ok().flatten(),
            Err(_) => None,
        };
        if bitmaps.is_none() {
            self.rebuild_in_background();
        }
        let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d < end).collect();
        let mut counts = Vec::with_capacity(days.len());
        for (i, day) in days.iter().enumerate() {
            let free = if let Some(bitmaps) = &bitmaps {
                let bitmap = &bitmaps[i];
                rentable
                    .iter()
                    .filter(|a| !bit_is_set(bitmap, u32::try_from(a.sku_ordinal).unwrap_or(0)))
                    .count()
            } else {
                let taken = self
                    .taken_in_postgres(fleet.sku_id, *day, *day + chrono::Days::new(1))
                    .await?;
                rentable.iter().filter(|a| !taken.contains(&a.id)).count()
            };
            counts.push((*day, free, rentable.len()));
        }
        Ok(counts)
    }

    /// Rebuilds the calendar now (one rebuild at a time), after Redis was found without it.
    fn rebuild_in_background(&self) {
        let Ok(guard) = self.rebuilding.clone().try_lock_owned() else {
            return;
        };
        let projection = self.projection.clone();
        tokio::spawn(async move {
            if let Err(e) = projection.rebuild_all().await {
                tracing::warn!(error = %e, "calendar rebuild failed");
            }
            drop(guard);
        });
    }

    async fn occupied_union(
        &self,
        sku_code: &str,
        start: NaiveDate,
        end: NaiveDate,
    ) -> redis::RedisResult<Option<Vec<u8>>> {
        let mut conn = self.projection.cache().main.connection().await?;
        let Some(days) = SkuDays::new(&self.projection.cache().key_prefix, sku_code)
            .read(&mut conn, start, end)
            .await?
        else {
            return Ok(None);
        };
        let mut union: Vec<u8> = Vec::new();
        for day in days {
            if union.len() < day.len() {
                union.resize(day.len(), 0);
            }
            for (acc, byte) in union.iter_mut().zip(day) {
                *acc |= byte;
            }
        }
        Ok(Some(union))
    }

    async fn taken_in_postgres(
        &self,
        sku_id: Uuid,
        start: NaiveDate,
        end: NaiveDate,
    ) -> sqlx::Result<std::collections::HashSet<Uuid>> {
        let taken: Vec<Uuid> = sqlx::query_scalar(
            "SELECT DISTINCT b.asset_id FROM bookings b JOIN assets a ON a.id = b.asset_id \
             WHERE a.sku_id = $1 AND b.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') \
               AND b.occupied && daterange($2, $3, '[)')",
        )
        .bind(sku_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.db)
        .await?;
        Ok(taken.into_iter().collect())
    }

    async fn branch_exists(&self, code: &str) -> sqlx::Result<bool> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM branches WHERE code = $1)")
            .bind(code)
            .fetch_one(&self.db)
            .await
    }
}
