//! Inspections recorded on a desktop without a connection and pushed later through the sync API:
//! stored once however often and in whatever order they arrive, judged at the time they were
//! taken, refused with a typed conflict when the booking did not allow them; and handed back to
//! every desktop of the branch through the change feed.

use chrono::Days;
use sentra_protocol::{
    InspectionInput, PushAction, PushOperation, PushOutcome, PushRequest, PushResult, SyncEntity,
};
use uuid::Uuid;

use super::support::{app, confirmed, files, inspection, move_period, today_wib};
use crate::{
    fixtures::day,
    sync::desk::{Desktop, JAKARTA_ADMIN, latest},
};

fn op(input: &serde_json::Value, reason: Option<&str>) -> anyhow::Result<PushOperation> {
    let inspection: InspectionInput = serde_json::from_value(input.clone())?;
    Ok(PushOperation {
        op_id: Uuid::new_v4(),
        action: PushAction::RecordInspection {
            inspection,
            early_reason: reason.map(str::to_owned),
        },
    })
}

async fn push(desk: &Desktop, operations: Vec<PushOperation>) -> anyhow::Result<Vec<PushResult>> {
    Ok(desk
        .api
        .sync_push(&desk.token, &PushRequest { operations })
        .await?
        .results)
}

#[tokio::test]
async fn an_offline_inspection_pushed_three_times_and_out_of_order_is_stored_once()
-> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let today = today_wib();
    let booking = confirmed(&app, avanzas[0], people[0], day(1), day(3)).await?;
    // From yesterday in Jakarta: "an hour ago" falls in the rental whatever the hour (in the
    // first hour after midnight WIB it is the day before today).
    move_period(&app, booking, today - Days::new(1), today + Days::new(2)).await?;
    let refs = files(&app, 1).await?;
    // Taken an hour ago on the counter PC, while the line was down.
    let mut pickup = inspection("PICKUP", booking, &refs, 8_000);
    pickup["recorded_at"] = serde_json::json!(chrono::Utc::now() - chrono::Duration::hours(1));
    let mut delivery = inspection("DELIVERY", booking, &refs, 8_012);
    delivery["recorded_at"] = serde_json::json!(chrono::Utc::now() - chrono::Duration::minutes(30));
    let pickup_op = op(&pickup, None)?;
    let delivery_op = op(&delivery, None)?;

    // The delivery arrives before the pickup it follows, then both again, reversed, and the
    // pickup once more under a new operation id (the outbox row was written twice).
    let first = push(&desk, vec![delivery_op.clone(), pickup_op.clone()]).await?;
    assert!(
        first.iter().all(|r| r.outcome == PushOutcome::Applied),
        "{first:?}"
    );
    let again = push(&desk, vec![pickup_op.clone(), delivery_op.clone()]).await?;
    assert!(again.iter().all(|r| r.replayed), "{again:?}");
    let mut duplicate = pickup_op.clone();
    duplicate.op_id = Uuid::new_v4();
    let third = push(&desk, vec![duplicate]).await?;
    assert_eq!(third[0].outcome, PushOutcome::Applied, "{third:?}");

    let hash = |r: &PushResult| r.inspection.as_ref().map(|i| i.tamper_proof_hash.clone());
    let pickup_hash = hash(&first[1]).expect("the pickup's record");
    assert_eq!(hash(&again[0]).as_ref(), Some(&pickup_hash));
    assert_eq!(hash(&third[0]).as_ref(), Some(&pickup_hash));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM inspections WHERE booking_id = $1")
        .bind(booking)
        .fetch_one(&app.db)
        .await?;
    assert_eq!(stored, 2, "one pickup and one delivery");
    let (_, now) = app.get_json(&format!("/api/v1/bookings/{booking}")).await?;
    assert_eq!(now["status"], "ACTIVE");
    let picked_up: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT picked_up_at FROM bookings WHERE id = $1")
            .bind(booking)
            .fetch_one(&app.db)
            .await?;
    assert!(
        chrono::Utc::now() - picked_up > chrono::Duration::minutes(50),
        "the pickup's own time counts"
    );

    // Every desktop of the branch gets the records through the feed. (A record written while the
    // first copy is sent may come again with the changes after it, whole: the copy keeps one.)
    let (changes, _) = desk.pull_all(None, 100).await?;
    let kept = latest(&changes);
    let records: Vec<_> = kept
        .values()
        .filter(|c| c.entity == SyncEntity::Inspection)
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(
        records
            .iter()
            .any(|c| c.inspection.as_ref().map(|i| &i.tamper_proof_hash) == Some(&pickup_hash))
    );
    Ok(())
}

#[tokio::test]
async fn an_offline_inspection_the_booking_did_not_allow_is_a_typed_conflict() -> anyhow::Result<()>
{
    let (app, avanzas, people) = app().await?;
    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let today = today_wib();
    // Taken yesterday, before the rental's first day, with no reason: not allowed then.
    let early = confirmed(&app, avanzas[1], people[0], day(1), day(3)).await?;
    move_period(&app, early, today, today + Days::new(2)).await?;
    let refs = files(&app, 2).await?;
    let mut pickup = inspection("PICKUP", early, &refs, 100);
    pickup["recorded_at"] = serde_json::json!(chrono::Utc::now() - chrono::Duration::days(1));
    // A return recorded for a booking the server cancelled meanwhile.
    let cancelled = confirmed(&app, avanzas[2], people[1], day(1), day(3)).await?;
    let (status, _) = app
        .post(
            &format!("/api/v1/bookings/{cancelled}/cancel"),
            None,
            &serde_json::json!({}),
        )
        .await?;
    assert_eq!(status, 200);
    let back = inspection("RETURN", cancelled, &refs, 100);
    let delivered = inspection("DELIVERY", cancelled, &refs, 100);
    let results = push(
        &desk,
        vec![op(&pickup, None)?, op(&back, None)?, op(&delivered, None)?],
    )
    .await?;
    assert_eq!(
        (results[0].outcome, results[0].code.as_deref()),
        (PushOutcome::Conflict, Some("pickup_not_allowed")),
        "{results:?}"
    );
    assert_eq!(
        results[0].booking.as_ref().map(|b| b.status.as_str()),
        Some("CONFIRMED"),
        "the booking as it is"
    );
    assert_eq!(
        (results[1].outcome, results[1].code.as_deref()),
        (PushOutcome::Conflict, Some("invalid_state")),
        "{results:?}"
    );
    assert_eq!(
        results[1].booking.as_ref().map(|b| b.status.as_str()),
        Some("CANCELLED")
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM inspections")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(stored, 0, "nothing was recorded");
    Ok(())
}
