//! The waitlist: customers queue for a SKU on dates that are sold out; when a unit frees up
//! (cancellation, lapsed payment, early return) the first entry that fits gets an exclusive,
//! timed offer — a PENDING_PAYMENT booking held for them. If they do not pay in time, the offer
//! lapses like any hold and the freed days go to the next entry.
//!
//! Order: membership tier first (platinum, gold, silver, regular), then who joined first. The
//! `waitlist` table is the truth; the Redis sorted sets are an index for positions.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use sentra_domain::{MembershipTier, WaitlistStatus};
use sqlx::PgPool;
use uuid::Uuid;

use super::{BookingError, BookingService, SkuBooking, availability::SearchError};
use crate::{cache::waitlist_index, inventory::catalogue, jobs::UnitFreed};

/// The score of an entry: tier first (platinum, gold, silver, regular), then enqueue time. Tiers
/// are spaced so that enqueue time (milliseconds since 1970, < 10^13) never reorders them, and the
/// score stays exact in an f64 (< 2^53).
pub fn priority(tier: MembershipTier, joined_at: DateTime<Utc>) -> f64 {
    #[expect(
        clippy::cast_precision_loss,
        reason = "milliseconds since 1970 stay below 2^53"
    )]
    let millis = joined_at.timestamp_millis() as f64;
    f64::from(tier.waitlist_rank()) * 1e13 + millis
}

/// A waitlist entry as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: Uuid,
    pub sku_id: Uuid,
    pub sku_code: String,
    pub branch_id: Option<Uuid>,
    pub customer_id: Uuid,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub priority: f64,
    #[sqlx(try_from = "String")]
    pub status: WaitlistStatus,
    pub offer_booking_id: Option<Uuid>,
}

const ENTRY_COLUMNS: &str = "w.id, w.sku_id, s.code AS sku_code, w.branch_id, w.customer_id, \
    lower(w.period) AS start_date, upper(w.period) AS end_date, w.priority, w.status, w.offer_booking_id";

/// Why joining failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The request names something that does not exist: the request field, and what it names.
    #[error("no such {what} ({field})")]
    Unknown {
        field: &'static str,
        what: &'static str,
    },
    /// The dates break the booking rules (each field named).
    #[error("the dates are not valid")]
    BadDates(Vec<sentra_protocol::FieldError>),
    /// Units are free for the dates (in the branch asked, or anywhere): book one instead.
    #[error("{0} units are free for these dates")]
    UnitsFree(usize),

    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Joins the waitlist for sold-out dates (free ones are refused: book them); joining again with
/// the same request returns the open entry.
/// Returns the entry and whether it was created now.
#[tracing::instrument(name = "waitlist.join", skip_all, fields(customer = %customer_id))]
pub async fn join(
    service: &BookingService,
    db: &PgPool,
    customer_id: Uuid,
    sku_code: &str,
    branch_code: Option<&str>,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<(Entry, bool), JoinError> {
    let zone = match branch_code {
        Some(code) => service
            .availability()
            .branch(code)
            .await
            .map_or(sentra_domain::BranchTimeZone::Wib, |b| b.time_zone),
        // Across branches: the westernmost zone's today, the earliest date still bookable.
        None => sentra_domain::BranchTimeZone::Wib,
    };
    service
        .date_rules(start, end, zone)
        .map_err(JoinError::BadDates)?;
    let sku = catalogue::sku_id(db, sku_code)
        .await?
        .ok_or(JoinError::Unknown {
            field: "sku",
            what: "sku",
        })?;
    let branch =
        match branch_code {
            Some(code) => Some(catalogue::branch_id(db, code).await?.ok_or(
                JoinError::Unknown {
                    field: "branch",
                    what: "branch",
                },
            )?),
            None => None,
        };
    // Free dates are booked, not queued for. Decided against Postgres, as a booking would be.
    let free = service
        .availability()
        .free_assets_in_postgres(sku_code, branch_code, start, end)
        .await
        .map_err(|e| match e {
            SearchError::Database(e) => JoinError::Database(e),
            SearchError::UnknownSku => JoinError::Unknown {
                field: "sku",
                what: "sku",
            },
            SearchError::UnknownBranch => JoinError::Unknown {
                field: "branch",
                what: "branch",
            },
        })?
        .free
        .len();
    if free > 0 {
        return Err(JoinError::UnitsFree(free));
    }
    let tier: Option<String> =
        sqlx::query_scalar("SELECT membership_tier FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(db)
            .await?;
    let tier: MembershipTier = tier
        .ok_or(JoinError::Unknown {
            field: "customer_id",
            what: "customer",
        })?
        .parse()
        .map_err(|e: sentra_domain::UnknownTier| sqlx::Error::Decode(Box::new(e)))?;
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO waitlist (id, sku_id, branch_id, customer_id, period, priority) \
         VALUES ($1, $2, $3, $4, daterange($5, $6, '[)'), $7) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(sku)
    .bind(branch)
    .bind(customer_id)
    .bind(start)
    .bind(end)
    .bind(priority(tier, Utc::now()))
    .execute(db)
    .await?
    .rows_affected()
        == 1;
    let entry: Entry = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS} FROM waitlist w JOIN skus s ON s.id = w.sku_id \
         WHERE w.customer_id = $1 AND w.sku_id = $2 AND w.branch_id IS NOT DISTINCT FROM $3 \
           AND w.period = daterange($4, $5, '[)') AND w.status IN ('WAITING', 'OFFERED')"
    )))
    .bind(customer_id)
    .bind(sku)
    .bind(branch)
    .bind(start)
    .bind(end)
    .fetch_one(db)
    .await?;
    if entry.status == WaitlistStatus::Waiting {
        index_add(service, &entry).await;
    }
    Ok((entry, inserted))
}

/// One entry.
#[tracing::instrument(name = "waitlist.get", skip_all, fields(entry = %id))]
pub async fn get(db: &PgPool, id: Uuid) -> sqlx::Result<Option<Entry>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS} FROM waitlist w JOIN skus s ON s.id = w.sku_id WHERE w.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// An open entry in its queue, with its 1-based place among the waiting entries of its pickup
/// day (`None` once offered).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Queued {
    #[sqlx(flatten)]
    pub entry: Entry,
    pub position: Option<i64>,
}

/// The open entries (waiting, offered) of `sku_code`, in queue order: pickup day, then tier and
/// joining time. `branches` limits them to those branches' queues, which include the entries for
/// any branch (a unit freed at a branch is offered to them too, see [`unit_freed`]); HQ passes
/// `None`: every queue.
///
/// A waiting entry's place counts the entries ahead of it that compete for the same units: its
/// branch's and those for any branch. An entry for any branch competes everywhere: seen from one
/// branch, its place is in that branch's queue; seen from several or all, among every entry of
/// the day.
#[tracing::instrument(name = "waitlist.queue", skip_all, fields(sku = %sku_code))]
pub async fn queue(
    db: &PgPool,
    sku_code: &str,
    branches: Option<&[Uuid]>,
) -> sqlx::Result<Vec<Queued>> {
    if branches.is_some_and(<[Uuid]>::is_empty) {
        // Staff of no branch: no queue, not even the entries for any branch.
        return Ok(Vec::new());
    }
    // The branch a place is counted in: the entry's own, or the one branch being looked at.
    let viewed: Option<Uuid> = match branches {
        Some([one]) => Some(*one),
        _ => None,
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS}, CASE WHEN w.status = 'WAITING' THEN (\
             SELECT count(*) + 1 FROM waitlist o \
             WHERE o.sku_id = w.sku_id AND lower(o.period) = lower(w.period) \
               AND o.status = 'WAITING' AND (o.priority, o.id) < (w.priority, w.id) \
               AND (o.branch_id IS NULL OR COALESCE(w.branch_id, $3) IS NULL \
                    OR o.branch_id = COALESCE(w.branch_id, $3))) END AS position \
         FROM waitlist w JOIN skus s ON s.id = w.sku_id \
         WHERE s.code = $1 AND w.status IN ('WAITING', 'OFFERED') \
           AND ($2::uuid[] IS NULL OR w.branch_id IS NULL OR w.branch_id = ANY($2)) \
         ORDER BY lower(w.period), w.status DESC, w.priority, w.id LIMIT 500"
    )))
    .bind(sku_code)
    .bind(branches)
    .bind(viewed)
    .fetch_all(db)
    .await
}

/// Leaves the waitlist. An unpaid offer is cancelled with it, in the same transaction; a paid
/// one is never touched (its entry is FULFILLED, which cannot be left).
#[tracing::instrument(name = "waitlist.leave", skip_all, fields(entry = %id))]
pub async fn leave(
    service: &BookingService,
    db: &PgPool,
    id: Uuid,
) -> Result<Option<Entry>, BookingError> {
    let mut tx = db.begin().await?;
    // The entry first (the lock order): a confirm of its offer at this moment waits for us, or
    // went first and made the entry FULFILLED.
    let entry: Option<Entry> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH left_entry AS (UPDATE waitlist SET status = $2, updated_at = now() \
             WHERE id = $1 AND status IN ('WAITING', 'OFFERED') RETURNING *) \
         SELECT {ENTRY_COLUMNS} FROM left_entry w JOIN skus s ON s.id = w.sku_id"
    )))
    .bind(id)
    .bind(WaitlistStatus::Left.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let mut change = None;
    let offer = entry.as_ref().and_then(|e| e.offer_booking_id);
    if let Some(offer) = offer {
        change = super::repo::cancel_in(&mut tx, offer, true).await?.1;
    }
    tx.commit().await?;
    if let (Some(booking), Some(_)) = (offer, &change) {
        tracing::info!(%booking, "booking cancelled: its customer left the waitlist");
    }
    if let Some(entry) = &entry {
        index_remove(service, entry).await;
    }
    if let Some(change) = change {
        service.projection().publish(&[change]).await;
    }
    Ok(entry)
}

/// 1-based position among waiting entries for the same SKU and pickup day. Answered by the
/// Redis index; when the index lacks the entry (Redis restarted or was flushed) the day's index
/// is rebuilt from Postgres first.
pub async fn position(
    service: &BookingService,
    db: &PgPool,
    entry: &Entry,
) -> sqlx::Result<Option<u64>> {
    if entry.status != WaitlistStatus::Waiting {
        return Ok(None);
    }
    let cache = service.cache();
    let key = waitlist_index::key(&cache.key_prefix, &entry.sku_code, entry.start_date);
    let Ok(mut conn) = cache.main.connection().await else {
        return position_from_postgres(db, entry).await.map(Some);
    };
    if let Ok(Some(position)) = waitlist_index::position(&mut conn, &key, entry.id).await {
        return Ok(Some(position));
    }
    let waiting: Vec<(Uuid, f64)> = sqlx::query_as(
        "SELECT id, priority FROM waitlist WHERE sku_id = $1 AND lower(period) = $2 AND status = 'WAITING'",
    )
    .bind(entry.sku_id)
    .bind(entry.start_date)
    .fetch_all(db)
    .await?;
    if let Err(e) = waitlist_index::replace(&mut conn, &key, &waiting).await {
        tracing::warn!(error = %e, "rebuilding the waitlist index failed");
        return position_from_postgres(db, entry).await.map(Some);
    }
    match waitlist_index::position(&mut conn, &key, entry.id).await {
        Ok(Some(position)) => Ok(Some(position)),
        _ => position_from_postgres(db, entry).await.map(Some),
    }
}

async fn position_from_postgres(db: &PgPool, entry: &Entry) -> sqlx::Result<u64> {
    let ahead: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM waitlist WHERE sku_id = $1 AND lower(period) = $2 AND status = 'WAITING' \
           AND (priority, id) < ($3, $4)",
    )
    .bind(entry.sku_id)
    .bind(entry.start_date)
    .bind(entry.priority)
    .bind(entry.id)
    .fetch_one(db)
    .await?;
    Ok(u64::try_from(ahead).unwrap_or(0) + 1)
}

/// A unit of `sku_id` freed up on `[start, end)` (the `unit_freed` job): closes the offer that
/// lapsed with it, then offers the asset to the first waiting entries that fit. Every decision is
/// Postgres's: the calendar bits may be stale (a write after commit failed, Redis restarted), so
/// they are not asked. A busy asset fails the job, which runs again later.
#[tracing::instrument(name = "waitlist.unit_freed", skip_all, fields(booking = %freed.booking_id))]
pub async fn unit_freed(
    service: &BookingService,
    db: &PgPool,
    freed: &UnitFreed,
) -> anyhow::Result<Option<Uuid>> {
    let UnitFreed {
        booking_id: freed_booking,
        asset_id: _,
        sku_id,
        branch_id,
        start,
        end,
    } = *freed;
    sqlx::query(
        "UPDATE waitlist SET status = $2, updated_at = now() \
         WHERE offer_booking_id = $1 AND status = 'OFFERED'",
    )
    .bind(freed_booking)
    .bind(WaitlistStatus::Expired.as_str())
    .execute(db)
    .await?;
    let candidates: Vec<Entry> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS} FROM waitlist w JOIN skus s ON s.id = w.sku_id \
         WHERE w.sku_id = $1 AND w.status = 'WAITING' AND w.period && daterange($2, $3, '[)') \
           AND (w.branch_id IS NULL OR w.branch_id = $4) \
         ORDER BY w.priority, w.id LIMIT 50"
    )))
    .bind(sku_id)
    .bind(start)
    .bind(end)
    .bind(branch_id)
    .fetch_all(db)
    .await?;
    let branch_codes: Vec<(Uuid, String)> = sqlx::query_as("SELECT id, code FROM branches")
        .fetch_all(db)
        .await?;
    // Scopes and dates found sold out in this run: the entries behind them are not asked again.
    let mut sold_out: HashSet<(Option<Uuid>, NaiveDate, NaiveDate)> = HashSet::new();
    for entry in candidates {
        let scope = (entry.branch_id, entry.start_date, entry.end_date);
        if sold_out.contains(&scope) {
            continue;
        }
        let branch = match entry.branch_id {
            None => None,
            Some(id) => match branch_codes.iter().find(|(b, _)| *b == id) {
                Some((_, code)) => Some(code.clone()),
                // Never widen an entry's scope to every branch.
                None => continue,
            },
        };
        // Any free unit of the SKU in the entry's scope, not only the one freed: the entry is
        // for the model, and the freed unit may not fit its dates while another does.
        let request = SkuBooking {
            sku: entry.sku_code.clone(),
            branch,
            near: None,
            customer_id: entry.customer_id,
            start: entry.start_date,
            end: entry.end_date,
        };
        match service.offer_for_sku(&request, entry.id).await {
            Ok(booking) => {
                index_remove(service, &entry).await;
                tracing::info!(entry = %entry.id, booking = %booking.id, "waitlist offer made");
                return Ok(Some(booking.id));
            }
            // Not free for this entry's dates (or past/too long now), or the customer left: the
            // next one may fit.
            Err(BookingError::SoldOut) => {
                sold_out.insert(scope);
            }
            Err(
                BookingError::Taken(_)
                | BookingError::Invalid(_)
                | BookingError::NotRentable(_)
                | BookingError::Moved
                | BookingError::EntryGone,
            ) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

async fn index_add(service: &BookingService, entry: &Entry) {
    let cache = service.cache();
    let key = waitlist_index::key(&cache.key_prefix, &entry.sku_code, entry.start_date);
    if let Ok(mut conn) = cache.main.connection().await
        && let Err(e) = waitlist_index::add(&mut conn, &key, entry.id, entry.priority).await
    {
        tracing::warn!(error = %e, "waitlist index update failed; positions fall back to Postgres");
    }
}

async fn index_remove(service: &BookingService, entry: &Entry) {
    let cache = service.cache();
    let key = waitlist_index::key(&cache.key_prefix, &entry.sku_code, entry.start_date);
    if let Ok(mut conn) = cache.main.connection().await {
        let _ = waitlist_index::remove(&mut conn, &key, entry.id).await;
    }
}
