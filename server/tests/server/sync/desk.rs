//! What the sync tests share: a registered branch desktop, pulling helpers, and the push fixture.

use std::collections::{HashMap, HashSet};

use sentra_api_client::ApiClient;
use sentra_protocol::{
    PushAction, PushOperation, RegisterDeviceRequest, SyncChange, SyncEntity, SyncPullQuery,
};
use uuid::Uuid;

use crate::{
    fixtures::{assets, customers, day, seed, unit_booking},
    support::TestApp,
};

/// A branch desktop: the staff member's client and the device's token.
pub(crate) struct Desktop {
    pub(crate) api: ApiClient,
    pub(crate) token: String,
}

impl Desktop {
    /// Registers a device for `branch` as the demo admin of that branch.
    pub(crate) async fn register(
        app: &TestApp,
        admin: (&str, &str),
        branch: &str,
    ) -> anyhow::Result<Self> {
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
    pub(crate) async fn pull_all(
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
    pub(crate) async fn pull_until(
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

pub(crate) const JAKARTA_ADMIN: (&str, &str) = ("admin.jkt@demo.sentrarental.id", "demo-jkt-2026");

/// The latest state of each record in `changes`, keyed by entity and id.
pub(crate) fn latest(changes: &[SyncChange]) -> HashMap<(SyncEntity, Uuid), SyncChange> {
    changes
        .iter()
        .map(|c| ((c.entity, c.id), c.clone()))
        .collect()
}

pub(crate) fn ids_of(changes: &[SyncChange], entity: SyncEntity) -> HashSet<Uuid> {
    changes
        .iter()
        .filter(|c| c.entity == entity && !c.deleted)
        .map(|c| c.id)
        .collect()
}
/// Two Jakarta bookings held for payment (or one in Jakarta and one in Bali), a Jakarta desktop,
/// and a car of its branch as the desktop sees it.
pub(crate) struct PushFixture {
    pub(crate) app: TestApp,
    pub(crate) first: sentra_protocol::Booking,
    pub(crate) second: sentra_protocol::Booking,
    pub(crate) desk: Desktop,
    pub(crate) car: sentra_protocol::Asset,
}

pub(crate) async fn push_fixture(second_in_bali: bool) -> anyhow::Result<PushFixture> {
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
pub(crate) fn offline_batch(
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
