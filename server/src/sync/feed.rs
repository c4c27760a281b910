//! The branch's change feed: a first full copy in pages, then only what changed.
//!
//! **Why nothing is skipped.** Every write of a synced record adds a row to `sync_changes` with
//! the id of its transaction (`xid`). A pull returns only rows of transactions older than every
//! transaction still running (`xid < pg_snapshot_xmin(pg_current_snapshot())`), ordered by
//! `(xid, id)`. So all transactions below the returned cursor have finished: a change that
//! commits late (an older transaction that commits after a newer one) is held back until it
//! commits, never passed over. A sequence number alone, assigned at insert, would let a cursor
//! jump past it.
//!
//! **The first copy.** Without a cursor the feed remembers the horizon (the oldest running
//! transaction) and sends SKUs, then the branch's assets, then its bookings ending at most
//! `history_days` ago, in id order across pages. Then it continues with the changes from that
//! horizon on: anything that changed while the copy was sent comes again (records are sent whole,
//! so applying one twice is harmless).
//!
//! Records are sent whole, as they are now. A change of a record that is no longer in the branch
//! (deleted, or moved with its asset) is a tombstone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate, Utc};
use sentra_domain::{CustomerKycStatus, MembershipTier};
use sentra_protocol::{CounterCustomer, FieldError, SyncBooking, SyncChange, SyncEntity, SyncPage};
use uuid::Uuid;

use super::{AuthenticatedDevice, Sync, SyncError};
use crate::{
    booking::repo::BookingRow,
    inventory::{assets, catalogue},
};

/// Records per page unless the device asks for fewer (at most [`MAX_PAGE`]).
const DEFAULT_PAGE: u32 = 500;
const MAX_PAGE: u32 = 1_000;

/// Where a device is in the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    /// Sending the first copy: `entity`'s records after `after`, then the later entities; the
    /// changes from `horizon` on follow.
    Snapshot {
        horizon: u64,
        entity: SyncEntity,
        after: Uuid,
    },
    /// Sending changes after `(xid, id)`.
    Changes { xid: u64, id: i64 },
}

impl Cursor {
    fn encode(self) -> String {
        match self {
            Cursor::Snapshot {
                horizon,
                entity,
                after,
            } => format!("s1.{horizon}.{entity}.{}", after.simple()),
            Cursor::Changes { xid, id } => format!("c1.{xid}.{id}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let parts: Vec<&str> = text.split('.').collect();
        match parts.as_slice() {
            ["s1", horizon, entity, after] => Some(Cursor::Snapshot {
                horizon: horizon.parse().ok()?,
                entity: SyncEntity::parse(entity)?,
                after: Uuid::try_parse(after).ok()?,
            }),
            ["c1", xid, id] => Some(Cursor::Changes {
                xid: xid.parse().ok()?,
                id: id.parse().ok()?,
            }),
            _ => None,
        }
    }
}

/// A change row of the feed query (all `None` when no change is due), with the horizon.
type FeedRow = (
    Option<i64>,
    Option<String>,
    Option<Uuid>,
    Option<String>,
    String,
);

/// The entities of the first copy, in the order they are sent.
const SNAPSHOT_ORDER: [SyncEntity; 6] = [
    SyncEntity::Sku,
    SyncEntity::Asset,
    SyncEntity::Booking,
    SyncEntity::Inspection,
    SyncEntity::Document,
    SyncEntity::WorkOrder,
];

/// A booking with its customer's counter fields, as stored.
#[derive(sqlx::FromRow)]
struct CounterBookingRow {
    #[sqlx(flatten)]
    booking: BookingRow,
    customer_name: Option<String>,
    #[sqlx(try_from = "Option<String>")]
    customer_tier: OptionalName<MembershipTier>,
    #[sqlx(try_from = "Option<String>")]
    customer_kyc: OptionalName<CustomerKycStatus>,
    nik_masked: Option<String>,
}

/// An optional stored name (a column of a LEFT JOIN).
struct OptionalName<T>(Option<T>);

impl<T: TryFrom<String>> TryFrom<Option<String>> for OptionalName<T> {
    type Error = T::Error;

    fn try_from(value: Option<String>) -> Result<Self, Self::Error> {
        value.map(T::try_from).transpose().map(OptionalName)
    }
}

const COUNTER_BOOKING_SQL: &str = "SELECT b.id, b.branch_id, b.asset_id, b.customer_id, b.kind, \
    lower(b.period) AS start_date, upper(b.period) AS end_date, upper(b.occupied) AS occupied_end, \
    b.status, b.expires_at, b.hold_token, b.total_idr, b.created_at, b.updated_at, \
    c.full_name AS customer_name, c.membership_tier AS customer_tier, c.kyc_status AS customer_kyc, \
    (SELECT k.nik_masked FROM kyc_cases k WHERE k.customer_id = c.id AND k.status = 'verified' \
     ORDER BY k.created_at DESC LIMIT 1) AS nik_masked \
    FROM bookings b LEFT JOIN customers c ON c.id = b.customer_id";

impl CounterBookingRow {
    fn into_change(self) -> SyncChange {
        let customer = match (
            self.booking.customer_id,
            self.customer_name,
            self.customer_tier.0,
            self.customer_kyc.0,
        ) {
            (Some(id), Some(full_name), Some(membership_tier), Some(kyc_status)) => {
                Some(CounterCustomer {
                    id,
                    full_name,
                    membership_tier,
                    kyc_status,
                    nik_masked: self.nik_masked,
                })
            }
            _ => None,
        };
        let mut change = tombstone(SyncEntity::Booking, self.booking.id);
        change.deleted = false;
        change.booking = Some(SyncBooking {
            booking: self.booking.to_dto(),
            customer,
        });
        change
    }
}

pub(super) fn tombstone(entity: SyncEntity, id: Uuid) -> SyncChange {
    SyncChange {
        entity,
        id,
        deleted: true,
        sku: None,
        asset: None,
        booking: None,
        inspection: None,
        document: None,
        work_order: None,
    }
}

impl Sync {
    /// The first day of booking history the first copy holds.
    fn window_start(&self) -> NaiveDate {
        Utc::now().date_naive() - Days::new(u64::from(self.history_days))
    }

    /// One page of the device's branch feed after `cursor`.
    #[tracing::instrument(name = "sync.pull", skip_all, fields(device = %device.id))]
    pub async fn pull(
        &self,
        device: AuthenticatedDevice,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<SyncPage, SyncError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        let mut errors = Vec::new();
        if !(1..=MAX_PAGE).contains(&limit) {
            errors.push(FieldError::new("limit", "must be from 1 to 1000"));
        }
        let cursor = match cursor.map(Cursor::decode) {
            Some(None) => {
                errors.push(FieldError::new("cursor", "not a cursor of this feed"));
                None
            }
            Some(Some(cursor)) => Some(cursor),
            None => None,
        };
        if !errors.is_empty() {
            return Err(SyncError::Invalid(errors));
        }
        let cursor = match cursor {
            Some(cursor) => cursor,
            None => Cursor::Snapshot {
                horizon: self.horizon().await?,
                entity: SNAPSHOT_ORDER[0],
                after: Uuid::nil(),
            },
        };
        let page = match cursor {
            Cursor::Snapshot {
                horizon,
                entity,
                after,
            } => {
                self.snapshot_page(device, horizon, entity, after, limit)
                    .await?
            }
            Cursor::Changes { xid, id } => self.changes_page(device, xid, id, limit).await?,
        };
        Ok(page)
    }

    /// The oldest transaction still running (every older one has finished).
    async fn horizon(&self) -> sqlx::Result<u64> {
        let xmin: String =
            sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                .fetch_one(&self.db)
                .await?;
        xmin.parse()
            .map_err(|e| sqlx::Error::Protocol(format!("transaction id {xmin:?}: {e}")))
    }

    async fn snapshot_page(
        &self,
        device: AuthenticatedDevice,
        horizon: u64,
        mut entity: SyncEntity,
        mut after: Uuid,
        limit: u32,
    ) -> Result<SyncPage, SyncError> {
        let mut changes = Vec::new();
        loop {
            let room = i64::from(limit) - i64::try_from(changes.len()).unwrap_or(i64::MAX);
            let batch = self.records_after(device, entity, after, room).await?;
            let full = i64::try_from(batch.len()).unwrap_or(i64::MAX) == room;
            if let Some(last) = batch.last() {
                after = last.id;
            }
            changes.extend(batch);
            if full {
                return Ok(self.page(
                    changes,
                    Cursor::Snapshot {
                        horizon,
                        entity,
                        after,
                    },
                    true,
                    true,
                ));
            }
            // This entity is done: the next one, or the changes since the copy began.
            let next = SNAPSHOT_ORDER
                .iter()
                .skip_while(|e| **e != entity)
                .nth(1)
                .copied();
            let Some(next) = next else {
                // `(horizon, 0)`: every change of the horizon's transaction and later ones.
                let cursor = Cursor::Changes {
                    xid: horizon,
                    id: 0,
                };
                return Ok(self.page(changes, cursor, true, true));
            };
            entity = next;
            after = Uuid::nil();
        }
    }

    /// Up to `limit` records of `entity` in the device's branch after `after`, in id order.
    async fn records_after(
        &self,
        device: AuthenticatedDevice,
        entity: SyncEntity,
        after: Uuid,
        limit: i64,
    ) -> sqlx::Result<Vec<SyncChange>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        Ok(match entity {
            SyncEntity::Sku => catalogue::skus_after(&self.db, after, limit)
                .await?
                .into_iter()
                .map(sku_change)
                .collect(),
            SyncEntity::Asset => assets::of_branch_after(&self.db, device.branch_id, after, limit)
                .await?
                .into_iter()
                .map(asset_change)
                .collect(),
            SyncEntity::Booking => {
                let rows: Vec<CounterBookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{COUNTER_BOOKING_SQL} WHERE b.branch_id = $1 AND b.id > $2 \
                     AND upper(b.occupied) >= $3 ORDER BY b.id LIMIT $4"
                )))
                .bind(device.branch_id)
                .bind(after)
                .bind(self.window_start())
                .bind(limit)
                .fetch_all(&self.db)
                .await?;
                rows.into_iter()
                    .map(CounterBookingRow::into_change)
                    .collect()
            }
            SyncEntity::Inspection | SyncEntity::Document | SyncEntity::WorkOrder => {
                super::feed_handover::after(
                    &self.db,
                    device.branch_id,
                    entity,
                    after,
                    self.window_start(),
                    limit,
                )
                .await?
            }
        })
    }

    async fn changes_page(
        &self,
        device: AuthenticatedDevice,
        xid: u64,
        id: i64,
        limit: u32,
    ) -> Result<SyncPage, SyncError> {
        // One statement, so the horizon and the rows come from the same snapshot; the horizon
        // comes back even when no row does.
        let rows: Vec<FeedRow> = sqlx::query_as(
            "WITH h AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS x) \
                 SELECT c.id, c.entity, c.entity_id, c.xid::text, h.x::text FROM h \
                 LEFT JOIN LATERAL (SELECT id, entity, entity_id, xid FROM sync_changes \
                     WHERE (branch_id = $1 OR branch_id IS NULL) \
                       AND (xid, id) > ($2::text::xid8, $3) AND xid < h.x \
                     ORDER BY xid, id LIMIT $4) c ON true \
                 ORDER BY c.xid, c.id",
        )
        .bind(device.branch_id)
        .bind(xid.to_string())
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.db)
        .await?;
        let horizon = rows.first().map(|r| r.4.clone()).unwrap_or_default();
        let rows: Vec<(i64, String, Uuid, String)> = rows
            .into_iter()
            .filter_map(|(id, entity, entity_id, xid, _)| Some((id?, entity?, entity_id?, xid?)))
            .collect();
        let has_more = rows.len() == limit as usize;
        let mut last = (xid, id);
        // The latest change of each record wins; the records are read as they are now.
        let mut touched: BTreeSet<(SyncEntity, Uuid)> = BTreeSet::new();
        for (row_id, entity, entity_id, row_xid) in rows {
            let entity = SyncEntity::parse(&entity)
                .ok_or_else(|| sqlx::Error::Protocol(format!("sync entity {entity:?}")))?;
            touched.insert((entity, entity_id));
            let row_xid = row_xid
                .parse()
                .map_err(|e| sqlx::Error::Protocol(format!("xid {row_xid:?}: {e}")))?;
            last = (row_xid, row_id);
        }
        // Every change older than the horizon is in this page when it is not full: a quiet
        // branch's cursor moves up to the horizon, so its next pull skips others' changes.
        if !has_more
            && let Ok(horizon) = horizon.parse::<u64>()
            && (horizon, 0) > last
        {
            last = (horizon, 0);
        }
        let cursor = Cursor::Changes {
            xid: last.0,
            id: last.1,
        };
        let changes = self.current(device, touched.into_iter()).await?;
        Ok(self.page(changes, cursor, has_more, false))
    }

    /// The records as they are now in the device's branch; a tombstone for each that is not.
    async fn current(
        &self,
        device: AuthenticatedDevice,
        records: impl Iterator<Item = (SyncEntity, Uuid)>,
    ) -> sqlx::Result<Vec<SyncChange>> {
        let mut wanted: BTreeMap<SyncEntity, Vec<Uuid>> = BTreeMap::new();
        for (entity, id) in records {
            wanted.entry(entity).or_default().push(id);
        }
        let mut changes = Vec::new();
        for (entity, ids) in wanted {
            let mut found: Vec<SyncChange> = match entity {
                SyncEntity::Sku => catalogue::skus_by_id(&self.db, &ids)
                    .await?
                    .into_iter()
                    .map(sku_change)
                    .collect(),
                SyncEntity::Asset => assets::of_branch_by_id(&self.db, device.branch_id, &ids)
                    .await?
                    .into_iter()
                    .map(asset_change)
                    .collect(),
                SyncEntity::Booking => {
                    let rows: Vec<CounterBookingRow> =
                        sqlx::query_as(sqlx::AssertSqlSafe(format!(
                            "{COUNTER_BOOKING_SQL} WHERE b.branch_id = $1 AND b.id = ANY($2) ORDER BY b.id"
                        )))
                        .bind(device.branch_id)
                        .bind(&ids)
                        .fetch_all(&self.db)
                        .await?;
                    rows.into_iter()
                        .map(CounterBookingRow::into_change)
                        .collect()
                }
                SyncEntity::Inspection | SyncEntity::Document | SyncEntity::WorkOrder => {
                    super::feed_handover::by_id(&self.db, device.branch_id, entity, &ids).await?
                }
            };
            let present: std::collections::HashSet<Uuid> = found.iter().map(|c| c.id).collect();
            found.extend(
                ids.into_iter()
                    .filter(|id| !present.contains(id))
                    .map(|id| tombstone(entity, id)),
            );
            changes.extend(found);
        }
        Ok(changes)
    }

    fn page(
        &self,
        changes: Vec<SyncChange>,
        cursor: Cursor,
        has_more: bool,
        snapshot: bool,
    ) -> SyncPage {
        SyncPage {
            changes,
            next_cursor: cursor.encode(),
            has_more,
            snapshot,
            window_start: self.window_start(),
        }
    }
}

/// A SKU as the feed sends it.
fn sku_change(sku: sentra_protocol::Sku) -> SyncChange {
    let mut change = tombstone(SyncEntity::Sku, sku.id);
    change.deleted = false;
    change.sku = Some(sku);
    change
}

/// An asset as the feed sends it.
fn asset_change(asset: sentra_protocol::Asset) -> SyncChange {
    let mut change = tombstone(SyncEntity::Asset, asset.id);
    change.deleted = false;
    change.asset = Some(asset);
    change
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for cursor in [
            Cursor::Snapshot {
                horizon: 771,
                entity: SyncEntity::Asset,
                after: Uuid::now_v7(),
            },
            Cursor::Changes {
                xid: 9_000_123,
                id: 42,
            },
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        }
        for garbage in [
            "",
            "c1.1",
            "c1.x.2",
            "s1.1.truck.0",
            "s2.1.sku.00000000000000000000000000000000",
        ] {
            assert_eq!(Cursor::decode(garbage), None, "{garbage:?}");
        }
    }
}
