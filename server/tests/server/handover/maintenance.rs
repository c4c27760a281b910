//! Maintenance through the booking arbiter: a block over a confirmed booking is refused unless
//! the booking moves to a free unit; bookings cannot overlap a block; work orders close with
//! their cost; services fall due by days or by the kilometres handovers recorded.

use chrono::Days;
use serde_json::{Value, json};
use uuid::Uuid;

use super::support::{app, assert_refused, confirmed, files, inspection, move_period, today_wib};
use sentra_protocol::{PushAction, PushOperation, PushOutcome, PushRequest};

use crate::{
    fixtures::{booking_body, day, overlapping_pairs},
    support::TestApp,
    sync::desk::{Desktop, JAKARTA_ADMIN},
};

async fn open(
    app: &TestApp,
    asset: Uuid,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
    reassign: bool,
) -> anyhow::Result<(u16, Value)> {
    app.post(
        &format!("/api/v1/assets/{asset}/work-orders"),
        None,
        &json!({"start": start, "end": end, "reason": "Servis berkala dan ganti oli", "reassign": reassign}),
    )
    .await
}

#[tokio::test]
async fn maintenance_over_a_confirmed_booking_is_refused_or_moves_it_to_a_free_unit()
-> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let booking = confirmed(&app, avanzas[0], people[0], day(4), day(6)).await?;

    let (status, refused) = open(&app, avanzas[0], day(5), day(7), false).await?;
    assert_refused(status, &refused, 409, "maintenance_conflict");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(&booking.to_string()),
        "{refused}"
    );
    let blocks: i64 =
        sqlx::query_scalar("SELECT count(*) FROM bookings WHERE kind = 'MAINTENANCE'")
            .fetch_one(&app.db)
            .await?;
    assert_eq!(blocks, 0, "nothing was blocked");

    // Every other Avanza is taken on those days: the move is impossible, nothing changes.
    let mut others = Vec::new();
    for (i, unit) in avanzas.iter().enumerate().skip(1) {
        others.push(confirmed(&app, *unit, people[i % people.len()], day(4), day(6)).await?);
    }
    let (status, refused) = open(&app, avanzas[0], day(5), day(7), true).await?;
    assert_refused(status, &refused, 409, "maintenance_conflict");
    let (_, still) = app.get_json(&format!("/api/v1/bookings/{booking}")).await?;
    assert_eq!(still["asset_id"], avanzas[0].to_string());

    // One unit frees up: the booking moves there and the workshop gets its days.
    let (status, _) = app
        .post(
            &format!("/api/v1/bookings/{}/cancel", others[0]),
            None,
            &json!({}),
        )
        .await?;
    assert_eq!(status, 200);
    let (status, order) = open(&app, avanzas[0], day(5), day(7), true).await?;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "OPEN");
    assert_eq!(order["reassigned"][0]["booking_id"], booking.to_string());
    assert_eq!(
        order["reassigned"][0]["to_asset_id"],
        avanzas[1].to_string()
    );
    let (_, moved) = app.get_json(&format!("/api/v1/bookings/{booking}")).await?;
    assert_eq!(
        moved["asset_id"],
        avanzas[1].to_string(),
        "the customer keeps the booking on another unit"
    );
    assert_eq!(moved["status"], "CONFIRMED");

    a_block_is_kept_then_freed_by_closing(&app, &order, avanzas[0], people[1]).await?;
    Ok(())
}

/// A booking cannot overlap the open work order's block; closing it (with its cost) frees the
/// days it no longer needs, and a closed order does not close again.
async fn a_block_is_kept_then_freed_by_closing(
    app: &TestApp,
    order: &Value,
    unit: Uuid,
    customer: Uuid,
) -> anyhow::Result<()> {
    // A booking cannot overlap the block.
    let (status, taken) = app
        .post(
            "/api/v1/bookings",
            Some("over-block"),
            &booking_body(unit, customer, day(6), day(8)),
        )
        .await?;
    assert_refused(status, &taken, 409, "booking_conflict");
    assert_eq!(overlapping_pairs(&app.db).await?, 0);

    // Closed with its cost: the unused workshop days free up.
    let (status, closed) = app
        .post(
            &format!(
                "/api/v1/work-orders/{}/close",
                order["id"].as_str().unwrap_or_default()
            ),
            None,
            &json!({"cost_idr": 750_000, "notes": "Oli dan filter"}),
        )
        .await?;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(
        (closed["status"].as_str(), closed["cost_idr"].as_i64()),
        (Some("CLOSED"), Some(750_000))
    );
    let (status, booked) = app
        .post(
            "/api/v1/bookings",
            Some("after-close"),
            &booking_body(unit, customer, day(6), day(8)),
        )
        .await?;
    assert_eq!(status, 201, "{booked}");
    let (status, again) = app
        .post(
            &format!(
                "/api/v1/work-orders/{}/close",
                order["id"].as_str().unwrap_or_default()
            ),
            None,
            &json!({"cost_idr": 1}),
        )
        .await?;
    assert_eq!(status, 409, "{again}");
    Ok(())
}

#[tokio::test]
async fn an_asset_in_the_workshop_is_not_handed_over() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let today = today_wib();
    let booking = confirmed(&app, avanzas[2], people[0], day(8), day(9)).await?;
    move_period(&app, booking, today + Days::new(1), today + Days::new(3)).await?;
    let (status, order) = open(&app, avanzas[2], today, today + Days::new(1), false).await?;
    assert_eq!(status, 201, "{order}");
    // The rental starts tomorrow; staff try to hand it over a day early, but the unit is in the
    // workshop (and its block holds today).
    let refs = files(&app, 3).await?;
    let body = json!({"inspection": inspection("PICKUP", booking, &refs, 100), "early_reason": "Pelanggan datang lebih awal"});
    let (status, refused) = app
        .post(&format!("/api/v1/bookings/{booking}/pickup"), None, &body)
        .await?;
    assert_refused(status, &refused, 409, "asset_in_maintenance");
    Ok(())
}

#[tokio::test]
async fn services_fall_due_by_days_or_by_the_kilometres_handovers_recorded() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let (status, plan) = app
        .post("/api/v1/maintenance/plans", None, &json!({"sku": "AVANZA-13G-AT", "name": "Servis 5.000 km", "every_km": 5000, "every_days": 180}))
        .await?;
    assert_eq!(status, 201, "{plan}");
    let (status, refused) = app
        .post(
            "/api/v1/maintenance/plans",
            None,
            &json!({"sku": "AVANZA-13G-AT", "name": "x"}),
        )
        .await?;
    assert_eq!(status, 422, "{refused}");
    // Unit 1 was driven 4,800 km in 10 days: picked up 10 days ago (recorded on the counter PC
    // offline and pushed since), back today; its 5,000 km service is a day away.
    let today = today_wib();
    let booking = confirmed(&app, avanzas[1], people[0], day(1), day(3)).await?;
    move_period(&app, booking, today - Days::new(10), today + Days::new(1)).await?;
    let refs = files(&app, 4).await?;
    let mut body = inspection("PICKUP", booking, &refs, 100);
    body["recorded_at"] = json!(chrono::Utc::now() - chrono::Duration::days(10));
    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let pushed = desk
        .api
        .sync_push(
            &desk.token,
            &PushRequest {
                operations: vec![PushOperation {
                    op_id: Uuid::new_v4(),
                    action: PushAction::RecordInspection {
                        inspection: serde_json::from_value(body)?,
                        early_reason: None,
                    },
                }],
            },
        )
        .await?;
    assert_eq!(
        pushed.results[0].outcome,
        PushOutcome::Applied,
        "{pushed:?}"
    );
    let back = files(&app, 5).await?;
    let (status, out) = app
        .post(
            &format!("/api/v1/bookings/{booking}/return"),
            None,
            &json!({"inspection": inspection("RETURN", booking, &back, 4_900)}),
        )
        .await?;
    assert_eq!(status, 200, "{out}");

    let (status, overview) = app.get_json("/api/v1/branches/JKT01/maintenance").await?;
    assert_eq!(status, 200, "{overview}");
    let due = overview["due"].as_array().cloned().unwrap_or_default();
    let unit = due
        .iter()
        .find(|d| d["asset_id"] == avanzas[1].to_string())
        .expect("unit 1 is due");
    assert_eq!(unit["state"], "DUE_SOON", "{unit}");
    assert_eq!(unit["due_km"], 5000);
    assert_eq!(unit["odometer_km"], 4900);
    // 100 km to go at 480 km a day: tomorrow.
    assert_eq!(unit["due_date"], (today + Days::new(1)).to_string());
    assert!(
        due.iter().all(|d| d["asset_id"] != avanzas[0].to_string()),
        "a unit without readings is not due yet"
    );
    Ok(())
}
