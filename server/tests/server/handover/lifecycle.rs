//! The rental at the counter: pickup (on its day, or early with a reason), return, completion,
//! replays of the same handover, and overdue rentals that keep their asset.

use chrono::Days;
use serde_json::json;
use uuid::Uuid;

use super::support::{app, assert_refused, confirmed, files, inspection, move_period, today_wib};
use crate::fixtures::{booking_body, day};

#[tokio::test]
async fn a_rental_is_picked_up_returned_and_completed_with_a_record_each_time() -> anyhow::Result<()>
{
    let (app, avanzas, people) = app().await?;
    let today = today_wib();
    let booking = confirmed(&app, avanzas[0], people[0], day(1), day(3)).await?;
    move_period(&app, booking, today, today + Days::new(2)).await?;
    let out = files(&app, 1).await?;

    let body = json!({"inspection": inspection("PICKUP", booking, &out, 42_100)});
    let (status, first) = app
        .post(&format!("/api/v1/bookings/{booking}/pickup"), None, &body)
        .await?;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["booking"]["status"], "ACTIVE");
    assert_eq!(first["inspection"]["kind"], "PICKUP");
    assert_eq!(first["inspection"]["seq"], 1);
    assert!(first["inspection"]["prev_hash"].is_null());
    let hash = first["inspection"]["tamper_proof_hash"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(hash.len(), 64);
    assert_eq!(first["inspection"]["verify_path"], format!("/v/{hash}"));

    replays_are_answered_and_other_records_refused(&app, booking, &body, &out, &hash).await?;

    // Completing before the return is refused; the return records RETURN, chained to PICKUP.
    let (status, refused) = app
        .post(
            &format!("/api/v1/bookings/{booking}/complete"),
            None,
            &json!({}),
        )
        .await?;
    assert_refused(status, &refused, 409, "invalid_state");
    let back = files(&app, 2).await?;
    let (status, returned) = app
        .post(
            &format!("/api/v1/bookings/{booking}/return"),
            None,
            &json!({"inspection": inspection("RETURN", booking, &back, 42_480)}),
        )
        .await?;
    assert_eq!(status, 200, "{returned}");
    assert_eq!(returned["booking"]["status"], "RETURNED");
    assert_eq!(returned["inspection"]["seq"], 2);
    assert_eq!(returned["inspection"]["prev_hash"], hash.as_str());
    let odometer: Option<i32> = sqlx::query_scalar("SELECT odometer_km FROM assets WHERE id = $1")
        .bind(avanzas[0])
        .fetch_one(&app.db)
        .await?;
    assert_eq!(
        odometer,
        Some(42_480),
        "the asset's odometer follows the return reading"
    );
    let (status, done) = app
        .post(
            &format!("/api/v1/bookings/{booking}/complete"),
            None,
            &json!({}),
        )
        .await?;
    assert_eq!(
        (status, done["status"].as_str()),
        (200, Some("COMPLETED")),
        "{done}"
    );

    let returned_id = returned["inspection"]["id"].as_str().unwrap_or_default();
    let (status, verification) = app
        .get_json(&format!("/api/v1/inspections/{returned_id}/verify"))
        .await?;
    assert_eq!(status, 200);
    assert_eq!(verification["verified"], true, "{verification}");
    assert_eq!(
        verification["files_checked"], 5,
        "three photos and two signatures read back"
    );
    Ok(())
}

/// The counter's retries of a pickup get the same record (stored once); the same id with other
/// content, or a second pickup, is refused.
async fn replays_are_answered_and_other_records_refused(
    app: &crate::support::TestApp,
    booking: Uuid,
    body: &serde_json::Value,
    out: &super::support::Files,
    hash: &str,
) -> anyhow::Result<()> {
    // The counter's retry (a timeout, a double click): the same record, stored once.
    for _ in 0..2 {
        let (status, again) = app
            .post(&format!("/api/v1/bookings/{booking}/pickup"), None, body)
            .await?;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["inspection"]["tamper_proof_hash"], hash);
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM inspections WHERE booking_id = $1")
        .bind(booking)
        .fetch_one(&app.db)
        .await?;
    assert_eq!(stored, 1);
    // The same id with other content is another record: refused, not silently replayed.
    let mut other = body.clone();
    other["inspection"]["odometer_km"] = json!(42_999);
    let (status, refused) = app
        .post(&format!("/api/v1/bookings/{booking}/pickup"), None, &other)
        .await?;
    assert_refused(status, &refused, 409, "record_id_reused");
    // A second pickup with a new record: the booking is already out.
    let fresh = json!({"inspection": inspection("PICKUP", booking, out, 42_100)});
    let (status, refused) = app
        .post(&format!("/api/v1/bookings/{booking}/pickup"), None, &fresh)
        .await?;
    assert_refused(status, &refused, 409, "invalid_state");

    Ok(())
}

#[tokio::test]
async fn an_early_pickup_needs_a_reason_and_holds_the_days_before() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let today = today_wib();
    let start = today + Days::new(2);
    let booking = confirmed(&app, avanzas[1], people[0], day(1), day(3)).await?;
    move_period(&app, booking, start, start + Days::new(2)).await?;
    let files = files(&app, 3).await?;
    let body = json!({"inspection": inspection("PICKUP", booking, &files, 10_000)});
    let (status, refused) = app
        .post(&format!("/api/v1/bookings/{booking}/pickup"), None, &body)
        .await?;
    assert_refused(status, &refused, 409, "pickup_not_allowed");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("reason"),
        "{refused}"
    );

    let early = json!({"inspection": inspection("PICKUP", booking, &files, 10_000), "early_reason": "Penerbangan dimajukan"});
    let (status, out) = app
        .post(&format!("/api/v1/bookings/{booking}/pickup"), None, &early)
        .await?;
    assert_eq!(status, 200, "{out}");
    let occupied_from: chrono::NaiveDate =
        sqlx::query_scalar("SELECT lower(occupied) FROM bookings WHERE id = $1")
            .bind(booking)
            .fetch_one(&app.db)
            .await?;
    assert_eq!(
        occupied_from, today,
        "the asset is held from the day it left"
    );
    // No one can book the unit for today any more.
    let (status, taken) = app
        .post(
            "/api/v1/bookings",
            Some("early-1"),
            &booking_body(avanzas[1], people[1], today, today + Days::new(1)),
        )
        .await?;
    assert_refused(status, &taken, 409, "booking_conflict");
    Ok(())
}

#[tokio::test]
async fn an_overdue_rental_blocks_its_asset_and_flags_the_next_booking() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let today = today_wib();
    // Rental A on unit 0 is out and was due back yesterday; rental B of unit 0 starts today.
    let a = confirmed(&app, avanzas[0], people[0], day(1), day(3)).await?;
    move_period(&app, a, today, today + Days::new(1)).await?;
    let files_a = files(&app, 4).await?;
    let (status, body) = app
        .post(
            &format!("/api/v1/bookings/{a}/pickup"),
            None,
            &json!({"inspection": inspection("PICKUP", a, &files_a, 500)}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    move_period(&app, a, today - Days::new(4), today - Days::new(1)).await?;
    let b = confirmed(&app, avanzas[0], people[1], day(1), day(3)).await?;
    move_period(&app, b, today, today + Days::new(2)).await?;
    // Rental C on unit 2 is out, due two days ago, with nothing booked after it.
    let c = confirmed(&app, avanzas[2], people[2], day(1), day(3)).await?;
    move_period(&app, c, today, today + Days::new(1)).await?;
    let files_c = files(&app, 5).await?;
    let (status, body) = app
        .post(
            &format!("/api/v1/bookings/{c}/pickup"),
            None,
            &json!({"inspection": inspection("PICKUP", c, &files_c, 900)}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    move_period(&app, c, today - Days::new(5), today - Days::new(2)).await?;

    let (status, list) = app.get_json("/api/v1/branches/JKT01/overdue").await?;
    assert_eq!(status, 200, "{list}");
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let of = |id: Uuid| {
        items
            .iter()
            .find(|i| i["booking"]["id"] == id.to_string())
            .cloned()
    };
    let overdue_a = of(a).expect("A is listed overdue");
    assert_eq!(overdue_a["next_booking"]["id"], b.to_string());
    assert_eq!(
        overdue_a["next_at_risk"], true,
        "B starts while A is still on the road"
    );
    assert!(overdue_a["overdue_minutes"].as_u64().unwrap_or(0) > 12 * 60);
    let overdue_c = of(c).expect("C is listed overdue");
    assert!(overdue_c["next_booking"].is_null());
    assert_eq!(
        overdue_c["booking"]["blocked_until"],
        (today + Days::new(2)).to_string(),
        "C holds its unit through today, plus the turnaround day"
    );

    // The unit still on the road cannot be promised to anyone for today...
    let (status, refused) = app
        .post(
            "/api/v1/bookings",
            Some("overdue-1"),
            &booking_body(avanzas[2], people[3], today, today + Days::new(1)),
        )
        .await?;
    assert_refused(status, &refused, 409, "booking_conflict");
    // ...and once it is back, the days free up again.
    let back = files(&app, 6).await?;
    let (status, returned) = app
        .post(
            &format!("/api/v1/bookings/{c}/return"),
            None,
            &json!({"inspection": inspection("RETURN", c, &back, 1_400)}),
        )
        .await?;
    assert_eq!(status, 200, "{returned}");
    let (status, booked) = app
        .post(
            "/api/v1/bookings",
            Some("overdue-2"),
            &booking_body(avanzas[2], people[3], today, today + Days::new(1)),
        )
        .await?;
    assert_eq!(status, 201, "{booked}");
    assert_eq!(crate::fixtures::overlapping_pairs(&app.db).await?, 0);
    Ok(())
}

#[tokio::test]
async fn an_asset_in_maintenance_is_not_handed_over() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let today = today_wib();
    let booking = confirmed(&app, avanzas[3], people[0], day(1), day(3)).await?;
    move_period(&app, booking, today, today + Days::new(2)).await?;
    sqlx::query("UPDATE assets SET status = 'maintenance' WHERE id = $1")
        .bind(avanzas[3])
        .execute(&app.db)
        .await?;
    let files = files(&app, 7).await?;
    let (status, refused) = app
        .post(
            &format!("/api/v1/bookings/{booking}/pickup"),
            None,
            &json!({"inspection": inspection("PICKUP", booking, &files, 1)}),
        )
        .await?;
    assert_refused(status, &refused, 409, "asset_in_maintenance");
    let (_, still) = app.get_json(&format!("/api/v1/bookings/{booking}")).await?;
    assert_eq!(still["status"], "CONFIRMED");
    Ok(())
}

#[tokio::test]
async fn the_same_pickup_sent_twice_at_once_is_one_handover() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let today = today_wib();
    let booking = confirmed(&app, avanzas[2], people[0], day(1), day(3)).await?;
    move_period(&app, booking, today, today + Days::new(2)).await?;
    let refs = files(&app, 9).await?;
    let body = json!({"inspection": inspection("PICKUP", booking, &refs, 3_000)});
    let path = format!("/api/v1/bookings/{booking}/pickup");
    let (first, second) = tokio::join!(app.post(&path, None, &body), app.post(&path, None, &body));
    let ((s1, b1), (s2, b2)) = (first?, second?);
    assert_eq!((s1, s2), (200, 200), "{b1} {b2}");
    assert_eq!(
        b1["inspection"]["tamper_proof_hash"],
        b2["inspection"]["tamper_proof_hash"]
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM inspections WHERE booking_id = $1")
        .bind(booking)
        .fetch_one(&app.db)
        .await?;
    assert_eq!(stored, 1);
    Ok(())
}

#[tokio::test]
async fn an_online_handover_cannot_be_backdated() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let today = today_wib();
    // The rental's period ended yesterday; the counter's request claims it was taken two days
    // ago, when it was still allowed. Online, the server's clock decides.
    let booking = confirmed(&app, avanzas[3], people[0], day(1), day(3)).await?;
    move_period(&app, booking, today - Days::new(3), today).await?;
    let refs = files(&app, 8).await?;
    let mut body = inspection("PICKUP", booking, &refs, 1_000);
    body["recorded_at"] = json!(chrono::Utc::now() - chrono::Duration::days(2));
    let (status, refused) = app
        .post(
            &format!("/api/v1/bookings/{booking}/pickup"),
            None,
            &json!({"inspection": body}),
        )
        .await?;
    assert_refused(status, &refused, 409, "pickup_not_allowed");
    Ok(())
}

#[tokio::test]
async fn notes_and_reasons_that_get_printed_refuse_direction_overrides() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let today = today_wib();
    let booking = confirmed(&app, avanzas[2], people[0], day(1), day(3)).await?;
    move_period(&app, booking, today + Days::new(2), today + Days::new(4)).await?;
    let files = files(&app, 9).await?;
    let pickup = format!("/api/v1/bookings/{booking}/pickup");
    let with_damage = |area: &str, note: &str| {
        let mut record = inspection("PICKUP", booking, &files, 10_000);
        record["damages"] =
            json!([{"area": area, "type": "gores", "severity": "MINOR", "note": note}]);
        json!({"inspection": record, "early_reason": "Penerbangan dimajukan"})
    };
    for (what, body) in [
        (
            "an area that prints reversed",
            with_damage("bemper \u{202E}gnakaleb", ""),
        ),
        (
            "an invisible character in a note",
            with_damage("bemper belakang", "gores\u{200B} 5 cm"),
        ),
        (
            "an override in the early-pickup reason",
            json!({"inspection": inspection("PICKUP", booking, &files, 10_000),
                   "early_reason": "Penerbangan \u{2066}dimajukan"}),
        ),
    ] {
        let (status, refused) = app.post(&pickup, None, &body).await?;
        assert_refused(status, &refused, 422, "validation_failed");
        assert!(
            refused.to_string().contains("U+2"),
            "{what}: the character is named: {refused}"
        );
    }
    let status: String = sqlx::query_scalar("SELECT status FROM bookings WHERE id = $1")
        .bind(booking)
        .fetch_one(&app.db)
        .await?;
    assert_eq!(status, "CONFIRMED", "nothing was handed over");

    // Letters of any script pass, stored NFC-normalised ("e" + combining circumflex + hook).
    let (status, out) = app
        .post(
            &pickup,
            None,
            &with_damage("pintu kiri", "dicatat oleh Nguye\u{302}\u{303}n"),
        )
        .await?;
    assert_eq!(status, 200, "{out}");
    let note: String = sqlx::query_scalar(
        "SELECT payload->'damages'->0->>'note' FROM inspections WHERE booking_id = $1",
    )
    .bind(booking)
    .fetch_one(&app.db)
    .await?;
    assert_eq!(note, "dicatat oleh Nguy\u{1ec5}n");
    Ok(())
}
