//! The database itself refuses double bookings, in every branch partition.

use sqlx::PgPool;
use uuid::Uuid;

use crate::support::TestApp;

const ACTIVE: [&str; 3] = ["PENDING_PAYMENT", "CONFIRMED", "ACTIVE"];

async fn insert_booking(
    db: &PgPool,
    branch: Uuid,
    asset: Uuid,
    customer: Uuid,
    period: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, expires_at, hold_token) \
         VALUES ($1, $2, $3, $4, $5::daterange, $6, now() + interval '10 minutes', $7)",
    )
    .bind(Uuid::now_v7())
    .bind(branch)
    .bind(asset)
    .bind(customer)
    .bind(period)
    .bind(status)
    .bind(Uuid::now_v7())
    .execute(db)
    .await
    .map(|_| ())
}

fn sqlstate(err: &sqlx::Error) -> Option<String> {
    err.as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .map(std::borrow::Cow::into_owned)
}

async fn new_branch(db: &PgPool, code: &str, tz: &str) -> anyhow::Result<(Uuid, Uuid)> {
    let branch = Uuid::now_v7();
    sqlx::query("INSERT INTO branches (id, code, name, time_zone) VALUES ($1, $2, $3, $4)")
        .bind(branch)
        .bind(code)
        .bind(format!("Cabang {code}"))
        .bind(tz)
        .execute(db)
        .await?;
    let sku: Uuid = sqlx::query_scalar(
        "INSERT INTO skus (id, code, name, category, daily_rate_idr) \
         VALUES ($1, $2, 'Toyota Avanza 1.3 G AT', 'car', 450000) \
         ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind("AVZ-TEST")
    .fetch_one(db)
    .await?;
    let asset = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO assets (id, sku_id, home_branch_id, plate_or_serial) VALUES ($1, $2, $3, $4)",
    )
    .bind(asset)
    .bind(sku)
    .bind(branch)
    .bind(format!("B {code} TST"))
    .execute(db)
    .await?;
    Ok((branch, asset))
}

async fn new_customer(db: &PgPool) -> anyhow::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO customers (id, full_name, email) VALUES ($1, 'Budi', $2)")
        .bind(id)
        .bind(format!("{id}@example.com"))
        .execute(db)
        .await?;
    Ok(id)
}

#[tokio::test]
async fn overlapping_active_bookings_are_rejected_in_every_partition() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let db = &app.db;
    let customer = new_customer(db).await?;
    let branches = [
        new_branch(db, "JKT01", "Asia/Jakarta").await?,
        new_branch(db, "DPS01", "Asia/Makassar").await?,
        new_branch(db, "DJJ01", "Asia/Jayapura").await?,
    ];
    for (branch, asset) in branches {
        insert_booking(
            db,
            branch,
            asset,
            customer,
            "[2026-12-20,2026-12-27)",
            "CONFIRMED",
        )
        .await?;
        for status in ACTIVE {
            let err = insert_booking(
                db,
                branch,
                asset,
                customer,
                "[2026-12-26,2026-12-29)",
                status,
            )
            .await
            .expect_err("an overlapping active booking must be refused");
            assert_eq!(sqlstate(&err).as_deref(), Some("23P01"), "{err}");
        }
        // Back-to-back (half-open ranges) and inactive overlaps are fine.
        insert_booking(
            db,
            branch,
            asset,
            customer,
            "[2026-12-27,2026-12-29)",
            "PENDING_PAYMENT",
        )
        .await?;
        for status in ["CANCELLED", "EXPIRED", "COMPLETED", "RETURNED", "NO_SHOW"] {
            insert_booking(
                db,
                branch,
                asset,
                customer,
                "[2026-12-21,2026-12-23)",
                status,
            )
            .await?;
        }
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings")
        .fetch_one(db)
        .await?;
    assert_eq!(rows, 3 * 7);
    Ok(())
}

#[tokio::test]
async fn every_branch_partition_carries_the_exclusion_constraint() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    for (i, tz) in [
        "Asia/Jakarta",
        "Asia/Makassar",
        "Asia/Jayapura",
        "Asia/Jakarta",
    ]
    .iter()
    .enumerate()
    {
        new_branch(&app.db, &format!("BR{i}"), tz).await?;
    }
    let partitions: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.relname::text, \
                (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'x') \
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'bookings'::regclass ORDER BY 1",
    )
    .fetch_all(&app.db)
    .await?;
    assert_eq!(partitions.len(), 4, "{partitions:?}");
    assert!(
        partitions.iter().all(|(_, constraints)| *constraints == 1),
        "{partitions:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_booking_outside_the_assets_home_branch_is_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let customer = new_customer(&app.db).await?;
    let (_, jakarta_asset) = new_branch(&app.db, "JKT01", "Asia/Jakarta").await?;
    let (bali, _) = new_branch(&app.db, "DPS01", "Asia/Makassar").await?;
    // Filing the Jakarta asset's booking under Bali would dodge Jakarta's constraint.
    let err = insert_booking(
        &app.db,
        bali,
        jakarta_asset,
        customer,
        "[2026-12-20,2026-12-22)",
        "CONFIRMED",
    )
    .await
    .expect_err("wrong partition");
    assert_eq!(sqlstate(&err).as_deref(), Some("23514"), "{err}");
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("bookings_hold_in_home_branch")
    );
    Ok(())
}

#[tokio::test]
async fn malformed_periods_are_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let customer = new_customer(&app.db).await?;
    let (branch, asset) = new_branch(&app.db, "JKT01", "Asia/Jakarta").await?;
    for period in ["empty", "[2026-12-20,)", "(,2026-12-20)"] {
        let err = insert_booking(&app.db, branch, asset, customer, period, "CONFIRMED")
            .await
            .expect_err(period);
        assert_eq!(sqlstate(&err).as_deref(), Some("23514"), "{period}: {err}");
    }
    Ok(())
}
