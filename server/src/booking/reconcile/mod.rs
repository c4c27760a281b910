//! Rebuilds the Redis calendar from Postgres, the truth.
//!
//! One read-only snapshot gives every asset's calendar version and occupied ranges together.
//! What Redis holds is compared with it, and only assets that differ (or whose stored version is
//! behind) are rewritten, each by a versioned "state" write that never lands over a newer change
//! (see `crate::cache::calendar`). So a reconcile running while bookings commit cannot undo them:
//! a write made after the snapshot carries a newer version and wins.
//!
//! The periodic reconcile is incremental: each tick reads every asset's calendar version (one
//! small query) and rewrites only the assets whose version moved since the last tick. Every
//! [`FULL_EVERY`] ticks, and whenever a SKU's index is missing in Redis (a flush, a restart without
//! persistence), it compares everything, which also catches Redis losing writes it had
//! acknowledged (a failover to a replica that missed them). The duration of each run is in
//! `/metrics` (`sentra_calendar_reconcile_duration_seconds`, by kind).
//!
//! The window runs from the previous month to the last day a booking can occupy: the booking
//! horizon, plus the longest rental, plus the longest turnaround buffer (from configuration).

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Months, NaiveDate, Utc};
use futures_util::future::join_all;
use sqlx::PgPool;
use uuid::Uuid;

mod periodic;

pub use periodic::{FULL_EVERY, Reconciler, TickKind, run};

use crate::cache::{
    Cache, RedisConn,
    calendar::{AssetCalendar, SkuDays, StateWrite, bit_is_set, bitmap_of, month_spans, yyyymm},
};

/// The longest turnaround buffer a SKU may have (the `skus` check constraint).
const MAX_BUFFER_DAYS: u32 = 14;

/// Assets compared per round of concurrent reads.
const BATCH: usize = 500;

/// Day-index rewrites in flight at once (each touches every day of the window).
const DAY_BATCH: usize = 64;

/// The days the calendar covers, derived from the booking rules in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarWindow {
    /// Days after today that a booking may still occupy.
    days_ahead: u32,
}

impl CalendarWindow {
    /// The window for rentals that start at most `horizon_days` ahead and last at most
    /// `max_rental_days`, plus the longest buffer and a day for the time zones.
    pub fn new(horizon_days: u32, max_rental_days: u32) -> Self {
        Self {
            days_ahead: horizon_days + max_rental_days + MAX_BUFFER_DAYS + 2,
        }
    }

    /// The first day covered: the 1st of the month before `today`'s.
    pub fn start(&self, today: NaiveDate) -> NaiveDate {
        NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today) - Months::new(1)
    }

    /// The day after the last one covered (the 1st of the month after the last occupiable day).
    pub fn end(&self, today: NaiveDate) -> NaiveDate {
        let last = today + chrono::Days::new(u64::from(self.days_ahead));
        NaiveDate::from_ymd_opt(last.year(), last.month(), 1).unwrap_or(last) + Months::new(1)
    }

    /// The months covered, as `YYYYMM`.
    pub fn months(&self, today: NaiveDate) -> Vec<u32> {
        let end = self.end(today);
        let mut months = Vec::new();
        let mut month = self.start(today);
        while month < end {
            months.push(yyyymm(month));
            month = month + Months::new(1);
        }
        months
    }
}

/// What a rebuild found and did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Assets whose calendars were checked.
    pub assets: usize,
    /// Month keys and day bits that disagreed with Postgres and were rewritten.
    pub keys_repaired: usize,
    /// Assets left alone because a newer change had landed meanwhile.
    pub newer_in_redis: usize,
    /// Assets rewritten over newer versions because Postgres had gone back (lost changes).
    pub forced: usize,
}

#[derive(sqlx::FromRow)]
struct AssetRow {
    id: Uuid,
    sku_code: String,
    sku_ordinal: i32,
    calendar_version: i64,
}

#[derive(sqlx::FromRow)]
struct Occupancy {
    asset_id: Uuid,
    start_date: NaiveDate,
    end_date: NaiveDate,
}

/// Postgres's view at one snapshot: the assets with their versions and the occupied ranges.
async fn snapshot(
    db: &PgPool,
    only: Option<&[Uuid]>,
    window_start: NaiveDate,
    window_end: NaiveDate,
) -> sqlx::Result<(Vec<AssetRow>, Vec<Occupancy>)> {
    let mut tx = db.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let assets: Vec<AssetRow> = sqlx::query_as(
        "SELECT a.id, s.code AS sku_code, a.sku_ordinal, a.calendar_version \
         FROM assets a JOIN skus s ON s.id = a.sku_id \
         WHERE $1::uuid[] IS NULL OR a.id = ANY($1) ORDER BY a.id",
    )
    .bind(only)
    .fetch_all(&mut *tx)
    .await?;
    let occupancies: Vec<Occupancy> = sqlx::query_as(
        "SELECT asset_id, lower(occupied) AS start_date, upper(occupied) AS end_date FROM bookings \
         WHERE status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') \
           AND occupied && daterange($1, $2, '[)') AND ($3::uuid[] IS NULL OR asset_id = ANY($3))",
    )
    .bind(window_start)
    .bind(window_end)
    .bind(only)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((assets, occupancies))
}

/// What Postgres says the calendar should hold, from one snapshot.
struct Expected {
    assets: Vec<AssetRow>,
    months: Vec<u32>,
    /// Every day of the window, in order.
    days: Vec<NaiveDate>,
    /// Occupied bits per (asset, month).
    bits: HashMap<(Uuid, u32), Vec<u32>>,
    /// Occupied days per asset.
    occupied: HashMap<Uuid, HashSet<NaiveDate>>,
}

impl Expected {
    async fn read(
        db: &PgPool,
        window: CalendarWindow,
        only: Option<&[Uuid]>,
    ) -> sqlx::Result<Expected> {
        // A day earlier than any branch's today (UTC-side), so no current month is left out.
        let today = Utc::now().date_naive() - chrono::Days::new(1);
        let (window_start, window_end) = (window.start(today), window.end(today));
        let (assets, occupancies) = snapshot(db, only, window_start, window_end).await?;
        let mut bits: HashMap<(Uuid, u32), Vec<u32>> = HashMap::new();
        let mut occupied: HashMap<Uuid, HashSet<NaiveDate>> = HashMap::new();
        for occ in &occupancies {
            let start = occ.start_date.max(window_start);
            let end = occ.end_date.min(window_end);
            for span in month_spans(start, end) {
                bits.entry((occ.asset_id, span.yyyymm))
                    .or_default()
                    .extend(span.first_bit..=span.last_bit);
            }
            occupied
                .entry(occ.asset_id)
                .or_default()
                .extend(start.iter_days().take_while(|d| *d < end));
        }
        Ok(Expected {
            assets,
            months: window.months(today),
            days: window_start
                .iter_days()
                .take_while(|d| *d < window_end)
                .collect(),
            bits,
            occupied,
        })
    }

    /// The month bitmaps the asset should have.
    fn month_bitmaps(&self, asset: Uuid) -> Vec<(u32, Vec<u8>)> {
        self.months
            .iter()
            .map(|&m| {
                let bits = self.bits.get(&(asset, m)).cloned().unwrap_or_default();
                (m, bitmap_of(bits))
            })
            .collect()
    }

    /// Whether the asset is occupied, day by day over the window.
    fn day_states(&self, asset: Uuid) -> Vec<(NaiveDate, bool)> {
        let taken = self.occupied.get(&asset);
        self.days
            .iter()
            .map(|d| (*d, taken.is_some_and(|t| t.contains(d))))
            .collect()
    }
}

/// How a rebuild writes.
#[derive(Debug, Clone, Copy)]
struct Pass {
    /// Read Redis first and rewrite only what differs (a full rebuild). One asset is rewritten
    /// straight away: the Functions compare too, in one round trip.
    compare: bool,
    /// Write over newer versions (Postgres lost changes that Redis had seen).
    force: bool,
}

impl Pass {
    /// The versioned write of `asset`'s state from the snapshot.
    fn state_of(self, asset: &AssetRow) -> StateWrite {
        StateWrite {
            version: asset.calendar_version,
            force: self.force,
        }
    }
}

/// Rebuilds the calendar of every asset (`only` = `None`, comparing first) or of the assets
/// listed (rewritten straight away).
pub async fn rebuild(
    db: &PgPool,
    cache: &Cache,
    window: CalendarWindow,
    only: Option<&[Uuid]>,
) -> anyhow::Result<ReconcileReport> {
    let pass = Pass {
        compare: only.is_none(),
        force: false,
    };
    let (mut report, newer) = rebuild_pass(db, cache, window, only, pass).await?;
    // Redis holding a newer version than the snapshot is normal (a change committed since),
    // unless Postgres is still behind it now: then Postgres lost those changes (a failover to a
    // replica that had not received them, a restore) and its state is forced back in.
    for asset in behind_redis(db, cache, &newer).await? {
        tracing::warn!(%asset, "the calendar is ahead of Postgres; rewriting it from Postgres");
        let force = Pass {
            compare: false,
            force: true,
        };
        let (forced, _) = rebuild_pass(db, cache, window, Some(&[asset]), force).await?;
        report.keys_repaired += forced.keys_repaired;
        report.forced += 1;
    }
    Ok(report)
}

/// One rebuild; also returns the assets (id, SKU, ordinal) left alone for a newer version.
async fn rebuild_pass(
    db: &PgPool,
    cache: &Cache,
    window: CalendarWindow,
    only: Option<&[Uuid]>,
    pass: Pass,
) -> anyhow::Result<(ReconcileReport, Vec<(Uuid, String, i32)>)> {
    let expected = Expected::read(db, window, only).await?;
    let conn = cache.main.connection().await?;
    let mut report = ReconcileReport {
        assets: expected.assets.len(),
        ..ReconcileReport::default()
    };
    let mut newer = Vec::new();
    sync_month_keys(&conn, cache, &expected, pass, &mut newer, &mut report).await?;
    sync_day_index(&conn, cache, &expected, pass, &mut newer, &mut report).await?;
    newer.sort_unstable();
    newer.dedup();
    Ok((report, newer))
}

/// Of the assets Redis held newer versions of, those whose Postgres version is still lower.
async fn behind_redis(
    db: &PgPool,
    cache: &Cache,
    newer: &[(Uuid, String, i32)],
) -> anyhow::Result<Vec<Uuid>> {
    if newer.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = newer.iter().map(|(id, _, _)| *id).collect();
    let now: HashMap<Uuid, i64> =
        sqlx::query_as("SELECT id, calendar_version FROM assets WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(db)
            .await?
            .into_iter()
            .collect();
    let mut conn = cache.main.connection().await?;
    let mut behind = Vec::new();
    for (id, sku, ordinal) in newer {
        let calendar = AssetCalendar::new(&cache.key_prefix, sku, *id);
        let months: Option<i64> = redis::cmd("GET")
            .arg(calendar.version_key())
            .query_async(&mut conn)
            .await?;
        let days: Option<i64> = redis::cmd("HGET")
            .arg(SkuDays::new(&cache.key_prefix, sku).version_key())
            .arg(ordinal)
            .query_async(&mut conn)
            .await?;
        let stored = months.max(days).unwrap_or(0);
        if now.get(id).is_some_and(|pg| *pg < stored) {
            behind.push(*id);
        }
    }
    Ok(behind)
}

/// The asset calendars (`avail:…` month keys).
async fn sync_month_keys(
    conn: &RedisConn,
    cache: &Cache,
    expected: &Expected,
    pass: Pass,
    newer: &mut Vec<(Uuid, String, i32)>,
    report: &mut ReconcileReport,
) -> anyhow::Result<()> {
    for batch in expected.assets.chunks(BATCH) {
        let checks = batch.iter().map(|asset| {
            let calendar = AssetCalendar::new(&cache.key_prefix, &asset.sku_code, asset.id);
            let want = expected.month_bitmaps(asset.id);
            let mut conn = conn.clone();
            let state = pass.state_of(asset);
            async move {
                if pass.compare && month_keys_agree(&mut conn, &calendar, asset, &want).await? {
                    return Ok::<_, redis::RedisError>((asset, Some(0)));
                }
                let written = calendar.replace(&mut conn, &state, &want).await?;
                Ok((asset, written))
            }
        });
        for outcome in join_all(checks).await {
            let (asset, written) = outcome?;
            report.count(asset, written, newer);
        }
    }
    Ok(())
}

/// The per-SKU day bitmaps of search, one SKU at a time.
async fn sync_day_index(
    conn: &RedisConn,
    cache: &Cache,
    expected: &Expected,
    pass: Pass,
    newer: &mut Vec<(Uuid, String, i32)>,
    report: &mut ReconcileReport,
) -> anyhow::Result<()> {
    let mut skus: Vec<&str> = expected
        .assets
        .iter()
        .map(|a| a.sku_code.as_str())
        .collect();
    skus.sort_unstable();
    skus.dedup();
    for sku in skus {
        let index = SkuDays::new(&cache.key_prefix, sku);
        let mut conn = conn.clone();
        let current = if pass.compare {
            Some(read_day_index(&mut conn, &index, &expected.days).await?)
        } else {
            None
        };
        // Each asset's days as Postgres has them, kept for the rewrite of those that differ.
        let differing: Vec<(&AssetRow, Vec<(NaiveDate, bool)>)> = expected
            .assets
            .iter()
            .filter(|a| a.sku_code == sku)
            .map(|asset| (asset, expected.day_states(asset.id)))
            .filter(|(asset, want)| {
                let Some((bitmaps, versions)) = &current else {
                    return true;
                };
                let ordinal = u32::try_from(asset.sku_ordinal).unwrap_or(0);
                let stored = versions.get(&ordinal).copied().unwrap_or(0);
                let agrees = stored >= asset.calendar_version
                    && want
                        .iter()
                        .zip(bitmaps)
                        .all(|((_, taken), bitmap)| bit_is_set(bitmap, ordinal) == *taken);
                !agrees
            })
            .collect();
        // Each rewrite touches every day of the window: a bounded number at a time.
        for batch in differing.chunks(DAY_BATCH) {
            let rewrites = batch.iter().map(|(asset, want)| {
                let (index, mut conn) = (index.clone(), conn.clone());
                let ordinal = u32::try_from(asset.sku_ordinal).unwrap_or(0);
                let state = pass.state_of(asset);
                async move {
                    let written = index.replace(&mut conn, ordinal, &state, want).await?;
                    Ok::<_, redis::RedisError>((*asset, written))
                }
            });
            for outcome in join_all(rewrites).await {
                let (asset, written) = outcome?;
                report.count(asset, written, newer);
            }
        }
        if pass.compare {
            redis::cmd("SET")
                .arg(index.built_key())
                .arg(1)
                .query_async::<()>(&mut conn)
                .await?;
        }
    }
    Ok(())
}

impl ReconcileReport {
    /// Counts one versioned state write: keys or bits rewritten, or skipped for a newer change.
    fn count(
        &mut self,
        asset: &AssetRow,
        written: Option<usize>,
        newer: &mut Vec<(Uuid, String, i32)>,
    ) {
        if let Some(rewritten) = written {
            self.keys_repaired += rewritten;
        } else {
            self.newer_in_redis += 1;
            newer.push((asset.id, asset.sku_code.clone(), asset.sku_ordinal));
        }
    }
}

/// Whether the asset's month keys hold what Postgres says and their version is not behind.
async fn month_keys_agree(
    conn: &mut RedisConn,
    calendar: &AssetCalendar,
    asset: &AssetRow,
    want: &[(u32, Vec<u8>)],
) -> redis::RedisResult<bool> {
    let mut get = redis::cmd("MGET");
    for (month, _) in want {
        get.arg(calendar.month_key(*month));
    }
    get.arg(calendar.version_key());
    let mut have: Vec<Option<Vec<u8>>> = get.query_async(conn).await?;
    let stored: i64 = have
        .pop()
        .flatten()
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(stored >= asset.calendar_version
        && want
            .iter()
            .zip(have)
            .all(|((_, want), have)| same_bits(want, have.as_deref().unwrap_or_default())))
}

/// A SKU's day bitmaps over `days` and the version each asset's bits reflect (by ordinal).
async fn read_day_index(
    conn: &mut RedisConn,
    index: &SkuDays,
    days: &[NaiveDate],
) -> redis::RedisResult<(Vec<Vec<u8>>, HashMap<u32, i64>)> {
    let keys: Vec<String> = days.iter().map(|d| index.day_key(*d)).collect();
    let bitmaps: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(&keys).query_async(conn).await?;
    let versions: HashMap<String, i64> = redis::cmd("HGETALL")
        .arg(index.version_key())
        .query_async(conn)
        .await?;
    let versions = versions
        .into_iter()
        .filter_map(|(ordinal, version)| Some((ordinal.parse().ok()?, version)))
        .collect();
    Ok((
        bitmaps.into_iter().map(Option::unwrap_or_default).collect(),
        versions,
    ))
}

/// Equal as bitmaps: trailing zero bytes do not matter.
fn same_bits(a: &[u8], b: &[u8]) -> bool {
    let trim = |s: &[u8]| s.len() - s.iter().rev().take_while(|&&x| x == 0).count();
    a[..trim(a)] == b[..trim(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn the_window_starts_last_month_and_crosses_years() {
        let window = CalendarWindow::new(30, 10);
        let months = window.months(d("2026-12-15"));
        assert_eq!(months, [202_611, 202_612, 202_701, 202_702]);
        assert_eq!(window.start(d("2026-12-15")), d("2026-11-01"));
    }

    #[test]
    fn the_window_reaches_the_last_day_a_booking_can_occupy() {
        // A rental starting on the horizon, as long as allowed, with the longest buffer.
        for (horizon, longest) in [(365, 60), (365, 365), (30, 1)] {
            let window = CalendarWindow::new(horizon, longest);
            let today = d("2026-12-01");
            let last = today + chrono::Days::new(u64::from(horizon + longest + MAX_BUFFER_DAYS));
            assert!(window.end(today) > last, "{horizon}+{longest}");
            assert!(window.months(today).contains(&yyyymm(last)));
        }
    }

    #[test]
    fn trailing_zero_bytes_do_not_count_as_drift() {
        assert!(same_bits(&[0x80, 0, 0, 0], &[0x80]));
        assert!(same_bits(&[], &[0, 0]));
        assert!(!same_bits(&[0x80], &[0x40]));
    }
}
