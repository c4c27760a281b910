//! Availability search: which units of a SKU are free for a date range (in one branch or all),
//! how many per branch, the SKU's month calendar, and the ranked candidates of a booking by SKU
//! (`assign` ranks them; Postgres decides each attempt).
//!
//! Answered from Redis: the per-SKU day bitmaps (bit n = the asset with ordinal n is occupied
//! that day) for the days asked, OR-ed together client-side — a handful of small reads, whatever
//! the fleet size, and no long script blocking Redis. The fleet list (ordinal → asset) is cached
//! in process and reloaded when the SKU's `fleet_version` changes. If Redis cannot answer, the
//! same question goes to Postgres (one range scan of the SKU's bookings).

use std::{collections::HashMap, sync::Arc, time::Instant};

use chrono::NaiveDate;
use sentra_domain::occupied_until;
use sqlx::PgPool;
use tokio::sync::RwLock;
use uuid::Uuid;

pub use super::candidates::Candidates;
pub use super::fleet::{BranchInfo, Fleet, FleetAsset, SkuHead};
use super::{fleet::FleetCache, projection::Projection};
use crate::cache::calendar::{SkuDays, bit_is_set};

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

/// Where to look: one branch or every branch, and where the customer is (nearest first).
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    pub branch: Option<&'a str>,
    /// Latitude, longitude.
    pub near: Option<(f64, f64)>,
    /// Only these branches (e.g. those where the dates are valid in the branch's time zone).
    pub within: Option<&'a std::collections::HashSet<Uuid>>,
}

/// The plain Postgres search: free active units of SKU $1 (in branch $2, or any) for the
/// occupied days `[$3, $4)`, one anti-join probing the exclusion constraint's index per asset.
pub const PLAIN_SEARCH: &str = "SELECT a.id FROM assets a WHERE a.sku_id = $1 AND a.status = 'active' \
       AND ($2::uuid IS NULL OR a.home_branch_id = $2) \
       AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.asset_id = a.id \
           AND b.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') \
           AND b.occupied && daterange($3, $4, '[)')) \
     ORDER BY a.sku_ordinal";

/// A search's answer: the fleet and the indexes (into `fleet.assets`) of the free units, in the
/// SKU's unit order.
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

    /// At most `limit` free units after the unit with ordinal `after`, and the ordinal to pass
    /// for the next page (absent on the last page).
    pub fn page(&self, after: Option<i32>, limit: usize) -> (Vec<&FleetAsset>, Option<i32>) {
        let mut rest = self
            .assets()
            .filter(|a| after.is_none_or(|after| a.sku_ordinal > after));
        let page: Vec<&FleetAsset> = rest.by_ref().take(limit).collect();
        let next = match rest.next() {
            Some(_) => page.last().map(|a| a.sku_ordinal),
            None => None,
        };
        (page, next)
    }
}

/// Free units in one branch.
#[derive(Debug, Clone)]
pub struct BranchCount {
    pub branch: BranchInfo,
    pub free_units: u32,
    pub distance_km: Option<f64>,
}

/// How a search was answered (for tests and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Redis,
    Postgres,
}

pub(super) type Cached<T> = Arc<RwLock<HashMap<Uuid, (Instant, Arc<T>)>>>;

/// Availability search with its fleet cache.
#[derive(Debug, Clone)]
pub struct Availability {
    pub(super) db: PgPool,
    /// The calendar (its Redis layer, and the rebuild when it is missing).
    pub(super) projection: Projection,
    /// Fleets and branches.
    fleets: FleetCache,
    /// Booked days of the last [`RECENT_USE_DAYS`] per unit, by SKU id.
    pub(super) recent_use: Cached<HashMap<Uuid, u32>>,
    /// Held while a rebuild triggered by a search runs, so a burst of searches starts one.
    rebuilding: Arc<tokio::sync::Mutex<()>>,
}

impl Availability {
    /// A searcher over `db` and `cache`.
    pub fn new(db: PgPool, projection: Projection) -> Self {
        Self {
            fleets: FleetCache::new(db.clone()),
            db,
            projection,
            recent_use: Arc::default(),
            rebuilding: Arc::default(),
        }
    }

    /// The SKU's fleet, from the cache when its version is current (checked at most every
    /// second).
    pub async fn fleet(&self, sku_code: &str) -> Result<Arc<Fleet>, SearchError> {
        self.fleets.fleet(sku_code).await
    }

    /// The SKU's fleet as Postgres has it now.
    pub async fn fleet_now(&self, sku_code: &str) -> Result<Arc<Fleet>, SearchError> {
        self.fleets.fleet_now(sku_code).await
    }

    /// Every branch (cached for a minute).
    pub async fn branches(&self) -> sqlx::Result<Arc<Vec<BranchInfo>>> {
        self.fleets.branches().await
    }

    /// Reads the branch list again (a branch newer than the cached list was seen).
    pub async fn refresh_branches(&self) -> sqlx::Result<Arc<Vec<BranchInfo>>> {
        self.fleets.refresh_branches().await
    }

    /// The branch with `code`.
    pub async fn branch(&self, code: &str) -> Result<BranchInfo, SearchError> {
        self.fleets.branch(code).await
    }

    /// Active units of `sku_code` (in `branch_code`, or any branch) free for a rental
    /// `[start, end)`, including the SKU's turnaround buffer after it.
    #[tracing::instrument(name = "availability.free_assets", skip_all)]
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
        {
            self.branch(code).await?;
        }
        let blocked_until = occupied_until(end, fleet.head.buffer_days);
        let candidates = fleet.assets.iter().enumerate().filter(|(_, a)| {
            a.status.is_rentable() && branch_code.is_none_or(|code| a.branch_code == code)
        });
        if candidates.clone().next().is_none() {
            // No unit in scope: nothing to read (and no calendar to build for a SKU without units).
            return Ok(FreeUnits {
                fleet,
                free: Vec::new(),
                source: Source::Postgres,
            });
        }
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

    /// Free units per branch of the search's scope: every branch with units of the SKU (free or
    /// not), nearest to `near` first, else by code.
    #[tracing::instrument(name = "availability.branch_counts", skip_all)]
    pub async fn branch_counts(
        &self,
        units: &FreeUnits,
        scope: Scope<'_>,
    ) -> sqlx::Result<Vec<BranchCount>> {
        let mut branches = self.branches().await?;
        if units
            .fleet
            .assets
            .iter()
            .any(|a| !branches.iter().any(|b| b.id == a.branch_id))
        {
            // A branch newer than the cached list: read it again.
            branches = self.fleets.refresh_branches().await?;
        }
        let mut counts: Vec<BranchCount> = branches
            .iter()
            .filter(|b| scope.branch.is_none_or(|code| b.code == code))
            .filter(|b| units.fleet.assets.iter().any(|a| a.branch_id == b.id))
            .map(|b| BranchCount {
                branch: b.clone(),
                free_units: u32::try_from(units.assets().filter(|a| a.branch_id == b.id).count())
                    .unwrap_or(u32::MAX),
                distance_km: scope.near.and_then(|point| b.distance_km(point)),
            })
            .collect();
        if scope.near.is_some() {
            counts.sort_by(|a, b| {
                let key = |c: &BranchCount| c.distance_km.unwrap_or(f64::MAX);
                key(a).total_cmp(&key(b))
            });
        }
        Ok(counts)
    }

    /// The SKU's day bitmaps for `[first, last)`; `None` when the calendar is not built.
    pub(super) async fn read_days(
        &self,
        sku_code: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> redis::RedisResult<Option<Vec<Vec<u8>>>> {
        let mut conn = self.projection.cache().main.connection().await?;
        SkuDays::new(&self.projection.cache().key_prefix, sku_code)
            .read(&mut conn, first, last)
            .await
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
    #[tracing::instrument(name = "availability.day_counts", skip_all)]
    pub async fn day_counts(
        &self,
        sku_code: &str,
        branch_code: Option<&str>,
        first: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<(NaiveDate, usize, usize)>, SearchError> {
        let fleet = self.fleet(sku_code).await?;
        if let Some(code) = branch_code {
            self.branch(code).await?;
        }
        let rentable: Vec<&FleetAsset> = fleet
            .assets
            .iter()
            .filter(|a| {
                a.status.is_rentable() && branch_code.is_none_or(|code| a.branch_code == code)
            })
            .collect();
        let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d < end).collect();
        if rentable.is_empty() {
            return Ok(days.into_iter().map(|d| (d, 0, 0)).collect());
        }
        let bitmaps = self
            .read_days(&fleet.sku_code, first, end)
            .await
            .ok()
            .flatten();
        if bitmaps.is_none() {
            self.rebuild_in_background();
        }
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
    pub(super) fn rebuild_in_background(&self) {
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
        let Some(days) = self.read_days(sku_code, start, end).await? else {
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
        let occupied = self.occupancy_in_postgres(sku_id, start, end).await?;
        Ok(occupied.into_keys().collect())
    }
}
