//! The branch's offline copy in SQLite: SKUs, assets, bookings with their customers' counter
//! fields, and the sync cursor. Owns the file, its migrations and every SQL statement on it; the
//! rest of the app asks for typed records.
//!
//! The file runs in WAL mode with `synchronous=FULL`: a page of the feed and its cursor are
//! written in one transaction, so a crash at any moment leaves either the page applied with its
//! cursor, or neither (the next pull fetches it again).

mod migrations;
mod outbox;
mod queries;

pub use outbox::{Resolution, Unsettled};
pub use queries::{CounterDay, DayEntry};

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use sentra_protocol::{Asset, Sku, SyncBooking, SyncChange, SyncEntity, SyncPage};

use crate::CoreError;

/// The offline copy.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

/// What applying a page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Records written (new or changed).
    pub upserted: usize,
    /// Records removed (tombstones).
    pub removed: usize,
}

pub(super) fn storage_error(err: &rusqlite::Error) -> CoreError {
    CoreError::new(
        "local_storage",
        format!("the local copy cannot be used: {err}"),
    )
}

fn json_error(err: &serde_json::Error) -> CoreError {
    CoreError::new(
        "local_storage",
        format!("a stored record does not read back: {err}"),
    )
}

impl Store {
    /// Opens (creating if needed) the copy at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, CoreError> {
        let conn = Connection::open(path).map_err(|e| storage_error(&e))?;
        Self::setup(conn)
    }

    /// A copy in memory (for tests and a first run before a branch is chosen).
    pub fn in_memory() -> Result<Self, CoreError> {
        let conn = Connection::open_in_memory().map_err(|e| storage_error(&e))?;
        Self::setup(conn)
    }

    fn setup(mut conn: Connection) -> Result<Self, CoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| conn.pragma_update(None, "synchronous", "FULL"))
            .and_then(|()| conn.pragma_update(None, "foreign_keys", "ON"))
            .and_then(|()| conn.busy_timeout(std::time::Duration::from_secs(5)))
            .map_err(|e| storage_error(&e))?;
        migrations::run(&mut conn).map_err(|e| storage_error(&e))?;
        Ok(Self { conn })
    }

    /// The feed cursor to continue from (none before the first complete page).
    pub fn cursor(&self) -> Result<Option<String>, CoreError> {
        self.conn
            .query_row(
                "SELECT value FROM sync_state WHERE key = 'cursor'",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| storage_error(&e))
    }

    /// Applies one page of the feed and its cursor, all or nothing.
    pub fn apply(&mut self, page: &SyncPage) -> Result<Applied, CoreError> {
        let tx = self.conn.transaction().map_err(|e| storage_error(&e))?;
        let mut applied = Applied::default();
        for change in &page.changes {
            if apply_change(&tx, change)? {
                applied.upserted += 1;
            } else {
                applied.removed += 1;
            }
        }
        tx.execute(
            "INSERT INTO sync_state (key, value) VALUES ('cursor', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![page.next_cursor],
        )
        .map_err(|e| storage_error(&e))?;
        tx.commit().map_err(|e| storage_error(&e))?;
        Ok(applied)
    }

    /// How many records of `entity` the copy holds.
    pub fn count(&self, entity: SyncEntity) -> Result<usize, CoreError> {
        let sql = match entity {
            SyncEntity::Sku => "SELECT count(*) FROM skus WHERE ?1 <> ''",
            SyncEntity::Asset => "SELECT count(*) FROM assets WHERE ?1 <> ''",
            SyncEntity::Booking => "SELECT count(*) FROM bookings WHERE ?1 <> ''",
            SyncEntity::Inspection | SyncEntity::Document | SyncEntity::WorkOrder => {
                "SELECT count(*) FROM handover_records WHERE entity = ?1"
            }
        };
        let n: i64 = self
            .conn
            .query_row(sql, [entity.as_str()], |row| row.get(0))
            .map_err(|e| storage_error(&e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// A booking by id, with its customer's counter fields.
    pub fn booking(&self, id: uuid::Uuid) -> Result<Option<SyncBooking>, CoreError> {
        self.body("SELECT body FROM bookings WHERE id = ?1", id)
    }

    /// An asset by id.
    pub fn asset(&self, id: uuid::Uuid) -> Result<Option<Asset>, CoreError> {
        self.body("SELECT body FROM assets WHERE id = ?1", id)
    }

    /// An asset by its plate or serial number, as printed (case and spaces ignored).
    pub fn asset_by_plate(&self, plate: &str) -> Result<Option<Asset>, CoreError> {
        let key = plate_key(plate);
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM assets WHERE plate_key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| storage_error(&e))?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| json_error(&e)))
            .transpose()
    }

    /// A SKU by code.
    pub fn sku(&self, code: &str) -> Result<Option<Sku>, CoreError> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM skus WHERE code = ?1",
                params![code],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| storage_error(&e))?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| json_error(&e)))
            .transpose()
    }

    fn body<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        id: uuid::Uuid,
    ) -> Result<Option<T>, CoreError> {
        let body: Option<String> = self
            .conn
            .query_row(sql, params![id.to_string()], |row| row.get(0))
            .optional()
            .map_err(|e| storage_error(&e))?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| json_error(&e)))
            .transpose()
    }
}

/// Plates are typed at the counter as people say them: `b1234xyz` finds `B 1234 XYZ`.
fn plate_key(plate: &str) -> String {
    plate
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Keeps a handover record, document or work order as the server sent it.
fn keep_record(
    tx: &rusqlite::Transaction<'_>,
    change: &SyncChange,
    booking: Option<uuid::Uuid>,
    asset: Option<uuid::Uuid>,
    body: &str,
) -> Result<bool, CoreError> {
    tx.execute(
        "INSERT INTO handover_records (entity, id, booking_id, asset_id, body) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (entity, id) DO UPDATE SET \
         booking_id = excluded.booking_id, asset_id = excluded.asset_id, body = excluded.body",
        rusqlite::params![
            change.entity.as_str(),
            change.id.to_string(),
            booking.map(|b| b.to_string()),
            asset.map(|a| a.to_string()),
            body
        ],
    )
    .map_err(|e| storage_error(&e))?;
    Ok(true)
}

/// Writes or removes one record; true when written.
pub(super) fn apply_change(
    tx: &rusqlite::Transaction<'_>,
    change: &SyncChange,
) -> Result<bool, CoreError> {
    let id = change.id.to_string();
    let run = |sql: &str, args: &[&dyn rusqlite::ToSql]| {
        tx.execute(sql, args).map_err(|e| storage_error(&e))
    };
    match (change.entity, change.deleted) {
        (SyncEntity::Sku, true) => run("DELETE FROM skus WHERE id = ?1", &[&id]).map(|_| false),
        (SyncEntity::Asset, true) => run("DELETE FROM assets WHERE id = ?1", &[&id]).map(|_| false),
        (SyncEntity::Inspection | SyncEntity::Document | SyncEntity::WorkOrder, true) => run(
            "DELETE FROM handover_records WHERE entity = ?1 AND id = ?2",
            &[&change.entity.as_str(), &id],
        )
        .map(|_| false),
        (SyncEntity::Inspection, false) => {
            let record = change.inspection.as_ref().ok_or_else(|| missing(change))?;
            keep_record(
                tx,
                change,
                record.booking_id,
                Some(record.asset_id),
                &to_json(record)?,
            )
        }
        (SyncEntity::Document, false) => {
            let document = change.document.as_ref().ok_or_else(|| missing(change))?;
            keep_record(
                tx,
                change,
                Some(document.booking_id),
                None,
                &to_json(document)?,
            )
        }
        (SyncEntity::WorkOrder, false) => {
            let order = change.work_order.as_ref().ok_or_else(|| missing(change))?;
            keep_record(tx, change, None, Some(order.asset_id), &to_json(order)?)
        }
        (SyncEntity::Booking, true) => {
            run("DELETE FROM bookings WHERE id = ?1", &[&id]).map(|_| false)
        }
        (SyncEntity::Sku, false) => {
            let sku = change.sku.as_ref().ok_or_else(|| missing(change))?;
            run(
                "INSERT INTO skus (id, code, body) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (id) DO UPDATE SET code = excluded.code, body = excluded.body",
                &[&id, &sku.code, &to_json(sku)?],
            )
            .map(|_| true)
        }
        (SyncEntity::Asset, false) => {
            let asset = change.asset.as_ref().ok_or_else(|| missing(change))?;
            run(
                "INSERT INTO assets (id, plate_key, status, body) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (id) DO UPDATE SET plate_key = excluded.plate_key, \
                 status = excluded.status, body = excluded.body",
                &[
                    &id,
                    &plate_key(&asset.plate_or_serial),
                    &asset.status.as_str(),
                    &to_json(asset)?,
                ],
            )
            .map(|_| true)
        }
        (SyncEntity::Booking, false) => {
            let booking = change.booking.as_ref().ok_or_else(|| missing(change))?;
            let b = &booking.booking;
            run(
                "INSERT INTO bookings (id, asset_id, start_date, end_date, status, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id) DO UPDATE SET asset_id = excluded.asset_id, \
                 start_date = excluded.start_date, end_date = excluded.end_date, \
                 status = excluded.status, body = excluded.body",
                &[
                    &id,
                    &b.asset_id.to_string(),
                    &b.start.to_string(),
                    &b.end.to_string(),
                    &b.status.as_str(),
                    &to_json(booking)?,
                ],
            )
            .map(|_| true)
        }
    }
}

fn missing(change: &SyncChange) -> CoreError {
    CoreError::new(
        "invalid_response",
        format!("the server sent a {} without its record", change.entity),
    )
}

/// A record as stored: the JSON the server sent.
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CoreError> {
    serde_json::to_string(value).map_err(|e| json_error(&e))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sentra_domain::{AssetStatus, BookingKind, BookingStatus, Money, SkuCategory};
    use sentra_protocol::{Booking, LateFee};
    use uuid::Uuid;

    use super::*;

    fn asset(id: Uuid, plate: &str) -> SyncChange {
        SyncChange {
            entity: SyncEntity::Asset,
            id,
            deleted: false,
            sku: None,
            asset: Some(Asset {
                id,
                sku_code: "AVANZA-13G-AT".to_owned(),
                sku_name: "Toyota Avanza".to_owned(),
                home_branch_id: Uuid::nil(),
                home_branch_code: "JKT01".to_owned(),
                plate_or_serial: plate.to_owned(),
                status: AssetStatus::Active,
                odometer_km: Some(10),
                label_version: 1,
            }),
            booking: None,
            inspection: None,
            document: None,
            work_order: None,
        }
    }

    fn sku(id: Uuid) -> SyncChange {
        SyncChange {
            entity: SyncEntity::Sku,
            id,
            deleted: false,
            sku: Some(Sku {
                id,
                code: "AVANZA-13G-AT".to_owned(),
                name: "Toyota Avanza".to_owned(),
                category: SkuCategory::Car,
                daily_rate_idr: 450_000,
                deposit_idr: 1_000_000,
                late_fee: LateFee::default(),
                fuel_per_eighth_idr: 75_000,
                turnaround_buffer_days: 1,
                checklist: Vec::new(),
            }),
            asset: None,
            booking: None,
            inspection: None,
            document: None,
            work_order: None,
        }
    }

    fn booking(id: Uuid, asset: Uuid, status: BookingStatus) -> SyncChange {
        let today = Utc::now().date_naive();
        SyncChange {
            entity: SyncEntity::Booking,
            id,
            deleted: false,
            sku: None,
            asset: None,
            booking: Some(SyncBooking {
                booking: Booking {
                    id,
                    branch_id: Uuid::nil(),
                    asset_id: asset,
                    customer_id: None,
                    kind: BookingKind::Rental,
                    start: today,
                    end: today.succ_opt().expect("tomorrow"),
                    blocked_until: today,
                    status,
                    expires_at: None,
                    hold_token: None,
                    total_idr: Money::from_rupiah(450_000),
                    created_at: Utc::now(),
                    updated_at: Utc::now(),
                    qr_payload: None,
                },
                customer: None,
            }),
            inspection: None,
            document: None,
            work_order: None,
        }
    }

    fn page(changes: Vec<SyncChange>, cursor: &str) -> SyncPage {
        SyncPage {
            changes,
            next_cursor: cursor.to_owned(),
            has_more: false,
            snapshot: false,
            window_start: Utc::now().date_naive(),
        }
    }

    #[test]
    fn pages_apply_whole_records_and_tombstones_and_survive_a_reopen() -> Result<(), CoreError> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::new("test", e.to_string()))?;
        let path = dir.path().join("branch.sqlite3");
        let (car, rental, model) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        {
            let mut store = Store::open(&path)?;
            assert_eq!(
                store.cursor()?,
                None,
                "a fresh copy starts without a cursor"
            );
            let applied = store.apply(&page(
                vec![
                    sku(model),
                    asset(car, "B 1234 XYZ"),
                    booking(rental, car, BookingStatus::PendingPayment),
                ],
                "c1.10.1",
            ))?;
            assert_eq!(
                applied,
                Applied {
                    upserted: 3,
                    removed: 0
                }
            );
            let later = store.apply(&page(
                vec![
                    booking(rental, car, BookingStatus::Cancelled),
                    SyncChange {
                        deleted: true,
                        asset: None,
                        ..asset(car, "B 1234 XYZ")
                    },
                ],
                "c1.12.7",
            ))?;
            assert_eq!(
                later,
                Applied {
                    upserted: 1,
                    removed: 1
                }
            );
        }
        let store = Store::open(&path)?;
        assert_eq!(store.cursor()?.as_deref(), Some("c1.12.7"));
        assert_eq!(
            store.count(SyncEntity::Asset)?,
            0,
            "the tombstone removed the car"
        );
        assert_eq!(
            store.booking(rental)?.map(|b| b.booking.status),
            Some(BookingStatus::Cancelled),
            "the newer record replaced the older"
        );
        assert_eq!(store.sku("AVANZA-13G-AT")?.map(|s| s.id), Some(model));
        Ok(())
    }

    #[test]
    fn a_page_that_cannot_be_applied_leaves_nothing_behind() -> Result<(), CoreError> {
        let mut store = Store::in_memory()?;
        store.apply(&page(vec![asset(Uuid::now_v7(), "B 1 A")], "c1.1.1"))?;
        let broken = SyncChange {
            asset: None,
            ..asset(Uuid::now_v7(), "B 2 A")
        };
        let err = store
            .apply(&page(
                vec![asset(Uuid::now_v7(), "B 3 A"), broken],
                "c1.2.2",
            ))
            .expect_err("a record without its body");
        assert_eq!(err.code, "invalid_response");
        assert_eq!(
            store.count(SyncEntity::Asset)?,
            1,
            "the good record of the page rolled back"
        );
        assert_eq!(
            store.cursor()?.as_deref(),
            Some("c1.1.1"),
            "the cursor did not move"
        );
        Ok(())
    }

    #[test]
    fn a_plate_is_found_however_the_counter_types_it() -> Result<(), CoreError> {
        let mut store = Store::in_memory()?;
        let car = Uuid::now_v7();
        store.apply(&page(vec![asset(car, "B 1234 XYZ")], "c1.1.1"))?;
        for typed in ["b1234xyz", "B 1234 XYZ", " b 1234  xyz "] {
            assert_eq!(
                store.asset_by_plate(typed)?.map(|a| a.id),
                Some(car),
                "{typed:?}"
            );
        }
        assert_eq!(store.asset_by_plate("B 9999 XYZ")?, None);
        Ok(())
    }
}
