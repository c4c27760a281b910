//! Booking answers when a request does not end normally, and when something else changes the
//! asset meanwhile: a client that disconnects or a request cut by the time limit never leaves the
//! asset locked; busy and held dates say when to come back; an asset that moves during a booking
//! is answered afresh on retry; and a transfer leaves past rentals where they happened.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    fixtures::{assets, booking_body, customers, day, hold_asset_row, seed},
    support::TestApp,
};

const AVANZA: &str = "AVANZA-13G-AT";

async fn shared_redis() -> anyhow::Result<redis::aio::MultiplexedConnection> {
    Ok(
        redis::Client::open(sentra_test_support::RedisServer::shared()?.url())?
            .get_multiplexed_async_connection()
            .await?,
    )
}

fn lock_key(app: &TestApp, sku: &str, asset: Uuid) -> String {
    app.state.cache.asset_lock_key(sku, asset)
}

async fn lock_held(app: &TestApp, sku: &str, asset: Uuid) -> anyhow::Result<bool> {
    let exists: i64 = redis::cmd("EXISTS")
        .arg(lock_key(app, sku, asset))
        .query_async(&mut shared_redis().await?)
        .await?;
    Ok(exists == 1)
}

/// Whether the asset's lock is released within `limit` (polled; shorter than the lock's 5 s
/// slice, so a lapse is not mistaken for a release).
async fn released_within(
    app: &TestApp,
    sku: &str,
    asset: Uuid,
    limit: Duration,
) -> anyhow::Result<bool> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if !lock_held(app, sku, asset).await? {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(false)
}

async fn fixture() -> anyhow::Result<(TestApp, Vec<Uuid>, Vec<Uuid>)> {
    fixture_with(&[]).await
}

async fn fixture_with(vars: &[(&str, &str)]) -> anyhow::Result<(TestApp, Vec<Uuid>, Vec<Uuid>)> {
    let mut app = TestApp::spawn_with(vars).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let fleet = assets(&app.db, AVANZA, "JKT01").await?;
    let people = customers(&app.db).await?;
    Ok((app, fleet, people))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_booking_leaves_the_asset_bookable_at_once()
-> anyhow::Result<()> {
    let (app, fleet, people) = fixture().await?;
    let asset = fleet[0];
    let row = hold_asset_row(&app.db, asset).await?;
    let request = app
        .request(reqwest::Method::POST, "/api/v1/bookings")
        .header("Idempotency-Key", "gone-1")
        .json(&booking_body(asset, people[0], day(3), day(5)));
    let client = tokio::spawn(request.send());
    row.wait_for_waiters(&app.db, 1).await?;
    assert!(
        lock_held(&app, AVANZA, asset).await?,
        "the attempt holds the asset's lock while Postgres makes it wait"
    );
    // The customer closes the app: the connection drops mid-request.
    client.abort();
    assert!(
        released_within(&app, AVANZA, asset, Duration::from_secs(2)).await?,
        "the server releases the asset's lock when the client goes away"
    );
    row.rollback().await?;

    // The next customer books other dates of the same car at once...
    let (status, body) = app
        .post(
            "/api/v1/bookings",
            Some("next-1"),
            &booking_body(asset, people[1], day(10), day(12)),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    // ...and the one who left can try again: nothing was stored for their key.
    let (status, body) = app
        .post(
            "/api/v1/bookings",
            Some("gone-1"),
            &booking_body(asset, people[0], day(3), day(5)),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_cut_by_the_time_limit_leaves_the_asset_and_its_key_usable() -> anyhow::Result<()>
{
    let (app, fleet, people) = fixture_with(&[("SENTRA_REQUEST_TIMEOUT_SECS", "1")]).await?;
    let asset = fleet[1];
    let row = hold_asset_row(&app.db, asset).await?;
    let body = booking_body(asset, people[0], day(3), day(5));
    let (status, problem) = app.post("/api/v1/bookings", Some("slow-1"), &body).await?;
    assert_eq!((status, problem["code"].as_str()), (504, Some("timeout")));
    assert!(
        released_within(&app, AVANZA, asset, Duration::from_secs(2)).await?,
        "the time limit ends the attempt and its lock"
    );
    row.rollback().await?;

    let (status, other) = app
        .post(
            "/api/v1/bookings",
            Some("other-1"),
            &booking_body(asset, people[1], day(10), day(12)),
        )
        .await?;
    assert_eq!(status, 201, "{other}");
    // The timed-out request decided nothing: its retry gets a fresh decision, not "in progress".
    let (status, retried) = app.post("/api/v1/bookings", Some("slow-1"), &body).await?;
    assert_eq!(status, 201, "{retried}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_asset_says_retry_in_a_second_not_the_lock_ttl() -> anyhow::Result<()> {
    let (app, fleet, people) = fixture().await?;
    let asset = fleet[2];

    // A booking of the asset is in flight (its lock held for ten minutes at most).
    let redlock = sentra_server::cache::redlock::Redlock::new(
        vec![sentra_server::cache::RedisHandle::new(
            sentra_server::cache::RedisTarget::Node(
                sentra_test_support::RedisServer::shared()?.url().into(),
            ),
        )?],
        sentra_server::cache::redlock::RetryPolicy::default(),
    );
    let lease = redlock
        .acquire(&lock_key(&app, AVANZA, asset), Duration::from_mins(10))
        .await?;
    let response = app
        .request(reqwest::Method::POST, "/api/v1/bookings")
        .header("Idempotency-Key", "busy-1")
        .json(&booking_body(asset, people[1], day(4), day(5)))
        .send()
        .await?;
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let problem: Value = response.json().await?;
    assert_eq!(problem["code"], "asset_being_booked");
    assert_eq!(
        (
            retry_after.as_deref(),
            problem["retry_after_seconds"].as_u64()
        ),
        (Some("1"), Some(1)),
        "a lock held for milliseconds means 'retry in a second', not the lock's TTL"
    );
    redlock.release(&lease).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_hold_says_until_when_it_is_held_and_never_by_whom() -> anyhow::Result<()> {
    let (app, fleet, people) = fixture().await?;
    let asset = fleet[2];

    // Another customer's unpaid hold: until when it is held, and the waitlist, never who.
    let (status, first) = app
        .post(
            "/api/v1/bookings",
            Some("first"),
            &booking_body(asset, people[0], day(3), day(6)),
        )
        .await?;
    assert_eq!(status, 201);
    let (status, held) = app
        .post(
            "/api/v1/bookings",
            Some("second"),
            &booking_body(asset, people[1], day(4), day(5)),
        )
        .await?;
    assert_eq!(
        (status, held["code"].as_str()),
        (409, Some("asset_held")),
        "{held}"
    );
    assert_eq!(held["held_until"], first["expires_at"]);
    assert_eq!(held["waitlist_available"], true);
    let text = held.to_string();
    for secret in [&first["id"], &first["hold_token"], &json!(people[0])] {
        let secret = secret.as_str().expect("string");
        assert!(
            !text.contains(secret),
            "the answer reveals {secret}: {text}"
        );
    }

    // Once paid, it is an ordinary conflict.
    let id = first["id"].as_str().expect("id");
    let (status, _) = app
        .post(
            &format!("/api/v1/bookings/{id}/confirm"),
            None,
            &json!({"hold_token": first["hold_token"]}),
        )
        .await?;
    assert_eq!(status, 200);
    let (status, taken) = app
        .post(
            "/api/v1/bookings",
            Some("third"),
            &booking_body(asset, people[1], day(4), day(5)),
        )
        .await?;
    assert_eq!(
        (status, taken["code"].as_str()),
        (409, Some("booking_conflict"))
    );
    assert!(taken.get("held_until").is_none(), "{taken}");

    // A customer's own unpaid hold is not "another customer's".
    let (status, _) = app
        .post(
            "/api/v1/bookings",
            Some("own-1"),
            &booking_body(asset, people[2], day(10), day(12)),
        )
        .await?;
    assert_eq!(status, 201);
    let (status, own) = app
        .post(
            "/api/v1/bookings",
            Some("own-2"),
            &booking_body(asset, people[2], day(11), day(13)),
        )
        .await?;
    assert_eq!(
        (status, own["code"].as_str()),
        (409, Some("booking_conflict"))
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_that_races_a_transfer_is_answered_afresh_on_retry() -> anyhow::Result<()> {
    let (app, fleet, people) = fixture().await?;
    let asset = fleet[3];
    let bali: Uuid = sqlx::query_scalar("SELECT id FROM branches WHERE code = 'DPS01'")
        .fetch_one(&app.db)
        .await?;
    let mut transfer = hold_asset_row(&app.db, asset).await?;
    let body = booking_body(asset, people[0], day(3), day(5));
    let request = app
        .request(reqwest::Method::POST, "/api/v1/bookings")
        .header("Idempotency-Key", "race-1")
        .json(&body);
    let attempt = tokio::spawn(async move {
        let response = request.send().await?;
        anyhow::Ok((response.status().as_u16(), response.json::<Value>().await?))
    });
    transfer.wait_for_waiters(&app.db, 1).await?;
    // The transfer to Bali commits while the booking waits for the asset.
    sqlx::query("UPDATE assets SET home_branch_id = $2 WHERE id = $1")
        .bind(asset)
        .bind(bali)
        .execute(&mut *transfer.tx)
        .await?;
    transfer.commit().await?;
    let (status, moved) = attempt.await??;
    assert_eq!(
        (status, moved["code"].as_str()),
        (409, Some("asset_moved")),
        "{moved}"
    );
    // Nothing was decided for the key: the retry books the asset where it is now.
    let (status, booked) = app.post("/api/v1/bookings", Some("race-1"), &body).await?;
    assert_eq!(status, 201, "{booked}");
    assert_eq!(booked["branch_id"], json!(bali));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_leaves_past_rentals_with_the_branch_where_they_happened() -> anyhow::Result<()>
{
    let (app, fleet, people) = fixture().await?;
    let asset = fleet[4];
    let jakarta: Uuid = sqlx::query_scalar("SELECT id FROM branches WHERE code = 'JKT01'")
        .fetch_one(&app.db)
        .await?;
    // A rental that happened in Jakarta last month...
    let past = Uuid::now_v7();
    let today = chrono::Utc::now().date_naive();
    sqlx::query(
        "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, total_idr) \
         VALUES ($1, $2, $3, $4, daterange($5, $6, '[)'), 'COMPLETED', 1350000)",
    )
    .bind(past)
    .bind(jakarta)
    .bind(asset)
    .bind(people[0])
    .bind(today - chrono::Days::new(30))
    .bind(today - chrono::Days::new(27))
    .execute(&app.db)
    .await?;
    // ...and one still to come.
    let (status, future) = app
        .post(
            "/api/v1/bookings",
            Some("future"),
            &booking_body(asset, people[1], day(5), day(7)),
        )
        .await?;
    assert_eq!(status, 201);
    let (status, note) = app
        .post(
            &format!("/api/v1/assets/{asset}/transfer"),
            None,
            &json!({"to_branch_code": "DPS01", "reason": "Armada Bali kurang"}),
        )
        .await?;
    assert_eq!(status, 201, "{note}");
    let moved: Vec<&Value> = note["moved_bookings"]
        .as_array()
        .expect("moved")
        .iter()
        .map(|b| &b["id"])
        .collect();
    assert_eq!(moved, [&future["id"]], "only the coming rental moves");

    let (_, jakarta_history) = app
        .get_json("/api/v1/bookings?branch=JKT01&status=COMPLETED")
        .await?;
    let ids: Vec<&Value> = jakarta_history["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|b| &b["id"])
        .collect();
    assert_eq!(ids, [&json!(past)], "Jakarta still sees the rental it made");
    let (_, bali) = app
        .get_json("/api/v1/bookings?branch=DPS01&status=PENDING_PAYMENT")
        .await?;
    assert_eq!(bali["items"][0]["id"], future["id"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asset_back_from_the_workshop_is_bookable_at_once() -> anyhow::Result<()> {
    let (app, fleet, people) = fixture().await?;
    let asset = fleet[0];
    let set_status = |status: &'static str| {
        app.request(reqwest::Method::PATCH, &format!("/api/v1/assets/{asset}"))
            .json(&json!({ "status": status }))
            .send()
    };
    assert_eq!(set_status("maintenance").await?.status(), 200);
    let body = booking_body(asset, people[0], day(3), day(5));
    let (status, refused) = app.post("/api/v1/bookings", Some("ws-1"), &body).await?;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("asset_not_rentable"))
    );
    assert_eq!(set_status("active").await?.status(), 200);
    let (status, booked) = app.post("/api/v1/bookings", Some("ws-2"), &body).await?;
    assert_eq!(status, 201, "the server remembered the workshop: {booked}");
    Ok(())
}
