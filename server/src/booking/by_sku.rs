//! Booking by SKU: the customer names a model (and a branch, or where they are) and the server
//! gives them a unit.
//!
//! The candidates come ranked (nearest branch, best fit, least recent use: see `assign`) from the
//! Redis calendar. Each is tried exactly as a booking of that unit would be: the asset lock, then
//! the Postgres transaction that decides. A unit taken meanwhile, being booked by someone else,
//! moved or sent to the workshop is skipped for the next one. When the calendar's list is used
//! up, Postgres is asked which units are free now and those are tried; only when Postgres has
//! none is the answer "sold out". So a unit is never given twice (the exclusion constraint), and
//! "sold out" is never said while Postgres has a free unit.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use chrono::{NaiveDate, Utc};
use sentra_domain::BranchTimeZone;
use uuid::Uuid;

use super::{
    BookingError, BookingService, CreateBooking,
    availability::{BranchInfo, Candidates, Scope, Source},
    repo::{Attach, BookingRow},
    service::{CalendarUse, Chosen},
};
use crate::{
    cache::redlock::{EXPECTED_WAIT, LockWait},
    idempotency::Claim,
};

/// Candidate lists read per attempt: the calendar's, then Postgres's (twice at most).
const ROUNDS: usize = 3;

/// Units tried from one list before the list is read again.
const TRIES_PER_ROUND: usize = 24;

/// Units with stale "taken" bits repaired per attempt (the reconcile gets the rest).
const STALE_REPAIRS: usize = 16;

/// Where a rental's dates are valid, by branch.
#[derive(Debug, Default)]
struct DatesByBranch {
    /// Branches (with units of the SKU) whose own time zone accepts the dates.
    valid: HashSet<Uuid>,
    /// Each branch's local date now.
    today: HashMap<Uuid, NaiveDate>,
}

/// A booking of a model, already parsed.
#[derive(Debug, Clone)]
pub struct SkuBooking {
    pub sku: String,
    /// Only this branch; `None`: any branch.
    pub branch: Option<String>,
    /// Where the customer is (latitude, longitude): the nearest branch is tried first.
    pub near: Option<(f64, f64)>,
    pub customer_id: Uuid,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl BookingService {
    /// Holds a unit of the SKU for payment and, in the same transaction, stores
    /// `render(booking)` as the response of the request's idempotency key (see
    /// [`BookingService::create_recorded`]).
    #[tracing::instrument(name = "booking.create_for_sku_recorded", skip_all)]
    pub async fn create_for_sku_recorded(
        &self,
        req: &SkuBooking,
        claim: &Claim,
        status: u16,
        render: &(dyn Fn(&BookingRow) -> serde_json::Value + Sync),
    ) -> Result<BookingRow, BookingError> {
        let attach = Attach::Response {
            claim,
            status,
            render,
        };
        self.assign(req, self.settings.payment_window, &attach, false)
            .await
    }

    /// The waitlist entry's offer: any free unit of its SKU (in its branch, if it named one),
    /// chosen from Postgres alone, held for the offer window.
    #[tracing::instrument(name = "booking.offer_for_sku", skip_all, fields(entry = %entry))]
    pub async fn offer_for_sku(
        &self,
        req: &SkuBooking,
        entry: Uuid,
    ) -> Result<BookingRow, BookingError> {
        let attach = Attach::WaitlistOffer { entry };
        self.assign(req, self.settings.offer_window, &attach, true)
            .await
    }

    /// The branches with units of the SKU where the rental's dates are valid in the branch's
    /// own time zone (only the one asked, if any), and each one's local "today". When no such
    /// branch accepts the dates, they are refused with the reasons of the nearest (or first).
    async fn dates_by_branch(&self, req: &SkuBooking) -> Result<DatesByBranch, BookingError> {
        let dates = CreateBooking {
            asset_id: Uuid::nil(),
            customer_id: req.customer_id,
            start: req.start,
            end: req.end,
        };
        let fleet = self.availability.fleet(&req.sku).await?;
        let mut branches = if let Some(code) = &req.branch {
            vec![self.availability.branch(code).await?]
        } else {
            let mut all = self.availability.branches().await?;
            if fleet
                .assets
                .iter()
                .any(|a| !all.iter().any(|b| b.id == a.branch_id))
            {
                // A branch newer than the cached list holds units: read it again.
                all = self.availability.refresh_branches().await?;
            }
            all.iter()
                .filter(|b| fleet.assets.iter().any(|a| a.branch_id == b.id))
                .cloned()
                .collect()
        };
        if let Some(point) = req.near {
            branches.sort_by(|a, b| {
                let km = |x: &BranchInfo| x.distance_km(point).unwrap_or(f64::MAX);
                km(a).total_cmp(&km(b))
            });
        }
        let mut found = DatesByBranch::default();
        let mut refusal = None;
        for branch in &branches {
            let zone = branch.time_zone;
            found
                .today
                .insert(branch.id, zone.local_date_of(Utc::now()));
            match self.validate(&dates, zone) {
                Ok(_) => {
                    found.valid.insert(branch.id);
                }
                Err(e) => {
                    refusal.get_or_insert(e);
                }
            }
        }
        match refusal {
            Some(refusal) if found.valid.is_empty() => Err(refusal),
            // No branch holds the SKU: the dates alone, in WIB; then "sold out".
            _ if branches.is_empty() => self.validate(&dates, BranchTimeZone::Wib).map(|_| found),
            _ => Ok(found),
        }
    }

    /// Tries the ranked units until one is held. `postgres_only`: never read the calendar.
    #[tracing::instrument(
        name = "booking.assign",
        skip_all,
        fields(sku = %req.sku, branch = ?req.branch, customer = %req.customer_id),
        err(level = "debug")
    )]
    async fn assign(
        &self,
        req: &SkuBooking,
        window: Duration,
        attach: &Attach<'_>,
        postgres_only: bool,
    ) -> Result<BookingRow, BookingError> {
        let dates = self.dates_by_branch(req).await?;
        let scope = Scope {
            branch: req.branch.as_deref(),
            near: req.near,
            within: Some(&dates.valid),
        };
        let mut busy = false;
        // What the calendar said: a unit Postgres then finds free that the calendar had taken
        // on these days (or whose own bits made us skip it) has stale bits to repair.
        let mut calendar: Option<Candidates> = None;
        let mut skipped_on_bits: HashSet<Uuid> = HashSet::new();
        for round in 0..ROUNDS {
            let fresh = postgres_only || round > 0;
            let candidates = self
                .availability
                .candidates(
                    &req.sku,
                    scope,
                    req.start,
                    req.end,
                    &dates.today,
                    fresh,
                    TRIES_PER_ROUND,
                )
                .await?;
            if fresh && candidates.order.is_empty() {
                return Err(BookingError::SoldOut);
            }
            if let (Source::Postgres, Some(said)) = (candidates.source, &calendar) {
                let stale = candidates
                    .order
                    .iter()
                    .map(|&i| &candidates.fleet.assets[i])
                    .filter(|a| said.calendar_said_taken(a) || skipped_on_bits.contains(&a.id));
                for asset in stale.take(STALE_REPAIRS) {
                    self.projection().repair_in_background(asset.id);
                }
            }
            // Units Postgres just called free are not second-guessed by calendar bits.
            let use_calendar = match candidates.source {
                Source::Redis => CalendarUse::SkipWhenTaken,
                Source::Postgres => CalendarUse::Ignore,
            };
            for &i in &candidates.order {
                let unit = &candidates.fleet.assets[i];
                let attempt = CreateBooking {
                    asset_id: unit.id,
                    customer_id: req.customer_id,
                    start: req.start,
                    end: req.end,
                };
                // Until the last round, a unit someone else is booking is passed over for the
                // next; in the last, Postgres's remaining units are waited for.
                let chosen = Chosen {
                    branch: unit.branch_id,
                    wait: if round + 1 < ROUNDS {
                        LockWait::Once
                    } else {
                        LockWait::Retry
                    },
                };
                match self
                    .attempt(&attempt, window, use_calendar, attach, Some(chosen))
                    .await
                {
                    Ok(booking) => return Ok(booking),
                    Err(BookingError::Taken(_)) if use_calendar == CalendarUse::SkipWhenTaken => {
                        skipped_on_bits.insert(unit.id);
                    }
                    Err(
                        BookingError::Taken(_)
                        | BookingError::Moved
                        | BookingError::NotRentable(_)
                        | BookingError::UnknownAsset,
                    ) => {}
                    Err(BookingError::Busy { .. }) => busy = true,
                    Err(e) => return Err(e),
                }
            }
            if candidates.source == Source::Redis {
                calendar = Some(candidates);
            }
        }
        // Every unit tried was taken meanwhile: sold out now, or still contended?
        let left = self
            .availability
            .candidates(&req.sku, scope, req.start, req.end, &dates.today, true, 1)
            .await?;
        if left.order.is_empty() {
            return Err(BookingError::SoldOut);
        }
        // Postgres still has free units, but every one we tried was taken by a concurrent
        // booking or locked by one: nothing decided, try again.
        tracing::info!(busy, "every candidate unit was taken meanwhile");
        Err(BookingError::Contended {
            retry_after: EXPECTED_WAIT,
        })
    }
}
