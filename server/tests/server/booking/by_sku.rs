//! Booking a model (SKU) instead of a unit: which unit the customer gets (best fit, then least
//! used, nearest branch), "sold out" only when Postgres has no free unit, a storm that never
//! gives a unit twice, and the waitlist journey that follows a sold-out answer.

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    fixtures::{assets, booking_body, customers, day, overlapping_pairs, seed},
    support::TestApp,
};

const AVANZA: &str = "AVANZA-13G-AT";

/// The create body of a model booking.
fn model_body(
    sku: &str,
    branch: Option<&str>,
    customer: Uuid,
    start: NaiveDate,
    end: NaiveDate,
) -> Value {
    let mut body = json!({"sku": sku, "customer_id": customer, "start": start, "end": end});
    if let Some(branch) = branch {
        body["branch"] = json!(branch);
    }
    body
}

/// Books `sku` (in `branch`, or anywhere) for `customer` on days `[start, end)`.
async fn book_model(
    app: &TestApp,
    key: &str,
    sku: &str,
    branch: Option<&str>,
    customer: Uuid,
    (start, end): (NaiveDate, NaiveDate),
) -> anyhow::Result<(u16, Value)> {
    app.post(
        "/api/v1/bookings",
        Some(key),
        &model_body(sku, branch, customer, start, end),
    )
    .await
}

fn asset_of(booking: &Value) -> Uuid {
    booking["asset_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
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
    for (unit, end, key) in [(units[0], 5, "n-0"), (units[1], 4, "n-1")] {
        let (status, body) = app
            .post(
                "/api/v1/bookings",
                Some(key),
                &booking_body(unit, people[1], day(3), day(end)),
            )
            .await?;
        assert_eq!(status, 201, "{body}");
    }

    let mut given = Vec::new();
    for i in 0..5 {
        let (status, booking) = app
            .post(
                "/api/v1/bookings",
                Some(&format!("model-{i}")),
                &model_body(AVANZA, Some("JKT01"), people[2], day(6), day(8)),
            )
            .await?;
        assert_eq!(status, 201, "booking {i}: {booking}");
        assert_eq!(booking["status"], "PENDING_PAYMENT");
        given.push(asset_of(&booking));
    }
    assert_eq!(
        given,
        [units[0], units[4], units[3], units[2], units[1]],
        "right after its last rental first, then the rested units by wear, the unit left with an \
         unsellable day last"
    );

    let (status, problem) = book_model(
        &app,
        "model-5",
        AVANZA,
        Some("JKT01"),
        people[2],
        (day(6), day(8)),
    )
    .await?;
    assert_eq!((status, problem["code"].as_str()), (409, Some("sold_out")));
    assert_eq!(problem["waitlist_available"], true);
    // Bali still has Avanzas: a booking without a branch gets one there.
    let (status, booking) =
        book_model(&app, "model-6", AVANZA, None, people[2], (day(6), day(8))).await?;
    assert_eq!(status, 201, "{booking}");
    let bali = assets(&app.db, AVANZA, "DPS01").await?;
    assert!(bali.contains(&asset_of(&booking)));
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
    // Kuta (Bali) and Monas (Jakarta).
    for (i, (near, fleet)) in [((-8.718, 115.168), &bali), ((-6.175, 106.827), &jakarta)]
        .into_iter()
        .enumerate()
    {
        let mut body = model_body(AVANZA, None, people[0], day(4), day(6));
        body["near"] = json!({"latitude": near.0, "longitude": near.1});
        let (status, booking) = app
            .post("/api/v1/bookings", Some(&format!("near-{i}")), &body)
            .await?;
        assert_eq!(status, 201, "{booking}");
        assert!(fleet.contains(&asset_of(&booking)), "{near:?}: {booking}");
    }
    // A named branch wins over the location.
    let mut body = model_body(AVANZA, Some("DPS01"), people[0], day(4), day(6));
    body["near"] = json!({"latitude": -6.175, "longitude": 106.827});
    let (status, booking) = app.post("/api/v1/bookings", Some("near-2"), &body).await?;
    assert_eq!(status, 201, "{booking}");
    assert!(bali.contains(&asset_of(&booking)));

    // The search lists branches nearest first, with the distance.
    let (status, search) = app
        .get_json(&format!(
            "/api/v1/availability?sku={AVANZA}&start={}&end={}&lat=-8.718&lon=115.168",
            day(4),
            day(6)
        ))
        .await?;
    assert_eq!(status, 200, "{search}");
    assert_eq!(search["branches"][0]["branch_code"], "DPS01");
    assert_eq!(search["branches"][0]["free_units"], 1);
    assert!(search["branches"][1]["distance_km"].as_u64() > Some(900));

    // Bad input is named.
    for (body, field) in [
        (
            json!({"customer_id": people[0], "start": day(4), "end": day(6)}),
            "sku",
        ),
        (
            json!({"sku": AVANZA, "asset_id": jakarta[0], "customer_id": people[0], "start": day(4), "end": day(6)}),
            "sku",
        ),
        (
            json!({"sku": "NOPE", "customer_id": people[0], "start": day(4), "end": day(6)}),
            "sku",
        ),
        (
            model_body(AVANZA, Some("XXX"), people[0], day(4), day(6)),
            "branch",
        ),
        (model_body(AVANZA, None, people[0], day(6), day(4)), "end"),
    ] {
        let (status, problem) = app
            .post("/api/v1/bookings", Some(&Uuid::now_v7().to_string()), &body)
            .await?;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (422, Some(field)),
            "{body}: {problem}"
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
            app.post(
                "/api/v1/bookings",
                Some(&format!("same-{i}")),
                &model_body(AVANZA, None, person, day(9), day(12)),
            )
            .await
        })
    });
    let mut given = Vec::new();
    let mut sold_out = 0;
    for answer in futures_util::future::join_all(same_days).await {
        let (status, body) = answer??;
        match (status, body["code"].as_str()) {
            (201, _) => given.push(asset_of(&body)),
            (409, Some("sold_out")) => sold_out += 1,
            other => anyhow::bail!("unexpected answer {other:?}: {body}"),
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
            let answer = app
                .post(
                    "/api/v1/bookings",
                    Some(&format!("range-{i}")),
                    &model_body("VARIO-125", Some("DPS01"), person, day(from), day(to)),
                )
                .await;
            (from, to, answer)
        })
    });
    let (mut created, mut refused) = (0, Vec::new());
    for outcome in futures_util::future::join_all(storm).await {
        let (from, to, answer) = outcome?;
        let (status, body) = answer?;
        match (status, body["code"].as_str()) {
            (201, _) => created += 1,
            (409, Some("sold_out")) => refused.push((from, to)),
            other => anyhow::bail!("unexpected answer {other:?}: {body}"),
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
    let (status, first) = book_model(
        &app,
        "w-0",
        "INNOVA-ZENIX-V",
        Some("DPS01"),
        people[0],
        (day(10), day(12)),
    )
    .await?;
    assert_eq!(status, 201, "{first}");
    let (status, problem) = book_model(
        &app,
        "w-1",
        "INNOVA-ZENIX-V",
        Some("DPS01"),
        people[1],
        (day(10), day(12)),
    )
    .await?;
    assert_eq!((status, problem["code"].as_str()), (409, Some("sold_out")));
    let (status, entry) = app
        .post(
            "/api/v1/waitlist",
            None,
            &model_body("INNOVA-ZENIX-V", Some("DPS01"), people[1], day(10), day(12)),
        )
        .await?;
    assert_eq!(status, 201, "{entry}");
    let id = first["id"].as_str().unwrap_or_default();
    let (status, _) = app
        .post(&format!("/api/v1/bookings/{id}/cancel"), None, &json!({}))
        .await?;
    assert_eq!(status, 200);
    app.run_jobs().await?;
    let (_, _, metrics) = app.get("/metrics").await?;
    assert!(
        metrics
            .contains(r#"sentra_job_duration_seconds_count{kind="unit_freed",outcome="done"} 1"#),
        "the job is counted by kind: {metrics}"
    );
    let (_, entry) = app
        .get_json(&format!(
            "/api/v1/waitlist/{}",
            entry["id"].as_str().unwrap_or_default()
        ))
        .await?;
    assert_eq!(entry["status"], "OFFERED", "{entry}");
    let (_, offer) = app
        .get_json(&format!(
            "/api/v1/bookings/{}",
            entry["offer_booking_id"].as_str().unwrap_or_default()
        ))
        .await?;
    assert_eq!(offer["status"], "PENDING_PAYMENT");
    assert_eq!(offer["customer_id"], json!(people[1]));
    assert_eq!(
        asset_of(&offer),
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
    let (_, search) = app
        .get_json(&format!(
            "/api/v1/availability?sku=INNOVA-ZENIX-V&branch=JKT01&start={}&end={}",
            day(5),
            day(7)
        ))
        .await?;
    assert_eq!(search["free_units"], 0, "the stale bits show in search");
    let (status, booking) = book_model(
        &app,
        "stale",
        "INNOVA-ZENIX-V",
        Some("JKT01"),
        people[0],
        (day(5), day(7)),
    )
    .await?;
    assert_eq!(status, 201, "Postgres has both units free: {booking}");
    // The other unit's stale bits were repaired: search shows it again.
    let started = std::time::Instant::now();
    loop {
        let (_, search) = app
            .get_json(&format!(
                "/api/v1/availability?sku=INNOVA-ZENIX-V&branch=JKT01&start={}&end={}",
                day(5),
                day(7)
            ))
            .await?;
        if search["free_units"] == 1 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the stale bits stayed: {search}"
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
    let (status, held) = book_model(
        &app,
        "lapsing",
        "INNOVA-ZENIX-V",
        Some("DPS01"),
        people[0],
        (day(10), day(12)),
    )
    .await?;
    assert_eq!(status, 201, "{held}");
    sqlx::query("UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(held["id"].as_str().unwrap_or_default().parse::<Uuid>()?)
        .execute(&app.db)
        .await?;
    let (status, booking) = book_model(
        &app,
        "after-lapse",
        "INNOVA-ZENIX-V",
        Some("DPS01"),
        people[1],
        (day(10), day(12)),
    )
    .await?;
    assert_eq!(status, 201, "the lapsed hold is not in the way: {booking}");
    assert_eq!(asset_of(&booking), asset_of(&held));
    let (_, old) = app
        .get_json(&format!(
            "/api/v1/bookings/{}",
            held["id"].as_str().unwrap_or_default()
        ))
        .await?;
    assert_eq!(old["status"], "EXPIRED");
    Ok(())
}
