//! One booking attempt end to end, and the other booking actions.
//!
//! Create: validate → calendar says "taken"? reject fast → per-asset Redlock (busy → 409 with a
//! retry hint; unavailable → go on, Postgres decides) → one Postgres transaction (expire lapsed
//! overlapping holds, insert the hold) → release the lock → write the calendar bits. A Postgres
//! refusal the calendar did not predict, or bits already set after our commit, are
//! disagreements: the asset's calendar is rebuilt from Postgres on the spot.

use std::{sync::Arc, time::Duration};

use chrono::{NaiveDate, Utc};
use sentra_domain::{BookingStatus, BranchTimeZone, DateRange};
use sentra_protocol::FieldError;
use sqlx::PgPool;
use uuid::Uuid;

use super::{directory::AssetDirectory, reconcile, repo};
use crate::cache::{
    Cache,
    calendar::{AssetCalendar, SkuDays},
    redlock::{LockError, Redlock},
};

/// Tunables of the booking engine (from configuration).
#[derive(Debug, Clone)]
pub struct BookingSettings {
    /// How long a PENDING_PAYMENT hold waits for payment.
    pub payment_window: Duration,
    /// Upper bound of the per-asset lock's lifetime (released right after commit).
    pub lock_ttl: Duration,
    /// How long a waitlist offer is held for the customer to pay.
    pub offer_window: Duration,
    /// Longest rental, in days.
    pub max_rental_days: u32,
    /// How far ahead a rental may start, in days.
    pub booking_horizon_days: u32,
}

/// A create request, already parsed.
#[derive(Debug, Clone)]
pub struct CreateBooking {
    pub asset_id: Uuid,
    pub customer_id: Uuid,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Why a booking action failed.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("asset not found")]
    UnknownAsset,
    #[error("booking not found")]
    NotFound,
    #[error("the asset is not available for these dates")]
    Taken,
    #[error("the asset cannot be rented: it is {0}")]
    NotRentable(String),
    #[error("the asset moved to another branch while it was being booked")]
    Moved,
    #[error("another booking of this asset is in progress")]
    Busy { retry_after: Duration },
    #[error("the payment window lapsed")]
    HoldExpired,
    #[error("a {status} booking cannot be {action}")]
    InvalidState {
        status: String,
        action: &'static str,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The booking engine's entry point.
#[derive(Debug, Clone)]
pub struct BookingService {
    db: PgPool,
    cache: Arc<Cache>,
    redlock: Arc<Redlock>,
    directory: AssetDirectory,
    settings: BookingSettings,
}

/// SQLSTATEs that mean "somebody else has it": exclusion violation and deadlock.
fn is_conflict(err: &sqlx::Error) -> bool {
    crate::db::has_sqlstate(err, &["23P01", "40P01"])
}

fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    crate::db::has_sqlstate(err, &["23503"])
}

impl BookingService {
    /// Builds the service.
    pub fn new(
        db: PgPool,
        cache: Arc<Cache>,
        redlock: Arc<Redlock>,
        settings: BookingSettings,
    ) -> Self {
        Self {
            db,
            cache,
            redlock,
            directory: AssetDirectory::default(),
            settings,
        }
    }

    /// The Redis layer.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The settings in force.
    pub fn settings(&self) -> &BookingSettings {
        &self.settings
    }

    /// Validates the dates of a rental against the branch's "today".
    fn validate(
        &self,
        req: &CreateBooking,
        zone: BranchTimeZone,
    ) -> Result<DateRange, BookingError> {
        let range = DateRange::new(req.start, req.end).map_err(|_| {
            BookingError::Invalid(vec![FieldError::new("end", "must be after start")])
        })?;
        let today = zone.local_date_of(Utc::now());
        let mut errors = Vec::new();
        if range.start() < today {
            errors.push(FieldError::new(
                "start",
                format!("is in the past (today is {today} {})", zone.abbreviation()),
            ));
        }
        if range.nights() > self.settings.max_rental_days {
            errors.push(FieldError::new(
                "end",
                format!(
                    "a rental may last at most {} days",
                    self.settings.max_rental_days
                ),
            ));
        }
        let horizon = today + chrono::Days::new(u64::from(self.settings.booking_horizon_days));
        if range.start() > horizon {
            errors.push(FieldError::new(
                "start",
                format!(
                    "bookings open {} days ahead",
                    self.settings.booking_horizon_days
                ),
            ));
        }
        if errors.is_empty() {
            Ok(range)
        } else {
            Err(BookingError::Invalid(errors))
        }
    }

    /// Creates a PENDING_PAYMENT hold that waits the configured payment window.
    pub async fn create(&self, req: &CreateBooking) -> Result<repo::BookingRow, BookingError> {
        self.create_with_window(req, self.settings.payment_window)
            .await
    }

    /// Creates a PENDING_PAYMENT hold that waits `window` for payment (waitlist offers wait longer).
    #[tracing::instrument(skip_all, fields(asset = %req.asset_id), err(level = "debug"))]
    #[expect(
        clippy::too_many_lines,
        reason = "one attempt's steps in order: reading them top to bottom is the point"
    )]
    pub async fn create_with_window(
        &self,
        req: &CreateBooking,
        window: Duration,
    ) -> Result<repo::BookingRow, BookingError> {
        // The fast path works from the directory cache: no Postgres round trip to say "taken".
        let (known, just_read) = self
            .directory
            .get(&self.db, req.asset_id)
            .await?
            .ok_or(BookingError::UnknownAsset)?;
        let zone = BranchTimeZone::from_iana(&known.time_zone)
            .map_err(|e| BookingError::Database(sqlx::Error::Protocol(e.to_string())))?;
        let range = self.validate(req, zone)?;
        if known.status != "active" {
            return Err(BookingError::NotRentable(known.status.clone()));
        }
        let buffer = |days: i32| chrono::Days::new(u64::try_from(days).unwrap_or(0));
        let calendar = AssetCalendar::new(&self.cache.key_prefix, &known.sku_code, known.asset_id);
        let redis = self.cache.main.connection().await.ok();
        if let Some(mut conn) = redis.clone() {
            match calendar
                .is_free(
                    &mut conn,
                    range.start(),
                    range.end() + buffer(known.buffer_days),
                )
                .await
            {
                Ok(false) => return Err(BookingError::Taken),
                Ok(true) => {}
                Err(e) => tracing::warn!(error = %e, "calendar check failed; asking Postgres"),
            }
        }

        let lock_key = format!(
            "{}lock:{{{}:{}}}",
            self.cache.key_prefix, known.sku_code, known.asset_id
        );
        let lease = match self
            .redlock
            .acquire(&lock_key, self.settings.lock_ttl)
            .await
        {
            Ok(lease) => Some(lease),
            Err(LockError::Busy { retry_after }) => return Err(BookingError::Busy { retry_after }),
            Err(e @ LockError::Unavailable { .. }) => {
                tracing::warn!(error = %e, "booking without the asset lock; Postgres still decides");
                None
            }
        };

        // From here on, fresh data: the transaction must not act on a cached row.
        let fresh = if just_read {
            Ok(Some(known.as_ref().clone()))
        } else {
            repo::asset_context(&self.db, req.asset_id).await
        };
        let asset = match fresh {
            Ok(Some(asset)) if asset.status == "active" => asset,
            fresh => {
                if let Some(lease) = &lease {
                    self.redlock.release(lease).await;
                }
                return Err(match fresh {
                    Ok(Some(asset)) => BookingError::NotRentable(asset.status),
                    Ok(None) => BookingError::UnknownAsset,
                    Err(e) => e.into(),
                });
            }
        };
        let occupied_end = range.end() + buffer(asset.buffer_days);
        let nights = i64::from(range.nights());
        let hold = repo::NewHold {
            id: Uuid::now_v7(),
            customer_id: req.customer_id,
            start: range.start(),
            end: range.end(),
            total_idr: asset.daily_rate_idr.saturating_mul(nights),
            hold_token: Uuid::new_v4(),
            payment_window_secs: i64::try_from(window.as_secs()).unwrap_or(600),
        };
        let outcome = repo::create_hold(&self.db, &asset, &hold).await;
        let (booking, freed) = match outcome {
            Ok(Some(done)) => done,
            Ok(None) => {
                // Retired, sent to the workshop or moved to another branch meanwhile.
                if let Some(lease) = &lease {
                    self.redlock.release(lease).await;
                }
                return Err(match repo::asset_context(&self.db, req.asset_id).await? {
                    Some(now) if now.status != "active" => BookingError::NotRentable(now.status),
                    Some(_) => BookingError::Moved,
                    None => BookingError::UnknownAsset,
                });
            }
            Err(e) => {
                if let Some(lease) = &lease {
                    self.redlock.release(lease).await;
                }
                return Err(if is_conflict(&e) {
                    // The calendar said free, Postgres said taken: repair the calendar now.
                    self.repair(asset.asset_id).await;
                    BookingError::Taken
                } else if is_foreign_key_violation(&e) {
                    BookingError::Invalid(vec![FieldError::new("customer_id", "no such customer")])
                } else {
                    e.into()
                });
            }
        };
        // Committed: release the lock and write the bits at the same time.
        let release = async {
            if let Some(lease) = &lease {
                self.redlock.release(lease).await;
            }
        };
        let bits = async {
            if let Some(conn) = redis {
                self.write_bits(conn, &freed, &calendar, &asset, range.start(), occupied_end)
                    .await;
            }
        };
        tokio::join!(release, bits);
        Ok(booking)
    }

    /// After a commit: clears what lapsed holds freed, then sets the new booking's days in the
    /// asset calendar and the SKU's search index (two keys in different cluster slots, written
    /// concurrently).
    async fn write_bits(
        &self,
        mut conn: crate::cache::RedisConn,
        freed: &[repo::FreedRange],
        calendar: &AssetCalendar,
        asset: &repo::AssetContext,
        start: NaiveDate,
        end: NaiveDate,
    ) {
        if !freed.is_empty() {
            self.clear_bits(&mut conn, freed).await;
        }
        let mut index_conn = conn.clone();
        let days = SkuDays::new(&self.cache.key_prefix, &asset.sku_code);
        let ordinal = u32::try_from(asset.sku_ordinal).unwrap_or(0);
        let (reserved, marked) = tokio::join!(
            calendar.reserve(&mut conn, start, end),
            days.mark(&mut index_conn, ordinal, start, end, true)
        );
        match reserved {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("calendar bits were already set after commit; rebuilding the asset");
                self.repair(asset.asset_id).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "writing calendar bits failed; the reconciler will");
            }
        }
        if let Err(e) = marked {
            tracing::warn!(error = %e, "writing search bits failed; the reconciler will");
        }
    }

    /// Confirms a hold (payment authorised or a manual deposit), fenced by its hold token.
    pub async fn confirm(
        &self,
        id: Uuid,
        hold_token: Uuid,
    ) -> Result<repo::BookingRow, BookingError> {
        if let Some(row) = repo::confirm(&self.db, id, hold_token).await? {
            super::waitlist::offer_confirmed(&self.db, id).await?;
            return Ok(row);
        }
        let current = repo::get(&self.db, id)
            .await?
            .ok_or(BookingError::NotFound)?;
        match current.status.parse::<BookingStatus>() {
            // A repeated confirm by the same holder is answered with the confirmed booking.
            Ok(BookingStatus::Confirmed) if current.hold_token == Some(hold_token) => Ok(current),
            Ok(BookingStatus::PendingPayment | BookingStatus::Expired)
                if current.hold_token == Some(hold_token) =>
            {
                Err(BookingError::HoldExpired)
            }
            _ if current.hold_token != Some(hold_token) => Err(BookingError::NotFound),
            _ => Err(BookingError::InvalidState {
                status: current.status,
                action: "confirmed",
            }),
        }
    }

    /// Cancels a pending or confirmed booking and frees its days.
    pub async fn cancel(&self, id: Uuid) -> Result<repo::BookingRow, BookingError> {
        if let Some((row, freed)) = repo::cancel(&self.db, id).await? {
            if let Ok(mut conn) = self.cache.main.connection().await {
                self.clear_bits(&mut conn, std::slice::from_ref(&freed))
                    .await;
            }
            Ok(row)
        } else {
            let current = repo::get(&self.db, id)
                .await?
                .ok_or(BookingError::NotFound)?;
            Err(BookingError::InvalidState {
                status: current.status,
                action: "cancelled",
            })
        }
    }

    /// One booking.
    pub async fn get(&self, id: Uuid) -> Result<repo::BookingRow, BookingError> {
        repo::get(&self.db, id).await?.ok_or(BookingError::NotFound)
    }

    /// Clears the calendar bits of freed ranges (best effort: the reconciler repairs misses).
    pub async fn clear_bits(&self, conn: &mut crate::cache::RedisConn, freed: &[repo::FreedRange]) {
        for range in freed {
            let calendar =
                AssetCalendar::new(&self.cache.key_prefix, &range.sku_code, range.asset_id);
            let days = SkuDays::new(&self.cache.key_prefix, &range.sku_code);
            let ordinal = u32::try_from(range.sku_ordinal).unwrap_or(0);
            let cleared = match calendar
                .release(conn, range.start_date, range.end_date)
                .await
            {
                Ok(()) => {
                    days.mark(conn, ordinal, range.start_date, range.end_date, false)
                        .await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = cleared {
                tracing::warn!(error = %e, "clearing calendar bits failed; the reconciler will");
            }
        }
    }

    /// Rebuilds one asset's calendar from Postgres.
    async fn repair(&self, asset_id: Uuid) {
        if let Err(e) = reconcile::rebuild_asset(&self.db, &self.cache, asset_id).await {
            tracing::warn!(error = %e, "repairing the calendar failed; the periodic reconciler will");
        }
    }
}
