//! Rebuilds the Redis calendar from Postgres, the truth.
//!
//! The window covers the previous month through the booking horizon (a fixed list of month keys
//! per asset), so no key scan is needed, in a single node or a cluster alike. Each month key is
//! compared with what Postgres says and rewritten only when they differ; the number of rewritten
//! keys is the drift that was repaired.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate, Utc};
use futures_util::future::join_all;
use redis::aio::ConnectionLike;
use sqlx::PgPool;
use uuid::Uuid;

use crate::cache::{
    Cache,
    calendar::{AssetCalendar, SkuDays, bitmap_of, month_spans, yyyymm},
};

/// Months covered: the previous one, the current one and this many after it.
const MONTHS_AHEAD: u32 = 14;

/// Keys per pipeline round trip.
const BATCH: usize = 2_000;

/// What a rebuild found and did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Assets whose calendars were checked.
    pub assets: usize,
    /// Month keys whose bits disagreed with Postgres and were rewritten.
    pub keys_repaired: usize,
}

/// The months of the window, as `YYYYMM`.
pub fn window_months(today: NaiveDate) -> Vec<u32> {
    let first =
        NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today) - Months::new(1);
    (0..MONTHS_AHEAD + 2)
        .map(|i| yyyymm(first + Months::new(i)))
        .collect()
}

#[derive(sqlx::FromRow)]
struct AssetRow {
    id: Uuid,
    sku_code: String,
    sku_ordinal: i32,
}

#[derive(sqlx::FromRow)]
struct Occupancy {
    asset_id: Uuid,
    start_date: NaiveDate,
    end_date: NaiveDate,
}

/// Loads the calendar Functions and rebuilds everything at start, then checks every `interval`.
pub async fn run(db: PgPool, cache: std::sync::Arc<Cache>, interval: std::time::Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match rebuild_all(&db, &cache).await {
            Ok(report) if report.keys_repaired > 0 => {
                tracing::info!(
                    assets = report.assets,
                    repaired = report.keys_repaired,
                    "calendar drift repaired"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "calendar reconcile failed; retrying next tick"),
        }
    }
}

/// Rebuilds the calendar of every asset.
pub async fn rebuild_all(db: &PgPool, cache: &Cache) -> anyhow::Result<ReconcileReport> {
    rebuild(db, cache, None).await
}

/// Rebuilds the calendar of one asset.
pub async fn rebuild_asset(
    db: &PgPool,
    cache: &Cache,
    asset: Uuid,
) -> anyhow::Result<ReconcileReport> {
    rebuild(db, cache, Some(asset)).await
}

async fn rebuild(
    db: &PgPool,
    cache: &Cache,
    only: Option<Uuid>,
) -> anyhow::Result<ReconcileReport> {
    // A day earlier than any branch's today (UTC-side), so no current month is left out.
    let today = Utc::now().date_naive() - chrono::Days::new(1);
    let months = window_months(today);
    let window_start = NaiveDate::from_ymd_opt(i32::try_from(months[0] / 100)?, months[0] % 100, 1)
        .unwrap_or(today);
    let assets: Vec<AssetRow> = sqlx::query_as(
        "SELECT a.id, s.code AS sku_code, a.sku_ordinal FROM assets a JOIN skus s ON s.id = a.sku_id \
         WHERE $1::uuid IS NULL OR a.id = $1 ORDER BY a.id",
    )
    .bind(only)
    .fetch_all(db)
    .await?;
    let occupancies: Vec<Occupancy> = sqlx::query_as(
        "SELECT asset_id, lower(occupied) AS start_date, upper(occupied) AS end_date FROM bookings \
         WHERE status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') AND upper(occupied) > $1 \
           AND ($2::uuid IS NULL OR asset_id = $2)",
    )
    .bind(window_start)
    .bind(only)
    .fetch_all(db)
    .await?;

    let window_end = first_day_of(*months.last().unwrap_or(&months[0])) + Months::new(1);
    let by_id: HashMap<Uuid, &AssetRow> = assets.iter().map(|a| (a.id, a)).collect();

    // Expected bits per (asset, month) and per (SKU, day).
    let mut expected: HashMap<(Uuid, u32), Vec<u32>> = HashMap::new();
    let mut expected_days: HashMap<(&str, NaiveDate), Vec<u32>> = HashMap::new();
    for occ in &occupancies {
        let Some(asset) = by_id.get(&occ.asset_id) else {
            continue;
        };
        let start = occ.start_date.max(window_start);
        for span in month_spans(start, occ.end_date) {
            expected
                .entry((occ.asset_id, span.yyyymm))
                .or_default()
                .extend(span.first_bit..=span.last_bit);
        }
        let ordinal = u32::try_from(asset.sku_ordinal).unwrap_or(0);
        for day in start
            .iter_days()
            .take_while(|d| *d < occ.end_date.min(window_end))
        {
            expected_days
                .entry((asset.sku_code.as_str(), day))
                .or_default()
                .push(ordinal);
        }
    }

    let mut conn = cache.main.connection().await?;
    let mut report = ReconcileReport {
        assets: assets.len(),
        keys_repaired: 0,
    };
    let mut keys: Vec<(String, Vec<u8>)> = Vec::with_capacity(BATCH);
    for asset in &assets {
        let calendar = AssetCalendar::new(&cache.key_prefix, &asset.sku_code, asset.id);
        for &month in &months {
            let bits = expected.remove(&(asset.id, month)).unwrap_or_default();
            keys.push((calendar.month_key(month), bitmap_of(bits)));
            if keys.len() >= BATCH {
                report.keys_repaired += sync_batch(&mut conn, &keys).await?;
                keys.clear();
            }
        }
    }
    report.keys_repaired += sync_batch(&mut conn, &keys).await?;
    keys.clear();

    // The per-SKU day bitmaps: whole keys when rebuilding everything, one bit when one asset.
    let days: Vec<NaiveDate> = window_start
        .iter_days()
        .take_while(|d| *d < window_end)
        .collect();
    if let Some(asset) = only.and_then(|id| by_id.get(&id)) {
        let ordinal = u32::try_from(asset.sku_ordinal).unwrap_or(0);
        report.keys_repaired +=
            sync_bit(&mut conn, cache, asset, ordinal, &days, &expected_days).await?;
        return Ok(report);
    }
    let mut skus: Vec<&str> = assets.iter().map(|a| a.sku_code.as_str()).collect();
    skus.sort_unstable();
    skus.dedup();
    for sku in skus {
        let index = SkuDays::new(&cache.key_prefix, sku);
        for &day in &days {
            let bits = expected_days.remove(&(sku, day)).unwrap_or_default();
            keys.push((index.day_key(day), bitmap_of(bits)));
        }
        report.keys_repaired += sync_batch(&mut conn, &keys).await?;
        keys.clear();
        redis::cmd("SET")
            .arg(index.built_key())
            .arg(1)
            .query_async::<()>(&mut conn)
            .await?;
    }
    Ok(report)
}

fn first_day_of(yyyymm: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(i32::try_from(yyyymm / 100).unwrap_or(1970), yyyymm % 100, 1)
        .unwrap_or(NaiveDate::MIN)
}

/// Repairs one asset's bit in its SKU's day bitmaps.
async fn sync_bit<C: ConnectionLike>(
    conn: &mut C,
    cache: &Cache,
    asset: &AssetRow,
    ordinal: u32,
    days: &[NaiveDate],
    expected_days: &HashMap<(&str, NaiveDate), Vec<u32>>,
) -> anyhow::Result<usize> {
    let index = SkuDays::new(&cache.key_prefix, &asset.sku_code);
    let mut get = redis::pipe();
    for &day in days {
        get.cmd("GETBIT").arg(index.day_key(day)).arg(ordinal);
    }
    let actual: Vec<u8> = get.query_async(conn).await?;
    let mut fix = redis::pipe();
    let mut repaired = 0;
    for (&day, have) in days.iter().zip(actual) {
        let want = expected_days
            .get(&(asset.sku_code.as_str(), day))
            .is_some_and(|bits| bits.contains(&ordinal));
        if want != (have == 1) {
            repaired += 1;
            fix.cmd("SETBIT")
                .arg(index.day_key(day))
                .arg(ordinal)
                .arg(u8::from(want))
                .ignore();
        }
    }
    if repaired > 0 {
        fix.query_async::<()>(conn).await?;
    }
    Ok(repaired)
}

/// Compares a batch of keys with their expected bytes and rewrites those that differ. The keys
/// live in many cluster slots, so the commands go out concurrently on the multiplexed
/// connection (which pipelines them per node) rather than as one cross-slot pipeline.
async fn sync_batch<C: ConnectionLike + Clone>(
    conn: &mut C,
    keys: &[(String, Vec<u8>)],
) -> anyhow::Result<usize> {
    let reads = keys.iter().map(|(key, _)| {
        let mut conn = conn.clone();
        async move {
            redis::cmd("GET")
                .arg(key)
                .query_async::<Option<Vec<u8>>>(&mut conn)
                .await
        }
    });
    let actual = join_all(reads).await;
    let mut writes = Vec::new();
    for ((key, want), have) in keys.iter().zip(actual) {
        if !same_bits(want, have?.as_deref().unwrap_or_default()) {
            let mut conn = conn.clone();
            writes.push(async move {
                if want.is_empty() {
                    redis::cmd("DEL")
                        .arg(key)
                        .query_async::<()>(&mut conn)
                        .await
                } else {
                    redis::cmd("SET")
                        .arg(key)
                        .arg(want.as_slice())
                        .query_async::<()>(&mut conn)
                        .await
                }
            });
        }
    }
    let repaired = writes.len();
    for result in join_all(writes).await {
        result?;
    }
    Ok(repaired)
}

/// Equal as bitmaps: trailing zero bytes do not matter.
fn same_bits(a: &[u8], b: &[u8]) -> bool {
    let trim = |s: &[u8]| s.len() - s.iter().rev().take_while(|&&x| x == 0).count();
    a[..trim(a)] == b[..trim(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_starts_last_month_and_crosses_years() {
        let months = window_months("2026-12-15".parse().expect("date"));
        assert_eq!(months[0], 202_611);
        assert_eq!(months[1], 202_612);
        assert_eq!(months[2], 202_701);
        assert_eq!(months.len(), 16);
    }

    #[test]
    fn trailing_zero_bytes_do_not_count_as_drift() {
        assert!(same_bits(&[0x80, 0, 0, 0], &[0x80]));
        assert!(same_bits(&[], &[0, 0]));
        assert!(!same_bits(&[0x80], &[0x40]));
    }
}
