//! Payment windows lapse: the hold expires (also across a restart), its calendar bits clear, a
//! late confirm is refused, and the waitlist gets the unit — platinum before gold, and the offer
//! cascades when it is not paid.

use std::time::{Duration, Instant};

use sentra_server::cache::{Cache, RedisHandle, RedisTarget, calendar::AssetCalendar};
use sentra_test_support::RedisServer;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    fixtures::{assets, booking_body, day, seed},
    support::TestApp,
};

/// Polls `path` until `accept` holds for its JSON (bounded; the sweeper runs every 100 ms).
async fn wait_for(
    app: &TestApp,
    path: &str,
    accept: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let started = Instant::now();
    loop {
        let (_, json) = app.get_json(path).await?;
        if accept(&json) {
            return Ok(json);
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "{path} never matched; last {json}"
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
    let asset = assets(&app.db, "GENSET-5KVA", "JKT01").await?[0];
    let budi = customer(&app, "regular").await?;
    let (status, booking) = app
        .post(
            "/api/v1/bookings",
            Some("e-1"),
            &booking_body(asset, budi, day(2), day(4)),
        )
        .await?;
    assert_eq!(status, 201);
    let id = booking["id"].as_str().expect("id");

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

    wait_for(&app, &format!("/api/v1/bookings/{id}"), |b| {
        b["status"] == "EXPIRED"
    })
    .await?;
    assert!(
        calendar.is_free(&mut conn, day(2), day(4)).await?,
        "expired days are free again"
    );
    let (status, problem) = app
        .post(
            &format!("/api/v1/bookings/{id}/confirm"),
            None,
            &json!({"hold_token": booking["hold_token"]}),
        )
        .await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("hold_expired")),
        "{problem}"
    );
    let (status, _) = app
        .post(
            "/api/v1/bookings",
            Some("e-2"),
            &booking_body(asset, budi, day(2), day(4)),
        )
        .await?;
    assert_eq!(status, 201, "the days can be booked again");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_still_expire_after_a_server_restart() -> anyhow::Result<()> {
    let mut app = TestApp::spawn_with(&fast_windows()).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let asset = assets(&app.db, "GENSET-5KVA", "DPS01").await?[0];
    let budi = customer(&app, "regular").await?;
    let (_, booking) = app
        .post(
            "/api/v1/bookings",
            Some("r-1"),
            &booking_body(asset, budi, day(2), day(3)),
        )
        .await?;
    app.restart().await?;
    let id = booking["id"].as_str().expect("id");
    wait_for(&app, &format!("/api/v1/bookings/{id}"), |b| {
        b["status"] == "EXPIRED"
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_unit_goes_to_the_best_tier_first_and_cascades_when_unpaid() -> anyhow::Result<()> {
    let mut app = TestApp::spawn_with(&fast_windows()).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    // Bali has a single Innova: once it is held, the SKU is sold out there.
    let innova = assets(&app.db, "INNOVA-ZENIX-V", "DPS01").await?;
    assert_eq!(innova.len(), 1);
    let (regular, gold, platinum) = (
        customer(&app, "regular").await?,
        customer(&app, "gold").await?,
        customer(&app, "platinum").await?,
    );
    let (status, _) = app
        .post(
            "/api/v1/bookings",
            Some("w-0"),
            &booking_body(innova[0], regular, day(5), day(8)),
        )
        .await?;
    assert_eq!(status, 201);

    let join = |who: Uuid| json!({"customer_id": who, "sku": "INNOVA-ZENIX-V", "branch": "DPS01", "start": day(5), "end": day(8)});
    let (status, gold_entry) = app.post("/api/v1/waitlist", None, &join(gold)).await?;
    assert_eq!(
        (status, gold_entry["position"].as_u64()),
        (201, Some(1)),
        "{gold_entry}"
    );
    let (status, platinum_entry) = app.post("/api/v1/waitlist", None, &join(platinum)).await?;
    assert_eq!(
        (status, platinum_entry["position"].as_u64()),
        (201, Some(1)),
        "platinum goes first"
    );
    let (status, again) = app.post("/api/v1/waitlist", None, &join(gold)).await?;
    assert_eq!(
        (status, again["id"].clone()),
        (200, gold_entry["id"].clone()),
        "joining twice is idempotent"
    );
    assert_eq!(again["position"].as_u64(), Some(2));

    // The first hold lapses: platinum gets an exclusive offer, gold moves up.
    let platinum_path = format!(
        "/api/v1/waitlist/{}",
        platinum_entry["id"].as_str().expect("id")
    );
    let gold_path = format!(
        "/api/v1/waitlist/{}",
        gold_entry["id"].as_str().expect("id")
    );
    let offered = wait_for(&app, &platinum_path, |e| e["status"] == "OFFERED").await?;
    let (_, offer) = app
        .get_json(&format!(
            "/api/v1/bookings/{}",
            offered["offer_booking_id"].as_str().expect("offer")
        ))
        .await?;
    assert_eq!(offer["customer_id"], json!(platinum));
    assert_eq!(offer["status"], "PENDING_PAYMENT");
    let (_, gold_now) = app.get_json(&gold_path).await?;
    assert_eq!(gold_now["position"].as_u64(), Some(1));

    // Platinum does not pay: the offer lapses and cascades to gold, who pays in time.
    let gold_offered = wait_for(&app, &gold_path, |e| e["status"] == "OFFERED").await?;
    let (_, platinum_after) = app.get_json(&platinum_path).await?;
    assert_eq!(platinum_after["status"], "EXPIRED");
    let offer_id = gold_offered["offer_booking_id"]
        .as_str()
        .expect("offer")
        .to_owned();
    let (_, offer) = app
        .get_json(&format!("/api/v1/bookings/{offer_id}"))
        .await?;
    let (status, confirmed) = app
        .post(
            &format!("/api/v1/bookings/{offer_id}/confirm"),
            None,
            &json!({"hold_token": offer["hold_token"]}),
        )
        .await?;
    assert_eq!(
        (status, confirmed["status"].as_str()),
        (200, Some("CONFIRMED")),
        "{confirmed}"
    );
    let (_, gold_final) = app.get_json(&gold_path).await?;
    assert_eq!(gold_final["status"], "FULFILLED");

    let (status, left) = app
        .request(reqwest::Method::DELETE, &gold_path)
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))?;
    assert_eq!(
        (status, left),
        (200, ()),
        "leaving a fulfilled entry is harmless"
    );
    Ok(())
}

#[tokio::test]
async fn leaving_removes_the_entry_from_the_queue() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let (gold, platinum) = (
        customer(&app, "gold").await?,
        customer(&app, "platinum").await?,
    );
    let join = |who: Uuid| json!({"customer_id": who, "sku": "VARIO-125", "start": day(9), "end": day(10)});
    let (_, first) = app.post("/api/v1/waitlist", None, &join(platinum)).await?;
    let (_, second) = app.post("/api/v1/waitlist", None, &join(gold)).await?;
    assert_eq!(second["position"].as_u64(), Some(2));
    let first_path = format!("/api/v1/waitlist/{}", first["id"].as_str().expect("id"));
    let response = app
        .request(reqwest::Method::DELETE, &first_path)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    let left: Value = response.json().await?;
    assert_eq!(
        (left["status"].as_str(), left["position"].as_u64()),
        (Some("LEFT"), None)
    );
    let (_, second_now) = app
        .get_json(&format!(
            "/api/v1/waitlist/{}",
            second["id"].as_str().expect("id")
        ))
        .await?;
    assert_eq!(second_now["position"].as_u64(), Some(1));
    let (status, problem) = app
        .post(
            "/api/v1/waitlist",
            None,
            &json!({"customer_id": gold, "sku": "NOPE", "start": day(1), "end": day(2)}),
        )
        .await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("validation_failed"))
    );
    Ok(())
}
