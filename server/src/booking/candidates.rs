//! The candidates of a booking by SKU: the units free for the whole rental (buffer included),
//! ranked by `assign` (nearest branch, best fit, least recent use). Read from the Redis calendar,
//! or from Postgres alone when asked to be fresh (jobs, and before "sold out" is answered).

use std::{collections::HashMap, sync::Arc, time::Instant};

use chrono::NaiveDate;
use sentra_domain::occupied_until;
use uuid::Uuid;

use super::{
    assign::{self, Around, Fit, LOOK_DAYS, Rank},
    availability::{Availability, Fleet, FleetAsset, Scope, SearchError, Source},
};
use crate::cache::calendar::bit_is_set;

/// How long the units' recent use is kept.
const RECENT_USE_KEPT: std::time::Duration = std::time::Duration::from_mins(1);

/// How far back "recently used" looks, in days.
const RECENT_USE_DAYS: u64 = 90;

/// The units a booking by SKU tries, best first (indexes into `fleet.assets`), at most the
/// number asked for.
#[derive(Debug)]
pub struct Candidates {
    pub fleet: Arc<Fleet>,
    pub order: Vec<usize>,
    pub source: Source,
    /// From the calendar: the rental's days OR-ed (bit = SKU ordinal set when taken there).
    pub calendar_taken: Option<Vec<u8>>,
}

impl Candidates {
    /// Whether the calendar read for these candidates had `asset` taken on the rental's days.
    pub fn calendar_said_taken(&self, asset: &FleetAsset) -> bool {
        self.calendar_taken
            .as_deref()
            .is_some_and(|union| bit_is_set(union, ordinal(asset)))
    }
}

/// Who is occupied on which day of a window starting at `first`.
enum Grid {
    /// One bitmap per day, bit = SKU ordinal (the Redis calendar).
    Bitmaps(Vec<Vec<u8>>),
    /// Occupied ranges `[start, end)` per asset (Postgres).
    Ranges(HashMap<Uuid, Vec<(NaiveDate, NaiveDate)>>),
}

fn ordinal(asset: &FleetAsset) -> u32 {
    u32::try_from(asset.sku_ordinal).unwrap_or(0)
}

impl Grid {
    fn taken(&self, asset: &FleetAsset, first: NaiveDate, day: usize) -> bool {
        match self {
            Grid::Bitmaps(days) => days
                .get(day)
                .is_some_and(|bitmap| bit_is_set(bitmap, ordinal(asset))),
            Grid::Ranges(ranges) => {
                let date = first + chrono::Days::new(day as u64);
                ranges
                    .get(&asset.id)
                    .is_some_and(|r| r.iter().any(|(s, e)| *s <= date && date < *e))
            }
        }
    }

    /// The bitmaps of days `[from, to)` OR-ed together (`None` for Postgres ranges).
    fn union(&self, from: usize, to: usize) -> Option<Vec<u8>> {
        let Grid::Bitmaps(days) = self else {
            return None;
        };
        let mut union: Vec<u8> = Vec::new();
        for day in days.get(from..to).unwrap_or_default() {
            if union.len() < day.len() {
                union.resize(day.len(), 0);
            }
            for (acc, byte) in union.iter_mut().zip(day) {
                *acc |= byte;
            }
        }
        Some(union)
    }
}

impl Availability {
    /// The best `limit` units a booking by SKU should try for the rental `[start, end)`, best
    /// first (see [`assign`]). `today` holds each branch's local date (the days before it are
    /// never free). `fresh` reads Postgres only (the fleet's current version and its bookings):
    /// for jobs, and before anyone is told "sold out". Otherwise the Redis calendar answers, and
    /// Postgres when Redis cannot.
    #[expect(clippy::too_many_arguments, reason = "one question with its parts")]
    pub async fn candidates(
        &self,
        sku_code: &str,
        scope: Scope<'_>,
        start: NaiveDate,
        end: NaiveDate,
        today: &HashMap<Uuid, NaiveDate>,
        fresh: bool,
        limit: usize,
    ) -> Result<Candidates, SearchError> {
        let fleet = if fresh {
            self.fleet_now(sku_code).await?
        } else {
            self.fleet(sku_code).await?
        };
        if let Some(code) = scope.branch {
            self.branch(code).await?;
        }
        let in_scope: Vec<(usize, &FleetAsset)> = fleet
            .assets
            .iter()
            .enumerate()
            .filter(|(_, a)| a.status.is_rentable())
            .filter(|(_, a)| scope.branch.is_none_or(|code| a.branch_code == code))
            .filter(|(_, a)| scope.within.is_none_or(|ids| ids.contains(&a.branch_id)))
            .collect();
        if in_scope.is_empty() {
            // Nothing to read (and no calendar to build for a SKU without units).
            return Ok(Candidates {
                order: Vec::new(),
                source: Source::Postgres,
                calendar_taken: None,
                fleet,
            });
        }
        let occupied_end = occupied_until(end, fleet.head.buffer_days);
        let look = chrono::Days::new(u64::from(LOOK_DAYS));
        let (first, last) = (start - look, occupied_end + look);
        let (grid, source) = self.grid(&fleet, first, last, fresh).await?;
        let branch_order = self.branch_order(scope).await?;
        let earliest = today.values().min().copied().unwrap_or(start);
        let recent_use = self.recent_use(&fleet, earliest).await?;
        let index = |d: NaiveDate| usize::try_from((d - first).num_days()).unwrap_or(0);
        let (start_at, end_at, grid_len) = (index(start), index(occupied_end), index(last));
        let first_usable = |a: &FleetAsset| {
            index(
                today
                    .get(&a.branch_id)
                    .copied()
                    .unwrap_or(earliest)
                    .max(first),
            )
        };
        let occupied_days = u32::try_from(end_at - start_at).unwrap_or(u32::MAX);
        let shortest = 1 + u32::try_from(fleet.head.buffer_days).unwrap_or(0);
        // The rental's days at once: one OR of the day bitmaps, then one bit per unit.
        let union = grid.union(start_at, end_at);
        let ranked: Vec<(usize, Rank)> = in_scope
            .into_iter()
            .filter(|(_, a)| match &union {
                Some(union) => !bit_is_set(union, ordinal(a)),
                None => (start_at..end_at).all(|d| !grid.taken(a, first, d)),
            })
            .map(|(i, a)| {
                let taken = |d: usize| grid.taken(a, first, d);
                let around = Around::in_grid(taken, start_at, end_at, grid_len, first_usable(a));
                let rank = Rank {
                    // A branch the order does not know (created a moment ago) comes last.
                    branch_order: if branch_order.is_empty() {
                        0
                    } else {
                        branch_order.get(&a.branch_id).copied().unwrap_or(u32::MAX)
                    },
                    fit: Fit::of(around, occupied_days, shortest),
                    recent_use_days: recent_use.get(&a.id).copied().unwrap_or(0),
                };
                (i, rank)
            })
            .collect();
        let order = assign::best(ranked, limit, &mut rand::rng());
        Ok(Candidates {
            fleet,
            order,
            source,
            calendar_taken: union,
        })
    }

    /// Who is occupied on the days `[first, last)`: the Redis day bitmaps unless `fresh` (or
    /// Redis cannot answer), else Postgres.
    async fn grid(
        &self,
        fleet: &Fleet,
        first: NaiveDate,
        last: NaiveDate,
        fresh: bool,
    ) -> sqlx::Result<(Grid, Source)> {
        if !fresh {
            match self.read_days(&fleet.sku_code, first, last).await {
                Ok(Some(bitmaps)) => return Ok((Grid::Bitmaps(bitmaps), Source::Redis)),
                Ok(None) => self.rebuild_in_background(),
                Err(e) => tracing::warn!(error = %e, "calendar read failed; asking Postgres"),
            }
        }
        let ranges = self
            .occupancy_in_postgres(fleet.sku_id, first, last)
            .await?;
        Ok((Grid::Ranges(ranges), Source::Postgres))
    }

    /// Each branch's place when the customer is at `scope.near`: 0 for the nearest, branches
    /// without a location last. Empty (every branch equal) without `near`.
    async fn branch_order(&self, scope: Scope<'_>) -> sqlx::Result<HashMap<Uuid, u32>> {
        let Some(point) = scope.near else {
            return Ok(HashMap::new());
        };
        let branches = self.branches().await?;
        let mut by_distance: Vec<(f64, Uuid)> = branches
            .iter()
            .map(|b| (b.distance_km(point).unwrap_or(f64::MAX), b.id))
            .collect();
        by_distance.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(by_distance
            .into_iter()
            .enumerate()
            .map(|(i, (_, id))| (id, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect())
    }

    /// Days each unit of the fleet was booked (confirmed, running or finished) in the last
    /// [`RECENT_USE_DAYS`] up to `today`; cached for a minute per SKU.
    async fn recent_use(
        &self,
        fleet: &Fleet,
        today: NaiveDate,
    ) -> sqlx::Result<Arc<HashMap<Uuid, u32>>> {
        if let Some((read, used)) = self.recent_use.read().await.get(&fleet.sku_id)
            && read.elapsed() < RECENT_USE_KEPT
        {
            return Ok(used.clone());
        }
        let since = today - chrono::Days::new(RECENT_USE_DAYS);
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT asset_id, sum(upper(used) - lower(used)) FROM ( \
                 SELECT b.asset_id, b.occupied * daterange($2, $3, '[)') AS used \
                 FROM bookings b JOIN assets a ON a.id = b.asset_id \
                 WHERE a.sku_id = $1 AND b.status IN ('CONFIRMED', 'ACTIVE', 'RETURNED', 'COMPLETED') \
                   AND b.occupied && daterange($2, $3, '[)')) recent \
             GROUP BY asset_id",
        )
        .bind(fleet.sku_id)
        .bind(since)
        .bind(today + chrono::Days::new(1))
        .fetch_all(&self.db)
        .await?;
        let used: Arc<HashMap<Uuid, u32>> = Arc::new(
            rows.into_iter()
                .map(|(id, days)| (id, u32::try_from(days).unwrap_or(u32::MAX)))
                .collect(),
        );
        self.recent_use
            .write()
            .await
            .insert(fleet.sku_id, (Instant::now(), used.clone()));
        Ok(used)
    }

    /// The SKU's occupied ranges per asset that touch `[first, last)`, from Postgres. A hold
    /// whose payment window lapsed does not count (the booking transaction expires it), even
    /// before the sweeper got to it.
    pub(super) async fn occupancy_in_postgres(
        &self,
        sku_id: Uuid,
        first: NaiveDate,
        last: NaiveDate,
    ) -> sqlx::Result<HashMap<Uuid, Vec<(NaiveDate, NaiveDate)>>> {
        let rows: Vec<(Uuid, NaiveDate, NaiveDate)> = sqlx::query_as(
            "SELECT b.asset_id, lower(b.occupied), upper(b.occupied) \
             FROM bookings b JOIN assets a ON a.id = b.asset_id \
             WHERE a.sku_id = $1 AND b.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') \
               AND NOT (b.status = 'PENDING_PAYMENT' AND b.expires_at <= now()) \
               AND b.occupied && daterange($2, $3, '[)')",
        )
        .bind(sku_id)
        .bind(first)
        .bind(last)
        .fetch_all(&self.db)
        .await?;
        let mut ranges: HashMap<Uuid, Vec<(NaiveDate, NaiveDate)>> = HashMap::new();
        for (asset, start, end) in rows {
            ranges.entry(asset).or_default().push((start, end));
        }
        Ok(ranges)
    }
}
