//! Postgres side of bookings: the arbiter. Each function is one transaction whose outcome
//! decides: the exclusion constraint refuses overlaps, the compare-and-set on `hold_token` fences
//! late confirmations.
//!
//! Every transaction that changes an asset's occupancy first locks the asset's row by bumping its
//! calendar version, so changes of one asset queue in Postgres (whatever Redis does) and their
//! versions follow commit order. Locks are always taken in one order, so these transactions
//! never deadlock one another: a waitlist entry, then the asset, then its bookings, then the
//! idempotency key. A confirm changes no occupancy: it locks the entry, then the booking, and
//! never the asset.

use chrono::{DateTime, NaiveDate, Utc};
use sentra_domain::{
    AssetStatus, BookingStatus, BranchTimeZone, Money, WaitlistStatus, occupied_until,
};
use sqlx::{PgExecutor, PgPool, Postgres, Transaction};
use uuid::Uuid;

pub use super::row::{BOOKING_COLUMNS, BookingRow};
use super::{Conflict, projection::AssetChange};
use crate::jobs::{self, UnitFreed};
use crate::{
    cache::calendar::OccupancyChange,
    idempotency::{self, Claim, DeviceOp},
};

/// What a booking needs to know about its asset.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssetContext {
    pub asset_id: Uuid,
    pub branch_id: Uuid,
    pub branch_code: String,
    #[sqlx(try_from = "String")]
    pub time_zone: BranchTimeZone,
    pub sku_id: Uuid,
    pub sku_code: String,
    pub daily_rate_idr: i64,
    pub buffer_days: i32,
    #[sqlx(try_from = "String")]
    pub status: AssetStatus,
    /// The asset's bit in the per-SKU day bitmaps.
    pub sku_ordinal: i32,
}

/// Statuses whose bookings hold their asset (the exclusion constraint's).
pub(crate) const HOLDING: &str = "('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE')";

/// A status change, checked against the domain's lifecycle ([`BookingStatus::transition`]) before
/// any SQL runs: the statements below bind its `from` and `to` instead of writing statuses as
/// literals, so a change the lifecycle forbids cannot be written.
#[derive(Debug, Clone)]
pub(crate) struct StatusChange {
    /// The statuses a row may be in (`status = ANY($from)`).
    pub(crate) from: Vec<&'static str>,
    /// The status it gets.
    pub(crate) to: &'static str,
}

impl StatusChange {
    pub(crate) fn new(from: &[BookingStatus], to: BookingStatus) -> sqlx::Result<Self> {
        for status in from {
            status
                .transition(to)
                // A bug, not a fault of the moment: never answered as "retry".
                .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        }
        Ok(Self {
            from: from.iter().map(|s| s.as_str()).collect(),
            to: to.as_str(),
        })
    }
}

/// Loads the asset with its SKU and branch.
pub async fn asset_context(db: &PgPool, asset_id: Uuid) -> sqlx::Result<Option<AssetContext>> {
    sqlx::query_as(
        "SELECT a.id AS asset_id, a.home_branch_id AS branch_id, b.code AS branch_code, b.time_zone, \
                s.id AS sku_id, s.code AS sku_code, s.daily_rate_idr, s.turnaround_buffer_days AS buffer_days, \
                a.status, a.sku_ordinal \
         FROM assets a JOIN skus s ON s.id = a.sku_id JOIN branches b ON b.id = a.home_branch_id \
         WHERE a.id = $1",
    )
    .bind(asset_id)
    .fetch_optional(db)
    .await
}

#[derive(sqlx::FromRow)]
struct Blocking {
    #[sqlx(try_from = "String")]
    status: BookingStatus,
    customer_id: Option<Uuid>,
    expires_at: Option<DateTime<Utc>>,
}

/// What holds `asset` on `[start, occupied_end)` now (lapsed payment windows do not count: the
/// next booking expires them), as far as `requester` may know; `None` when nothing does.
pub async fn conflict<'e>(
    db: impl PgExecutor<'e>,
    asset: Uuid,
    start: NaiveDate,
    occupied_end: NaiveDate,
    requester: Uuid,
) -> sqlx::Result<Option<Conflict>> {
    let blocking: Vec<Blocking> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT status, customer_id, expires_at FROM bookings \
         WHERE asset_id = $1 AND status IN {HOLDING} AND occupied && daterange($2, $3, '[)') \
           AND NOT (status = 'PENDING_PAYMENT' AND expires_at <= now())"
    )))
    .bind(asset)
    .bind(start)
    .bind(occupied_end)
    .fetch_all(db)
    .await?;
    if blocking.is_empty() {
        return Ok(None);
    }
    let others_unpaid = blocking.iter().all(|b| {
        b.status == BookingStatus::PendingPayment && b.customer_id.is_some_and(|c| c != requester)
    });
    let held_until = if others_unpaid {
        blocking.iter().filter_map(|b| b.expires_at).max()
    } else {
        None
    };
    Ok(Some(Conflict { held_until }))
}

/// The new booking to insert.
#[derive(Debug, Clone)]
pub struct NewHold {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The rental's price: the daily rate times the nights.
    pub total: Money,
    pub hold_token: Uuid,
    pub payment_window_secs: i64,
}

/// Work done in the hold's transaction, so that it commits or rolls back with the hold.
pub enum Attach<'a> {
    /// Nothing else.
    Nothing,
    /// Store the request's response under its idempotency key.
    Response {
        claim: &'a Claim,
        status: u16,
        render: &'a (dyn Fn(&BookingRow) -> serde_json::Value + Sync),
    },
    /// The hold is the waitlist entry's offer: mark the entry OFFERED.
    WaitlistOffer { entry: Uuid },
}

impl std::fmt::Debug for Attach<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attach::Nothing => f.write_str("Nothing"),
            Attach::Response { claim, .. } => write!(f, "Response({})", claim.scope),
            Attach::WaitlistOffer { entry } => write!(f, "WaitlistOffer({entry})"),
        }
    }
}

/// How a hold's transaction ended.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "returned once per transaction and matched at once; a box would buy nothing"
)]
pub enum HoldOutcome {
    /// Committed.
    Created {
        booking: BookingRow,
        change: AssetChange,
    },
    /// Something holds the dates; nothing changed.
    Taken(Conflict),
    /// The asset is no longer active at the branch it was read at; nothing changed.
    AssetChanged,
    /// The idempotency key already has a response; nothing changed.
    DecidedElsewhere,
    /// The waitlist entry is no longer waiting; nothing changed.
    EntryGone,
}

/// Locks the asset's row and bumps its calendar version. Returns the new version with the
/// asset's SKU facts, or `None` when the asset is not active at `branch` (when given).
pub(crate) async fn lock_asset(
    tx: &mut Transaction<'_, Postgres>,
    asset: Uuid,
    active_at: Option<Uuid>,
) -> sqlx::Result<Option<LockedAsset>> {
    sqlx::query_as(
        "UPDATE assets a SET calendar_version = a.calendar_version + 1 FROM skus s \
         WHERE a.id = $1 AND s.id = a.sku_id \
           AND ($2::uuid IS NULL OR (a.status = 'active' AND a.home_branch_id = $2)) \
         RETURNING a.id AS asset_id, a.calendar_version, a.home_branch_id AS branch_id, \
                   s.id AS sku_id, s.code AS sku_code, a.sku_ordinal",
    )
    .bind(asset)
    .bind(active_at)
    .fetch_optional(&mut **tx)
    .await
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LockedAsset {
    asset_id: Uuid,
    calendar_version: i64,
    branch_id: Uuid,
    sku_id: Uuid,
    sku_code: String,
    sku_ordinal: i32,
}

impl LockedAsset {
    /// The asset locked.
    pub(crate) fn asset_id(&self) -> Uuid {
        self.asset_id
    }

    pub(crate) fn change(
        &self,
        freed: Vec<(NaiveDate, NaiveDate)>,
        taken: Option<(NaiveDate, NaiveDate)>,
    ) -> AssetChange {
        AssetChange {
            asset_id: self.asset_id,
            sku_code: self.sku_code.clone(),
            sku_ordinal: self.sku_ordinal,
            change: OccupancyChange {
                version: self.calendar_version,
                freed,
                taken,
            },
        }
    }

    /// Enqueues the durable "a unit of this SKU freed up on these days" job (waitlist offers).
    pub(crate) async fn enqueue_freed(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        booking_id: Uuid,
        (start, end): (NaiveDate, NaiveDate),
    ) -> sqlx::Result<()> {
        let freed = UnitFreed {
            booking_id,
            asset_id: self.asset_id,
            sku_id: self.sku_id,
            branch_id: self.branch_id,
            start,
            end,
        };
        jobs::enqueue(tx, &freed, None).await
    }
}

/// In one transaction: locks the asset (still active at the branch read before), checks nothing
/// holds the dates, expires lapsed holds that overlap, inserts the hold and does `attach`.
pub async fn create_hold(
    db: &PgPool,
    asset: &AssetContext,
    hold: &NewHold,
    attach: &Attach<'_>,
) -> sqlx::Result<HoldOutcome> {
    let mut tx = db.begin().await?;
    if let Attach::WaitlistOffer { entry } = attach {
        let waiting: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM waitlist WHERE id = $1 AND status = 'WAITING' FOR UPDATE",
        )
        .bind(entry)
        .fetch_optional(&mut *tx)
        .await?;
        if waiting.is_none() {
            return Ok(HoldOutcome::EntryGone);
        }
    }
    let Some(locked) = lock_asset(&mut tx, asset.asset_id, Some(asset.branch_id)).await? else {
        return Ok(HoldOutcome::AssetChanged);
    };
    let occupied_end = occupied_until(hold.end, asset.buffer_days);
    if let Some(conflict) = conflict(
        &mut *tx,
        asset.asset_id,
        hold.start,
        occupied_end,
        hold.customer_id,
    )
    .await?
    {
        return Ok(HoldOutcome::Taken(conflict));
    }
    let expire = StatusChange::new(&[BookingStatus::PendingPayment], BookingStatus::Expired)?;
    let lapsed: Vec<(Uuid, NaiveDate, NaiveDate)> = sqlx::query_as(
        "UPDATE bookings SET status = $5, updated_at = now() \
         WHERE branch_id = $1 AND asset_id = $2 AND status = ANY($6) AND expires_at <= now() \
           AND occupied && daterange($3, $4, '[)') \
         RETURNING id, lower(occupied), upper(occupied)",
    )
    .bind(asset.branch_id)
    .bind(asset.asset_id)
    .bind(hold.start)
    .bind(occupied_end)
    .bind(expire.to)
    .bind(&expire.from)
    .fetch_all(&mut *tx)
    .await?;
    for &(id, start, end) in &lapsed {
        locked.enqueue_freed(&mut tx, id, (start, end)).await?;
    }
    let booking: BookingRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, expires_at, \
                               hold_token, total_idr, buffer_days) \
         VALUES ($1, $2, $3, $4, daterange($5, $6, '[)'), 'PENDING_PAYMENT', \
                 now() + make_interval(secs => $7), $8, $9, $10) \
         RETURNING {BOOKING_COLUMNS}"
    )))
    .bind(hold.id)
    .bind(asset.branch_id)
    .bind(asset.asset_id)
    .bind(hold.customer_id)
    .bind(hold.start)
    .bind(hold.end)
    .bind(hold.payment_window_secs)
    .bind(hold.hold_token)
    .bind(hold.total.rupiah())
    .bind(asset.buffer_days)
    .fetch_one(&mut *tx)
    .await?;
    match attach {
        Attach::Nothing => {}
        Attach::Response {
            claim,
            status,
            render,
        } => {
            if !crate::idempotency::record(&mut *tx, claim, *status, &render(&booking)).await? {
                return Ok(HoldOutcome::DecidedElsewhere);
            }
        }
        Attach::WaitlistOffer { entry } => {
            sqlx::query(
                "UPDATE waitlist SET status = $3, offer_booking_id = $2, updated_at = now() \
                 WHERE id = $1",
            )
            .bind(entry)
            .bind(booking.id)
            .bind(WaitlistStatus::Offered.as_str())
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    let freed = lapsed.iter().map(|&(_, start, end)| (start, end)).collect();
    let change = locked.change(freed, Some((hold.start, occupied_end)));
    Ok(HoldOutcome::Created { booking, change })
}

/// Expires lapsed holds (the sweeper), for at most 500 assets per call. Assets locked by a
/// booking in flight are skipped: that booking expires what overlaps it, the next sweep the rest.
pub async fn expire_all_lapsed(db: &PgPool) -> sqlx::Result<(Vec<AssetChange>, Vec<Uuid>)> {
    let mut tx = db.begin().await?;
    // Ordered locks: several sweepers (one per server) never wait on each other in a cycle.
    let due: Vec<Uuid> = sqlx::query_scalar(
        "SELECT a.id FROM assets a WHERE a.id IN ( \
             SELECT DISTINCT asset_id FROM bookings \
             WHERE status = 'PENDING_PAYMENT' AND expires_at <= now() LIMIT 500) \
         ORDER BY a.id FOR NO KEY UPDATE OF a SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await?;
    let expire = StatusChange::new(&[BookingStatus::PendingPayment], BookingStatus::Expired)?;
    let mut changes = Vec::with_capacity(due.len());
    let mut expired = Vec::new();
    for asset in due {
        let Some(locked) = lock_asset(&mut tx, asset, None).await? else {
            continue;
        };
        let lapsed: Vec<(Uuid, NaiveDate, NaiveDate)> = sqlx::query_as(
            "UPDATE bookings SET status = $2, updated_at = now() \
             WHERE asset_id = $1 AND status = ANY($3) AND expires_at <= now() \
             RETURNING id, lower(occupied), upper(occupied)",
        )
        .bind(asset)
        .bind(expire.to)
        .bind(&expire.from)
        .fetch_all(&mut *tx)
        .await?;
        for &(id, start, end) in &lapsed {
            locked.enqueue_freed(&mut tx, id, (start, end)).await?;
        }
        let freed = lapsed.iter().map(|&(_, start, end)| (start, end)).collect();
        changes.push(locked.change(freed, None));
        expired.extend(lapsed.iter().map(|&(id, _, _)| id));
    }
    tx.commit().await?;
    Ok((changes, expired))
}

/// Confirms a hold (compare-and-set on its token, within its window) and, in the same
/// transaction, marks the waitlist entry whose offer it was FULFILLED.
pub async fn confirm(
    db: &PgPool,
    id: Uuid,
    hold_token: Uuid,
    claim: Option<&DeviceOp>,
) -> sqlx::Result<Decided<Option<BookingRow>>> {
    let mut tx = db.begin().await?;
    if let Some(op) = claim
        && !idempotency::claim_device_op(&mut *tx, op).await?
    {
        return Ok(Decided::Elsewhere);
    }
    let Some(row) = confirm_in(&mut tx, id, hold_token).await? else {
        // Nothing confirmed: roll back (and with it the device's claim, if any).
        return Ok(Decided::Done(None));
    };
    tx.commit().await?;
    Ok(Decided::Done(Some(row)))
}

/// Confirms a pending booking fenced by its hold token in the caller's transaction (with a
/// payment's authorisation). `None`: not confirmed (lapsed, other token, not pending).
pub async fn confirm_in(
    tx: &mut sqlx::PgConnection,
    id: Uuid,
    hold_token: Uuid,
) -> sqlx::Result<Option<BookingRow>> {
    // The entry first (the lock order): a customer leaving the waitlist at this moment either
    // goes first (and cancels the unpaid offer) or sees the entry fulfilled.
    let entry: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM waitlist WHERE offer_booking_id = $1 AND status = 'OFFERED' FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let confirm = StatusChange::new(&[BookingStatus::PendingPayment], BookingStatus::Confirmed)?;
    let row: Option<BookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE bookings SET status = $3, expires_at = NULL, updated_at = now() \
         WHERE id = $1 AND hold_token = $2 AND status = ANY($4) AND expires_at > now() \
         RETURNING {BOOKING_COLUMNS}"
    )))
    .bind(id)
    .bind(hold_token)
    .bind(confirm.to)
    .bind(&confirm.from)
    .fetch_optional(&mut *tx)
    .await?;
    if row.is_none() {
        return Ok(None);
    }
    if let Some(entry) = entry {
        sqlx::query("UPDATE waitlist SET status = $2, updated_at = now() WHERE id = $1")
            .bind(entry)
            .bind(WaitlistStatus::Fulfilled.as_str())
            .execute(&mut *tx)
            .await?;
    }
    Ok(row)
}

/// The outcome of a write that a device's claim may have pre-empted.
#[derive(Debug)]
pub enum Decided<T> {
    /// Carried out (or refused) here.
    Done(T),
    /// The device's operation was claimed before: nothing was done here.
    Elsewhere,
}

/// One booking by id.
pub async fn get<'e>(db: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<BookingRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Cancels a pending or confirmed booking in its own transaction.
pub async fn cancel(
    db: &PgPool,
    id: Uuid,
    claim: Option<&DeviceOp>,
) -> sqlx::Result<Decided<Option<(BookingRow, AssetChange)>>> {
    let mut tx = db.begin().await?;
    if let Some(op) = claim
        && !idempotency::claim_device_op(&mut *tx, op).await?
    {
        return Ok(Decided::Elsewhere);
    }
    let (row, change) = cancel_in(&mut tx, id, false).await?;
    let (Some(row), Some(change)) = (row, change) else {
        // Nothing cancelled: roll back (a version bump without a change would only cost a
        // rebuild of the asset's calendar later; the device's claim goes too).
        return Ok(Decided::Done(None));
    };
    tx.commit().await?;
    Ok(Decided::Done(Some((row, change))))
}

/// Cancels a booking inside the caller's transaction: a pending or confirmed one, or only a
/// pending one (`unpaid_only`, for a waitlist offer whose customer left). Returns the cancelled
/// row (`None`: missing or in another state) and the asset's change when its version was bumped
/// (the caller publishes it after commit, even when it freed nothing, so the calendar's version
/// keeps up).
pub async fn cancel_in(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    unpaid_only: bool,
) -> sqlx::Result<(Option<BookingRow>, Option<AssetChange>)> {
    let cancellable: &[BookingStatus] = if unpaid_only {
        &[BookingStatus::PendingPayment]
    } else {
        &[BookingStatus::PendingPayment, BookingStatus::Confirmed]
    };
    let cancel = StatusChange::new(cancellable, BookingStatus::Cancelled)?;
    // Only an asset with something to cancel is locked.
    let asset: Option<Uuid> =
        sqlx::query_scalar("SELECT asset_id FROM bookings WHERE id = $1 AND status = ANY($2)")
            .bind(id)
            .bind(&cancel.from)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(asset) = asset else {
        return Ok((None, None));
    };
    let Some(locked) = lock_asset(tx, asset, None).await? else {
        return Ok((None, None));
    };
    let row: Option<BookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE bookings SET status = $2, updated_at = now() \
         WHERE id = $1 AND status = ANY($3) RETURNING {BOOKING_COLUMNS}"
    )))
    .bind(id)
    .bind(cancel.to)
    .bind(&cancel.from)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok((None, Some(locked.change(Vec::new(), None))));
    };
    let freed = (row.start_date, row.occupied_end);
    locked.enqueue_freed(tx, row.id, freed).await?;
    let change = locked.change(vec![freed], None);
    Ok((Some(row), Some(change)))
}

/// Bookings of a branch, newest first, optionally of one status.
pub async fn list_for_branch(
    db: &PgPool,
    branch_id: Uuid,
    status: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<BookingRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS} FROM bookings \
         WHERE branch_id = $1 AND ($2::text IS NULL OR status = $2) \
         ORDER BY created_at DESC, id LIMIT $3"
    )))
    .bind(branch_id)
    .bind(status)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A customer's bookings, newest first.
pub async fn list_for_customer(
    db: &PgPool,
    customer: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<BookingRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS} FROM bookings WHERE customer_id = $1 ORDER BY created_at DESC, id LIMIT $2"
    )))
    .bind(customer)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_change_the_lifecycle_forbids_is_refused_before_any_sql() {
        let cancel = StatusChange::new(
            &[BookingStatus::PendingPayment, BookingStatus::Confirmed],
            BookingStatus::Cancelled,
        )
        .expect("legal");
        assert_eq!(cancel.from, ["PENDING_PAYMENT", "CONFIRMED"]);
        assert_eq!(cancel.to, "CANCELLED");
        // A confirmed booking never expires: its payment is in.
        assert!(StatusChange::new(&[BookingStatus::Confirmed], BookingStatus::Expired).is_err());
    }
}
