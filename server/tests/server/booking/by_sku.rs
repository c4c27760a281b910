//! Booking a model (SKU) instead of a unit: which unit the customer gets (best fit, then least
//! used, nearest branch), "sold out" only when Postgres has no free unit, a storm that never
//! gives a unit twice, and the waitlist journey that follows a sold-out answer.

use std::sync::Arc;

use chrono::NaiveDate;
use sentra_api_client::ApiError;
use sentra_domain::{BookingStatus, WaitlistStatus};
use sentra_protocol::{Booking, CreateBookingRequest, JoinWaitlistRequest, Location, SearchQuery};
use uuid::Uuid;

use crate::{
    fixtures::{assets, customers, day, overlapping_pairs, seed, unit_booking},
    support::TestApp,
};

const AVANZA: &str = "AVANZA-13G-AT";

/// The create request of a model booking.
fn model(
    sku: &str,
    branch: Option<&str>,
    customer: Uuid,
    start: NaiveDate,
    end: NaiveDate,
) -> CreateBookingRequest {
    CreateBookingRequest {
        sku: Some(sku.to_owned()),
        branch: branch.map(str::to_owned),
        customer_id: customer,
        start,
        end,
        ..CreateBookingRequest::default()
    }
}

/// Books `sku` (in `branch`, or anywhere) for `customer` on days `[start, end)`.
async fn book_model(
    app: &TestApp,
    key: &str,
    sku: &str,
    branch: Option<&str>,
    customer: Uuid,
    (start, end): (NaiveDate, NaiveDate),
) -> Result<Booking, ApiError> {
    app.api()
        .create_booking(key, &model(sku, branch, customer, start, end))
        .await
}

/// Whether `err` is the "sold out" answer, with its pointer to the waitlist.
fn is_sold_out(err: &ApiError) -> bool {
    err.status() == Some(409)
        && err.code() == "sold_out"
        && err.problem().and_then(|p| p.waitlist_available) == Some(true)
}

/// Stores a finished rental of `days` days in the recent past (the unit's wear).
async fn past_rental(app: &TestApp, asset: Uuid, customer: Uuid, days: u64) -> anyhow::Result<()> {
    let end = chrono::Utc::now().date_naive() - chrono::Days::new(2);
    sqlx::query(
        "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, total_idr) \
         SELECT $1, home_branch_id, id, $3, daterange($4, $5, '[)'), 'COMPLETED', 1 FROM assets WHERE id = $2",
    )
    .bind(Uuid::now_v7())
    .bind(asset)
    .bind(customer)
    .bind(end - chrono::Days::new(days))
    .bind(end)
    .execute(&app.db)
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_model_booking_gets_the_best_fitting_unit_then_the_least_used_and_sold_out_at_the_end()
-> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let units = assets(&app.db, AVANZA, "JKT01").await?;
    let people = customers(&app.db).await?;
    // Wear: units 2 and 3 were out recently (20 and 5 days), 4 was not.
    past_rental(&app, units[2], people[0], 20).await?;
    past_rental(&app, units[3], people[0], 5).await?;
    // Unit 0 is out on days 3..5 (the 1-day buffer keeps it until day 6); unit 1 on days 3..4,
    // so a rental from day 6 on unit 1 would leave day 5 alone: too short to sell.
    let api = app.api();
    for (unit, end, key) in [(units[0], 5, "n-0"), (units[1], 4, "n-1")] {
        api.create_booking(key, &unit_booking(unit, people[1], day(3), day(end)))
            .await?;
    }

    let mut given = Vec::new();
    for i in 0..5 {
        let booking = book_model(
            &app,
            &format!("model-{i}"),
            AVANZA,
            Some("JKT01"),
            people[2],
            (day(6), day(8)),
        )
        .await?;
        assert_eq!(booking.status, BookingStatus::PendingPayment);
        given.push(booking.asset_id);
    }
    assert_eq!(
        given,
        [units[0], units[4], units[3], units[2], units[1]],
        "right after its last rental first, then the rested units by wear, the unit left with an \
         unsellable day last"
    );

    let err = book_model(
        &app,
        "model-5",
        AVANZA,
        Some("JKT01"),
        people[2],
        (day(6), day(8)),
    )
    .await
    .expect_err("every Jakarta Avanza is taken");
    assert!(is_sold_out(&err), "{err}");
    // Bali still has Avanzas: a booking without a branch gets one there.
    let booking = book_model(&app, "model-6", AVANZA, None, people[2], (day(6), day(8))).await?;
    let bali = assets(&app.db, AVANZA, "DPS01").await?;
    assert!(bali.contains(&booking.asset_id));
    assert_eq!(overlapping_pairs(&app.db).await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_model_booking_without_a_branch_goes_to_the_nearest_branch() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    let bali = assets(&app.db, AVANZA, "DPS01").await?;
    let jakarta = assets(&app.db, AVANZA, "JKT01").await?;
    let api = app.api();
    // Kuta (Bali) and Monas (Jakarta).
    for (i, (near, fleet)) in [((-8.718, 115.168), &bali), ((-6.175, 106.827), &jakarta)]
        .into_iter()
        .enumerate()
    {
        let near = Location {
            latitude: near.0,
            longitude: near.1,
        };
        let booking = api
            .create_booking(
                &format!("near-{i}"),
                &CreateBookingRequest {
                    near: Some(near),
                    ..model(AVANZA, None, people[0], day(4), day(6))
                },
            )
            .await?;
        assert!(fleet.contains(&booking.asset_id), "{near:?}: {booking:?}");
    }
    // A named branch wins over the location.
    let monas = Location {
        latitude: -6.175,
        longitude: 106.827,
    };
    let booking = api
        .create_booking(
            "near-2",
            &CreateBookingRequest {
                near: Some(monas),
                ..model(AVANZA, Some("DPS01"), people[0], day(4), day(6))
            },
        )
        .await?;
    assert!(bali.contains(&booking.asset_id));

    // The search lists branches nearest first, with the distance.
    let search = api
        .search(&SearchQuery {
            sku: AVANZA.to_owned(),
            start: day(4),
            end: day(6),
            lat: Some(-8.718),
            lon: Some(115.168),
            ..SearchQuery::default()
        })
        .await?;
    assert_eq!(search.branches[0].branch_code, "DPS01");
    assert_eq!(search.branches[0].free_units, 1);
    assert!(search.branches[1].distance_km > Some(900));

    // Bad input is named.
    let no_sku = CreateBookingRequest {
        sku: None,
        ..model(AVANZA, None, people[0], day(4), day(6))
    };
    let sku_and_unit = CreateBookingRequest {
        asset_id: Some(jakarta[0]),
        ..model(AVANZA, None, people[0], day(4), day(6))
    };
    for (body, field) in [
        (no_sku, "sku"),
        (sku_and_unit, "sku"),
        (model("NOPE", None, people[0], day(4), day(6)), "sku"),
        (
            model(AVANZA, Some("XXX"), people[0], day(4), day(6)),
            "branch",
        ),
        (model(AVANZA, None, people[0], day(6), day(4)), "end"),
    ] {
        let err = api
            .create_booking(&Uuid::now_v7().to_string(), &body)
            .await
            .expect_err("invalid");
        let first = err
            .problem()
            .and_then(|p| p.errors.first())
            .map(|e| e.field.as_str());
        assert_eq!(
            (err.status(), first),
            (Some(422), Some(field)),
            "{body:?}: {err}"
        );
    }
    Ok(())
}

/// Free active units of `sku` (in `branch`, or anywhere) for a rental `[start, end)`, buffer
/// included, as Postgres says.
async fn free_in_postgres(
    app: &TestApp,
    sku: &str,
    branch: Option<&str>,
    start: NaiveDate,
    end: NaiveDate,
) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM assets a JOIN skus s ON s.id = a.sku_id JOIN branches br ON br.id = a.home_branch_id \
         WHERE s.code = $1 AND a.status = 'active' AND ($2::text IS NULL OR br.code = $2) \
           AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.asset_id = a.id \
               AND b.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') \
               AND b.occupied && daterange($3, $4 + s.turnaround_buffer_days, '[)'))",
    )
    .bind(sku)
    .bind(branch)
    .bind(start)
    .bind(end)
    .fetch_one(&app.db)
    .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_of_model_bookings_never_gives_a_unit_twice_nor_says_sold_out_while_one_is_free()
-> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    let app = Arc::new(app);

    // 1. Forty customers at once for the same days, any branch: the eight Avanzas go, the rest
    //    are told "sold out".
    let same_days = (0..40).map(|i| {
        let (app, person) = (app.clone(), people[i % people.len()]);
        tokio::spawn(async move {
            book_model(
                &app,
                &format!("same-{i}"),
                AVANZA,
                None,
                person,
                (day(9), day(12)),
            )
            .await
        })
    });
    let mut given = Vec::new();
    let mut sold_out = 0;
    for answer in futures_util::future::join_all(same_days).await {
        match answer? {
            Ok(booking) => given.push(booking.asset_id),
            Err(err) if is_sold_out(&err) => sold_out += 1,
            Err(err) => anyhow::bail!("unexpected answer: {err}"),
        }
    }
    given.sort();
    given.dedup();
    assert_eq!(given.len(), 8, "every Avanza given once");
    assert_eq!(sold_out, 32);
    assert_eq!(
        free_in_postgres(&app, AVANZA, None, day(9), day(12)).await?,
        0
    );

    // 2. Sixty customers on overlapping ranges of Bali's six scooters: every "sold out" must
    //    still be true afterwards (nothing was cancelled, so a unit free now was free then).
    let ranges: Vec<(u64, u64)> = (0..60u64).map(|i| (i % 7, i % 7 + 1 + i % 3)).collect();
    let storm = ranges.iter().enumerate().map(|(i, &(from, to))| {
        let (app, person) = (app.clone(), people[i % people.len()]);
        tokio::spawn(async move {
            let answer = book_model(
                &app,
                &format!("range-{i}"),
                "VARIO-125",
                Some("DPS01"),
                person,
                (day(from), day(to)),
            )
            .await;
            (from, to, answer)
        })
    });
    let (mut created, mut refused) = (0, Vec::new());
    for outcome in futures_util::future::join_all(storm).await {
        let (from, to, answer) = outcome?;
        match answer {
            Ok(_) => created += 1,
            Err(err) if is_sold_out(&err) => refused.push((from, to)),
            Err(err) => anyhow::bail!("unexpected answer: {err}"),
        }
    }
    assert!(created >= 6, "{created}");
    for (from, to) in &refused {
        assert_eq!(
            free_in_postgres(&app, "VARIO-125", Some("DPS01"), day(*from), day(*to)).await?,
            0,
            "'sold out' for days {from}..{to} while a scooter was free"
        );
    }
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM bookings b JOIN assets a ON a.id = b.asset_id JOIN skus s ON s.id = a.sku_id \
         WHERE s.code = 'VARIO-125' AND b.status = 'PENDING_PAYMENT'",
    )
    .fetch_one(&app.db)
    .await?;
    assert_eq!(stored, created, "every 201 is a stored hold");
    assert_eq!(overlapping_pairs(&app.db).await?, 0);
    Ok(())
}

#[tokio::test]
async fn sold_out_then_the_waitlist_offers_a_unit_of_the_model() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    // Bali has one Innova.
    let first = book_model(
        &app,
        "w-0",
        "INNOVA-ZENIX-V",
        Some("DPS01"),
        people[0],
        (day(10), day(12)),
    )
    .await?;
    let err = book_model(
        &app,
        "w-1",
        "INNOVA-ZENIX-V",
        Some("DPS01"),
        people[1],
        (day(10), day(12)),
    )
    .await
    .expect_err("the only Innova is held");
    assert!(is_sold_out(&err), "{err}");
    let api = app.api();
    let joined = api
        .join_waitlist(&JoinWaitlistRequest {
            customer_id: people[1],
            sku: "INNOVA-ZENIX-V".to_owned(),
            branch: Some("DPS01".to_owned()),
            start: day(10),
            end: day(12),
        })
        .await?;
    assert!(joined.created);
    api.cancel_booking(first.id).await?;
    app.run_jobs().await?;
    let metrics = api.metrics().await?;
    assert!(
        metrics
            .contains(r#"sentra_job_duration_seconds_count{kind="unit_freed",outcome="done"} 1"#),
        "the job is counted by kind: {metrics}"
    );
    let entry = api.waitlist_entry(joined.entry.id).await?;
    assert_eq!(entry.status, WaitlistStatus::Offered, "{entry:?}");
    let offer = api
        .booking(entry.offer_booking_id.expect("an offer"))
        .await?;
    assert_eq!(offer.status, BookingStatus::PendingPayment);
    assert_eq!(offer.customer_id, Some(people[1]));
    assert_eq!(
        offer.asset_id,
        assets(&app.db, "INNOVA-ZENIX-V", "DPS01").await?[0]
    );
    Ok(())
}

#[tokio::test]
async fn calendar_bits_that_say_taken_never_make_a_model_sold_out_while_postgres_has_a_unit()
-> anyhow::Result<()> {
    use sentra_server::cache::calendar::SkuDays;

    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    app.state.bookings.projection().rebuild_all().await?;
    // Stale bits: the search index says both Jakarta Innovas are out on days 5..8.
    let ordinals: Vec<i32> = sqlx::query_scalar(
        "SELECT a.sku_ordinal FROM assets a JOIN skus s ON s.id = a.sku_id \
         JOIN branches b ON b.id = a.home_branch_id WHERE s.code = 'INNOVA-ZENIX-V' AND b.code = 'JKT01'",
    )
    .fetch_all(&app.db)
    .await?;
    let index = SkuDays::new(&app.key_prefix, "INNOVA-ZENIX-V");
    let mut conn = app.state.cache.main.connection().await?;
    for d in day(5).iter_days().take_while(|d| *d < day(8)) {
        for ordinal in &ordinals {
            let _: i64 = redis::cmd("SETBIT")
                .arg(index.day_key(d))
                .arg(*ordinal)
                .arg(1)
                .query_async(&mut conn)
                .await?;
        }
    }
    let api = app.api();
    let query = SearchQuery {
        sku: "INNOVA-ZENIX-V".to_owned(),
        start: day(5),
        end: day(7),
        branch: Some("JKT01".to_owned()),
        ..SearchQuery::default()
    };
    assert_eq!(
        api.search(&query).await?.free_units,
        0,
        "the stale bits show in search"
    );
    book_model(
        &app,
        "stale",
        "INNOVA-ZENIX-V",
        Some("JKT01"),
        people[0],
        (day(5), day(7)),
    )
    .await?;
    // The other unit's stale bits were repaired: search shows it again.
    let started = std::time::Instant::now();
    loop {
        let search = api.search(&query).await?;
        if search.free_units == 1 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the stale bits stayed: {search:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test]
async fn a_lapsed_hold_the_sweeper_has_not_reached_does_not_make_a_model_sold_out()
-> anyhow::Result<()> {
    // The sweeper runs at start, then not again during the test.
    let mut app = TestApp::spawn_with(&[("SENTRA_EXPIRY_SWEEP_MILLIS", "60000")]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    // Bali's only Innova is held for a customer whose payment window has just lapsed.
    let held = book_model(
        &app,
        "lapsing",
        "INNOVA-ZENIX-V",
        Some("DPS01"),
        people[0],
        (day(10), day(12)),
    )
    .await?;
    sqlx::query("UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(held.id)
        .execute(&app.db)
        .await?;
    let booking = book_model(
        &app,
        "after-lapse",
        "INNOVA-ZENIX-V",
        Some("DPS01"),
        people[1],
        (day(10), day(12)),
    )
    .await
    .map_err(|e| anyhow::anyhow!("the lapsed hold is in the way: {e}"))?;
    assert_eq!(booking.asset_id, held.asset_id);
    assert_eq!(
        app.api().booking(held.id).await?.status,
        BookingStatus::Expired
    );
    Ok(())
}
