//! The booking endpoints as a client sees them, through the typed client: happy path,
//! idempotency, validation, confirm and cancel. What the client cannot send (a missing
//! Idempotency-Key, a body that is not a booking) goes over raw HTTP.

use sentra_api_client::ApiError;
use sentra_domain::{BookingStatus, Money};
use sentra_protocol::{BookingListQuery, ConfirmBookingRequest};
use serde_json::json;
use uuid::Uuid;

use crate::{
    fixtures::{assets, booking_body, customers, day, seed, unit_booking as unit},
    support::TestApp,
};

async fn app_with_fixtures() -> anyhow::Result<(TestApp, Vec<Uuid>, Vec<Uuid>)> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let avanzas = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let people = customers(&app.db).await?;
    Ok((app, avanzas, people))
}

/// The status and stable code of a refusal.
fn refusal(err: &ApiError) -> (Option<u16>, &str) {
    (err.status(), err.code())
}

#[tokio::test]
async fn a_booking_is_held_for_payment_priced_and_blocks_its_buffer_day() -> anyhow::Result<()> {
    let (app, avanzas, people) = app_with_fixtures().await?;
    let api = app.api();
    let booking = api
        .create_booking("k-1", &unit(avanzas[0], people[0], day(3), day(6)))
        .await?;
    assert_eq!(booking.status, BookingStatus::PendingPayment);
    assert_eq!(
        booking.total_idr,
        Money::from_rupiah(3 * 450_000),
        "3 nights of Rp 450.000"
    );
    assert_eq!(
        booking.blocked_until,
        day(7),
        "Avanza has a 1-day turnaround buffer"
    );
    assert!(booking.hold_token.is_some() && booking.expires_at.is_some());

    // The buffer day is taken too: a rental starting on the return day is refused (held for
    // the first customer's payment until their window ends)...
    let err = api
        .create_booking("k-2", &unit(avanzas[0], people[1], day(6), day(8)))
        .await
        .expect_err("the buffer day is held");
    assert_eq!(refusal(&err), (Some(409), "asset_held"));
    let held_until = err.problem().and_then(|p| p.held_until);
    assert_eq!(held_until, booking.expires_at, "{err}");
    // ...and one starting the day after the buffer is fine.
    api.create_booking("k-3", &unit(avanzas[0], people[1], day(7), day(8)))
        .await?;

    assert_eq!(api.booking(booking.id).await?.id, booking.id);
    let list = api
        .bookings(&BookingListQuery {
            branch: "JKT01".to_owned(),
            status: Some(BookingStatus::PendingPayment.as_str().to_owned()),
            limit: None,
        })
        .await?;
    assert_eq!(list.items.len(), 2);
    Ok(())
}

#[tokio::test]
async fn idempotency_key_replays_and_refuses_a_different_body() -> anyhow::Result<()> {
    let (app, avanzas, people) = app_with_fixtures().await?;
    let api = app.api();
    let body = unit(avanzas[1], people[0], day(10), day(12));
    let first = api.create_booking("same-key", &body).await?;
    let replay = api.create_booking("same-key", &body).await?;
    assert_eq!(replay, first, "a replay returns the original booking");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(rows, 1, "the replay created nothing");

    let other = unit(avanzas[1], people[0], day(20), day(22));
    let err = api
        .create_booking("same-key", &other)
        .await
        .expect_err("a key is bound to its first body");
    assert_eq!(refusal(&err), (Some(422), "idempotency_key_reused"));

    // The typed client always sends a key; without one the server refuses.
    let (status, problem) = app
        .post("/api/v1/bookings", None, &serde_json::to_value(&other)?)
        .await?;
    assert_eq!(status, 400);
    assert_eq!(problem["code"], "idempotency_key_required");
    Ok(())
}

#[tokio::test]
async fn bad_input_gets_a_4xx_problem_with_a_stable_code() -> anyhow::Result<()> {
    let (app, avanzas, people) = app_with_fixtures().await?;
    let api = app.api();
    let yesterday = chrono::Utc::now().date_naive() - chrono::Days::new(2);
    let cases = [
        (
            "end before start",
            unit(avanzas[0], people[0], day(5), day(4)),
            "end",
        ),
        (
            "same day",
            unit(avanzas[0], people[0], day(5), day(5)),
            "end",
        ),
        (
            "too long",
            unit(avanzas[0], people[0], day(1), day(200)),
            "end",
        ),
        (
            "in the past",
            unit(avanzas[0], people[0], yesterday, day(1)),
            "start",
        ),
        (
            "unknown asset",
            unit(Uuid::now_v7(), people[0], day(1), day(2)),
            "asset_id",
        ),
        (
            "unknown customer",
            unit(avanzas[0], Uuid::now_v7(), day(1), day(2)),
            "customer_id",
        ),
    ];
    for (i, (what, body, field)) in cases.iter().enumerate() {
        let err = api
            .create_booking(&format!("bad-{i}"), body)
            .await
            .expect_err(what);
        assert_eq!(refusal(&err), (Some(422), "validation_failed"), "{what}");
        let fields: Vec<&str> = err
            .problem()
            .map(|p| p.errors.iter().map(|f| f.field.as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(field), "{what}: {fields:?}");
    }
    // Not dates at all: only a raw client can send that.
    let (status, problem) = app
        .post(
            "/api/v1/bookings",
            Some("bad-dates"),
            &json!({"asset_id": avanzas[0], "customer_id": people[0], "start": "besok", "end": "2026-13-01"}),
        )
        .await?;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "validation_failed");
    assert!(
        problem["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|f| f["field"] == "body")),
        "{problem}"
    );

    let err = api
        .bookings(&BookingListQuery {
            branch: "NOPE".to_owned(),
            ..BookingListQuery::default()
        })
        .await
        .expect_err("no such branch");
    assert_eq!(refusal(&err), (Some(422), "validation_failed"));
    let (status, problem) = app.get_json("/api/v1/bookings/not-a-uuid").await?;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    Ok(())
}

#[tokio::test]
async fn confirm_is_fenced_by_the_hold_token_and_cancel_frees_the_days() -> anyhow::Result<()> {
    let (app, avanzas, people) = app_with_fixtures().await?;
    let api = app.api();
    let booking = api
        .create_booking("c-1", &unit(avanzas[2], people[0], day(4), day(6)))
        .await?;

    let err = api
        .confirm_booking(
            booking.id,
            &ConfirmBookingRequest {
                hold_token: Uuid::new_v4(),
            },
        )
        .await
        .expect_err("a wrong token");
    assert_eq!(
        refusal(&err),
        (Some(404), "not_found"),
        "a wrong token learns nothing"
    );
    let token = ConfirmBookingRequest {
        hold_token: booking.hold_token.expect("held"),
    };
    let confirmed = api.confirm_booking(booking.id, &token).await?;
    assert_eq!(confirmed.status, BookingStatus::Confirmed);
    assert!(confirmed.expires_at.is_none());
    let again = api.confirm_booking(booking.id, &token).await?;
    assert_eq!(
        again.status,
        BookingStatus::Confirmed,
        "confirm is idempotent"
    );

    let cancelled = api.cancel_booking(booking.id).await?;
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    let err = api
        .cancel_booking(booking.id)
        .await
        .expect_err("cancelled already");
    assert_eq!(refusal(&err), (Some(409), "invalid_state"));
    // The days are free again, in Redis and in Postgres.
    api.create_booking("c-2", &unit(avanzas[2], people[1], day(4), day(6)))
        .await?;
    // The raw body helper the other booking tests use builds the same request.
    assert_eq!(
        serde_json::to_value(unit(avanzas[2], people[1], day(4), day(6)))?,
        booking_body(avanzas[2], people[1], day(4), day(6))
    );
    Ok(())
}
