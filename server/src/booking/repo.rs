//! Postgres side of bookings: the arbiter. Every statement here is one transaction whose outcome
//! decides — the exclusion constraint refuses overlaps, the compare-and-set on `hold_token` fences
//! late confirmations.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// What a booking needs to know about its asset.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssetContext {
    pub asset_id: Uuid,
    pub branch_id: Uuid,
    pub branch_code: String,
    pub time_zone: String,
    pub sku_id: Uuid,
    pub sku_code: String,
    pub daily_rate_idr: i64,
    pub buffer_days: i32,
    pub status: String,
    /// The asset's bit in the per-SKU day bitmaps.
    pub sku_ordinal: i32,
}

/// A booking row as the API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BookingRow {
    pub id: Uuid,
    pub branch_id: Uuid,
    pub asset_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub kind: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub occupied_end: NaiveDate,
    pub status: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub hold_token: Option<Uuid>,
    pub total_idr: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Columns of [`BookingRow`], for `SELECT`/`RETURNING`.
pub const BOOKING_COLUMNS: &str = "id, branch_id, asset_id, customer_id, kind, \
    lower(period) AS start_date, upper(period) AS end_date, upper(occupied) AS occupied_end, \
    status, expires_at, hold_token, total_idr, created_at, updated_at";

/// A day range [start, end) that was freed (its calendar bits must be cleared).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FreedRange {
    pub booking_id: Uuid,
    pub asset_id: Uuid,
    pub sku_id: Uuid,
    pub sku_code: String,
    pub sku_ordinal: i32,
    pub branch_id: Uuid,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// Loads the asset with its SKU and branch.
pub async fn asset_context(db: &PgPool, asset_id: Uuid) -> sqlx::Result<Option<AssetContext>> {
    sqlx::query_as(
        "SELECT a.id AS asset_id, a.home_branch_id AS branch_id, b.code AS branch_code, b.time_zone, \
                s.id AS sku_id, s.code AS sku_code, s.daily_rate_idr, s.turnaround_buffer_days AS buffer_days, \
                a.status, a.sku_ordinal \
         FROM assets a JOIN skus s ON s.id = a.sku_id JOIN branches b ON b.id = a.home_branch_id \
         WHERE a.id = $1",
    )
    .bind(asset_id)
    .fetch_optional(db)
    .await
}

/// The new booking to insert.
#[derive(Debug, Clone)]
pub struct NewHold {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub total_idr: i64,
    pub hold_token: Uuid,
    pub payment_window_secs: i64,
}

/// In one transaction: expires lapsed pending holds that overlap, then inserts the new hold.
/// Returns the booking and the ranges the expiry freed. Overlaps fail with SQLSTATE 23P01.
pub async fn create_hold(
    db: &PgPool,
    asset: &AssetContext,
    hold: &NewHold,
) -> sqlx::Result<Option<(BookingRow, Vec<FreedRange>)>> {
    let mut tx = db.begin().await?;
    // The asset must still be active and at the branch the caller read: a share lock on its row
    // waits for a transfer or a status change in flight (they lock it for update) and sees its
    // outcome. `None` tells the caller to read the asset again.
    let current: Option<(String, Uuid)> =
        sqlx::query_as("SELECT status, home_branch_id FROM assets WHERE id = $1 FOR SHARE")
            .bind(asset.asset_id)
            .fetch_optional(&mut *tx)
            .await?;
    if current.is_none_or(|(status, branch)| status != "active" || branch != asset.branch_id) {
        return Ok(None);
    }
    let occupied_end = hold.end + chrono::Days::new(u64::try_from(asset.buffer_days).unwrap_or(0));
    let freed = expire_lapsed(
        &mut tx,
        "b.branch_id = $1 AND b.asset_id = $2 AND b.occupied && daterange($3, $4, '[)')",
        Some((asset.branch_id, asset.asset_id, hold.start, occupied_end)),
    )
    .await?;
    let booking: BookingRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, expires_at, \
                               hold_token, total_idr, buffer_days) \
         VALUES ($1, $2, $3, $4, daterange($5, $6, '[)'), 'PENDING_PAYMENT', \
                 now() + make_interval(secs => $7), $8, $9, $10) \
         RETURNING {BOOKING_COLUMNS}"
    )))
    .bind(hold.id)
    .bind(asset.branch_id)
    .bind(asset.asset_id)
    .bind(hold.customer_id)
    .bind(hold.start)
    .bind(hold.end)
    .bind(hold.payment_window_secs)
    .bind(hold.hold_token)
    .bind(hold.total_idr)
    .bind(asset.buffer_days)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some((booking, freed)))
}

/// Marks lapsed PENDING_PAYMENT bookings matching `filter` as EXPIRED and enqueues a waitlist
/// job for each, in the caller's transaction. `filter` binds $1..$4 when `args` is given.
async fn expire_lapsed(
    tx: &mut Transaction<'_, Postgres>,
    filter: &str,
    args: Option<(Uuid, Uuid, NaiveDate, NaiveDate)>,
) -> sqlx::Result<Vec<FreedRange>> {
    let sql = format!(
        "WITH lapsed AS ( \
            SELECT b.branch_id, b.id FROM bookings b \
            WHERE b.status = 'PENDING_PAYMENT' AND b.expires_at <= now() AND {filter} \
            ORDER BY b.expires_at LIMIT 500 FOR UPDATE SKIP LOCKED), \
         expired AS ( \
            UPDATE bookings b SET status = 'EXPIRED', updated_at = now() FROM lapsed \
            WHERE b.branch_id = lapsed.branch_id AND b.id = lapsed.id \
            RETURNING b.id, b.asset_id, b.branch_id, lower(b.occupied) AS start_date, \
                      upper(b.occupied) AS end_date, lower(b.period) AS period_start, upper(b.period) AS period_end) \
         SELECT e.id AS booking_id, e.asset_id, a.sku_id, s.code AS sku_code, a.sku_ordinal, e.branch_id, \
                e.start_date, e.end_date \
         FROM expired e JOIN assets a ON a.id = e.asset_id JOIN skus s ON s.id = a.sku_id"
    );
    let query = sqlx::query_as::<_, FreedRange>(sqlx::AssertSqlSafe(sql));
    let query = match args {
        Some((branch, asset, start, end)) => query.bind(branch).bind(asset).bind(start).bind(end),
        None => query,
    };
    let freed = query.fetch_all(&mut **tx).await?;
    for range in &freed {
        enqueue_unit_freed(tx, range).await?;
    }
    Ok(freed)
}

/// Enqueues the durable "a unit of this SKU freed up on these days" job (the waitlist offers).
pub async fn enqueue_unit_freed(
    tx: &mut Transaction<'_, Postgres>,
    range: &FreedRange,
) -> sqlx::Result<()> {
    let payload = serde_json::to_value(super::waitlist::UnitFreed {
        booking_id: range.booking_id,
        asset_id: range.asset_id,
        sku_id: range.sku_id,
        branch_id: range.branch_id,
        start: range.start_date,
        end: range.end_date,
    })
    .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("INSERT INTO jobs (kind, payload) VALUES ('unit_freed', $1)")
        .bind(payload)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Expires every lapsed hold (the sweeper), in batches of at most 500.
pub async fn expire_all_lapsed(db: &PgPool) -> sqlx::Result<Vec<FreedRange>> {
    let mut tx = db.begin().await?;
    let freed = expire_lapsed(&mut tx, "true", None).await?;
    tx.commit().await?;
    Ok(freed)
}

/// Compare-and-set confirm: succeeds only for the holder of `hold_token` within the window.
pub async fn confirm(db: &PgPool, id: Uuid, hold_token: Uuid) -> sqlx::Result<Option<BookingRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE bookings SET status = 'CONFIRMED', expires_at = NULL, updated_at = now() \
         WHERE id = $1 AND hold_token = $2 AND status = 'PENDING_PAYMENT' AND expires_at > now() \
         RETURNING {BOOKING_COLUMNS}"
    )))
    .bind(id)
    .bind(hold_token)
    .fetch_optional(db)
    .await
}

/// One booking by id.
pub async fn get(db: &PgPool, id: Uuid) -> sqlx::Result<Option<BookingRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Cancels a booking if its status allows; returns the row and the freed range.
pub async fn cancel(db: &PgPool, id: Uuid) -> sqlx::Result<Option<(BookingRow, FreedRange)>> {
    let mut tx = db.begin().await?;
    let row: Option<BookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE bookings SET status = 'CANCELLED', updated_at = now() \
         WHERE id = $1 AND status IN ('PENDING_PAYMENT', 'CONFIRMED') \
         RETURNING {BOOKING_COLUMNS}"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let freed: FreedRange = sqlx::query_as(
        "SELECT $1::uuid AS booking_id, a.id AS asset_id, a.sku_id, s.code AS sku_code, a.sku_ordinal, \
                a.home_branch_id AS branch_id, $2::date AS start_date, $3::date AS end_date \
         FROM assets a JOIN skus s ON s.id = a.sku_id WHERE a.id = $4",
    )
    .bind(row.id)
    .bind(row.start_date)
    .bind(row.occupied_end)
    .bind(row.asset_id)
    .fetch_one(&mut *tx)
    .await?;
    enqueue_unit_freed(&mut tx, &freed).await?;
    tx.commit().await?;
    Ok(Some((row, freed)))
}

/// Bookings of a branch, newest first, optionally of one status.
pub async fn list_for_branch(
    db: &PgPool,
    branch_id: Uuid,
    status: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<BookingRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS} FROM bookings \
         WHERE branch_id = $1 AND ($2::text IS NULL OR status = $2) \
         ORDER BY created_at DESC, id LIMIT $3"
    )))
    .bind(branch_id)
    .bind(status)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A customer's bookings, newest first.
pub async fn list_for_customer(
    db: &PgPool,
    customer: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<BookingRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS} FROM bookings WHERE customer_id = $1 ORDER BY created_at DESC, id LIMIT $2"
    )))
    .bind(customer)
    .bind(limit)
    .fetch_all(db)
    .await
}
