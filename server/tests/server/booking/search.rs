//! Availability search (staff's pages of free units) and the SKU month calendar, from Redis and
//! (when Redis lost its data) from Postgres, with the same answers.

use std::time::{Duration, Instant};

use sentra_domain::Money;
use sentra_protocol::{
    Availability, CalendarQuery, DayState, FreeUnitPage, SkuCalendar, UnitsQuery,
};
use sentra_test_support::RedisServer;

use crate::{
    fixtures::{assets, customers, day, seed, unit_booking},
    support::TestApp,
};

fn plates(page: &FreeUnitPage) -> Vec<String> {
    let mut plates: Vec<String> = page
        .items
        .iter()
        .map(|a| a.plate_or_serial.clone())
        .collect();
    plates.sort();
    plates
}

/// The staff's first page (up to 200) of free units of `sku` for days `from..to`.
async fn search(
    app: &TestApp,
    sku: &str,
    branch: Option<&str>,
    from: u64,
    to: u64,
) -> anyhow::Result<FreeUnitPage> {
    Ok(app
        .api()
        .free_units(&UnitsQuery {
            sku: sku.to_owned(),
            start: day(from),
            end: day(to),
            branch: branch.map(str::to_owned),
            limit: Some(200),
            cursor: None,
        })
        .await?)
}

#[tokio::test]
async fn search_lists_free_units_per_branch_and_respects_the_turnaround_buffer()
-> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let jakarta = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let people = customers(&app.db).await?;
    // B 1234 XYZ is rented for days 3..5; its 1-day buffer keeps it until day 6.
    app.api()
        .create_booking("s-1", &unit_booking(jakarta[0], people[0], day(3), day(5)))
        .await?;

    let overlapping = search(&app, "AVANZA-13G-AT", Some("JKT01"), 4, 6).await?;
    assert_eq!(
        plates(&overlapping),
        ["B 1235 XYZ", "B 1236 XYZ", "B 1237 XYZ", "B 1238 XYZ"]
    );
    let on_buffer_day = search(&app, "AVANZA-13G-AT", Some("JKT01"), 5, 6).await?;
    assert!(
        !plates(&on_buffer_day).contains(&"B 1234 XYZ".to_owned()),
        "the buffer day is blocked"
    );
    // A rental ending on day 3 would need day 3 as its buffer: blocked too.
    let before = search(&app, "AVANZA-13G-AT", Some("JKT01"), 1, 3).await?;
    assert!(!plates(&before).contains(&"B 1234 XYZ".to_owned()));
    let after = search(&app, "AVANZA-13G-AT", Some("JKT01"), 6, 8).await?;
    assert_eq!(plates(&after).len(), 5, "free again after the buffer");

    let everywhere = search(&app, "AVANZA-13G-AT", None, 4, 6).await?;
    assert_eq!(
        plates(&everywhere).len(),
        4 + 3,
        "Bali's units are offered with their branch"
    );
    let bali: Vec<&str> = everywhere
        .items
        .iter()
        .filter(|a| a.branch_code == "DPS01")
        .map(|a| a.plate_or_serial.as_str())
        .collect();
    assert_eq!(bali, ["DK 1401 AB", "DK 1402 AB", "DK 1403 AB"]);

    for (query, field) in [
        (
            format!("sku=AVANZA-13G-AT&start={}&end={}", day(5), day(4)),
            "end",
        ),
        (format!("sku=NOPE&start={}&end={}", day(1), day(2)), "sku"),
        (
            format!(
                "sku=AVANZA-13G-AT&start={}&end={}&branch=XXX",
                day(1),
                day(2)
            ),
            "branch",
        ),
        (
            "sku=AVANZA-13G-AT&start=kemarin&end=besok".to_owned(),
            "query",
        ),
    ] {
        let (status, problem) = app
            .get_json(&format!("/api/v1/availability?{query}"))
            .await?;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("validation_failed")),
            "{query}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    Ok(())
}

#[tokio::test]
async fn the_month_calendar_shows_sold_out_partly_free_and_free_days() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    let bali = assets(&app.db, "INNOVA-ZENIX-V", "DPS01").await?;
    let jakarta = assets(&app.db, "INNOVA-ZENIX-V", "JKT01").await?;
    // Bali's only Innova is out for days 20..22 (buffer until 23); one of Jakarta's two too.
    let api = app.api();
    api.create_booking("m-1", &unit_booking(bali[0], people[0], day(20), day(22)))
        .await?;
    api.create_booking(
        "m-2",
        &unit_booking(jakarta[0], people[1], day(20), day(22)),
    )
    .await?;
    let month = day(20).format("%Y-%m").to_string();
    let calendar_of = |branch: Option<&str>, month: &str| CalendarQuery {
        month: month.to_owned(),
        branch: branch.map(str::to_owned),
    };

    let calendar = api
        .sku_calendar("INNOVA-ZENIX-V", &calendar_of(Some("DPS01"), &month))
        .await?;
    let day_of =
        |cal: &SkuCalendar, d: chrono::NaiveDate| cal.days.iter().find(|x| x.date == d).cloned();
    let state_on = |cal: &SkuCalendar, d| day_of(cal, d).map(|x| x.state);
    assert_eq!(state_on(&calendar, day(20)), Some(DayState::SoldOut));
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")?;
    let days_in_month = (first + chrono::Months::new(1) - first).num_days();
    assert_eq!(calendar.days.len(), usize::try_from(days_in_month)?);
    let all = api
        .sku_calendar("INNOVA-ZENIX-V", &calendar_of(None, &month))
        .await?;
    assert_eq!(
        state_on(&all, day(21)),
        Some(DayState::PartlyFree),
        "Jakarta still has one"
    );
    let d21 = day_of(&all, day(21)).expect("day");
    assert_eq!((d21.free_units, d21.total_units), (1, 3));
    if day(25).format("%Y-%m").to_string() == month {
        assert_eq!(state_on(&all, day(25)), Some(DayState::Free));
    }
    let err = api
        .sku_calendar("INNOVA-ZENIX-V", &calendar_of(None, "2026-13"))
        .await
        .expect_err("no 13th month");
    assert_eq!((err.status(), err.code()), (Some(422), "validation_failed"));
    Ok(())
}

#[tokio::test]
async fn after_redis_loses_its_data_search_asks_postgres_and_the_index_is_rebuilt()
-> anyhow::Result<()> {
    let redis = tokio::task::spawn_blocking(RedisServer::start).await??;
    let mut app = TestApp::spawn_with_redis(&redis.url()).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let scooters = assets(&app.db, "VARIO-125", "DPS01").await?;
    let people = customers(&app.db).await?;
    for (i, scooter) in scooters.iter().take(4).enumerate() {
        app.api()
            .create_booking(
                &format!("f-{i}"),
                &unit_booking(*scooter, people[0], day(2), day(4)),
            )
            .await?;
    }
    let before = plates(&search(&app, "VARIO-125", Some("DPS01"), 2, 4).await?);
    assert_eq!(before, ["DK 3605 EF", "DK 3606 EF"]);

    let mut conn = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await?;
    assert_eq!(
        plates(&search(&app, "VARIO-125", Some("DPS01"), 2, 4).await?),
        before,
        "same answer from Postgres"
    );

    // The search triggered a rebuild: the index comes back without waiting for the periodic one.
    let started = Instant::now();
    loop {
        let built: Option<String> = redis::cmd("GET")
            .arg(format!("{}skuday:{{VARIO-125}}:built", app.key_prefix))
            .query_async(&mut conn)
            .await?;
        if built.is_some() {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "the index was not rebuilt"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        plates(&search(&app, "VARIO-125", Some("DPS01"), 2, 4).await?),
        before,
        "and from Redis again"
    );
    Ok(())
}

/// Every free Avanza's id for days 3..6, walking the staff pages of `limit` units; each page
/// must report `total` free units.
async fn every_page(app: &TestApp, limit: usize, total: u32) -> anyhow::Result<Vec<uuid::Uuid>> {
    let api = app.api();
    let mut seen = Vec::new();
    let mut query = UnitsQuery {
        sku: "AVANZA-13G-AT".to_owned(),
        start: day(3),
        end: day(6),
        branch: None,
        limit: Some(limit),
        cursor: None,
    };
    loop {
        let page = api.free_units(&query).await?;
        anyhow::ensure!(page.free_units == total, "{page:?}");
        anyhow::ensure!(page.items.len() <= limit);
        seen.extend(page.items.iter().map(|u| u.asset_id));
        match page.next_cursor {
            Some(next) => query.cursor = Some(next),
            None => return Ok(seen),
        }
    }
}

#[tokio::test]
async fn customers_get_counts_and_the_price_and_the_answer_does_not_grow_with_the_fleet()
-> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let query = format!(
        "/api/v1/availability?sku=AVANZA-13G-AT&start={}&end={}",
        day(3),
        day(6)
    );
    let (status, _, small_fleet) = app.get(&query).await?;
    assert_eq!(status, 200, "{small_fleet}");
    // The raw body is read for its size; it decodes as the typed answer.
    let answer: Availability = serde_json::from_str(&small_fleet)?;
    assert_eq!(answer.free_units, 8);
    assert_eq!(answer.branches[0].branch_code, "DPS01");
    assert_eq!(answer.branches[0].free_units, 3);
    assert_eq!(answer.branches[1].free_units, 5);
    // Three nights at the SKU's daily rate, and its deposit.
    let (rate, deposit): (i64, i64) =
        sqlx::query_as("SELECT daily_rate_idr, deposit_idr FROM skus WHERE code = 'AVANZA-13G-AT'")
            .fetch_one(&app.db)
            .await?;
    assert_eq!(answer.price.nights, 3);
    assert_eq!(answer.price.total_idr, Money::from_rupiah(3 * rate));
    assert_eq!(answer.price.deposit_idr, Money::from_rupiah(deposit));
    assert!(!small_fleet.contains("B 1234"), "no plates for customers");

    // Four hundred more Avanzas in Jakarta: the same answer, only the counts change.
    sqlx::query(
        "INSERT INTO assets (id, sku_id, home_branch_id, plate_or_serial) \
         SELECT gen_random_uuid(), s.id, b.id, 'B ' || (5000 + n) || ' ZZ' \
         FROM skus s, branches b, generate_series(1, 400) n \
         WHERE s.code = 'AVANZA-13G-AT' AND b.code = 'JKT01'",
    )
    .execute(&app.db)
    .await?;
    let started = Instant::now();
    let big_fleet = loop {
        let (_, _, body) = app.get(&query).await?;
        let answer: Availability = serde_json::from_str(&body)?;
        if answer.free_units == 408 {
            break body;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(10),
            "the new units never showed: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        big_fleet.len() <= small_fleet.len() + 4,
        "{} bytes for 8 units, {} for 408",
        small_fleet.len(),
        big_fleet.len()
    );
    assert!(big_fleet.len() < 2048);

    // Staff page through the units; a branch admin sees only their branch's.
    app.as_hq().await?;
    let mut seen = every_page(&app, 150, 408).await?;
    let pages = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((pages, seen.len()), (408, 408), "every unit once");

    let bali_admin = app
        .staff_token("admin.dps@demo.sentrarental.id", "demo-dps-2026")
        .await?;
    let bali = app.api().with_token(&bali_admin);
    let units = |branch: Option<&str>| UnitsQuery {
        sku: "AVANZA-13G-AT".to_owned(),
        start: day(3),
        end: day(6),
        branch: branch.map(str::to_owned),
        ..UnitsQuery::default()
    };
    assert_eq!(bali.free_units(&units(None)).await?.free_units, 3);
    let err = bali
        .free_units(&units(Some("JKT01")))
        .await
        .expect_err("not their branch");
    assert_eq!(err.status(), Some(403));
    let err = bali
        .anonymous()
        .free_units(&units(None))
        .await
        .expect_err("no login");
    assert_eq!(
        err.status(),
        Some(401),
        "customers and strangers never see plates"
    );
    Ok(())
}
