//! The booking endpoints as a client sees them: happy path, idempotency, validation, confirm
//! and cancel.

use serde_json::json;

use crate::{
    fixtures::{assets, booking_body, customers, day, seed},
    support::TestApp,
};

async fn app_with_fixtures() -> anyhow::Result<(TestApp, Vec<uuid::Uuid>, Vec<uuid::Uuid>)> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let avanzas = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let people = customers(&app.db).await?;
    Ok((app, avanzas, people))
}

#[tokio::test]
async fn a_booking_is_held_for_payment_priced_and_blocks_its_buffer_day() -> anyhow::Result<()> {
    let (app, avanzas, people) = app_with_fixtures().await?;
    let body = booking_body(avanzas[0], people[0], day(3), day(6));
    let (status, booking) = app.post("/api/v1/bookings", Some("k-1"), &body).await?;
    assert_eq!(status, 201, "{booking}");
    assert_eq!(booking["status"], "PENDING_PAYMENT");
    assert_eq!(booking["total_idr"], 3 * 450_000, "3 nights of Rp 450.000");
    assert_eq!(
        booking["blocked_until"],
        json!(day(7)),
        "Avanza has a 1-day turnaround buffer"
    );
    assert!(booking["hold_token"].is_string() && booking["expires_at"].is_string());

    // The buffer day is taken too: a rental starting on the return day is refused (held for
    // the first customer's payment until their window ends)...
    let next = booking_body(avanzas[0], people[1], day(6), day(8));
    let (status, problem) = app.post("/api/v1/bookings", Some("k-2"), &next).await?;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "asset_held");
    assert_eq!(problem["held_until"], booking["expires_at"]);
    // ...and one starting the day after the buffer is fine.
    let later = booking_body(avanzas[0], people[1], day(7), day(8));
    assert_eq!(
        app.post("/api/v1/bookings", Some("k-3"), &later).await?.0,
        201
    );

    let id = booking["id"].as_str().expect("id");
    let (status, fetched) = app.get_json(&format!("/api/v1/bookings/{id}")).await?;
    assert_eq!(status, 200);
    assert_eq!(fetched["id"], booking["id"]);
    let (status, list) = app
        .get_json("/api/v1/bookings?branch=JKT01&status=PENDING_PAYMENT")
        .await?;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
    Ok(())
}

#[tokio::test]
async fn idempotency_key_replays_and_refuses_a_different_body() -> anyhow::Result<()> {
    let (app, avanzas, people) = app_with_fixtures().await?;
    let body = booking_body(avanzas[1], people[0], day(10), day(12));
    let (status, first) = app
        .post("/api/v1/bookings", Some("same-key"), &body)
        .await?;
    assert_eq!(status, 201);
    let (status, replay) = app
        .post("/api/v1/bookings", Some("same-key"), &body)
        .await?;
    assert_eq!(status, 201, "a replay returns the original response");
    assert_eq!(replay, first);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(rows, 1, "the replay created nothing");

    let other = booking_body(avanzas[1], people[0], day(20), day(22));
    let (status, problem) = app
        .post("/api/v1/bookings", Some("same-key"), &other)
        .await?;
    assert_eq!(status, 422);
    assert_eq!(problem["code"], "idempotency_key_reused");

    let (status, problem) = app.post("/api/v1/bookings", None, &other).await?;
    assert_eq!(status, 400);
    assert_eq!(problem["code"], "idempotency_key_required");
    Ok(())
}

#[tokio::test]
async fn bad_input_gets_a_4xx_problem_with_a_stable_code() -> anyhow::Result<()> {
    let (app, avanzas, people) = app_with_fixtures().await?;
    let yesterday = chrono::Utc::now().date_naive() - chrono::Days::new(2);
    let cases = [
        (
            "end before start",
            booking_body(avanzas[0], people[0], day(5), day(4)),
            "end",
        ),
        (
            "same day",
            booking_body(avanzas[0], people[0], day(5), day(5)),
            "end",
        ),
        (
            "too long",
            booking_body(avanzas[0], people[0], day(1), day(200)),
            "end",
        ),
        (
            "in the past",
            booking_body(avanzas[0], people[0], yesterday, day(1)),
            "start",
        ),
        (
            "unknown asset",
            booking_body(uuid::Uuid::now_v7(), people[0], day(1), day(2)),
            "asset_id",
        ),
        (
            "unknown customer",
            booking_body(avanzas[0], uuid::Uuid::now_v7(), day(1), day(2)),
            "customer_id",
        ),
        (
            "not a date",
            json!({"asset_id": avanzas[0], "customer_id": people[0], "start": "besok", "end": "2026-13-01"}),
            "body",
        ),
    ];
    for (i, (what, body, field)) in cases.iter().enumerate() {
        let (status, problem) = app
            .post("/api/v1/bookings", Some(&format!("bad-{i}")), body)
            .await?;
        assert_eq!(status, 422, "{what}: {problem}");
        assert_eq!(problem["code"], "validation_failed", "{what}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(field), "{what}: {fields:?}");
    }
    let (status, problem) = app.get_json("/api/v1/bookings?branch=NOPE").await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, problem) = app.get_json("/api/v1/bookings/not-a-uuid").await?;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    Ok(())
}

#[tokio::test]
async fn confirm_is_fenced_by_the_hold_token_and_cancel_frees_the_days() -> anyhow::Result<()> {
    let (app, avanzas, people) = app_with_fixtures().await?;
    let body = booking_body(avanzas[2], people[0], day(4), day(6));
    let (_, booking) = app.post("/api/v1/bookings", Some("c-1"), &body).await?;
    let id = booking["id"].as_str().expect("id").to_owned();
    let confirm = format!("/api/v1/bookings/{id}/confirm");

    let (status, problem) = app
        .post(&confirm, None, &json!({"hold_token": uuid::Uuid::new_v4()}))
        .await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("not_found")),
        "a wrong token learns nothing"
    );
    let token = json!({"hold_token": booking["hold_token"]});
    let (status, confirmed) = app.post(&confirm, None, &token).await?;
    assert_eq!(status, 200);
    assert_eq!(confirmed["status"], "CONFIRMED");
    assert!(confirmed["expires_at"].is_null());
    let (status, again) = app.post(&confirm, None, &token).await?;
    assert_eq!(
        (status, again["status"].as_str()),
        (200, Some("CONFIRMED")),
        "confirm is idempotent"
    );

    let (status, cancelled) = app
        .post(&format!("/api/v1/bookings/{id}/cancel"), None, &json!({}))
        .await?;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("CANCELLED"))
    );
    let (status, problem) = app
        .post(&format!("/api/v1/bookings/{id}/cancel"), None, &json!({}))
        .await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("invalid_state"))
    );
    // The days are free again, in Redis and in Postgres.
    let (status, _) = app
        .post(
            "/api/v1/bookings",
            Some("c-2"),
            &booking_body(avanzas[2], people[1], day(4), day(6)),
        )
        .await?;
    assert_eq!(status, 201);
    Ok(())
}
