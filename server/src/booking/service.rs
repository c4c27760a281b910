//! One booking attempt end to end, and the other booking actions.
//!
//! Create: validate → the calendar says "taken"? ask Postgres what holds the dates and refuse with
//! that (stale bits are repaired and the attempt goes on) → per-asset Redlock (busy → 409 with a
//! retry hint; unavailable → go on, Postgres decides) → one Postgres transaction (lock the asset,
//! check, expire lapsed overlapping holds, insert the hold, plus the attached work) → release the
//! lock and write the calendar change. The lock is a [`LeaseGuard`]: however the attempt ends
//! (time limit, disconnect, panic) it is released.

use std::{sync::Arc, time::Duration};

use chrono::{NaiveDate, Utc};
use sentra_domain::{BookingStatus, BranchTimeZone, DateRange, Money, occupied_until};
use sentra_protocol::FieldError;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    BookingError,
    availability::Availability,
    directory::AssetDirectory,
    projection::{AssetChange, Projection},
    reconcile::CalendarWindow,
    repo::{self, Attach, HoldOutcome},
};
use crate::{
    cache::{
        Cache,
        calendar::AssetCalendar,
        redlock::{EXPECTED_WAIT, LeaseGuard, LockError, LockWait, Redlock},
    },
    idempotency::{Claim, DeviceOp},
};

/// The lock's TTL slice: renewed while the attempt runs, so a crashed server leaves the lock
/// for at most this long (never more than `SENTRA_LOCK_TTL_SECS`).
const LOCK_SLICE: Duration = Duration::from_secs(5);

/// Transactions tried per attempt when Postgres reports a deadlock or an overlap that the asset
/// lock should have prevented (a writer that bypassed it).
const TRANSACTION_TRIES: u32 = 3;

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

impl BookingSettings {
    /// The days the calendar must cover for these rules.
    pub fn calendar_window(&self) -> CalendarWindow {
        CalendarWindow::new(self.booking_horizon_days, self.max_rental_days)
    }
}

/// A create request, already parsed.
#[derive(Debug, Clone)]
pub struct CreateBooking {
    pub asset_id: Uuid,
    pub customer_id: Uuid,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// How an attempt uses the Redis calendar before it takes the asset lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CalendarUse {
    /// "Taken" bits are confirmed in Postgres and refused with what Postgres found (a customer
    /// asked for this unit).
    Confirm,
    /// "Taken" bits skip the unit without asking Postgres: one candidate of a booking by SKU,
    /// which tries the next unit (and asks Postgres before it answers "sold out").
    SkipWhenTaken,
    /// Not asked: Postgres alone decides (jobs, and candidates Postgres just chose).
    Ignore,
}

/// A unit that a booking by SKU chose: the branch it was chosen at (the asset must still be
/// there) and whether a busy lock on it is waited for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Chosen {
    pub(super) branch: Uuid,
    pub(super) wait: LockWait,
}

/// The booking engine's entry point.
#[derive(Debug, Clone)]
pub struct BookingService {
    pub(super) db: PgPool,
    redlock: Arc<Redlock>,
    directory: AssetDirectory,
    projection: Projection,
    pub(super) availability: Availability,
    pub(super) settings: BookingSettings,
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
        let projection = Projection::new(db.clone(), cache, settings.calendar_window());
        Self {
            availability: Availability::new(db.clone(), projection.clone()),
            db,
            redlock,
            directory: AssetDirectory::default(),
            projection,
            settings,
        }
    }

    /// The Redis layer.
    pub fn cache(&self) -> &Cache {
        self.projection.cache()
    }

    /// The calendar projection (writes after commit, rebuilds).
    pub fn projection(&self) -> &Projection {
        &self.projection
    }

    /// Availability search over the same calendar.
    pub fn availability(&self) -> &Availability {
        &self.availability
    }

    /// The settings in force.
    pub fn settings(&self) -> &BookingSettings {
        &self.settings
    }

    /// Validates the dates of a rental against the branch's "today".
    pub(super) fn validate(
        &self,
        req: &CreateBooking,
        zone: BranchTimeZone,
    ) -> Result<DateRange, BookingError> {
        self.date_rules(req.start, req.end, zone)
            .map_err(BookingError::Invalid)
    }

    /// The rules every rental's dates follow (a booking's and a waitlist entry's): after the
    /// start, not in the past at the branch, within the horizon, at most the longest rental.
    pub fn date_rules(
        &self,
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
        zone: BranchTimeZone,
    ) -> Result<DateRange, Vec<FieldError>> {
        let range = DateRange::new(start, end)
            .map_err(|_| vec![FieldError::new("end", "must be after start")])?;
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
            Err(errors)
        }
    }

    /// Creates a PENDING_PAYMENT hold that waits the configured payment window.
    #[tracing::instrument(name = "booking.create", skip_all)]
    pub async fn create(&self, req: &CreateBooking) -> Result<repo::BookingRow, BookingError> {
        self.attempt(
            req,
            self.settings.payment_window,
            CalendarUse::Confirm,
            &Attach::Nothing,
            None,
        )
        .await
    }

    /// Creates a hold and, in its transaction, stores `render(booking)` as the response (HTTP
    /// `status`) of the request's idempotency key. [`BookingError::DecidedElsewhere`] when another
    /// request with the key committed first (nothing was created).
    #[tracing::instrument(name = "booking.create_recorded", skip_all)]
    pub async fn create_recorded(
        &self,
        req: &CreateBooking,
        claim: &Claim,
        status: u16,
        render: &(dyn Fn(&repo::BookingRow) -> serde_json::Value + Sync),
    ) -> Result<repo::BookingRow, BookingError> {
        let attach = Attach::Response {
            claim,
            status,
            render,
        };
        self.attempt(
            req,
            self.settings.payment_window,
            CalendarUse::Confirm,
            &attach,
            None,
        )
        .await
    }

    /// One attempt: the calendar's fast refusal (as `calendar` says), the asset lock, the
    /// transaction, then the lock release and the calendar write. A unit `chosen` by a booking
    /// by SKU must still be at the branch it was chosen at (else [`BookingError::Moved`]).
    #[tracing::instrument(
        name = "booking.attempt",
        skip_all,
        fields(asset = %req.asset_id, customer = %req.customer_id, booking = tracing::field::Empty),
        err(level = "debug")
    )]
    pub(super) async fn attempt(
        &self,
        req: &CreateBooking,
        window: Duration,
        calendar: CalendarUse,
        attach: &Attach<'_>,
        chosen: Option<Chosen>,
    ) -> Result<repo::BookingRow, BookingError> {
        let at_branch = chosen.map(|c| c.branch);
        // The fast path works from the directory cache: no Postgres round trip before Redis.
        let (mut known, mut just_read) = self
            .directory
            .get(&self.db, req.asset_id)
            .await?
            .ok_or(BookingError::UnknownAsset)?;
        if (!known.status.is_rentable() || at_branch.is_some_and(|b| b != known.branch_id))
            && !just_read
        {
            // Nobody is refused on a cached status (the asset may be back from the workshop), nor
            // on a cached branch (its time zone decides the dates).
            known = self
                .directory
                .reload(&self.db, req.asset_id)
                .await?
                .ok_or(BookingError::UnknownAsset)?;
            just_read = true;
        }
        if at_branch.is_some_and(|b| b != known.branch_id) {
            return Err(BookingError::Moved);
        }
        let zone = known.time_zone;
        let range = self.validate(req, zone)?;
        if !known.status.is_rentable() {
            return Err(BookingError::NotRentable(known.status));
        }
        let occupied_end = occupied_until(range.end(), known.buffer_days);
        let calendar_said_free = if calendar == CalendarUse::Ignore {
            false
        } else {
            self.calendar_check(&known, req, range.start(), occupied_end, calendar)
                .await?
        };

        let lock_key = self.cache().asset_lock_key(&known.sku_code, known.asset_id);
        let ttl = self.settings.lock_ttl;
        let wait = chosen.map_or(LockWait::Retry, |c| c.wait);
        let lease = match self
            .redlock
            .acquire_guarded(&lock_key, LOCK_SLICE.min(ttl), ttl, wait)
            .await
        {
            Ok(guard) => Some(guard),
            Err(LockError::Busy { retry_after }) => return Err(BookingError::Busy { retry_after }),
            Err(e @ LockError::Unavailable { .. }) => {
                tracing::warn!(error = %e, "booking without the asset lock; Postgres still decides");
                None
            }
        };
        // From here on, fresh data: the transaction must not act on a cached row.
        let fresh = if just_read {
            Ok(known.as_ref().clone())
        } else {
            repo::asset_context(&self.db, req.asset_id)
                .await
                .map_err(BookingError::from)
                .and_then(|asset| asset.ok_or(BookingError::UnknownAsset))
        };
        let decided = match fresh {
            Ok(asset) if at_branch.is_some_and(|branch| branch != asset.branch_id) => {
                Err(BookingError::Moved)
            }
            Ok(asset) => {
                self.decide(req, &asset, range, window, calendar_said_free, attach)
                    .await
            }
            Err(e) => Err(e),
        };
        // Committed or not: release the lock now (and write the bits at the same time).
        let release = async {
            if let Some(lease) = lease {
                LeaseGuard::release(lease).await;
            }
        };
        match decided {
            Ok((booking, change)) => {
                tracing::Span::current().record("booking", tracing::field::display(booking.id));
                tracing::info!(
                    status = %booking.status,
                    start = %booking.start_date,
                    end = %booking.end_date,
                    "booking held for payment"
                );
                let changes = [change];
                tokio::join!(release, self.projection.publish(&changes));
                Ok(booking)
            }
            Err(e) => {
                release.await;
                Err(e)
            }
        }
    }

    /// Asks the calendar whether the days are free. "Taken" is confirmed in Postgres before it
    /// is answered (and refused with what Postgres found); taken bits that Postgres does not
    /// confirm are stale, so the asset is rebuilt and the attempt goes on. A candidate of a
    /// booking by SKU ([`CalendarUse::SkipWhenTaken`]) is refused on the bits alone. Returns
    /// whether the calendar said free.
    async fn calendar_check(
        &self,
        known: &repo::AssetContext,
        req: &CreateBooking,
        start: NaiveDate,
        occupied_end: NaiveDate,
        calendar_use: CalendarUse,
    ) -> Result<bool, BookingError> {
        let cache = self.cache();
        let calendar = AssetCalendar::new(&cache.key_prefix, &known.sku_code, known.asset_id);
        let Ok(mut conn) = cache.main.connection().await else {
            return Ok(false);
        };
        match calendar.is_free(&mut conn, start, occupied_end).await {
            Ok(true) => Ok(true),
            Ok(false) if calendar_use == CalendarUse::SkipWhenTaken => {
                Err(BookingError::Taken(super::Conflict { held_until: None }))
            }
            Ok(false) => {
                let held = repo::conflict(
                    &self.db,
                    known.asset_id,
                    req.start,
                    req.end,
                    req.customer_id,
                )
                .await?;
                if let Some(conflict) = held {
                    return Err(BookingError::Taken(conflict));
                }
                tracing::info!(
                    "calendar bits said taken, Postgres says free; rebuilding the asset"
                );
                self.projection.repair_in_background(known.asset_id);
                Ok(false)
            }
            Err(e) => {
                tracing::warn!(error = %e, "calendar check failed; asking Postgres");
                Ok(false)
            }
        }
    }

    /// The transaction (retried on a deadlock), and what its outcome means for the caller.
    async fn decide(
        &self,
        req: &CreateBooking,
        asset: &repo::AssetContext,
        range: DateRange,
        window: Duration,
        calendar_said_free: bool,
        attach: &Attach<'_>,
    ) -> Result<(repo::BookingRow, AssetChange), BookingError> {
        if !asset.status.is_rentable() {
            return Err(BookingError::NotRentable(asset.status));
        }
        let nights = i64::from(range.nights());
        let hold = repo::NewHold {
            id: Uuid::now_v7(),
            customer_id: req.customer_id,
            start: range.start(),
            end: range.end(),
            total: Money::from_rupiah(asset.daily_rate_idr)
                .checked_mul(nights)
                .ok_or_else(|| {
                    BookingError::Invalid(vec![FieldError::new("end", "the price is too large")])
                })?,
            hold_token: Uuid::new_v4(),
            payment_window_secs: i64::try_from(window.as_secs()).unwrap_or(600),
        };
        for tries in 1..=TRANSACTION_TRIES {
            let outcome = repo::create_hold(&self.db, asset, &hold, attach).await;
            return match outcome {
                Ok(HoldOutcome::Created { booking, change }) => Ok((booking, change)),
                Ok(HoldOutcome::Taken(conflict)) => {
                    if calendar_said_free {
                        // The calendar missed a booking: rebuild the asset from Postgres.
                        self.projection.repair_in_background(asset.asset_id);
                    }
                    Err(BookingError::Taken(conflict))
                }
                Ok(HoldOutcome::AssetChanged) => {
                    Err(match repo::asset_context(&self.db, asset.asset_id).await? {
                        Some(now) if !now.status.is_rentable() => {
                            BookingError::NotRentable(now.status)
                        }
                        Some(_) => BookingError::Moved,
                        None => BookingError::UnknownAsset,
                    })
                }
                Ok(HoldOutcome::DecidedElsewhere) => Err(BookingError::DecidedElsewhere),
                Ok(HoldOutcome::EntryGone) => Err(BookingError::EntryGone),
                Err(e) if is_foreign_key_violation(&e) => {
                    Err(BookingError::Invalid(vec![FieldError::new(
                        "customer_id",
                        "no such customer",
                    )]))
                }
                Err(e) if crate::db::has_sqlstate(&e, &["23P01", "40P01"]) => {
                    if tries < TRANSACTION_TRIES {
                        tracing::info!(error = %e, "booking transaction collided; trying again");
                        continue;
                    }
                    Err(BookingError::Busy {
                        retry_after: EXPECTED_WAIT,
                    })
                }
                Err(e) => Err(e.into()),
            };
        }
        Err(BookingError::Busy {
            retry_after: EXPECTED_WAIT,
        })
    }

    /// Confirms a hold (payment authorised or a manual deposit), fenced by its hold token.
    pub async fn confirm(
        &self,
        id: Uuid,
        hold_token: Uuid,
    ) -> Result<repo::BookingRow, BookingError> {
        self.confirm_claimed(id, hold_token, None).await
    }

    /// [`Self::confirm`] for a device's pushed operation, claimed in the same transaction
    /// ([`BookingError::DecidedElsewhere`]: it was carried out before).
    #[tracing::instrument(name = "booking.confirm", skip_all, fields(booking = %id), err(level = "debug"))]
    pub async fn confirm_claimed(
        &self,
        id: Uuid,
        hold_token: Uuid,
        claim: Option<&DeviceOp>,
    ) -> Result<repo::BookingRow, BookingError> {
        match repo::confirm(&self.db, id, hold_token, claim).await? {
            repo::Decided::Elsewhere => return Err(BookingError::DecidedElsewhere),
            repo::Decided::Done(Some(row)) => {
                tracing::info!(status = %row.status, "booking confirmed");
                return Ok(row);
            }
            repo::Decided::Done(None) => {}
        }
        let current = repo::get(&self.db, id)
            .await?
            .ok_or(BookingError::NotFound)?;
        match current.status {
            // A repeated confirm by the same holder is answered with the confirmed booking.
            BookingStatus::Confirmed if current.hold_token == Some(hold_token) => Ok(current),
            BookingStatus::PendingPayment | BookingStatus::Expired
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
        self.cancel_claimed(id, None).await
    }

    /// [`Self::cancel`] for a device's pushed operation, claimed in the same transaction
    /// ([`BookingError::DecidedElsewhere`]: it was carried out before).
    #[tracing::instrument(name = "booking.cancel", skip_all, fields(booking = %id), err(level = "debug"))]
    pub async fn cancel_claimed(
        &self,
        id: Uuid,
        claim: Option<&DeviceOp>,
    ) -> Result<repo::BookingRow, BookingError> {
        let decided = repo::cancel(&self.db, id, claim).await?;
        if let repo::Decided::Done(Some((row, change))) = decided {
            tracing::info!(status = %row.status, "booking cancelled");
            self.projection.publish(&[change]).await;
            Ok(row)
        } else if let repo::Decided::Elsewhere = decided {
            Err(BookingError::DecidedElsewhere)
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

    /// The asset's home branch as Postgres has it now (for deciding who may book it).
    #[tracing::instrument(name = "booking.home_branch_of", skip_all, fields(asset = %asset))]
    pub async fn home_branch_of(&self, asset: Uuid) -> Result<Option<Uuid>, BookingError> {
        Ok(repo::asset_context(&self.db, asset)
            .await?
            .map(|asset| asset.branch_id))
    }

    /// One booking.
    #[tracing::instrument(name = "booking.get", skip_all, fields(booking = %id))]
    pub async fn get(&self, id: Uuid) -> Result<repo::BookingRow, BookingError> {
        repo::get(&self.db, id).await?.ok_or(BookingError::NotFound)
    }
}
