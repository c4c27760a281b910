//! The rental's status changes at the counter, in Postgres: pickup (CONFIRMED → ACTIVE), return
//! (ACTIVE → RETURNED) and completion (RETURNED → COMPLETED), each checked against the domain's
//! lifecycle; and overdue rentals, whose occupancy grows day by day until they are back.
//!
//! Pickup and return change what the asset is occupied for, so they lock the asset first (the
//! booking engine's lock order: the asset, then its bookings) and hand back the calendar change
//! to publish after commit.

use chrono::{DateTime, Days, NaiveDate, Utc};
use sentra_domain::{
    AssetStatus, BookingKind, BookingStatus, BranchTimeZone,
    handover::{self, PickupTiming},
};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::HandoverError;
use crate::booking::{
    projection::AssetChange,
    repo::{BOOKING_COLUMNS, BookingRow, HOLDING, StatusChange, lock_asset},
};

/// A booking with what its handover rules need.
#[derive(Debug, sqlx::FromRow)]
struct Held {
    #[sqlx(flatten)]
    row: BookingRow,
    occupied_start: NaiveDate,
    #[sqlx(try_from = "String")]
    time_zone: BranchTimeZone,
    #[sqlx(try_from = "String")]
    asset_status: AssetStatus,
}

/// Locks the booking's asset (bumping its calendar version) and then the booking. A booking
/// moved to another unit between the two (a work order making room) is locked again on its new
/// unit.
async fn lock(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
) -> Result<(crate::booking::repo::LockedAsset, Held), HandoverError> {
    for _ in 0..3 {
        let asset: Option<Uuid> = sqlx::query_scalar("SELECT asset_id FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        let asset = asset.ok_or(HandoverError::NotFound("Booking"))?;
        let locked = lock_asset(tx, asset, None)
            .await?
            .ok_or(HandoverError::NotFound("Booking"))?;
        let held: Held = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {columns}, lower(b.occupied) AS occupied_start, br.time_zone, a.status AS asset_status \
             FROM bookings b JOIN assets a ON a.id = b.asset_id JOIN branches br ON br.id = b.branch_id \
             WHERE b.id = $1 FOR UPDATE OF b",
            columns = prefixed(BOOKING_COLUMNS, "b")
        )))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(HandoverError::NotFound("Booking"))?;
        if held.row.asset_id == locked.asset_id() {
            return Ok((locked, held));
        }
    }
    Err(HandoverError::Storage(anyhow::anyhow!(
        "booking {id} kept moving between units while it was being handed over"
    )))
}

/// `BOOKING_COLUMNS` with each bare column qualified by `alias` (the list mixes bare columns
/// and expressions such as `lower(period) AS start_date`).
fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|column| {
            let column = column.trim();
            if let Some(open) = column.find('(') {
                let (func, rest) = column.split_at(open + 1);
                format!("{func}{alias}.{rest}")
            } else {
                format!("{alias}.{column}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Hands a CONFIRMED rental over at `at` (the inspection's time): ACTIVE from now on. An early
/// pickup (with a reason) makes the booking hold its asset from the pickup day; if another
/// booking holds any of those days, Postgres refuses it.
pub(crate) async fn pick_up(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    at: DateTime<Utc>,
    early_reason: Option<&str>,
) -> Result<(BookingRow, AssetChange), HandoverError> {
    let (locked, held) = lock(tx, id).await?;
    let row = &held.row;
    if row.kind != BookingKind::Rental || row.status != BookingStatus::Confirmed {
        return Err(HandoverError::InvalidState {
            status: row.status,
            action: "picked up",
        });
    }
    let today = held.time_zone.local_date_of(at);
    // In the workshop: marked so, or a work order that has begun is still open.
    let in_workshop: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM work_orders WHERE asset_id = $1 AND status = 'OPEN' \
           AND start_date <= $2)",
    )
    .bind(row.asset_id)
    .bind(today)
    .fetch_one(&mut **tx)
    .await?;
    if held.asset_status != AssetStatus::Active || in_workshop {
        return Err(HandoverError::InMaintenance);
    }
    let timing = handover::pickup_timing(row.start_date, row.end_date, today, early_reason)?;
    let (early_days, reason) = match timing {
        PickupTiming::Early { days } => (days, early_reason.map(str::trim)),
        PickupTiming::OnTime | PickupTiming::Late => (0, None),
    };
    let change = StatusChange::new(&[BookingStatus::Confirmed], BookingStatus::Active)?;
    let updated: Result<Option<BookingRow>, sqlx::Error> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE bookings SET status = $2, early_days = $3, early_reason = $4, \
             picked_up_at = $5, updated_at = now() \
             WHERE id = $1 AND status = ANY($6) RETURNING {BOOKING_COLUMNS}"
        )))
        .bind(id)
        .bind(change.to)
        .bind(i32::try_from(early_days).unwrap_or(i32::MAX))
        .bind(reason)
        .bind(at)
        .bind(&change.from)
        .fetch_optional(&mut **tx)
        .await;
    let updated = match updated {
        Ok(row) => row.ok_or(HandoverError::NotFound("Booking"))?,
        Err(e) if crate::db::has_sqlstate(&e, &["23P01"]) => {
            return Err(HandoverError::NotFreeEarly);
        }
        Err(e) => return Err(e.into()),
    };
    let taken = (early_days > 0).then(|| {
        (
            updated.start_date - Days::new(u64::from(early_days)),
            updated.start_date,
        )
    });
    Ok((updated, locked.change(Vec::new(), taken)))
}

/// Takes an ACTIVE rental back at `at`: RETURNED, and the asset's days from now on are free
/// (the waitlist hears of the days freed by an early return).
pub(crate) async fn take_back(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(BookingRow, AssetChange), HandoverError> {
    let (locked, held) = lock(tx, id).await?;
    if held.row.status != BookingStatus::Active {
        return Err(HandoverError::InvalidState {
            status: held.row.status,
            action: "returned",
        });
    }
    let change = StatusChange::new(&[BookingStatus::Active], BookingStatus::Returned)?;
    let updated: BookingRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE bookings SET status = $2, returned_at = $3, updated_at = now() \
         WHERE id = $1 AND status = ANY($4) RETURNING {BOOKING_COLUMNS}"
    )))
    .bind(id)
    .bind(change.to)
    .bind(at)
    .bind(&change.from)
    .fetch_one(&mut **tx)
    .await?;
    let freed = (held.occupied_start, updated.occupied_end);
    let today = held.time_zone.local_date_of(at);
    let future = (today.max(freed.0), freed.1);
    if future.0 < future.1 {
        locked.enqueue_freed(tx, id, future).await?;
    }
    Ok((updated, locked.change(vec![freed], None)))
}

/// Closes a RETURNED rental whose charges are settled: COMPLETED.
pub(crate) async fn complete(db: &PgPool, id: Uuid) -> Result<BookingRow, HandoverError> {
    let change = StatusChange::new(&[BookingStatus::Returned], BookingStatus::Completed)?;
    let row: Option<BookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE bookings SET status = $2, completed_at = now(), updated_at = now() \
         WHERE id = $1 AND status = ANY($3) AND NOT ({UNSETTLED}) RETURNING {BOOKING_COLUMNS}"
    )))
    .bind(id)
    .bind(change.to)
    .bind(&change.from)
    .fetch_optional(db)
    .await?;
    if let Some(row) = row {
        return Ok(row);
    }
    let current = crate::booking::repo::get(db, id)
        .await?
        .ok_or(HandoverError::NotFound("Booking"))?;
    if current.status == BookingStatus::Returned {
        return Err(HandoverError::ChargesNotSettled);
    }
    Err(HandoverError::InvalidState {
        status: current.status,
        action: "completed",
    })
}

/// Whether booking `$1` still has a deposit held whose bill is not settled (it cannot be
/// completed before: completion releases the hold).
const UNSETTLED: &str = "EXISTS (SELECT 1 FROM payment_holds h WHERE h.booking_id = $1 \
    AND h.purpose = 'DEPOSIT' AND h.status IN ('AUTHORISED', 'CAPTURED') \
    AND NOT EXISTS (SELECT 1 FROM charge_settlements s WHERE s.booking_id = $1 \
                    AND s.status = 'SETTLED'))";

/// An ACTIVE rental that may be overdue, with what the overrun rule needs.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ActiveRental {
    #[sqlx(flatten)]
    pub row: BookingRow,
    pub buffer_days: i32,
    pub overrun_days: i32,
    #[sqlx(try_from = "String")]
    pub time_zone: BranchTimeZone,
    pub plate_or_serial: String,
}

/// ACTIVE rentals (of one branch, or all) whose return day has come somewhere in Indonesia;
/// the caller keeps those overdue at `now` in their branch's time.
pub(crate) async fn active_ending(
    db: &PgPool,
    branch: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<ActiveRental>> {
    // WIT is the easternmost zone: no branch's date is later than its date.
    let latest_today = BranchTimeZone::Wit.local_date_of(now);
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {columns}, b.buffer_days, b.overrun_days, br.time_zone, a.plate_or_serial \
         FROM bookings b JOIN branches br ON br.id = b.branch_id JOIN assets a ON a.id = b.asset_id \
         WHERE b.status = 'ACTIVE' AND upper(b.period) <= $1 \
           AND ($2::uuid IS NULL OR b.branch_id = $2) \
         ORDER BY upper(b.period), b.id",
        columns = prefixed(BOOKING_COLUMNS, "b")
    )))
    .bind(latest_today)
    .bind(branch)
    .fetch_all(db)
    .await
}

/// The asset's next holding booking after `rental` (the one an overdue return puts at risk).
pub(crate) async fn next_booking(
    db: &PgPool,
    rental: &BookingRow,
) -> sqlx::Result<Option<(BookingRow, NaiveDate)>> {
    #[derive(sqlx::FromRow)]
    struct Next {
        #[sqlx(flatten)]
        row: BookingRow,
        occupied_start: NaiveDate,
    }
    let next: Option<Next> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS}, lower(occupied) AS occupied_start FROM bookings \
         WHERE asset_id = $1 AND id <> $2 AND status IN {HOLDING} AND lower(occupied) >= $3 \
         ORDER BY lower(occupied) LIMIT 1"
    )))
    .bind(rental.asset_id)
    .bind(rental.id)
    .bind(rental.end_date)
    .fetch_optional(db)
    .await?;
    Ok(next.map(|n| (n.row, n.occupied_start)))
}

/// Grows the occupancy of every overdue rental through its branch's current day (never into the
/// next booking's days). Returns the calendar changes to publish; each rental is its own
/// transaction, decided against Postgres under the asset's lock.
pub(crate) async fn extend_overdue(
    db: &PgPool,
    branch: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<AssetChange>> {
    let mut changes = Vec::new();
    for rental in active_ending(db, branch, now).await? {
        let wanted = handover::overrun_days(rental.row.end_date, rental.time_zone, now);
        if i64::from(wanted) <= i64::from(rental.overrun_days) {
            continue;
        }
        let mut tx = db.begin().await?;
        let Some(locked) = lock_asset(&mut tx, rental.row.asset_id, None).await? else {
            continue;
        };
        // Decided again under the lock: still ACTIVE, its current overrun, its next booking.
        let current: Option<(i32, i32, NaiveDate)> = sqlx::query_as(
            "SELECT overrun_days, buffer_days, upper(occupied) FROM bookings \
             WHERE id = $1 AND status = 'ACTIVE' FOR UPDATE",
        )
        .bind(rental.row.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((current, buffer, occupied_end)) = current else {
            continue;
        };
        let next_start: Option<NaiveDate> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT min(lower(occupied)) FROM bookings \
             WHERE asset_id = $1 AND id <> $2 AND status IN {HOLDING} AND lower(occupied) >= $3"
        )))
        .bind(rental.row.asset_id)
        .bind(rental.row.id)
        .bind(occupied_end)
        .fetch_one(&mut *tx)
        .await?;
        let current = u32::try_from(current).unwrap_or(0);
        let buffer = u32::try_from(buffer).unwrap_or(0);
        let overrun =
            handover::overrun_within(wanted, current, rental.row.end_date, buffer, next_start);
        if overrun <= current {
            continue;
        }
        sqlx::query("UPDATE bookings SET overrun_days = $2, updated_at = now() WHERE id = $1")
            .bind(rental.row.id)
            .bind(i32::try_from(overrun).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let new_end = rental.row.end_date + Days::new(u64::from(overrun + buffer));
        tracing::info!(booking = %rental.row.id, overrun_days = overrun, "overdue rental keeps its asset");
        changes.push(locked.change(Vec::new(), Some((occupied_end, new_end))));
    }
    Ok(changes)
}
