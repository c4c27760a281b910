//! Pulling: a registered device copies its branch in pages, then gets only what changed
//! (tombstones for what left the branch); a change that commits late is never skipped; devices
//! belong to a branch and a revoked one is refused.

use std::collections::HashSet;

use sentra_api_client::ApiClient;
use sentra_domain::{BookingStatus, MembershipTier};
use sentra_protocol::{
    DeviceQuery, RegisterDeviceRequest, SyncChange, SyncEntity, SyncPullQuery, TransferRequest,
    UpdateSkuRequest,
};
use uuid::Uuid;

use crate::{
    fixtures::{assets, customers, day, seed, unit_booking},
    support::TestApp,
};

use super::desk::*;

/// The first copy holds every SKU, exactly Jakarta's fleet, exactly `bookings`, and the first
/// booking with its `customer`'s counter fields.
async fn expect_first_copy(
    app: &TestApp,
    copy: &[SyncChange],
    bookings: &[Uuid],
    customer: Uuid,
) -> anyhow::Result<()> {
    let skus: i64 = sqlx::query_scalar("SELECT count(*) FROM skus")
        .fetch_one(&app.db)
        .await?;
    let fleet: HashSet<Uuid> = sqlx::query_scalar(
        "SELECT a.id FROM assets a JOIN branches b ON b.id = a.home_branch_id WHERE b.code = 'JKT01'",
    )
    .fetch_all(&app.db)
    .await?
    .into_iter()
    .collect();
    assert_eq!(ids_of(copy, SyncEntity::Sku).len(), usize::try_from(skus)?);
    assert_eq!(
        ids_of(copy, SyncEntity::Asset),
        fleet,
        "exactly Jakarta's fleet"
    );
    assert_eq!(
        ids_of(copy, SyncEntity::Booking),
        bookings.iter().copied().collect::<HashSet<_>>(),
        "Jakarta's bookings, not Bali's"
    );
    let records = latest(copy);
    let counter = records[&(SyncEntity::Booking, bookings[0])]
        .booking
        .as_ref()
        .and_then(|b| b.customer.clone())
        .expect("the customer's counter fields");
    assert_eq!(counter.id, customer);
    assert!(!counter.full_name.is_empty());

    Ok(())
}

#[tokio::test]
async fn a_desktop_copies_its_branch_in_pages_then_gets_only_what_changed() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let hq = app.api();
    let people = customers(&app.db).await?;
    let jakarta = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let bali = assets(&app.db, "AVANZA-13G-AT", "DPS01").await?;
    let kept = hq
        .create_booking("s-1", &unit_booking(jakarta[0], people[0], day(2), day(4)))
        .await?;
    let to_cancel = hq
        .create_booking("s-2", &unit_booking(jakarta[1], people[1], day(2), day(4)))
        .await?;
    let moving = hq
        .create_booking("s-3", &unit_booking(jakarta[2], people[1], day(6), day(8)))
        .await?;
    let in_bali = hq
        .create_booking("s-4", &unit_booking(bali[0], people[2], day(2), day(4)))
        .await?;

    // The first copy, seven records a page.
    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let (copy, cursor) = desk.pull_all(None, 7).await?;
    expect_first_copy(&app, &copy, &[kept.id, to_cancel.id, moving.id], people[0]).await?;

    // Changes at both branches: Jakarta's device gets Jakarta's, whole, and tombstones for what
    // left (the transferred car and the booking that went with it).
    let added =
        change_both_branches(&app, &hq, &people, &jakarta, to_cancel.id, in_bali.id).await?;

    let (changes, last) = desk
        .pull_until(cursor, |c| {
            ids_of(c, SyncEntity::Booking).contains(&added.id)
        })
        .await?;
    let now = latest(&changes);
    let status_of = |id: Uuid| {
        now.get(&(SyncEntity::Booking, id))
            .and_then(|c| c.booking.as_ref())
            .map(|b| b.booking.status)
    };
    assert_eq!(status_of(to_cancel.id), Some(BookingStatus::Cancelled));
    assert_eq!(status_of(added.id), Some(BookingStatus::PendingPayment));
    assert!(
        now[&(SyncEntity::Asset, jakarta[2])].deleted,
        "the car left"
    );
    assert!(
        now[&(SyncEntity::Booking, moving.id)].deleted,
        "its booking too"
    );
    let avanza = now
        .values()
        .find_map(|c| c.sku.as_ref().filter(|s| s.code == "AVANZA-13G-AT"))
        .expect("the repriced SKU");
    assert_eq!(avanza.daily_rate_idr, 470_000);
    let renamed = now[&(SyncEntity::Asset, jakarta[0])]
        .asset
        .as_ref()
        .map(|a| a.sku_name.as_str());
    assert_eq!(
        renamed,
        Some("Toyota Avanza 1.3 G AT (2026)"),
        "assets show their SKU's new name"
    );
    let tier = now[&(SyncEntity::Booking, kept.id)]
        .booking
        .as_ref()
        .and_then(|b| b.customer.as_ref())
        .map(|c| c.membership_tier);
    assert_eq!(
        tier,
        Some(MembershipTier::Platinum),
        "counter fields follow"
    );
    assert!(
        !now.contains_key(&(SyncEntity::Booking, in_bali.id)),
        "nothing of Bali's"
    );

    // Nothing new: an empty page.
    let (again, _) = desk.pull_all(Some(last), 50).await?;
    assert!(again.is_empty(), "{again:?}");
    Ok(())
}

/// Cancels `to_cancel` (Jakarta) and `in_bali`, moves Jakarta's third Avanza to Bali, reprices
/// the Avanza, promotes the first customer and books Jakarta's fourth Avanza; returns that booking.
async fn change_both_branches(
    app: &TestApp,
    hq: &ApiClient,
    people: &[Uuid],
    jakarta: &[Uuid],
    to_cancel: Uuid,
    in_bali: Uuid,
) -> anyhow::Result<sentra_protocol::Booking> {
    hq.cancel_booking(to_cancel).await?;
    hq.transfer_asset(
        jakarta[2],
        &TransferRequest {
            to_branch_code: "DPS01".to_owned(),
            reason: "Libur Natal".to_owned(),
        },
    )
    .await?;
    hq.update_sku(
        "AVANZA-13G-AT",
        &UpdateSkuRequest {
            daily_rate_idr: Some(470_000),
            name: Some("Toyota Avanza 1.3 G AT (2026)".to_owned()),
            ..UpdateSkuRequest::default()
        },
    )
    .await?;
    hq.cancel_booking(in_bali).await?;
    sqlx::query("UPDATE customers SET membership_tier = 'platinum' WHERE id = $1")
        .bind(people[0])
        .execute(&app.db)
        .await?;
    let added = hq
        .create_booking("s-5", &unit_booking(jakarta[3], people[2], day(3), day(5)))
        .await?;
    Ok(added)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_that_commits_late_is_never_skipped() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    let jakarta = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let (_, cursor) = desk.pull_all(None, 500).await?;

    // An older transaction (a workshop writing an odometer) is still open while a newer one (a
    // booking) commits.
    let mut older = app.db.begin().await?;
    sqlx::query("UPDATE assets SET odometer_km = coalesce(odometer_km, 0) + 7 WHERE id = $1")
        .bind(jakarta[4])
        .execute(&mut *older)
        .await?;
    let newer = app
        .api()
        .create_booking(
            "late-1",
            &unit_booking(jakarta[0], people[0], day(2), day(4)),
        )
        .await?;
    let (held_back, cursor) = desk.pull_all(Some(cursor), 500).await?;
    assert!(
        held_back.is_empty(),
        "nothing is handed out past a transaction still running: {held_back:?}"
    );
    older.commit().await?;
    // From the cursor handed out while the older transaction ran: both changes come.
    let (both, cursor) = desk
        .pull_until(cursor, |c| {
            let got = latest(c);
            got.contains_key(&(SyncEntity::Asset, jakarta[4]))
                && got.contains_key(&(SyncEntity::Booking, newer.id))
        })
        .await?;
    let got = latest(&both);
    assert!(
        got.contains_key(&(SyncEntity::Asset, jakarta[4])),
        "the late commit"
    );
    assert!(
        got.contains_key(&(SyncEntity::Booking, newer.id)),
        "the early one"
    );

    // Writers and a puller at once: every booking written is pulled.
    let api = app.api();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (api, asset, person) = (api.clone(), jakarta[w + 1], people[w % people.len()]);
            tokio::spawn(async move {
                let mut made = Vec::new();
                for i in 0..8u64 {
                    let booking = api
                        .create_booking(
                            &format!("w{w}-{i}"),
                            &unit_booking(asset, person, day(10 + 3 * i), day(11 + 3 * i)),
                        )
                        .await?;
                    made.push(booking.id);
                }
                anyhow::Ok(made)
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut cursor = cursor;
    while !writers.iter().all(tokio::task::JoinHandle::is_finished) {
        let (changes, next) = desk.pull_all(Some(cursor), 5).await?;
        seen.extend(ids_of(&changes, SyncEntity::Booking));
        cursor = next;
    }
    let mut written = HashSet::new();
    for writer in writers {
        written.extend(writer.await??);
    }
    let (changes, _) = desk
        .pull_until(cursor, |c| {
            let mut all = seen.clone();
            all.extend(ids_of(c, SyncEntity::Booking));
            written.is_subset(&all)
        })
        .await?;
    seen.extend(ids_of(&changes, SyncEntity::Booking));
    assert_eq!(written.len(), 32);
    assert!(
        written.is_subset(&seen),
        "missed: {:?}",
        written.difference(&seen).collect::<Vec<_>>()
    );
    Ok(())
}

#[tokio::test]
async fn devices_belong_to_their_branch_and_a_revoked_one_is_refused() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let bali_admin = app.api().with_token(
        &app.staff_token("admin.dps@demo.sentrarental.id", "demo-dps-2026")
            .await?,
    );
    let err = bali_admin
        .register_device(&RegisterDeviceRequest {
            branch: "JKT01".to_owned(),
            name: "Kasir Jakarta".to_owned(),
        })
        .await
        .expect_err("not their branch");
    assert_eq!(err.status(), Some(403));
    let err = bali_admin
        .register_device(&RegisterDeviceRequest {
            branch: "NOPE".to_owned(),
            name: " ".to_owned(),
        })
        .await
        .expect_err("bad input");
    assert_eq!((err.status(), err.code()), (Some(422), "validation_failed"));

    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let query = SyncPullQuery::default();
    // Another branch's staff on a Jakarta device, or no device at all: refused.
    let err = bali_admin
        .sync_pull(&desk.token, &query)
        .await
        .expect_err("a Jakarta device");
    assert_eq!(
        (err.status(), err.code()),
        (Some(403), "device_not_registered")
    );
    let err = desk
        .api
        .sync_pull("srd_not-a-device", &query)
        .await
        .expect_err("unknown device");
    assert_eq!(err.code(), "device_not_registered");
    let err = desk
        .api
        .sync_pull(
            &desk.token,
            &SyncPullQuery {
                cursor: Some("c1.banana.1".to_owned()),
                limit: None,
            },
        )
        .await
        .expect_err("not a cursor");
    let field = err
        .problem()
        .and_then(|p| p.errors.first())
        .map(|e| e.field.as_str());
    assert_eq!((err.status(), field), (Some(422), Some("cursor")));

    // HQ revokes the device: its next pull is refused, and the list says so.
    app.as_hq().await?;
    let listed = desk.api.devices(&DeviceQuery::default()).await?.items;
    assert_eq!(listed.len(), 1);
    let revoked = app.api().revoke_device(listed[0].id).await?;
    assert!(revoked.revoked_at.is_some());
    let err = desk
        .api
        .sync_pull(&desk.token, &query)
        .await
        .expect_err("revoked");
    assert_eq!((err.status(), err.code()), (Some(403), "device_revoked"));
    assert_eq!(
        bali_admin
            .devices(&DeviceQuery::default())
            .await?
            .items
            .len(),
        0,
        "Bali's admin sees no Jakarta device"
    );
    Ok(())
}

#[tokio::test]
async fn a_change_uncommitted_during_the_first_copy_comes_right_after_it() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let innova = assets(&app.db, "INNOVA-ZENIX-V", "JKT01").await?[0];
    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    // A change still uncommitted while the first copy is taken comes after it.
    let mut during_copy = app.db.begin().await?;
    sqlx::query("UPDATE assets SET odometer_km = coalesce(odometer_km, 0) + 3 WHERE id = $1")
        .bind(innova)
        .execute(&mut *during_copy)
        .await?;
    let (copy, cursor) = desk.pull_all(None, 500).await?;
    let before = latest(&copy)[&(SyncEntity::Asset, innova)]
        .asset
        .as_ref()
        .and_then(|a| a.odometer_km);
    during_copy.commit().await?;
    let (after_copy, _) = desk
        .pull_until(cursor, |c| {
            latest(c)
                .get(&(SyncEntity::Asset, innova))
                .and_then(|a| a.asset.as_ref())
                .is_some_and(|a| a.odometer_km != before)
        })
        .await?;
    assert!(!after_copy.is_empty());

    Ok(())
}
