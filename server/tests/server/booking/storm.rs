//! Booking storms: hundreds of concurrent attempts on overlapping ranges of a few assets, also
//! while Redis loses its data, a lock node dies, or a lock holder stalls past its TTL. After
//! each: no two active bookings of an asset overlap, and every attempt got 201 or 409.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use sentra_test_support::RedisServer;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{
    fixtures::{assets, booking_body, customers, day, overlapping_pairs, seed},
    support::TestApp,
};

const ATTEMPTS: usize = 240;

#[derive(Debug, Default)]
struct StormReport {
    created: usize,
    conflicts: usize,
    /// Anything but 201/409: (status, body).
    unexpected: Vec<(u16, String)>,
}

/// Fires `ATTEMPTS` booking requests at once over 1–5-day ranges in a 15-day window of `assets`.
/// `midway` runs once half of the attempts have finished.
async fn storm(
    app: &TestApp,
    assets: &[Uuid],
    seed_value: u64,
    midway: impl std::future::Future<Output = ()>,
) -> anyhow::Result<StormReport> {
    let people = customers(&app.db).await?;
    let mut rng = StdRng::seed_from_u64(seed_value);
    let done = Arc::new(AtomicUsize::new(0));
    let half = Arc::new(Notify::new());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..ATTEMPTS {
        let asset = assets[rng.random_range(0..assets.len())];
        let start = rng.random_range(0..15);
        let nights = rng.random_range(1..=5);
        let body = booking_body(
            asset,
            people[i % people.len()],
            day(start),
            day(start + nights),
        );
        let request = app.request(reqwest::Method::POST, "/api/v1/bookings");
        let (done, half) = (done.clone(), half.clone());
        tasks.spawn(async move {
            let response = request
                .header("Idempotency-Key", format!("storm-{seed_value}-{i}"))
                .json(&body)
                .send()
                .await;
            if done.fetch_add(1, Ordering::SeqCst) + 1 == ATTEMPTS / 2 {
                half.notify_one();
            }
            match response {
                Ok(r) => {
                    let status = r.status().as_u16();
                    (status, r.text().await.unwrap_or_default())
                }
                Err(e) => (0, e.to_string()),
            }
        });
    }
    half.notified().await;
    midway.await;
    let mut report = StormReport::default();
    while let Some(result) = tasks.join_next().await {
        match result? {
            (201, _) => report.created += 1,
            (409, _) => report.conflicts += 1,
            other => report.unexpected.push(other),
        }
    }
    Ok(report)
}

async fn assert_no_double_booking(app: &TestApp, report: &StormReport) -> anyhow::Result<()> {
    assert!(
        report.unexpected.is_empty(),
        "every attempt must get 201 or 409: {:?}",
        report.unexpected
    );
    assert_eq!(report.created + report.conflicts, ATTEMPTS);
    assert!(
        report.created >= 3,
        "some bookings must succeed: {report:?}"
    );
    assert!(
        report.conflicts > 0,
        "overlapping attempts must collide: {report:?}"
    );
    assert_eq!(overlapping_pairs(&app.db).await?, 0, "double booking!");
    let active: i64 =
        sqlx::query_scalar("SELECT count(*) FROM bookings WHERE status = 'PENDING_PAYMENT'")
            .fetch_one(&app.db)
            .await?;
    assert_eq!(
        usize::try_from(active)?,
        report.created,
        "every 201 is a stored hold"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_on_three_assets_never_double_books() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let targets = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[..3].to_vec();
    let report = storm(&app, &targets, 1, async {}).await?;
    assert_no_double_booking(&app, &report).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_survives_redis_flushall_in_the_middle() -> anyhow::Result<()> {
    let redis = tokio::task::spawn_blocking(RedisServer::start).await??;
    let mut app = TestApp::spawn_with_redis(&redis.url()).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let targets = assets(&app.db, "VARIO-125", "DPS01").await?[..3].to_vec();
    let url = redis.url();
    let report = storm(&app, &targets, 2, async move {
        let mut conn = redis::Client::open(url)
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("conn");
        let _: () = redis::cmd("FLUSHALL")
            .query_async(&mut conn)
            .await
            .expect("flushall");
    })
    .await?;
    assert_no_double_booking(&app, &report).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_survives_losing_one_of_three_lock_nodes() -> anyhow::Result<()> {
    let nodes = tokio::task::spawn_blocking(|| {
        (0..3)
            .map(|_| RedisServer::start())
            .collect::<anyhow::Result<Vec<_>>>()
    })
    .await??;
    let lock_urls: Vec<String> = nodes.iter().map(RedisServer::url).collect();
    let mut app = TestApp::spawn_with(&[("SENTRA_REDLOCK_URLS", &lock_urls.join(","))]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let targets = assets(&app.db, "AVANZA-13G-AT", "DPS01").await?;
    let report = storm(&app, &targets, 3, async { nodes[2].kill() }).await?;
    assert_no_double_booking(&app, &report).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_holder_paused_past_its_ttl_cannot_double_book() -> anyhow::Result<()> {
    let mut app = TestApp::spawn_with(&[("SENTRA_LOCK_TTL_SECS", "1")]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let targets = assets(&app.db, "INNOVA-ZENIX-V", "JKT01").await?;
    let sku_asset = format!("{}lock:{{INNOVA-ZENIX-V:{}}}", app.key_prefix, targets[0]);

    // The stalled holder takes the asset's lock for 1 s, then "pauses" (a GC stop, a slow
    // disk) for longer than that while the storm goes on.
    let lock_node = sentra_server::cache::RedisHandle::new(
        sentra_server::cache::RedisTarget::Node(RedisServer::shared()?.url().into()),
    )?;
    let redlock = sentra_server::cache::redlock::Redlock::new(
        vec![lock_node],
        sentra_server::cache::redlock::RetryPolicy::default(),
    );
    let lease = redlock.acquire(&sku_asset, Duration::from_secs(1)).await?;
    let report = storm(
        &app,
        &targets,
        4,
        tokio::time::sleep(Duration::from_millis(1500)),
    )
    .await?;
    assert!(
        std::time::Instant::now() > lease.valid_until,
        "the lease lapsed during the pause"
    );

    // It wakes up and writes the hold it had decided on, over days the storm booked on this
    // asset meanwhile: the Postgres exclusion constraint is the fence that refuses it.
    let (start, end): (chrono::NaiveDate, chrono::NaiveDate) = sqlx::query_as(
        "SELECT lower(period), upper(period) FROM bookings \
         WHERE asset_id = $1 AND status = 'PENDING_PAYMENT' ORDER BY created_at LIMIT 1",
    )
    .bind(targets[0])
    .fetch_one(&app.db)
    .await?;
    let asset = sentra_server::booking::repo::asset_context(&app.db, targets[0])
        .await?
        .expect("asset");
    let stale_write = sentra_server::booking::repo::NewHold {
        id: Uuid::now_v7(),
        customer_id: customers(&app.db).await?[0],
        start,
        end,
        total_idr: 0,
        hold_token: Uuid::new_v4(),
        payment_window_secs: 600,
    };
    let err = sentra_server::booking::repo::create_hold(&app.db, &asset, &stale_write)
        .await
        .expect_err("the stalled holder's write must be refused");
    let code = err
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .map(std::borrow::Cow::into_owned);
    assert_eq!(code.as_deref(), Some("23P01"), "{err}");
    redlock.release(&lease).await;
    assert_no_double_booking(&app, &report).await
}
