//! The waitlist under faults: a unit freed while Redis was down still reaches the first in line,
//! an offer that cannot be recorded leaves no hold behind, and leaving the waitlist while the
//! offer is being paid never cancels a paid booking.
//!
//! Jobs run when the test says so (`TestApp::run_jobs`); the background sweeper is set to its
//! slowest pace so it does not race the test.

use sentra_domain::{BookingStatus, WaitlistStatus};
use sentra_protocol::{Booking, ConfirmBookingRequest, JoinWaitlistRequest, WaitlistEntry};
use sentra_server::cache::calendar::AssetCalendar;
use sentra_test_support::RedisServer;
use uuid::Uuid;

use crate::{
    fixtures::{Held, assets, customer_of_tier, day, seed, unit_booking},
    support::TestApp,
};

const INNOVA: &str = "INNOVA-ZENIX-V";
const SLOW_SWEEPER: (&str, &str) = ("SENTRA_EXPIRY_SWEEP_MILLIS", "60000");

/// Bali's only Innova is held by a regular customer for days 5–8 and a gold customer waits for
/// those days. Returns the asset, the hold and the waitlist entry.
async fn sold_out_with_a_waiting_customer(
    app: &TestApp,
) -> anyhow::Result<(Uuid, Booking, WaitlistEntry)> {
    let innova = assets(&app.db, INNOVA, "DPS01").await?;
    assert_eq!(innova.len(), 1);
    let regular = customer_of_tier(&app.db, "regular").await?;
    let gold = customer_of_tier(&app.db, "gold").await?;
    let api = app.api();
    let hold = api
        .create_booking(
            "sold-out",
            &unit_booking(innova[0], regular, day(5), day(8)),
        )
        .await?;
    let joined = api
        .join_waitlist(&JoinWaitlistRequest {
            customer_id: gold,
            sku: INNOVA.to_owned(),
            branch: Some("DPS01".to_owned()),
            start: day(5),
            end: day(8),
        })
        .await?;
    assert!(joined.created, "{joined:?}");
    Ok((innova[0], hold, joined.entry))
}

async fn cancel(app: &TestApp, booking: &Booking) -> anyhow::Result<()> {
    app.api().cancel_booking(booking.id).await?;
    Ok(())
}

async fn entry(app: &TestApp, entry: &WaitlistEntry) -> anyhow::Result<WaitlistEntry> {
    Ok(app.api().waitlist_entry(entry.id).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_freed_while_redis_was_down_still_reaches_the_first_in_line() -> anyhow::Result<()> {
    // A Redis that keeps what it acknowledged across a crash, like a production one.
    let redis = tokio::task::spawn_blocking(RedisServer::start_durable).await??;
    let mut app = TestApp::spawn_with(&[("REDIS_URL", &redis.url()), SLOW_SWEEPER]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let (innova, hold, waiting) = sold_out_with_a_waiting_customer(&app).await?;

    // Redis is down while the hold is cancelled: Postgres frees the unit, the bits stay set.
    redis.kill();
    cancel(&app, &hold).await?;
    let redis = tokio::task::spawn_blocking(move || redis.restart().map(|()| redis)).await??;
    let started = std::time::Instant::now();
    while !app.state.cache.ping().await {
        anyhow::ensure!(
            started.elapsed().as_secs() < 20,
            "the server never reconnected to Redis"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let calendar = AssetCalendar::new(&app.key_prefix, INNOVA, innova);
    let mut conn = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;
    assert!(
        !calendar.is_free(&mut conn, day(5), day(8)).await?,
        "the cancelled hold's bits came back with Redis: the calendar is stale"
    );

    // The freed-unit job decides against Postgres, not against the stale bits.
    app.run_jobs().await?;
    let now = entry(&app, &waiting).await?;
    assert_eq!(now.status, WaitlistStatus::Offered, "{now:?}");
    let booking = app
        .api()
        .booking(now.offer_booking_id.expect("offer"))
        .await?;
    assert_eq!(
        (booking.status, booking.customer_id),
        (BookingStatus::PendingPayment, Some(waiting.customer_id))
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_that_cannot_be_recorded_leaves_no_hold_behind() -> anyhow::Result<()> {
    let mut app = TestApp::spawn_with(&[SLOW_SWEEPER]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let (innova, hold, waiting) = sold_out_with_a_waiting_customer(&app).await?;
    // A fault between making the offer's hold and telling the entry about it.
    sqlx::raw_sql(
        "CREATE FUNCTION test_refuse_offers() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN RAISE EXCEPTION 'injected fault: the offer cannot be recorded'; END $$; \
         CREATE TRIGGER test_refuse_offers BEFORE UPDATE ON waitlist FOR EACH ROW \
         WHEN (NEW.status = 'OFFERED') EXECUTE FUNCTION test_refuse_offers();",
    )
    .execute(&app.db)
    .await?;
    cancel(&app, &hold).await?;
    app.run_jobs().await?;

    let pending_holds: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM bookings WHERE asset_id = $1 AND status = 'PENDING_PAYMENT'",
    )
    .bind(innova)
    .fetch_one(&app.db)
    .await?;
    assert_eq!(
        pending_holds, 0,
        "no hold that nobody was told about blocks the unit"
    );
    assert_eq!(entry(&app, &waiting).await?.status, WaitlistStatus::Waiting);

    // Once the fault is gone, the job's retry makes the offer.
    sqlx::raw_sql("DROP TRIGGER test_refuse_offers ON waitlist; UPDATE jobs SET run_at = now();")
        .execute(&app.db)
        .await?;
    app.run_jobs().await?;
    assert_eq!(entry(&app, &waiting).await?.status, WaitlistStatus::Offered);
    Ok(())
}

/// The customer leaves the waitlist in one tab while paying the offer in another. The test holds
/// the entry's row so both requests arrive together, in the order given. Returns the answers to
/// leave and to confirm, and the offer booking's status afterwards.
async fn leave_and_pay_at_once(
    leave_first: bool,
) -> anyhow::Result<(Option<u16>, Option<u16>, String, BookingStatus)> {
    let mut app = TestApp::spawn_with(&[SLOW_SWEEPER]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let (_, hold, waiting) = sold_out_with_a_waiting_customer(&app).await?;
    cancel(&app, &hold).await?;
    app.run_jobs().await?;
    let offer = entry(&app, &waiting)
        .await?
        .offer_booking_id
        .expect("an offer");
    let hold_token = app.api().booking(offer).await?.hold_token.expect("held");

    let gate = Held::lock(
        &app.db,
        "SELECT 1 FROM waitlist WHERE id = $1 FOR UPDATE",
        waiting.id,
    )
    .await?;
    // Each answer as (status, what it said): 200 and the new state, or the refusal.
    let (leaving_api, paying_api, entry_id) = (app.api(), app.api(), waiting.id);
    let leave = async move {
        anyhow::Ok(match leaving_api.leave_waitlist(entry_id).await {
            Ok(_) => Some(200),
            Err(err) => err.status(),
        })
    };
    let pay = async move {
        anyhow::Ok(
            match paying_api
                .confirm_booking(offer, &ConfirmBookingRequest { hold_token })
                .await
            {
                Ok(booking) => (Some(200), format!("{:?}", booking.status)),
                Err(err) => (err.status(), err.to_string()),
            },
        )
    };
    let (leaving, paying) = if leave_first {
        let leaving = tokio::spawn(leave);
        gate.wait_for_waiters(&app.db, 1).await?;
        let paying = tokio::spawn(pay);
        gate.wait_for_waiters(&app.db, 2).await?;
        (leaving, paying)
    } else {
        let paying = tokio::spawn(pay);
        gate.wait_for_waiters(&app.db, 1).await?;
        let leaving = tokio::spawn(leave);
        gate.wait_for_waiters(&app.db, 2).await?;
        (leaving, paying)
    };
    gate.rollback().await?;
    let left = leaving.await??;
    let (paid, answer) = paying.await??;
    let after = app.api().booking(offer).await?.status;
    Ok((left, paid, answer, after))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_the_waitlist_as_the_offer_is_paid_never_cancels_a_paid_booking()
-> anyhow::Result<()> {
    // Leaving goes first: the unpaid offer is cancelled and the payment refused.
    let (left, paid, answer, status) = leave_and_pay_at_once(true).await?;
    assert_eq!(left, Some(200));
    assert_ne!(
        (paid, status),
        (Some(200), BookingStatus::Cancelled),
        "a paid booking was cancelled"
    );
    assert_eq!(
        (paid, status),
        (Some(409), BookingStatus::Cancelled),
        "{answer}"
    );

    // Paying goes first: the booking is the customer's, leaving afterwards does not touch it.
    let (left, paid, answer, status) = leave_and_pay_at_once(false).await?;
    assert_eq!((left, paid), (Some(200), Some(200)), "{answer}");
    assert_eq!(status, BookingStatus::Confirmed);
    Ok(())
}
