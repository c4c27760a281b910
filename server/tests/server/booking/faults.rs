//! Booking answers when a request does not end normally, and when something else changes the
//! asset meanwhile: a client that disconnects or a request cut by the time limit never leaves the
//! asset locked; busy and held dates say when to come back; an asset that moves during a booking
//! is answered afresh on retry; and a transfer leaves past rentals where they happened.

use std::time::{Duration, Instant};

use sentra_api_client::ApiError;
use sentra_domain::{AssetStatus, BookingStatus};
use sentra_protocol::{
    BookingListQuery, ConfirmBookingRequest, TransferRequest, UpdateAssetRequest,
};
use uuid::Uuid;

use crate::{
    fixtures::{assets, booking_body, customers, day, hold_asset_row, seed, unit_booking},
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
    let api = app.api();
    api.create_booking("next-1", &unit_booking(asset, people[1], day(10), day(12)))
        .await?;
    // ...and the one who left can try again: nothing was stored for their key.
    api.create_booking("gone-1", &unit_booking(asset, people[0], day(3), day(5)))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_cut_by_the_time_limit_leaves_the_asset_and_its_key_usable() -> anyhow::Result<()>
{
    let (app, fleet, people) = fixture_with(&[("SENTRA_REQUEST_TIMEOUT_SECS", "1")]).await?;
    let asset = fleet[1];
    let row = hold_asset_row(&app.db, asset).await?;
    let api = app.api();
    let body = unit_booking(asset, people[0], day(3), day(5));
    let err = api
        .create_booking("slow-1", &body)
        .await
        .expect_err("cut by the time limit");
    assert_eq!((err.status(), err.code()), (Some(504), "timeout"));
    assert!(
        released_within(&app, AVANZA, asset, Duration::from_secs(2)).await?,
        "the time limit ends the attempt and its lock"
    );
    row.rollback().await?;

    api.create_booking("other-1", &unit_booking(asset, people[1], day(10), day(12)))
        .await?;
    // The timed-out request decided nothing: its retry gets a fresh decision, not "in progress".
    api.create_booking("slow-1", &body).await?;
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
    let err = app
        .api()
        .create_booking("busy-1", &unit_booking(asset, people[1], day(4), day(5)))
        .await
        .expect_err("the asset is being booked");
    assert_eq!(err.code(), "asset_being_booked");
    let in_body = err.problem().and_then(|p| p.retry_after_seconds);
    let ApiError::Server { retry_after, .. } = err else {
        panic!("a server refusal: {err}");
    };
    assert_eq!(
        (retry_after, in_body),
        (Some(Duration::from_secs(1)), Some(1)),
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
    let api = app.api();
    let first = api
        .create_booking("first", &unit_booking(asset, people[0], day(3), day(6)))
        .await?;
    let held = api
        .create_booking("second", &unit_booking(asset, people[1], day(4), day(5)))
        .await
        .expect_err("held for the first customer");
    assert_eq!(
        (held.status(), held.code()),
        (Some(409), "asset_held"),
        "{held}"
    );
    let problem = held.problem().expect("a problem");
    assert_eq!(problem.held_until, first.expires_at);
    assert_eq!(problem.waitlist_available, Some(true));
    let text = serde_json::to_string(problem)?;
    let hold_token = first.hold_token.expect("held");
    for secret in [first.id, hold_token, people[0]].map(|id| id.to_string()) {
        assert!(
            !text.contains(&secret),
            "the answer reveals {secret}: {text}"
        );
    }

    // Once paid, it is an ordinary conflict.
    api.confirm_booking(first.id, &ConfirmBookingRequest { hold_token })
        .await?;
    let taken = api
        .create_booking("third", &unit_booking(asset, people[1], day(4), day(5)))
        .await
        .expect_err("paid for");
    assert_eq!(
        (taken.status(), taken.code()),
        (Some(409), "booking_conflict")
    );
    assert_eq!(taken.problem().and_then(|p| p.held_until), None, "{taken}");

    // A customer's own unpaid hold is not "another customer's".
    api.create_booking("own-1", &unit_booking(asset, people[2], day(10), day(12)))
        .await?;
    let own = api
        .create_booking("own-2", &unit_booking(asset, people[2], day(11), day(13)))
        .await
        .expect_err("their own dates");
    assert_eq!((own.status(), own.code()), (Some(409), "booking_conflict"));
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
    let body = unit_booking(asset, people[0], day(3), day(5));
    let (api, racing) = (app.api(), body.clone());
    let attempt = tokio::spawn(async move { api.create_booking("race-1", &racing).await });
    transfer.wait_for_waiters(&app.db, 1).await?;
    // The transfer to Bali commits while the booking waits for the asset.
    sqlx::query("UPDATE assets SET home_branch_id = $2 WHERE id = $1")
        .bind(asset)
        .bind(bali)
        .execute(&mut *transfer.tx)
        .await?;
    transfer.commit().await?;
    let moved = attempt.await?.expect_err("the asset moved meanwhile");
    assert_eq!(
        (moved.status(), moved.code()),
        (Some(409), "asset_moved"),
        "{moved}"
    );
    // Nothing was decided for the key: the retry books the asset where it is now.
    let booked = app.api().create_booking("race-1", &body).await?;
    assert_eq!(booked.branch_id, bali);
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
    let api = app.api();
    let future = api
        .create_booking("future", &unit_booking(asset, people[1], day(5), day(7)))
        .await?;
    let note = api
        .transfer_asset(
            asset,
            &TransferRequest {
                to_branch_code: "DPS01".to_owned(),
                reason: "Armada Bali kurang".to_owned(),
            },
        )
        .await?;
    let moved: Vec<Uuid> = note.moved_bookings.iter().map(|b| b.id).collect();
    assert_eq!(moved, [future.id], "only the coming rental moves");

    let list = |branch: &str, status: BookingStatus| BookingListQuery {
        branch: branch.to_owned(),
        status: Some(status.as_str().to_owned()),
        limit: None,
    };
    let jakarta_history = api
        .bookings(&list("JKT01", BookingStatus::Completed))
        .await?;
    let ids: Vec<Uuid> = jakarta_history.items.iter().map(|b| b.id).collect();
    assert_eq!(ids, [past], "Jakarta still sees the rental it made");
    let bali = api
        .bookings(&list("DPS01", BookingStatus::PendingPayment))
        .await?;
    assert_eq!(bali.items[0].id, future.id);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asset_back_from_the_workshop_is_bookable_at_once() -> anyhow::Result<()> {
    let (app, fleet, people) = fixture().await?;
    let asset = fleet[0];
    let api = app.api();
    let status = |status: AssetStatus| UpdateAssetRequest {
        status: Some(status.as_str().to_owned()),
        odometer_km: None,
    };
    api.update_asset(asset, &status(AssetStatus::Maintenance))
        .await?;
    let body = unit_booking(asset, people[0], day(3), day(5));
    let refused = api
        .create_booking("ws-1", &body)
        .await
        .expect_err("in the workshop");
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(409), "asset_not_rentable")
    );
    api.update_asset(asset, &status(AssetStatus::Active))
        .await?;
    api.create_booking("ws-2", &body)
        .await
        .map_err(|e| anyhow::anyhow!("the server remembered the workshop: {e}"))?;
    Ok(())
}
