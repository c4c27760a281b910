//! The desktop's sync engine (`sentra-client-core`) against the real server.

use sentra_domain::BookingStatus;
use sentra_protocol::SyncEntity;

use crate::{
    fixtures::{assets, customers, day, seed, unit_booking},
    support::TestApp,
};

use super::desk::*;

#[tokio::test]
async fn the_desktop_engine_keeps_an_offline_copy_of_the_branch() -> anyhow::Result<()> {
    use sentra_client_core::{store::Store, sync::pull};

    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    let jakarta = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let hq = app.api();
    let booking = hq
        .create_booking("e-1", &unit_booking(jakarta[0], people[0], day(2), day(4)))
        .await?;
    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("JKT01.sqlite3");

    // The first sync: progress after every page, the first copy flagged, the branch offline.
    let mut progress = Vec::new();
    {
        let mut store = Store::open(&path)?;
        pull(&desk.api, &desk.token, &mut store, |p| progress.push(p)).await?;
    }
    assert!(
        progress.first().is_some_and(|p| p.first_copy),
        "{progress:?}"
    );
    let store = Store::open(&path)?;
    let fleet: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assets a JOIN branches b ON b.id = a.home_branch_id WHERE b.code = 'JKT01'",
    )
    .fetch_one(&app.db)
    .await?;
    assert_eq!(store.count(SyncEntity::Asset)?, usize::try_from(fleet)?);
    let plate = hq.asset(jakarta[0]).await?.plate_or_serial;
    assert_eq!(
        store.asset_by_plate(&plate.to_lowercase())?.map(|a| a.id),
        Some(jakarta[0]),
        "found by plate with the server gone"
    );
    assert_eq!(
        store.booking(booking.id)?.map(|b| b.booking.status),
        Some(BookingStatus::PendingPayment)
    );
    drop(store);

    // Later syncs fetch only what changed.
    hq.cancel_booking(booking.id).await?;
    let mut store = Store::open(&path)?;
    let started = std::time::Instant::now();
    loop {
        let done = pull(&desk.api, &desk.token, &mut store, |_| {}).await?;
        assert!(!done.first_copy);
        if store.booking(booking.id)?.map(|b| b.booking.status) == Some(BookingStatus::Cancelled) {
            assert!(done.upserted < 5, "only the change came: {done:?}");
            break;
        }
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the cancellation never reached the copy"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The push fixture with the branch pulled into a desktop's copy, and a second Jakarta car.
async fn pulled_copy() -> anyhow::Result<(PushFixture, sentra_client_core::store::Store, uuid::Uuid)>
{
    let fixture = push_fixture(false).await?;
    let mut store = sentra_client_core::store::Store::in_memory()?;
    sentra_client_core::sync::pull(&fixture.desk.api, &fixture.desk.token, &mut store, |_| {})
        .await?;
    let other = assets(&fixture.app.db, "AVANZA-13G-AT", "JKT01").await?[3];
    Ok((fixture, store, other))
}

#[tokio::test]
async fn the_desktop_pushes_its_outbox_and_keeps_conflicts_for_the_user() -> anyhow::Result<()> {
    use sentra_client_core::{store::Store, sync::push};

    let (PushFixture { app, desk, car, .. }, mut store, other) = pulled_copy().await?;
    let hq = app.api();
    let km = |store: &Store, id| store.asset(id).map(|a| a.and_then(|a| a.odometer_km));
    let start = car.odometer_km.unwrap_or(0);
    let other_start = km(&store, other)?.unwrap_or(0);

    // Offline: two readings of the car, one of another car that HQ also reads meanwhile.
    store.record_odometer(car.id, start + 40)?;
    store.record_odometer(car.id, start + 90)?;
    store.record_odometer(other, other_start + 10)?;
    assert_eq!(store.pending_count()?, 3);
    assert_eq!(
        km(&store, car.id)?,
        Some(start + 90),
        "shown at once, offline"
    );
    hq.update_asset(
        other,
        &sentra_protocol::UpdateAssetRequest {
            status: None,
            odometer_km: Some(other_start + 500),
        },
    )
    .await?;

    let done = push(&desk.api, &desk.token, &mut store).await?;
    assert_eq!(
        (done.sent, done.applied, done.unsettled),
        (3, 2, 1),
        "{done:?}"
    );
    assert_eq!(store.pending_count()?, 0);
    assert_eq!(hq.asset(car.id).await?.odometer_km, Some(start + 90));
    let waiting = store.unsettled()?;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].result.code.as_deref(), Some("stale_record"));
    assert_eq!(
        km(&store, other)?,
        Some(other_start + 500),
        "the copy shows the reading the server kept"
    );
    // Pushing again sends nothing.
    assert_eq!(push(&desk.api, &desk.token, &mut store).await?.sent, 0);
    Ok(())
}

/// Staff settle what the server did not take: a reading on a car HQ sent to the workshop
/// meanwhile is sent again on top of the server's record and taken; a reading lower than the
/// server's cannot be sent again and is dropped for the server's.
#[tokio::test]
async fn staff_send_a_conflicting_change_again_or_keep_the_servers_record() -> anyhow::Result<()> {
    use sentra_client_core::{store::Resolution, sync::push};
    use sentra_domain::AssetStatus;
    use sentra_protocol::UpdateAssetRequest;

    let (PushFixture { app, desk, car, .. }, mut store, other) = pulled_copy().await?;
    let hq = app.api();
    let start = car.odometer_km.unwrap_or(0);
    let other_start = store.asset(other)?.and_then(|a| a.odometer_km).unwrap_or(0);

    store.record_odometer(car.id, start + 120)?;
    store.record_odometer(other, other_start + 10)?;
    let workshop = UpdateAssetRequest {
        status: Some("maintenance".to_owned()),
        odometer_km: None,
    };
    hq.update_asset(car.id, &workshop).await?;
    let higher = UpdateAssetRequest {
        status: None,
        odometer_km: Some(other_start + 500),
    };
    hq.update_asset(other, &higher).await?;
    let done = push(&desk.api, &desk.token, &mut store).await?;
    assert_eq!((done.applied, done.unsettled), (0, 2), "{done:?}");
    let waiting = store.unsettled()?;
    let on = |asset| {
        waiting
            .iter()
            .find(|w| w.result.asset.as_ref().is_some_and(|a| a.id == asset))
            .map(|w| w.op_id)
            .expect("a conflict for the asset")
    };
    let (car_op, other_op) = (on(car.id), on(other));

    // Sent again: on top of the server's record (now in the workshop), and taken.
    store.resolve(car_op, Resolution::SendAgain)?;
    assert_eq!(store.pending_count()?, 1);
    let done = push(&desk.api, &desk.token, &mut store).await?;
    assert_eq!((done.applied, done.unsettled), (1, 0), "{done:?}");
    let now = hq.asset(car.id).await?;
    assert_eq!(now.odometer_km, Some(start + 120));
    assert_eq!(now.status, AssetStatus::Maintenance, "HQ's change stays");

    // Lower than the server's reading: cannot be sent again; kept as the server has it.
    let refused = store
        .resolve(other_op, Resolution::SendAgain)
        .expect_err("an odometer never goes down");
    assert_eq!(refused.code, "validation_failed");
    assert_eq!(store.unsettled()?.len(), 1, "still waiting for a decision");
    store.resolve(other_op, Resolution::KeepServer)?;
    assert!(store.unsettled()?.is_empty());
    assert_eq!(store.pending_count()?, 0, "nothing is sent for it");
    assert_eq!(
        store.asset(other)?.and_then(|a| a.odometer_km),
        Some(other_start + 500)
    );
    let gone = store
        .resolve(other_op, Resolution::KeepServer)
        .expect_err("settled already");
    assert_eq!(gone.code, "not_found");
    Ok(())
}
