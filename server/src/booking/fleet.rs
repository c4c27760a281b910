//! The in-process cache of what search reads on every request: each SKU's fleet (ordinal →
//! unit, reloaded when the SKU's `fleet_version` moves, checked at most every second) with the
//! SKU's terms, and the branch list (re-read every minute, or when a code is not found).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::sync::RwLock;
use uuid::Uuid;

use sentra_domain::{AssetStatus, BranchTimeZone};

use super::{assign, availability::SearchError};

/// One unit of a SKU's fleet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FleetAsset {
    pub id: Uuid,
    pub sku_ordinal: i32,
    pub branch_id: Uuid,
    pub branch_code: String,
    pub plate_or_serial: String,
    #[sqlx(try_from = "String")]
    pub status: AssetStatus,
}

impl FleetAsset {
    /// The unit as staff see it in a list of free units.
    pub fn to_free_asset(&self) -> sentra_protocol::FreeAsset {
        sentra_protocol::FreeAsset {
            asset_id: self.id,
            plate_or_serial: self.plate_or_serial.clone(),
            branch_id: self.branch_id,
            branch_code: self.branch_code.clone(),
        }
    }
}

/// A SKU as search and pricing need it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SkuHead {
    pub id: Uuid,
    pub name: String,
    #[sqlx(rename = "turnaround_buffer_days")]
    pub buffer_days: i32,
    pub daily_rate_idr: i64,
    pub deposit_idr: i64,
    #[sqlx(rename = "fleet_version")]
    pub version: i64,
}

/// A SKU's fleet as of `head.version`, with the SKU's terms.
#[derive(Debug)]
pub struct Fleet {
    pub sku_id: Uuid,
    pub sku_code: String,
    pub head: SkuHead,
    pub assets: Vec<FleetAsset>,
}

/// A branch as search shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BranchInfo {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub time_zone: BranchTimeZone,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl BranchInfo {
    /// Kilometres from `point`, when the branch has a location.
    pub fn distance_km(&self, point: (f64, f64)) -> Option<f64> {
        Some(assign::distance_km(
            (self.latitude?, self.longitude?),
            point,
        ))
    }
}

/// A cached fleet and when its version was last checked.
type CachedFleet = (Instant, Arc<Fleet>);

/// The branch list and when it was read.
type CachedBranches = Option<(Instant, Arc<Vec<BranchInfo>>)>;

/// How often a cached fleet's version is checked against Postgres.
const RECHECK: Duration = Duration::from_secs(1);

/// How long the branch list is kept.
const BRANCHES_KEPT: Duration = Duration::from_mins(1);

/// Fleets by SKU code and the branch list.
#[derive(Debug, Clone)]
pub struct FleetCache {
    db: PgPool,
    /// Fleets by SKU code, with when their version was last checked against Postgres.
    fleets: Arc<RwLock<HashMap<String, CachedFleet>>>,
    /// Every branch, with when it was read.
    branches: Arc<RwLock<CachedBranches>>,
}

impl FleetCache {
    /// An empty cache over `db`.
    pub fn new(db: PgPool) -> Self {
        Self {
            db,
            fleets: Arc::default(),
            branches: Arc::default(),
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
        self.fleet_now(sku_code).await
    }

    /// The SKU's fleet as Postgres has it now (the cached list when its version is current).
    pub async fn fleet_now(&self, sku_code: &str) -> Result<Arc<Fleet>, SearchError> {
        let head: SkuHead = sqlx::query_as(
            "SELECT id, name, turnaround_buffer_days, daily_rate_idr, deposit_idr, fleet_version \
             FROM skus WHERE code = $1",
        )
        .bind(sku_code)
        .fetch_optional(&self.db)
        .await?
        .ok_or(SearchError::UnknownSku)?;
        let mut fleets = self.fleets.write().await;
        if let Some((checked, fleet)) = fleets.get_mut(sku_code)
            && fleet.head.version == head.version
        {
            *checked = Instant::now();
            if fleet.head != head {
                // Price, name or buffer changed: same units, new terms.
                *fleet = Arc::new(Fleet {
                    head,
                    sku_id: fleet.sku_id,
                    sku_code: fleet.sku_code.clone(),
                    assets: fleet.assets.clone(),
                });
            }
            return Ok(fleet.clone());
        }
        drop(fleets);
        let assets: Vec<FleetAsset> = sqlx::query_as(
            "SELECT a.id, a.sku_ordinal, a.home_branch_id AS branch_id, b.code AS branch_code, \
                    a.plate_or_serial, a.status \
             FROM assets a JOIN branches b ON b.id = a.home_branch_id WHERE a.sku_id = $1 ORDER BY a.sku_ordinal",
        )
        .bind(head.id)
        .fetch_all(&self.db)
        .await?;
        let fleet = Arc::new(Fleet {
            sku_id: head.id,
            sku_code: sku_code.to_owned(),
            head,
            assets,
        });
        self.fleets
            .write()
            .await
            .insert(sku_code.to_owned(), (Instant::now(), fleet.clone()));
        Ok(fleet)
    }

    /// Every branch (cached for a minute; re-read when a code is not found).
    pub async fn branches(&self) -> sqlx::Result<Arc<Vec<BranchInfo>>> {
        if let Some((read, branches)) = self.branches.read().await.as_ref()
            && read.elapsed() < BRANCHES_KEPT
        {
            return Ok(branches.clone());
        }
        self.refresh_branches().await
    }

    /// Reads the branch list again.
    pub async fn refresh_branches(&self) -> sqlx::Result<Arc<Vec<BranchInfo>>> {
        let branches: Vec<BranchInfo> = sqlx::query_as(
            "SELECT id, code, name, time_zone, latitude, longitude FROM branches ORDER BY code",
        )
        .fetch_all(&self.db)
        .await?;
        let branches = Arc::new(branches);
        *self.branches.write().await = Some((Instant::now(), branches.clone()));
        Ok(branches)
    }

    /// The branch with `code`.
    pub async fn branch(&self, code: &str) -> Result<BranchInfo, SearchError> {
        if let Some(branch) = self.branches().await?.iter().find(|b| b.code == code) {
            return Ok(branch.clone());
        }
        self.refresh_branches()
            .await?
            .iter()
            .find(|b| b.code == code)
            .cloned()
            .ok_or(SearchError::UnknownBranch)
    }
}
