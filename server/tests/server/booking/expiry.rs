//! Payment windows lapse: the hold expires (also across a restart), its calendar bits clear, a
//! late confirm is refused, and the waitlist gets the unit — platinum before gold, and the offer
//! cascades when it is not paid. Through the typed client.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use sentra_domain::{BookingStatus, WaitlistStatus};
use sentra_protocol::{Booking, ConfirmBookingRequest, JoinWaitlistRequest, WaitlistEntry};
use sentra_server::cache::{Cache, RedisHandle, RedisTarget, calendar::AssetCalendar};
use sentra_test_support::RedisServer;
use uuid::Uuid;

use crate::{
    fixtures::{assets, day, seed, sell_out, unit_booking},
    support::TestApp,
};

/// Polls `read` until `accept` holds for its answer (bounded; the sweeper runs every 100 ms).
async fn wait_for<
    T: std::fmt::Debug,
    F: Future<Output = Result<T, sentra_api_client::ApiError>>,
>(
    read: impl Fn() -> F,
    accept: impl Fn(&T) -> bool,
) -> anyhow::Result<T> {
    let started = Instant::now();
    loop {
        let answer = read().await?;
        if accept(&answer) {
            return Ok(answer);
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "never matched; last {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn customer(app: &TestApp, tier: &str) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM customers WHERE membership_tier = $1 ORDER BY full_name LIMIT 1",
    )
    .bind(tier)
    .fetch_one(&app.db)
    .await?)
}

fn fast_windows() -> [(&'static str, &'static str); 3] {
    [
        ("SENTRA_PAYMENT_WINDOW_SECS", "2"),
        ("SENTRA_WAITLIST_OFFER_SECS", "3"),
        ("SENTRA_EXPIRY_SWEEP_MILLIS", "100"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_hold_lapses_clears_its_bits_and_refuses_a_late_confirm() -> anyhow::Result<()> {
    let mut app = TestApp::spawn_with(&fast_windows()).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let api = app.api();
    let asset = assets(&app.db, "GENSET-5KVA", "JKT01").await?[0];
    let budi = customer(&app, "regular").await?;
    let booking = api
        .create_booking("e-1", &unit_booking(asset, budi, day(2), day(4)))
        .await?;

    let calendar = AssetCalendar::new(&app.key_prefix, "GENSET-5KVA", asset);
    let cache = Cache {
        main: RedisHandle::new(RedisTarget::Node(RedisServer::shared()?.url().into()))?,
        key_prefix: app.key_prefix.clone(),
    };
    let mut conn = cache.main.connection().await?;
    assert!(
        !calendar.is_free(&mut conn, day(2), day(4)).await?,
        "held days are taken in Redis"
    );

    wait_for(
        || api.booking(booking.id),
        |b: &Booking| b.status == BookingStatus::Expired,
    )
    .await?;
    assert!(
        calendar.is_free(&mut conn, day(2), day(4)).await?,
        "expired days are free again"
    );
    let err = api
        .confirm_booking(
            booking.id,
            &ConfirmBookingRequest {
                hold_token: booking.hold_token.expect("held"),
            },
        )
        .await
        .expect_err("too late");
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), "hold_expired"),
        "{err}"
    );
    api.create_booking("e-2", &unit_booking(asset, budi, day(2), day(4)))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_still_expire_after_a_server_restart() -> anyhow::Result<()> {
    let mut app = TestApp::spawn_with(&fast_windows()).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let asset = assets(&app.db, "GENSET-5KVA", "DPS01").await?[0];
    let budi = customer(&app, "regular").await?;
    let booking = app
        .api()
        .create_booking("r-1", &unit_booking(asset, budi, day(2), day(3)))
        .await?;
    app.restart().await?;
    let api = app.api();
    wait_for(
        || api.booking(booking.id),
        |b: &Booking| b.status == BookingStatus::Expired,
    )
    .await?;
    Ok(())
}

fn join(who: Uuid, sku: &str, branch: Option<&str>, days: (u64, u64)) -> JoinWaitlistRequest {
    JoinWaitlistRequest {
        customer_id: who,
        sku: sku.to_owned(),
        branch: branch.map(str::to_owned),
        start: day(days.0),
        end: day(days.1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_unit_goes_to_the_best_tier_first_and_cascades_when_unpaid() -> anyhow::Result<()> {
    let mut app = TestApp::spawn_with(&fast_windows()).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let api = app.api();
    // Bali has a single Innova: once it is held, the SKU is sold out there.
    let innova = assets(&app.db, "INNOVA-ZENIX-V", "DPS01").await?;
    assert_eq!(innova.len(), 1);
    let (regular, gold, platinum) = (
        customer(&app, "regular").await?,
        customer(&app, "gold").await?,
        customer(&app, "platinum").await?,
    );
    api.create_booking("w-0", &unit_booking(innova[0], regular, day(5), day(8)))
        .await?;

    let join = |who| join(who, "INNOVA-ZENIX-V", Some("DPS01"), (5, 8));
    let gold_entry = api.join_waitlist(&join(gold)).await?;
    assert!(gold_entry.created);
    assert_eq!(gold_entry.entry.position, Some(1), "{gold_entry:?}");
    let platinum_entry = api.join_waitlist(&join(platinum)).await?;
    assert!(platinum_entry.created);
    assert_eq!(
        platinum_entry.entry.position,
        Some(1),
        "platinum goes first"
    );
    let again = api.join_waitlist(&join(gold)).await?;
    assert_eq!(
        (again.created, again.entry.id),
        (false, gold_entry.entry.id),
        "joining twice is idempotent"
    );
    assert_eq!(again.entry.position, Some(2));

    // The first hold lapses: platinum gets an exclusive offer, gold moves up.
    let (platinum_id, gold_id) = (platinum_entry.entry.id, gold_entry.entry.id);
    let offered_to = |status| move |e: &WaitlistEntry| e.status == status;
    let offered = wait_for(
        || api.waitlist_entry(platinum_id),
        offered_to(WaitlistStatus::Offered),
    )
    .await?;
    let offer = api
        .booking(offered.offer_booking_id.expect("offer"))
        .await?;
    assert_eq!(offer.customer_id, Some(platinum));
    assert_eq!(offer.status, BookingStatus::PendingPayment);
    assert_eq!(api.waitlist_entry(gold_id).await?.position, Some(1));

    // Platinum does not pay: the offer lapses and cascades to gold, who pays in time.
    let gold_offered = wait_for(
        || api.waitlist_entry(gold_id),
        offered_to(WaitlistStatus::Offered),
    )
    .await?;
    assert_eq!(
        api.waitlist_entry(platinum_id).await?.status,
        WaitlistStatus::Expired
    );
    let offer_id = gold_offered.offer_booking_id.expect("offer");
    let offer = api.booking(offer_id).await?;
    let confirmed = api
        .confirm_booking(
            offer_id,
            &ConfirmBookingRequest {
                hold_token: offer.hold_token.expect("held"),
            },
        )
        .await?;
    assert_eq!(confirmed.status, BookingStatus::Confirmed);
    assert_eq!(
        api.waitlist_entry(gold_id).await?.status,
        WaitlistStatus::Fulfilled
    );
    // Leaving a fulfilled entry is harmless.
    api.leave_waitlist(gold_id).await?;
    Ok(())
}

#[tokio::test]
async fn leaving_removes_the_entry_from_the_queue() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let api = app.api();
    let (gold, platinum) = (
        customer(&app, "gold").await?,
        customer(&app, "platinum").await?,
    );
    sell_out(&api, &app.db, "VARIO-125", None, day(9), day(10)).await?;
    let first = api
        .join_waitlist(&join(platinum, "VARIO-125", None, (9, 10)))
        .await?
        .entry;
    let second = api
        .join_waitlist(&join(gold, "VARIO-125", None, (9, 10)))
        .await?
        .entry;
    assert_eq!(second.position, Some(2));
    let left = api.leave_waitlist(first.id).await?;
    assert_eq!((left.status, left.position), (WaitlistStatus::Left, None));
    assert_eq!(api.waitlist_entry(second.id).await?.position, Some(1));
    let err = api
        .join_waitlist(&join(gold, "NOPE", None, (1, 2)))
        .await
        .expect_err("no such SKU");
    assert_eq!((err.status(), err.code()), (Some(422), "validation_failed"));
    Ok(())
}
