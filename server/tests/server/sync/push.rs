//! Pushing: each operation is carried out once however it comes back, conflicts carry the record
//! as it is now, and an inspector or a revoked device changes nothing.

use sentra_domain::BookingStatus;
use sentra_protocol::{
    DeviceQuery, PushAction, PushOperation, PushOutcome, PushRequest, SyncPullQuery,
};

use super::desk::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_pushed_three_times_and_out_of_order_changes_each_record_once() -> anyhow::Result<()>
{
    let PushFixture {
        app,
        first,
        second,
        desk,
        car,
    } = push_fixture(false).await?;
    let hq = app.api();
    let batch = offline_batch(&first, &second, &car);
    let push = |operations: Vec<PushOperation>| {
        let (api, token) = (desk.api.clone(), desk.token.clone());
        async move {
            api.sync_push(&token, &PushRequest { operations })
                .await
                .map(|r| r.results)
        }
    };

    let applied = push(batch.clone()).await?;
    assert!(
        applied
            .iter()
            .all(|r| r.outcome == PushOutcome::Applied && !r.replayed),
        "{applied:?}"
    );
    // The same batch again, reversed, and twice more at the same moment.
    let mut reversed = batch.clone();
    reversed.reverse();
    let again = push(reversed).await?;
    let (third, fourth) = tokio::join!(push(batch.clone()), push(batch.clone()));
    for results in [again, third?, fourth?] {
        for result in results {
            let original = applied
                .iter()
                .find(|r| r.op_id == result.op_id)
                .expect("a result per operation");
            assert!(result.replayed, "{result:?}");
            assert_eq!(
                (result.outcome, &result.booking, &result.asset),
                (original.outcome, &original.booking, &original.asset),
                "a replay answers the first result"
            );
        }
    }

    // Each record changed once.
    assert_eq!(hq.booking(first.id).await?.status, BookingStatus::Confirmed);
    assert_eq!(
        hq.booking(second.id).await?.status,
        BookingStatus::Cancelled
    );
    assert_eq!(
        hq.asset(car.id).await?.odometer_km,
        Some(car.odometer_km.unwrap_or(0) + 100),
        "the reading was added once"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_operations")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(stored, 3);
    Ok(())
}

#[tokio::test]
async fn conflicts_carry_the_record_as_it_is_now() -> anyhow::Result<()> {
    let PushFixture {
        app,
        first: booking,
        second: elsewhere,
        desk,
        car,
    } = push_fixture(true).await?;
    let hq = app.api();

    // Meanwhile, online: the booking is cancelled and the car gets a newer reading.
    hq.cancel_booking(booking.id).await?;
    hq.update_asset(
        car.id,
        &sentra_protocol::UpdateAssetRequest {
            status: None,
            odometer_km: Some(car.odometer_km.unwrap_or(0) + 500),
        },
    )
    .await?;
    let mut operations = offline_batch(&booking, &elsewhere, &car);
    operations.truncate(1);
    operations.extend(
        offline_batch(&booking, &elsewhere, &car)
            .into_iter()
            .skip(1),
    );
    let results = desk
        .api
        .sync_push(&desk.token, &PushRequest { operations })
        .await?
        .results;

    let confirm = &results[0];
    assert_eq!(
        (confirm.outcome, confirm.code.as_deref()),
        (PushOutcome::Conflict, Some("invalid_state")),
        "the server decided the booking: {confirm:?}"
    );
    assert_eq!(
        confirm.booking.as_ref().map(|b| b.status),
        Some(BookingStatus::Cancelled),
        "with the booking as it is"
    );
    let other_branch = &results[1];
    assert_eq!(
        (other_branch.outcome, other_branch.code.as_deref()),
        (PushOutcome::Rejected, Some("not_found"))
    );
    assert_eq!(
        hq.booking(elsewhere.id).await?.status,
        BookingStatus::PendingPayment
    );
    let stale = &results[2];
    assert_eq!(
        (stale.outcome, stale.code.as_deref()),
        (PushOutcome::Conflict, Some("stale_record"))
    );
    assert_eq!(
        stale.asset.as_ref().and_then(|a| a.odometer_km),
        Some(car.odometer_km.unwrap_or(0) + 500),
        "with the reading made meanwhile, which stays"
    );
    assert_eq!(
        hq.asset(car.id).await?.odometer_km,
        Some(car.odometer_km.unwrap_or(0) + 500)
    );

    Ok(())
}

#[tokio::test]
async fn an_inspector_or_a_revoked_device_changes_nothing() -> anyhow::Result<()> {
    let PushFixture {
        app,
        first: booking,
        second: elsewhere,
        desk,
        car,
    } = push_fixture(false).await?;
    let hq = app.api();

    // An inspector on the branch's device may pull but not change bookings or assets.
    let inspector = app.api().with_token(
        &app.staff_token("inspektur@demo.sentrarental.id", "demo-insp-2026")
            .await?,
    );
    inspector
        .sync_pull(&desk.token, &SyncPullQuery::default())
        .await?;
    let refused = inspector
        .sync_push(
            &desk.token,
            &PushRequest {
                operations: offline_batch(&booking, &elsewhere, &car),
            },
        )
        .await?
        .results;
    assert!(
        refused
            .iter()
            .all(|r| (r.outcome, r.code.as_deref()) == (PushOutcome::Rejected, Some("forbidden"))),
        "{refused:?}"
    );
    let unchanged: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_operations")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(
        unchanged, 0,
        "a refusal for the role is not remembered for the operation"
    );

    // A revoked device pushes nothing.
    let device = desk.api.devices(&DeviceQuery::default()).await?.items[0].id;
    hq.revoke_device(device).await?;
    let err = desk
        .api
        .sync_push(
            &desk.token,
            &PushRequest {
                operations: offline_batch(&booking, &elsewhere, &car),
            },
        )
        .await
        .expect_err("revoked");
    assert_eq!((err.status(), err.code()), (Some(403), "device_revoked"));
    assert_eq!(
        hq.booking(booking.id).await?.status,
        BookingStatus::PendingPayment
    );
    assert_eq!(
        hq.booking(elsewhere.id).await?.status,
        BookingStatus::PendingPayment
    );
    assert_eq!(hq.asset(car.id).await?.odometer_km, car.odometer_km);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operation_is_carried_out_once_however_it_comes_back() -> anyhow::Result<()> {
    let PushFixture {
        app,
        first,
        second,
        desk,
        car,
    } = push_fixture(false).await?;
    let hq = app.api();
    let batch = offline_batch(&first, &second, &car);
    let push = |token: String, operations: Vec<PushOperation>| {
        let api = desk.api.clone();
        async move {
            api.sync_push(&token, &PushRequest { operations })
                .await
                .map(|r| r.results)
        }
    };

    // Two copies of the batch at the very same time: one carries each operation out.
    let (a, b) = tokio::join!(
        push(desk.token.clone(), batch.clone()),
        push(desk.token.clone(), batch.clone())
    );
    let (a, b) = (a?, b?);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.outcome, PushOutcome::Applied, "{x:?}");
        assert_eq!(y.outcome, PushOutcome::Applied, "{y:?}");
        assert!(
            x.replayed ^ y.replayed,
            "exactly one copy did it: {x:?} {y:?}"
        );
    }

    // The answers were lost (a timeout after the commit): the retry does nothing again and
    // still says "applied", with the records as they are.
    sqlx::query("UPDATE sync_operations SET result = NULL")
        .execute(&app.db)
        .await?;
    let retried = push(desk.token.clone(), batch.clone()).await?;
    assert!(
        retried
            .iter()
            .all(|r| r.outcome == PushOutcome::Applied && r.replayed),
        "{retried:?}"
    );
    assert_eq!(
        retried[1].booking.as_ref().map(|b| b.status),
        Some(BookingStatus::Cancelled)
    );

    // The PC is re-registered (a new device token) and sends its outbox again: nothing runs.
    let again = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let resent = push(again.token.clone(), batch.clone()).await?;
    assert!(resent.iter().all(|r| r.replayed), "{resent:?}");
    assert_eq!(
        hq.asset(car.id).await?.odometer_km,
        Some(car.odometer_km.unwrap_or(0) + 100),
        "the reading was added once"
    );

    // An id reused for another action is refused, and that action not done: the first booking
    // (confirmed by the batch) would be cancelled by it.
    let reused = PushOperation {
        op_id: batch[0].op_id,
        action: PushAction::CancelBooking {
            booking_id: first.id,
        },
    };
    let answer = push(desk.token.clone(), vec![reused]).await?;
    assert_eq!(
        (answer[0].outcome, answer[0].code.as_deref()),
        (PushOutcome::Rejected, Some("op_id_reused"))
    );
    assert_eq!(hq.booking(first.id).await?.status, BookingStatus::Confirmed);
    Ok(())
}
