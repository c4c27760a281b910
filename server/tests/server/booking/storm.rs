//! Booking storms: hundreds of concurrent attempts on overlapping ranges of a few assets, also
//! while Redis loses its data, lock nodes die, a lock holder stalls past its TTL, or assets are
//! transferred and retired. After each: no two active bookings of an asset overlap, every 201 is
//! a stored hold, and every refusal was true when it was given (a booking really stood in the
//! way); "asset being booked" answers are counted apart, as the retryable answers they are.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, NaiveDate, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sentra_test_support::RedisServer;
use serde_json::Value;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{
    fixtures::{assets, booking_body, customers, day, overlapping_pairs, seed},
    support::TestApp,
};

const ATTEMPTS: usize = 240;

/// One attempt and its answer.
#[derive(Debug)]
struct Answer {
    asset: Uuid,
    start: NaiveDate,
    end: NaiveDate,
    status: u16,
    code: String,
    /// When the answer arrived (the refusal must be true at this time).
    at: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct StormReport {
    created: usize,
    /// Refused because the dates were taken (`booking_conflict`, `asset_held`).
    refused: usize,
    /// `asset_being_booked`: retryable, not a refusal.
    busy: usize,
    /// Refused because the asset changed meanwhile (moved, retired, in the workshop).
    asset_changed: usize,
    /// Anything else: (status, body).
    unexpected: Vec<String>,
    answers: Vec<Answer>,
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
        // From tomorrow in every branch's zone on: a booking starting "today" would block a
        // transfer (the rental may have started), which the race storm needs to happen.
        let start = day(rng.random_range(1..16));
        let end = start + chrono::Days::new(rng.random_range(1..=5));
        let body = booking_body(asset, people[i % people.len()], start, end);
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
            let (status, body) = match response {
                Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                Err(e) => (0, e.to_string()),
            };
            (asset, start, end, status, body, Utc::now())
        });
    }
    half.notified().await;
    midway.await;
    let mut report = StormReport::default();
    while let Some(result) = tasks.join_next().await {
        let (asset, start, end, status, body, at) = result?;
        let code = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_default();
        match (status, code.as_str()) {
            (201, _) => report.created += 1,
            (409, "booking_conflict" | "asset_held") => report.refused += 1,
            (409, "asset_being_booked") => report.busy += 1,
            (409, "asset_moved" | "asset_not_rentable") => report.asset_changed += 1,
            _ => report.unexpected.push(format!("{status} {body}")),
        }
        report.answers.push(Answer {
            asset,
            start,
            end,
            status,
            code,
            at,
        });
    }
    Ok(report)
}

/// Refusals that were not true when given: no booking of the asset that existed at the answer
/// overlapped the requested days (with the SKU's turnaround buffer).
async fn false_refusals(app: &TestApp, report: &StormReport) -> anyhow::Result<Vec<String>> {
    let mut wrong = Vec::new();
    for answer in &report.answers {
        if !(answer.status == 409
            && ["booking_conflict", "asset_held"].contains(&answer.code.as_str()))
        {
            continue;
        }
        let true_then: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM bookings b JOIN assets a ON a.id = b.asset_id \
               JOIN skus s ON s.id = a.sku_id \
             WHERE b.asset_id = $1 AND b.created_at <= $4 \
               AND b.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') \
               AND b.occupied && daterange($2, $3 + s.turnaround_buffer_days, '[)'))",
        )
        .bind(answer.asset)
        .bind(answer.start)
        .bind(answer.end)
        .bind(answer.at)
        .fetch_one(&app.db)
        .await?;
        if !true_then {
            wrong.push(format!(
                "{} refused {}..{} on {} at {}",
                answer.code, answer.start, answer.end, answer.asset, answer.at
            ));
        }
    }
    Ok(wrong)
}

async fn assert_right_answers(app: &TestApp, report: &StormReport) -> anyhow::Result<()> {
    assert!(
        report.unexpected.is_empty(),
        "every attempt must get 201 or a 409 with a known code: {:?}",
        report.unexpected
    );
    assert_eq!(
        report.created + report.refused + report.busy + report.asset_changed,
        ATTEMPTS
    );
    assert!(
        report.created >= 3,
        "some bookings must succeed: {report:?}"
    );
    assert!(
        report.refused > 0,
        "overlapping attempts must collide: {}",
        report.refused
    );
    assert_eq!(overlapping_pairs(&app.db).await?, 0, "double booking!");
    let wrong = false_refusals(app, report).await?;
    assert!(wrong.is_empty(), "refused free dates: {wrong:#?}");
    let holds: i64 =
        sqlx::query_scalar("SELECT count(*) FROM bookings WHERE status = 'PENDING_PAYMENT'")
            .fetch_one(&app.db)
            .await?;
    assert!(
        usize::try_from(holds)? >= report.created,
        "every 201 is a stored hold"
    );
    Ok(())
}

async fn storm_app(vars: &[(&str, &str)]) -> anyhow::Result<TestApp> {
    let mut app = TestApp::spawn_with(vars).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    Ok(app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_on_three_assets_never_double_books_nor_refuses_free_dates() -> anyhow::Result<()> {
    let app = storm_app(&[]).await?;
    let targets = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[..3].to_vec();
    let report = storm(&app, &targets, 1, async {}).await?;
    assert_right_answers(&app, &report).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_survives_redis_flushall_in_the_middle() -> anyhow::Result<()> {
    let redis = tokio::task::spawn_blocking(RedisServer::start).await??;
    let app = storm_app(&[("REDIS_URL", &redis.url())]).await?;
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
    assert_right_answers(&app, &report).await
}

async fn lock_nodes(n: usize) -> anyhow::Result<Vec<RedisServer>> {
    tokio::task::spawn_blocking(move || (0..n).map(|_| RedisServer::start()).collect()).await?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_survives_losing_one_of_three_lock_nodes() -> anyhow::Result<()> {
    let nodes = lock_nodes(3).await?;
    let urls: Vec<String> = nodes.iter().map(RedisServer::url).collect();
    let app = storm_app(&[("SENTRA_REDLOCK_URLS", &urls.join(","))]).await?;
    let targets = assets(&app.db, "AVANZA-13G-AT", "DPS01").await?;
    let report = storm(&app, &targets, 3, async { nodes[2].kill() }).await?;
    assert_right_answers(&app, &report).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_lock_node_down_concurrent_attempts_meet_in_postgres() -> anyhow::Result<()> {
    let nodes = lock_nodes(3).await?;
    let urls: Vec<String> = nodes.iter().map(RedisServer::url).collect();
    let app = storm_app(&[("SENTRA_REDLOCK_URLS", &urls.join(","))]).await?;
    for node in &nodes {
        node.kill();
    }
    // Two assets, so that many attempts pass the calendar before the first bits are written
    // and wait for each other in Postgres.
    let targets = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[..2].to_vec();
    let report = storm(&app, &targets, 5, async {}).await?;
    assert_eq!(
        report.busy, 0,
        "no lock, so nobody is told the asset is busy"
    );
    assert_right_answers(&app, &report).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_holder_paused_past_its_ttl_writes_while_others_book() -> anyhow::Result<()> {
    let app = storm_app(&[("SENTRA_LOCK_TTL_SECS", "1")]).await?;
    let targets = assets(&app.db, "INNOVA-ZENIX-V", "JKT01").await?;
    let lock_key = app.state.cache.asset_lock_key("INNOVA-ZENIX-V", targets[0]);
    // The stalled holder takes the asset's lock for 1 s, then "pauses" (a GC stop, a slow disk)
    // past that while the storm goes on.
    let redlock = sentra_server::cache::redlock::Redlock::new(
        vec![sentra_server::cache::RedisHandle::new(
            sentra_server::cache::RedisTarget::Node(RedisServer::shared()?.url().into()),
        )?],
        sentra_server::cache::redlock::RetryPolicy::default(),
    );
    let lease = redlock.acquire(&lock_key, Duration::from_secs(1)).await?;
    let asset = sentra_server::booking::repo::asset_context(&app.db, targets[0])
        .await?
        .expect("asset");
    let person = customers(&app.db).await?[0];
    let db = app.db.clone();
    let valid_until = lease.valid_until;
    // It wakes up mid-storm and writes the hold it decided on (days 1-16, where the storm
    // books) while others are booking: Postgres alone decides.
    let stale_write = async move {
        tokio::time::sleep_until(tokio::time::Instant::from_std(valid_until)).await;
        let hold = sentra_server::booking::repo::NewHold {
            id: Uuid::now_v7(),
            customer_id: person,
            start: day(1),
            end: day(16),
            total: sentra_domain::Money::ZERO,
            hold_token: Uuid::new_v4(),
            payment_window_secs: 600,
        };
        let outcome = sentra_server::booking::repo::create_hold(
            &db,
            &asset,
            &hold,
            &sentra_server::booking::repo::Attach::Nothing,
        )
        .await
        .expect("the stale write reaches Postgres");
        eprintln!("stale writer: {outcome:?}");
    };
    let report = storm(&app, &targets, 4, stale_write).await?;
    redlock.release(&lease).await;
    assert_right_answers(&app, &report).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_and_retirements_racing_bookings_keep_every_answer_true() -> anyhow::Result<()> {
    let app = storm_app(&[]).await?;
    let targets = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let (moving, retiring) = (targets[0], targets[targets.len() - 1]);
    let hq = app.token.clone().unwrap_or_default();
    let (client, base) = (app.client.clone(), app.base_url.clone());
    let workshop_since = Arc::new(std::sync::Mutex::new(None::<DateTime<Utc>>));
    let since = workshop_since.clone();
    let race = async move {
        let transfer = client
            .post(format!("{base}/api/v1/assets/{moving}/transfer"))
            .bearer_auth(&hq)
            .json(&serde_json::json!({"to_branch_code": "DPS01", "reason": "Armada Bali kurang"}))
            .send();
        let retire = client
            .patch(format!("{base}/api/v1/assets/{retiring}"))
            .bearer_auth(&hq)
            .json(&serde_json::json!({"status": "maintenance"}))
            .send();
        let (transfer, retire) = tokio::join!(transfer, retire);
        if retire.as_ref().is_ok_and(|r| r.status() == 200)
            && let Ok(mut since) = since.lock()
        {
            *since = Some(Utc::now());
        }
        eprintln!(
            "transfer {:?}, workshop {:?}",
            transfer.map(|r| r.status()),
            retire.map(|r| r.status())
        );
    };
    let report = storm(&app, &targets, 6, race).await?;
    assert_right_answers(&app, &report).await?;
    // Every holding booking lives where its asset lives (the partition invariant), and none
    // was made for an asset after it went to the workshop.
    let misplaced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM bookings b JOIN assets a ON a.id = b.asset_id \
         WHERE b.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') AND b.branch_id <> a.home_branch_id",
    )
    .fetch_one(&app.db)
    .await?;
    assert_eq!(misplaced, 0);
    let since = workshop_since
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .ok_or_else(|| anyhow::anyhow!("the asset never went to the workshop"))?;
    let after_workshop: i64 =
        sqlx::query_scalar("SELECT count(*) FROM bookings WHERE asset_id = $1 AND created_at > $2")
            .bind(retiring)
            .bind(since)
            .fetch_one(&app.db)
            .await?;
    assert_eq!(after_workshop, 0, "no booking of an asset in the workshop");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_sent_to_two_servers_at_once_gets_one_decision() -> anyhow::Result<()> {
    let app = storm_app(&[]).await?;
    let (second, _stop) = app.second_server().await?;
    let targets = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let people = customers(&app.db).await?;
    let token = app.token.clone().unwrap_or_default();
    let mut rng = StdRng::seed_from_u64(7);
    let mut pairs = tokio::task::JoinSet::new();
    for i in 0..120 {
        let start = day(rng.random_range(0..10));
        let body = booking_body(
            targets[rng.random_range(0..targets.len())],
            people[i % people.len()],
            start,
            start + chrono::Days::new(rng.random_range(1..=3)),
        );
        for base in [app.base_url.clone(), second.clone()] {
            let (client, token, body) = (app.client.clone(), token.clone(), body.clone());
            pairs.spawn(async move {
                // "Asset being booked" is no decision: retry it (bounded), as a client would.
                for _ in 0..20 {
                    let response = client
                        .post(format!("{base}/api/v1/bookings"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", format!("twin-{i}"))
                        .json(&body)
                        .send()
                        .await?;
                    let status = response.status().as_u16();
                    let body: Value = response.json().await?;
                    if body["code"] != "asset_being_booked" {
                        return anyhow::Ok((i, status, body));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                anyhow::bail!("key twin-{i} stayed busy")
            });
        }
    }
    let mut answers: std::collections::HashMap<usize, Vec<(u16, Value)>> =
        std::collections::HashMap::new();
    while let Some(answer) = pairs.join_next().await {
        let (i, status, body) = answer??;
        answers.entry(i).or_default().push((status, body));
    }
    assert_eq!(answers.len(), 120);
    for (i, twins) in &answers {
        let [(a, first), (b, second)] = twins.as_slice() else {
            panic!("key {i}: {twins:?}");
        };
        assert!(*a == 201 || *a == 409, "key {i}: {a} {first}");
        assert_eq!(
            (a, first),
            (b, second),
            "key {i} got two different decisions"
        );
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings")
        .fetch_one(&app.db)
        .await?;
    let created = answers
        .values()
        .filter(|twins| twins.iter().any(|(s, _)| *s == 201))
        .count();
    assert_eq!(
        usize::try_from(rows)?,
        created,
        "one booking per key at most"
    );
    assert_eq!(overlapping_pairs(&app.db).await?, 0);
    Ok(())
}
