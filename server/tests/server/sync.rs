//! The sync API as a branch desktop uses it: a registered device copies its branch in pages,
//! then gets only what changed (tombstones for what left the branch); a change that commits late
//! is never skipped; devices belong to a branch and a revoked one is refused.

use std::collections::{HashMap, HashSet};

use sentra_api_client::ApiClient;
use sentra_domain::{BookingStatus, MembershipTier};
use sentra_protocol::{
    DeviceQuery, PushAction, PushOperation, PushOutcome, PushRequest, RegisterDeviceRequest,
    SyncChange, SyncEntity, SyncPullQuery, TransferRequest, UpdateSkuRequest,
};
use uuid::Uuid;

use crate::{
    fixtures::{assets, customers, day, seed, unit_booking},
    support::TestApp,
};

/// A branch desktop: the staff member's client and the device's token.
struct Desktop {
    api: ApiClient,
    token: String,
}

impl Desktop {
    /// Registers a device for `branch` as the demo admin of that branch.
    async fn register(app: &TestApp, admin: (&str, &str), branch: &str) -> anyhow::Result<Self> {
        let api = app
            .api()
            .with_token(&app.staff_token(admin.0, admin.1).await?);
        let registration = api
            .register_device(&RegisterDeviceRequest {
                branch: branch.to_owned(),
                name: "Kasir 1".to_owned(),
            })
            .await?;
        assert!(
            registration.device_token.len() >= 40,
            "an unguessable token"
        );
        Ok(Self {
            api,
            token: registration.device_token,
        })
    }

    /// Pulls pages of `limit` from `cursor` until the feed says there is no more (bounded);
    /// returns every change in order and the last cursor.
    async fn pull_all(
        &self,
        cursor: Option<String>,
        limit: u32,
    ) -> anyhow::Result<(Vec<SyncChange>, String)> {
        let mut query = SyncPullQuery {
            cursor,
            limit: Some(limit),
        };
        let mut changes = Vec::new();
        for _ in 0..1_000 {
            let page = self.api.sync_pull(&self.token, &query).await?;
            anyhow::ensure!(page.changes.len() <= limit as usize, "page over its limit");
            changes.extend(page.changes);
            if !page.has_more {
                return Ok((changes, page.next_cursor));
            }
            query.cursor = Some(page.next_cursor);
        }
        anyhow::bail!("the feed never ended")
    }
}

impl Desktop {
    /// Pulls from `cursor` until the changes gathered satisfy `done` (bounded, 20 s). A pull can
    /// end before the newest commit while an older transaction still runs anywhere in the
    /// database (the server's own background work included): the feed holds changes back until
    /// no earlier one can still appear.
    async fn pull_until(
        &self,
        mut cursor: String,
        done: impl Fn(&[SyncChange]) -> bool,
    ) -> anyhow::Result<(Vec<SyncChange>, String)> {
        let started = std::time::Instant::now();
        let mut changes = Vec::new();
        loop {
            // Small pages: boundaries fall inside transactions that wrote several changes.
            let (more, next) = self.pull_all(Some(cursor), 3).await?;
            changes.extend(more);
            cursor = next;
            if done(&changes) {
                return Ok((changes, cursor));
            }
            anyhow::ensure!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "the expected changes never came: {changes:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

const JAKARTA_ADMIN: (&str, &str) = ("admin.jkt@demo.sentrarental.id", "demo-jkt-2026");

/// The latest state of each record in `changes`, keyed by entity and id.
fn latest(changes: &[SyncChange]) -> HashMap<(SyncEntity, Uuid), SyncChange> {
    changes
        .iter()
        .map(|c| ((c.entity, c.id), c.clone()))
        .collect()
}

fn ids_of(changes: &[SyncChange], entity: SyncEntity) -> HashSet<Uuid> {
    changes
        .iter()
        .filter(|c| c.entity == entity && !c.deleted)
        .map(|c| c.id)
        .collect()
}

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

/// Two Jakarta bookings held for payment (or one in Jakarta and one in Bali), a Jakarta desktop,
/// and a car of its branch as the desktop sees it.
struct PushFixture {
    app: TestApp,
    first: sentra_protocol::Booking,
    second: sentra_protocol::Booking,
    desk: Desktop,
    car: sentra_protocol::Asset,
}

async fn push_fixture(second_in_bali: bool) -> anyhow::Result<PushFixture> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    let jakarta = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let second_asset = if second_in_bali {
        assets(&app.db, "AVANZA-13G-AT", "DPS01").await?[0]
    } else {
        jakarta[1]
    };
    let hq = app.api();
    let first = hq
        .create_booking("f-1", &unit_booking(jakarta[0], people[0], day(2), day(4)))
        .await?;
    let second = hq
        .create_booking(
            "f-2",
            &unit_booking(second_asset, people[1], day(2), day(4)),
        )
        .await?;
    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let car = desk.api.asset(jakarta[2]).await?;
    Ok(PushFixture {
        app,
        first,
        second,
        desk,
        car,
    })
}

/// Operations a device made offline: confirm `confirm`, cancel `cancel`, add 100 km to `asset`.
fn offline_batch(
    confirm: &sentra_protocol::Booking,
    cancel: &sentra_protocol::Booking,
    asset: &sentra_protocol::Asset,
) -> Vec<PushOperation> {
    vec![
        PushOperation {
            op_id: Uuid::now_v7(),
            action: PushAction::ConfirmBooking {
                booking_id: confirm.id,
                hold_token: confirm.hold_token.expect("held"),
            },
        },
        PushOperation {
            op_id: Uuid::now_v7(),
            action: PushAction::CancelBooking {
                booking_id: cancel.id,
            },
        },
        PushOperation {
            op_id: Uuid::now_v7(),
            action: PushAction::UpdateAsset {
                asset_id: asset.id,
                seen_status: asset.status,
                seen_odometer_km: asset.odometer_km,
                status: None,
                odometer_km: Some(asset.odometer_km.unwrap_or(0) + 100),
            },
        },
    ]
}

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

#[tokio::test]
async fn the_desktop_pushes_its_outbox_and_keeps_conflicts_for_the_user() -> anyhow::Result<()> {
    use sentra_client_core::{
        store::Store,
        sync::{pull, push},
    };

    let PushFixture { app, desk, car, .. } = push_fixture(false).await?;
    let hq = app.api();
    let mut store = Store::in_memory()?;
    pull(&desk.api, &desk.token, &mut store, |_| {}).await?;
    let other = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[3];
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
