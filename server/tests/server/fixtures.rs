//! Test data on top of the demo seed, and the invariant checks every booking test ends with.

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

/// Loads the demo data (branches JKT01/DPS01, Avanza and others, customers).
pub(crate) async fn seed(db: &PgPool) -> anyhow::Result<()> {
    sentra_server::demo::seed(db).await?;
    Ok(())
}

/// Active assets of a SKU in a branch, ordered.
pub(crate) async fn assets(db: &PgPool, sku: &str, branch: &str) -> anyhow::Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT a.id FROM assets a JOIN skus s ON s.id = a.sku_id JOIN branches b ON b.id = a.home_branch_id \
         WHERE s.code = $1 AND b.code = $2 ORDER BY a.plate_or_serial",
    )
    .bind(sku)
    .bind(branch)
    .fetch_all(db)
    .await?)
}

/// Customer ids, ordered by name.
pub(crate) async fn customers(db: &PgPool) -> anyhow::Result<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM customers ORDER BY full_name")
            .fetch_all(db)
            .await?,
    )
}

/// A local date `days` after today in WITA (a day ahead of every zone's "today" edge cases).
pub(crate) fn day(days: u64) -> NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Days::new(days + 1)
}

/// Pairs of active bookings of one asset whose occupied ranges overlap (must always be 0).
pub(crate) async fn overlapping_pairs(db: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM bookings a JOIN bookings b \
           ON a.asset_id = b.asset_id AND a.id < b.id AND a.occupied && b.occupied \
         WHERE a.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') \
           AND b.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE')",
    )
    .fetch_one(db)
    .await?)
}

/// The create-booking body.
pub(crate) fn booking_body(
    asset: Uuid,
    customer: Uuid,
    start: NaiveDate,
    end: NaiveDate,
) -> serde_json::Value {
    serde_json::json!({"asset_id": asset, "customer_id": customer, "start": start, "end": end})
}
