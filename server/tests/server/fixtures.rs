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

/// A staff booking of one unit, for the typed client.
pub(crate) fn unit_booking(
    asset: Uuid,
    customer: Uuid,
    start: NaiveDate,
    end: NaiveDate,
) -> sentra_protocol::CreateBookingRequest {
    sentra_protocol::CreateBookingRequest {
        sku: None,
        branch: None,
        near: None,
        asset_id: Some(asset),
        customer_id: customer,
        start,
        end,
    }
}

/// The create-booking body (raw JSON, for tests that drive HTTP directly).
pub(crate) fn booking_body(
    asset: Uuid,
    customer: Uuid,
    start: NaiveDate,
    end: NaiveDate,
) -> serde_json::Value {
    serde_json::json!({"asset_id": asset, "customer_id": customer, "start": start, "end": end})
}

/// A row lock the test holds in a transaction of its own, and that session's process id.
pub(crate) struct Held {
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Postgres>,
    pid: i32,
}

impl Held {
    /// Locks `sql`'s rows (a `SELECT … FOR UPDATE` binding `id`) until the test ends the
    /// transaction.
    pub(crate) async fn lock(db: &PgPool, sql: &'static str, id: Uuid) -> anyhow::Result<Self> {
        let mut tx = db.begin().await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        Ok(Self { tx, pid })
    }

    /// Waits (bounded) until `n` sessions are blocked by this one: the readiness signal that
    /// requests reached the point where they wait for the test.
    pub(crate) async fn wait_for_waiters(&self, db: &PgPool, n: i64) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        loop {
            // Directly, or queued behind a session that waits for us (row locks queue so).
            let waiting: i64 = sqlx::query_scalar(
                "WITH RECURSIVE blocked(pid) AS ( \
                     SELECT pid FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid)) \
                     UNION \
                     SELECT a.pid FROM pg_stat_activity a JOIN blocked b \
                       ON b.pid = ANY (pg_blocking_pids(a.pid))) \
                 SELECT count(*) FROM blocked",
            )
            .bind(self.pid)
            .fetch_one(db)
            .await?;
            if waiting >= n {
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "only {waiting} of {n} sessions ever waited for the test's lock"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Lets the waiters go, undoing what the test did in its transaction.
    pub(crate) async fn rollback(self) -> anyhow::Result<()> {
        Ok(self.tx.rollback().await?)
    }

    /// Lets the waiters go, keeping what the test did in its transaction.
    pub(crate) async fn commit(self) -> anyhow::Result<()> {
        Ok(self.tx.commit().await?)
    }
}

/// Takes the asset's row lock: a booking of the asset then stalls inside its transaction
/// (holding the asset's Redlock) until the test lets it go.
pub(crate) async fn hold_asset_row(db: &PgPool, asset: Uuid) -> anyhow::Result<Held> {
    Held::lock(db, "SELECT 1 FROM assets WHERE id = $1 FOR UPDATE", asset).await
}

/// A customer of the demo data with this membership tier.
pub(crate) async fn customer_of_tier(db: &PgPool, tier: &str) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM customers WHERE membership_tier = $1 ORDER BY full_name LIMIT 1",
    )
    .bind(tier)
    .fetch_one(db)
    .await?)
}

/// Books every unit of `sku` (in `branch`, or in every branch) for `[start, end)` through `api`
/// (staff), so the dates are sold out and the waitlist takes them. Units already taken then are
/// skipped. Returns how many bookings it made.
pub(crate) async fn sell_out(
    api: &sentra_api_client::ApiClient,
    db: &PgPool,
    sku: &str,
    branch: Option<&str>,
    start: NaiveDate,
    end: NaiveDate,
) -> anyhow::Result<usize> {
    let units: Vec<Uuid> = sqlx::query_scalar(
        "SELECT a.id FROM assets a JOIN skus s ON s.id = a.sku_id JOIN branches b ON b.id = a.home_branch_id \
         WHERE s.code = $1 AND ($2::text IS NULL OR b.code = $2) ORDER BY a.plate_or_serial",
    )
    .bind(sku)
    .bind(branch)
    .fetch_all(db)
    .await?;
    let customer: Uuid =
        sqlx::query_scalar("SELECT id FROM customers ORDER BY full_name DESC LIMIT 1")
            .fetch_one(db)
            .await?;
    let mut booked = 0;
    for unit in units {
        let key = format!("sell-out-{unit}-{start}");
        match api
            .create_booking(&key, &unit_booking(unit, customer, start, end))
            .await
        {
            Ok(_) => booked += 1,
            Err(e) if e.status() == Some(409) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(booked)
}
