//! The calendar is a projection of Postgres that never goes backwards: a reconcile running while
//! bookings are made and cancelled cannot undo them, and the calendar covers every day a booking
//! can occupy under the configured rules.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use chrono::NaiveDate;
use rand::{Rng, SeedableRng, rngs::StdRng};
use sentra_server::cache::{
    Cache, RedisHandle, RedisTarget,
    calendar::{AssetCalendar, SkuDays, bit_is_set},
};
use sentra_test_support::RedisServer;
use uuid::Uuid;

use crate::{
    fixtures::{assets, customers, day, seed, unit_booking},
    support::TestApp,
};

const AVANZA: &str = "AVANZA-13G-AT";

fn cache_of(app: &TestApp, url: String) -> anyhow::Result<Cache> {
    Ok(Cache {
        main: RedisHandle::new(RedisTarget::Node(url.into()))?,
        key_prefix: app.key_prefix.clone(),
    })
}

/// Every day of `[first, end)` of `asset`: (calendar bit, search-index bit, Postgres).
async fn compare(
    app: &TestApp,
    cache: &Cache,
    asset: Uuid,
    first: NaiveDate,
    end: NaiveDate,
) -> anyhow::Result<Vec<String>> {
    let mut conn = cache.main.connection().await?;
    let ordinal: i32 = sqlx::query_scalar("SELECT sku_ordinal FROM assets WHERE id = $1")
        .bind(asset)
        .fetch_one(&app.db)
        .await?;
    let calendar = AssetCalendar::new(&cache.key_prefix, AVANZA, asset);
    let index = SkuDays::new(&cache.key_prefix, AVANZA);
    let mut wrong = Vec::new();
    for d in first.iter_days().take_while(|d| *d < end) {
        let truth: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM bookings WHERE asset_id = $1 AND occupied @> $2::date \
             AND status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE'))",
        )
        .bind(asset)
        .bind(d)
        .fetch_one(&app.db)
        .await?;
        let bit = !calendar
            .is_free(&mut conn, d, d + chrono::Days::new(1))
            .await?;
        let day_key: Option<Vec<u8>> = redis::cmd("GET")
            .arg(index.day_key(d))
            .query_async(&mut conn)
            .await?;
        let indexed = bit_is_set(&day_key.unwrap_or_default(), u32::try_from(ordinal)?);
        if bit != truth || indexed != truth {
            wrong.push(format!(
                "{asset} {d}: calendar {bit}, index {indexed}, postgres {truth}"
            ));
        }
    }
    Ok(wrong)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconcile_running_during_bookings_never_undoes_them() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let targets = assets(&app.db, AVANZA, "JKT01").await?;
    let people = customers(&app.db).await?;
    // A fleet large enough that a rebuild takes a while between reading Postgres and writing.
    sqlx::query(
        "INSERT INTO assets (id, sku_id, home_branch_id, plate_or_serial, status) \
         SELECT gen_random_uuid(), sku_id, home_branch_id, 'B ' || n || ' TST', 'active' \
         FROM assets, generate_series(1, 3000) n WHERE id = $1",
    )
    .bind(targets[0])
    .execute(&app.db)
    .await?;
    let cache = cache_of(&app, RedisServer::shared()?.url())?;

    let writing = Arc::new(AtomicBool::new(true));
    let reconciler = {
        let (projection, writing) = (app.state.bookings.projection().clone(), writing.clone());
        tokio::spawn(async move {
            let mut rounds = 0;
            while writing.load(Ordering::SeqCst) {
                projection.rebuild_all().await?;
                rounds += 1;
            }
            anyhow::Ok(rounds)
        })
    };
    let mut writers = tokio::task::JoinSet::new();
    for worker in 0..4u64 {
        let (api, targets, people) = (app.api(), targets.clone(), people.clone());
        writers.spawn(async move {
            let mut rng = StdRng::seed_from_u64(worker);
            for i in 0..60 {
                let asset = targets[rng.random_range(0..targets.len())];
                let start = rng.random_range(0..20);
                let body = unit_booking(
                    asset,
                    people[i % people.len()],
                    day(start),
                    day(start + rng.random_range(1..4)),
                );
                // Refusals (the dates are taken) are part of the load; nothing else is.
                match api.create_booking(&format!("rw-{worker}-{i}"), &body).await {
                    Ok(booking) if rng.random_bool(0.5) => {
                        api.cancel_booking(booking.id).await?;
                    }
                    Ok(_) => {}
                    Err(err) if err.status() == Some(409) => {}
                    Err(err) => return Err(err.into()),
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = writers.join_next().await {
        done??;
    }
    writing.store(false, Ordering::SeqCst);
    let rounds = reconciler.await??;
    assert!(rounds >= 2, "reconciles ran during the writes ({rounds})");

    // No reconcile after the last write: what Redis holds now must be what Postgres says.
    let mut wrong = Vec::new();
    for asset in &targets {
        wrong.extend(compare(&app, &cache, *asset, day(0), day(25)).await?);
    }
    assert!(wrong.is_empty(), "{} days differ: {wrong:#?}", wrong.len());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_covers_every_day_a_booking_can_occupy() -> anyhow::Result<()> {
    let redis = tokio::task::spawn_blocking(RedisServer::start).await??;
    let mut app = TestApp::spawn_with(&[
        ("REDIS_URL", &redis.url()),
        ("SENTRA_BOOKING_HORIZON_DAYS", "365"),
        ("SENTRA_MAX_RENTAL_DAYS", "120"),
    ])
    .await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let asset = assets(&app.db, AVANZA, "JKT01").await?[0];
    let person = customers(&app.db).await?[0];
    // The latest start the rules allow, for nearly the longest rental (plus a buffer day).
    app.api()
        .create_booking("far", &unit_booking(asset, person, day(360), day(475)))
        .await?;

    // Redis loses everything; the reconciler rebuilds the calendar from Postgres.
    let cache = cache_of(&app, redis.url())?;
    let mut conn = cache.main.connection().await?;
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await?;
    app.state.bookings.projection().rebuild_all().await?;
    let wrong = compare(&app, &cache, asset, day(470), day(478)).await?;
    assert!(wrong.is_empty(), "the far end is not covered: {wrong:#?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_follows_postgres_back_when_postgres_lost_changes() -> anyhow::Result<()> {
    let redis = tokio::task::spawn_blocking(RedisServer::start).await??;
    let mut app = TestApp::spawn_with(&[("REDIS_URL", &redis.url())]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let asset = assets(&app.db, AVANZA, "JKT01").await?[0];
    let people = customers(&app.db).await?;
    app.api()
        .create_booking("lost", &unit_booking(asset, people[0], day(3), day(5)))
        .await?;
    // Postgres fails over to a replica that never received that commit: the booking and the
    // version it gave the asset are gone, while Redis saw them.
    sqlx::query("DELETE FROM bookings WHERE asset_id = $1")
        .bind(asset)
        .execute(&app.db)
        .await?;
    sqlx::query("UPDATE assets SET calendar_version = calendar_version - 1 WHERE id = $1")
        .bind(asset)
        .execute(&app.db)
        .await?;

    let report = app.state.bookings.projection().rebuild_all().await?;
    assert_eq!(report.forced, 1, "{report:?}");
    let cache = cache_of(&app, redis.url())?;
    let wrong = compare(&app, &cache, asset, day(0), day(10)).await?;
    assert!(wrong.is_empty(), "{wrong:#?}");
    app.api()
        .create_booking("again", &unit_booking(asset, people[1], day(3), day(5)))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_with_an_older_calendar_library_gets_this_one() -> anyhow::Result<()> {
    let redis = tokio::task::spawn_blocking(RedisServer::start).await??;
    let mut conn = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;
    // What an earlier release left in Redis (functions persist across restarts).
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(
            "#!lua name=sentra_calendar\n\
             redis.register_function('sentra_is_free', function(keys, args) return 1 end)\n\
             redis.register_function('sentra_reserve', function(keys, args) return 1 end)",
        )
        .query_async(&mut conn)
        .await?;
    let mut app = TestApp::spawn_with(&[("REDIS_URL", &redis.url())]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let asset = assets(&app.db, AVANZA, "JKT01").await?[0];
    let person = customers(&app.db).await?[0];
    app.api()
        .create_booking("upgrade", &unit_booking(asset, person, day(3), day(5)))
        .await?;
    let cache = cache_of(&app, redis.url())?;
    let wrong = compare(&app, &cache, asset, day(0), day(10)).await?;
    assert!(
        wrong.is_empty(),
        "the booking's days are in the calendar: {wrong:#?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_reconcile_rewrites_only_assets_that_moved_and_compares_all_now_and_then()
-> anyhow::Result<()> {
    use sentra_server::booking::reconcile::{FULL_EVERY, Reconciler, TickKind};

    let redis = tokio::task::spawn_blocking(RedisServer::start).await??;
    let mut app = TestApp::spawn_with(&[("REDIS_URL", &redis.url())]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let fleet = assets(&app.db, AVANZA, "JKT01").await?;
    let person = customers(&app.db).await?[0];
    let cache = Arc::new(cache_of(&app, redis.url())?);
    let window = app.state.bookings.settings().calendar_window();
    let mut reconciler = Reconciler::new(app.db.clone(), cache.clone(), window);
    let (kind, first) = reconciler.tick().await?;
    assert_eq!(kind, TickKind::Full);
    let all_assets = first.assets;

    // A booking whose calendar write was lost: Postgres moved the asset's version, Redis never
    // heard of it.
    sqlx::query(
        "WITH bumped AS (UPDATE assets SET calendar_version = calendar_version + 1 WHERE id = $2 \
             RETURNING id, home_branch_id) \
         INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, expires_at, hold_token) \
         SELECT $1, home_branch_id, id, $3, daterange($4, $5, '[)'), 'PENDING_PAYMENT', \
                now() + interval '10 minutes', gen_random_uuid() FROM bumped",
    )
    .bind(Uuid::now_v7())
    .bind(fleet[0])
    .bind(person)
    .bind(day(4))
    .bind(day(6))
    .execute(&app.db)
    .await?;
    assert!(
        !compare(&app, &cache, fleet[0], day(3), day(8))
            .await?
            .is_empty()
    );
    let (kind, report) = reconciler.tick().await?;
    assert_eq!(kind, TickKind::Incremental);
    assert_eq!(
        report.assets, 1,
        "only the asset that moved is read and rewritten"
    );
    assert!(
        compare(&app, &cache, fleet[0], day(3), day(8))
            .await?
            .is_empty()
    );

    // Bits lost without any version moving (a Redis failover that dropped acknowledged writes):
    // the incremental ticks do not see it, the next full comparison repairs it.
    app.api()
        .create_booking("lost-bits", &unit_booking(fleet[1], person, day(4), day(6)))
        .await?;
    let (_, settled) = reconciler.tick().await?;
    assert_eq!(settled.assets, 1, "the booking moved one asset");
    let mut conn = cache.main.connection().await?;
    let index = SkuDays::new(&cache.key_prefix, AVANZA);
    let ordinal: i32 = sqlx::query_scalar("SELECT sku_ordinal FROM assets WHERE id = $1")
        .bind(fleet[1])
        .fetch_one(&app.db)
        .await?;
    let _: () = redis::cmd("SETBIT")
        .arg(index.day_key(day(4)))
        .arg(ordinal)
        .arg(0)
        .query_async(&mut conn)
        .await?;
    let mut ticks = 3;
    loop {
        let (kind, report) = reconciler.tick().await?;
        ticks += 1;
        if kind == TickKind::Full {
            assert_eq!(report.assets, all_assets);
            assert!(report.keys_repaired >= 1);
            break;
        }
        assert_eq!(report.assets, 0, "nothing moved");
        anyhow::ensure!(ticks <= FULL_EVERY + 1, "no full comparison came");
    }
    assert!(
        compare(&app, &cache, fleet[1], day(3), day(8))
            .await?
            .is_empty()
    );

    // Redis loses everything: the very next tick compares all.
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await?;
    assert_eq!(reconciler.tick().await?.0, TickKind::Full);

    // The server's own reconcile reports its duration.
    let (status, _, metrics) = app.get("/metrics").await?;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("sentra_calendar_reconcile_duration_seconds_count{kind=\"full\"}"),
        "{metrics}"
    );
    Ok(())
}
