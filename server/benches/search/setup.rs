//! The HTTP benchmark's world: the server in process on a fresh database with the demo data plus
//! 10,000 units of one SKU (7,000 in Jakarta, 3,000 in Bali) and 3,000 confirmed bookings, served
//! on loopback with one extra route answering today's full list.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::get,
};
use chrono::NaiveDate;
use sentra_protocol::FreeAsset;
use sentra_server::{AppState, Config, booking::availability::FleetAsset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) const SKU: &str = "BENCH-CAR";
pub(crate) const UNITS: i32 = 10_000;
pub(crate) const BOOKINGS: i32 = 3_000;

/// The running server and what clients need.
pub(crate) struct World {
    pub(crate) state: AppState,
    pub(crate) base: String,
    pub(crate) token: String,
    pub(crate) customer: Uuid,
    pub(crate) today: NaiveDate,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Today's (pre-issue-9) answer of `GET /api/v1/availability`: every free unit.
#[derive(Serialize)]
struct FullList {
    sku: String,
    start: NaiveDate,
    end: NaiveDate,
    branch: Option<String>,
    free: Vec<FreeAsset>,
}

#[derive(Deserialize)]
struct FullListQuery {
    sku: String,
    start: NaiveDate,
    end: NaiveDate,
    branch: Option<String>,
}

/// The old handler, word for word in what it computes: the same search, every unit serialised.
async fn full_list(
    State(state): State<AppState>,
    Query(query): Query<FullListQuery>,
) -> Result<Json<FullList>, String> {
    let units = state
        .availability
        .free_assets(&query.sku, query.branch.as_deref(), query.start, query.end)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Json(FullList {
        free: units.assets().map(FleetAsset::to_free_asset).collect(),
        sku: query.sku,
        start: query.start,
        end: query.end,
        branch: query.branch,
    }))
}

/// The demo data, the bench SKU's 10,000 units and 3,000 confirmed bookings, and the calendar
/// rebuilt from them.
async fn load(state: &AppState, today: NaiveDate) -> anyhow::Result<()> {
    let db = state.db.clone();
    sentra_server::demo::seed(&db).await?;
    sqlx::query(
        "INSERT INTO skus (id, code, name, category, daily_rate_idr, deposit_idr, turnaround_buffer_days) \
         VALUES ($1, $2, 'Toyota Avanza 1.3 G AT (bench)', 'car', 450000, 2000000, 1)",
    )
    .bind(Uuid::now_v7())
    .bind(SKU)
    .execute(&db)
    .await?;
    sqlx::query(
        "INSERT INTO assets (id, sku_id, home_branch_id, plate_or_serial) \
         SELECT gen_random_uuid(), (SELECT id FROM skus WHERE code = $1), \
                (SELECT id FROM branches WHERE code = CASE WHEN n <= $2 * 7 / 10 THEN 'JKT01' ELSE 'DPS01' END), \
                'BN ' || n || ' CH' \
         FROM generate_series(1, $2) n",
    )
    .bind(SKU)
    .bind(UNITS)
    .execute(&db)
    .await?;
    // Two confirmed rentals on each of 1,500 units, in separate halves of the next 30 days.
    sqlx::query(
        "WITH picked AS ( \
             SELECT a.id, a.home_branch_id, a.sku_ordinal, row_number() OVER (ORDER BY a.sku_ordinal) AS n \
             FROM assets a JOIN skus s ON s.id = a.sku_id WHERE s.code = $1 \
             ORDER BY a.sku_ordinal LIMIT $2 / 2), \
         rentals AS ( \
             SELECT p.*, half FROM picked p, generate_series(0, 1) half) \
         INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, total_idr) \
         SELECT gen_random_uuid(), home_branch_id, id, (SELECT id FROM customers ORDER BY full_name LIMIT 1), \
                daterange($3 + half * 15 + (n % 10)::int, $3 + half * 15 + (n % 10)::int + 1 + (n % 4)::int, '[)'), \
                'CONFIRMED', 450000 \
         FROM rentals",
    )
    .bind(SKU)
    .bind(BOOKINGS)
    .bind(today)
    .execute(&db)
    .await?;
    sqlx::query(
        "UPDATE assets SET calendar_version = calendar_version + 1 \
         WHERE id IN (SELECT asset_id FROM bookings)",
    )
    .execute(&db)
    .await?;
    sqlx::query("ANALYZE").execute(&db).await?;
    state.bookings.projection().rebuild_all().await?;

    Ok(())
}

/// Starts the server on `database_url` with the fleet and bookings, serving on loopback.
pub(crate) async fn world(database_url: &str, redis_url: &str) -> anyhow::Result<World> {
    let storage = format!("sentra-bench-search-{}", std::process::id());
    let env = super::common::server_env(database_url, redis_url, &storage);
    let config = Config::from_lookup(|name| env.get(name).cloned())?;
    let server = sentra_server::start(config).await?;
    let state = server.state().clone();
    let db = state.db.clone();
    let today = chrono::Utc::now().date_naive() + chrono::Days::new(2);
    load(&state, today).await?;
    let app = sentra_server::http::router(state.clone()).merge(
        Router::new()
            .route("/bench/full-list", get(full_list))
            .with_state(state.clone()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .await;
    });
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/staff/login"))
        .json(&serde_json::json!({"email": "hq@demo.sentrarental.id", "password": "demo-hq-2026"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("login failed: {login}"))?
        .to_owned();
    let customer: Uuid = sqlx::query_scalar("SELECT id FROM customers ORDER BY full_name LIMIT 1")
        .fetch_one(&db)
        .await?;
    Ok(World {
        state,
        base,
        token,
        customer,
        today,
        _shutdown: shutdown,
    })
}

/// Pairs of holding bookings of one unit whose occupied days overlap (must be 0).
pub(crate) async fn overlaps(world: &Arc<World>) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM bookings a JOIN bookings b \
           ON a.asset_id = b.asset_id AND a.id < b.id AND a.occupied && b.occupied \
         WHERE a.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') \
           AND b.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE')",
    )
    .fetch_one(&world.state.db)
    .await?)
}
