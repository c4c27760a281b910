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

use std::{collections::HashSet, time::Duration};

use chrono::{NaiveDate, Utc};
use sentra_domain::BranchTimeZone;
use uuid::Uuid;

use super::{
    BookingError, BookingService, CreateBooking,
    availability::{Scope, Source},
    repo::{Attach, BookingRow},
    service::CalendarUse,
};
use crate::{cache::redlock::EXPECTED_WAIT, idempotency::Claim};

/// Candidate lists read per attempt: the calendar's, then Postgres's (twice at most).
const ROUNDS: usize = 3;

/// Units tried from one list before the list is read again.
const TRIES_PER_ROUND: usize = 24;

/// Units with stale "taken" bits repaired per attempt (the reconcile gets the rest).
const STALE_REPAIRS: usize = 16;

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
    pub async fn offer_for_sku(
        &self,
        req: &SkuBooking,
        entry: Uuid,
    ) -> Result<BookingRow, BookingError> {
        let attach = Attach::WaitlistOffer { entry };
        self.assign(req, self.settings.offer_window, &attach, true)
            .await
    }

    /// The branches where the rental's dates are valid in the branch's own time zone (only the
    /// one asked, if any). None at all: the dates are refused, with the reasons.
    async fn branches_for_dates(
        &self,
        req: &SkuBooking,
    ) -> Result<(HashSet<Uuid>, NaiveDate), BookingError> {
        let dates = CreateBooking {
            asset_id: Uuid::nil(),
            customer_id: req.customer_id,
            start: req.start,
            end: req.end,
        };
        let branches = match &req.branch {
            Some(code) => vec![self.availability.branch(code).await?],
            None => self.availability.branches().await?.as_ref().clone(),
        };
        let mut valid = HashSet::new();
        let mut refusal = None;
        // The earliest "today" of the branches considered (WIB when there are none).
        let mut today: Option<NaiveDate> = None;
        for branch in &branches {
            let zone = BranchTimeZone::from_iana(&branch.time_zone)
                .map_err(|e| BookingError::Database(sqlx::Error::Protocol(e.to_string())))?;
            let local_today = zone.local_date_of(Utc::now());
            today = Some(today.map_or(local_today, |t| t.min(local_today)));
            match self.validate(&dates, zone) {
                Ok(_) => {
                    valid.insert(branch.id);
                }
                Err(e) => refusal = Some(e),
            }
        }
        if valid.is_empty() {
            return Err(match refusal {
                Some(e) => e,
                None => self
                    .validate(&dates, BranchTimeZone::Wib)
                    .err()
                    .unwrap_or(BookingError::SoldOut),
            });
        }
        let today = today.unwrap_or_else(|| BranchTimeZone::Wib.local_date_of(Utc::now()));
        Ok((valid, today))
    }

    /// Tries the ranked units until one is held. `postgres_only`: never read the calendar.
    #[tracing::instrument(skip_all, fields(sku = %req.sku), err(level = "debug"))]
    async fn assign(
        &self,
        req: &SkuBooking,
        window: Duration,
        attach: &Attach<'_>,
        postgres_only: bool,
    ) -> Result<BookingRow, BookingError> {
        let (valid_branches, today) = self.branches_for_dates(req).await?;
        let scope = Scope {
            branch: req.branch.as_deref(),
            near: req.near,
            within: Some(&valid_branches),
        };
        let mut busy = false;
        // Units the calendar offered, and those its bits made us skip: a unit Postgres then
        // finds free that the calendar did not offer, or skipped, has stale bits to repair.
        let mut offered: Option<HashSet<Uuid>> = None;
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
                    today,
                    fresh,
                    TRIES_PER_ROUND,
                )
                .await?;
            if fresh && candidates.order.is_empty() {
                return Err(BookingError::SoldOut);
            }
            let ids = candidates
                .order
                .iter()
                .map(|&i| candidates.fleet.assets[i].id);
            match (candidates.source, &offered) {
                (Source::Redis, _) => offered = Some(ids.collect()),
                (Source::Postgres, Some(offered)) => {
                    let stale =
                        ids.filter(|id| !offered.contains(id) || skipped_on_bits.contains(id));
                    for asset in stale.take(STALE_REPAIRS) {
                        self.projection().repair_in_background(asset);
                    }
                }
                (Source::Postgres, None) => {}
            }
            // Units Postgres just called free are not second-guessed by calendar bits.
            let calendar = match candidates.source {
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
                let at_branch = Some(unit.branch_id);
                match self
                    .attempt(&attempt, window, calendar, attach, at_branch)
                    .await
                {
                    Ok(booking) => return Ok(booking),
                    Err(BookingError::Taken(_)) if calendar == CalendarUse::SkipWhenTaken => {
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
        }
        // Postgres still had free units, but every one was taken by a concurrent booking or
        // locked by one: nothing decided, try again.
        tracing::info!(busy, "every candidate unit was taken meanwhile");
        Err(BookingError::Contended {
            retry_after: EXPECTED_WAIT,
        })
    }
}
