//! Handovers: what happens when an asset changes hands, and the evidence of it.
//!
//! - [`lifecycle`]: pickup, return and completion of a rental in Postgres, and overdue rentals
//!   that keep their asset until they are back.
//! - [`records`]: append-only inspection records, chained per asset by their tamper-proof hash.
//! - [`verify`]: recomputes a record from what is stored now (payload, photo bytes, signatures,
//!   the chain) and names what differs.
//! - [`uploads`]: photos and signature images, streamed into object storage (signatures
//!   encrypted), or put straight into S3 through a presigned URL and checked on completion.
//! - [`page`]: the public verify page a scanned document QR opens.
//! - [`documents`]: the surat jalan and the rental agreement of a handover, numbered and stored.
//! - [`maintenance`]: service plans, work orders that block the calendar, services due.

pub mod documents;
pub mod lifecycle;
pub mod maintenance;
pub mod page;
pub mod records;
pub mod uploads;
pub mod verify;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sentra_domain::{BookingStatus, InspectionKind, handover::PickupRefusal};
use sentra_protocol::{InspectionInput, PickupRequest, ReturnRequest};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    auth::Principal,
    booking::{BookingService, repo::BookingRow},
    kyc::vault::Vault,
    storage::Storage,
};
pub use records::StoredInspection;

/// Why a handover request is refused.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("a {status} booking cannot be {action}")]
    InvalidState {
        status: BookingStatus,
        action: &'static str,
    },
    #[error(transparent)]
    Pickup(#[from] PickupRefusal),
    #[error("the asset is in maintenance")]
    InMaintenance,
    #[error("the asset is not free on the days before the booking's first day")]
    NotFreeEarly,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Upload(String),
    #[error("this record id was used for another record")]
    IdReused,
    #[error("the booking has no handover record yet")]
    NoHandover,
    #[error(transparent)]
    Maintenance(#[from] maintenance::MaintenanceError),
    #[error("the work order is already closed")]
    InvalidWorkOrder,
    #[error("the bytes do not match: {0}")]
    Checksum(String),
    #[error("not an accepted image type: {0}")]
    MediaType(String),
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    Unsupported(&'static str),
    /// The deposit is still held and the return's charges are not confirmed.
    #[error("the return's charges are not confirmed yet")]
    ChargesNotSettled,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Storage(#[from] anyhow::Error),
}

/// Which records of a branch the change feed reads: those after an id (the first copy, from a
/// day on) or those with these ids (changes).
#[derive(Debug, Clone, Copy)]
pub enum BranchSelect<'a> {
    After {
        after: Uuid,
        since: chrono::NaiveDate,
        limit: i64,
    },
    Ids(&'a [Uuid]),
}

impl BranchSelect<'_> {
    /// The rows of `table` of `branch` this selects: `columns` read, `recent` (a condition on
    /// `$3`, the first day) deciding what the first copy holds.
    pub(crate) async fn fetch<T>(
        self,
        db: &PgPool,
        table: &str,
        columns: &str,
        recent: &str,
        branch: Uuid,
    ) -> sqlx::Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        match self {
            BranchSelect::After {
                after,
                since,
                limit,
            } => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {columns} FROM {table} WHERE branch_id = $1 AND id > $2 \
                     AND ({recent}) ORDER BY id LIMIT $4"
                )))
                .bind(branch)
                .bind(after)
                .bind(since)
                .bind(limit)
                .fetch_all(db)
                .await
            }
            BranchSelect::Ids(ids) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {columns} FROM {table} WHERE branch_id = $1 AND id = ANY($2) ORDER BY id"
            )))
            .bind(branch)
            .bind(ids)
            .fetch_all(db)
            .await,
        }
    }
}

/// Where an inspection was taken, which decides its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Online, now (the server's clock).
    Now,
    /// On a desktop, possibly offline, at the time it says (pushed through sync).
    OnDevice,
}

/// The oldest an offline record's time may be.
const OFFLINE_AT_MOST: chrono::TimeDelta = chrono::TimeDelta::days(14);

/// How far in the future an offline record's time may lie (device clocks drift).
const CLOCK_SKEW: Duration = Duration::from_mins(5);

/// The handover service.
#[derive(Debug, Clone)]
pub struct Handovers {
    pub(crate) db: PgPool,
    pub(crate) storage: Storage,
    pub(crate) vault: Vault,
    pub(crate) bookings: BookingService,
    /// `SENTRA_PUBLIC_URL`: where printed QR codes send people (`<url>/v/<hash>`).
    pub(crate) public_url: String,
}

/// The result of a pickup or return: the booking now and its record.
#[derive(Debug)]
pub struct Handover {
    pub booking: BookingRow,
    pub inspection: StoredInspection,
}

impl Handovers {
    /// The booking if the staff member may act on it (their branch's), else "not found".
    async fn booking_for(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<BookingRow, HandoverError> {
        let row = crate::booking::repo::get(&self.db, id)
            .await?
            .ok_or(HandoverError::NotFound("Booking"))?;
        if principal.can_access_branch(row.branch_id) {
            Ok(row)
        } else {
            Err(HandoverError::NotFound("Booking"))
        }
    }

    /// When the record was made: now for a record made online (whatever the client's clock
    /// says, so a handover cannot be backdated past the rules); the device's time for one taken
    /// offline, neither in the future nor older than [`OFFLINE_AT_MOST`].
    fn record_time(input: &InspectionInput, taken: Taken) -> Result<DateTime<Utc>, HandoverError> {
        let now = Utc::now();
        let Taken::OnDevice = taken else {
            return Ok(now);
        };
        let at = input.recorded_at.unwrap_or(now);
        if at > now + CLOCK_SKEW {
            return Err(HandoverError::Invalid(
                "recorded_at lies in the future; check the device's clock".to_owned(),
            ));
        }
        if now - at > OFFLINE_AT_MOST {
            return Err(HandoverError::Invalid(
                "recorded_at: more than 14 days ago; record the inspection online".to_owned(),
            ));
        }
        Ok(at)
    }

    /// Hands a CONFIRMED rental over with its PICKUP record (one transaction).
    pub async fn pick_up(
        &self,
        principal: &Principal,
        booking: Uuid,
        request: &PickupRequest,
        taken: Taken,
    ) -> Result<Handover, HandoverError> {
        // Printed on the rental agreement: refused if it carries what a document must not.
        let early_reason = request
            .early_reason
            .as_deref()
            .filter(|reason| !reason.trim().is_empty())
            .map(|reason| sentra_domain::TextRule::line(500).clean(reason))
            .transpose()
            .map_err(|e| HandoverError::Invalid(format!("early_reason: {e}")))?;
        self.handover(
            principal,
            booking,
            &request.inspection,
            (InspectionKind::Pickup, taken),
            early_reason.as_deref(),
        )
        .await
    }

    /// Takes an ACTIVE rental back with its RETURN record (one transaction).
    pub async fn take_back(
        &self,
        principal: &Principal,
        booking: Uuid,
        request: &ReturnRequest,
        taken: Taken,
    ) -> Result<Handover, HandoverError> {
        self.handover(
            principal,
            booking,
            &request.inspection,
            (InspectionKind::Return, taken),
            None,
        )
        .await
    }

    async fn handover(
        &self,
        principal: &Principal,
        booking: Uuid,
        input: &InspectionInput,
        (kind, taken): (InspectionKind, Taken),
        early_reason: Option<&str>,
    ) -> Result<Handover, HandoverError> {
        if input.kind != kind || input.booking_id.is_some_and(|b| b != booking) {
            return Err(HandoverError::Invalid(format!(
                "inspection: a {kind} record of this booking is expected"
            )));
        }
        self.booking_for(principal, booking).await?;
        let input_hash = records::input_hash(input, Some(booking));
        if let Some(existing) = records::replay(&self.db, input.id, &input_hash).await? {
            return self.with_booking(booking, existing).await;
        }
        let at = Self::record_time(input, taken)?;
        let mut tx = self.db.begin().await?;
        let changed = match kind {
            InspectionKind::Pickup => lifecycle::pick_up(&mut tx, booking, at, early_reason).await,
            _ => lifecycle::take_back(&mut tx, booking, at).await,
        };
        let (updated, change) = match changed {
            Ok(done) => done,
            Err(refused @ HandoverError::InvalidState { .. }) => {
                // The same handover sent twice at once: the other request made the change and
                // its record; this one is its replay.
                drop(tx);
                return match records::replay(&self.db, input.id, &input_hash).await? {
                    Some(existing) => self.with_booking(booking, existing).await,
                    None => Err(refused),
                };
            }
            Err(e) => return Err(e),
        };
        let context = records::Context {
            asset_id: updated.asset_id,
            branch_id: updated.branch_id,
            booking_id: Some(booking),
            inspector: principal.id,
            recorded_at: at,
            input_hash,
        };
        let stored = match records::insert(&mut tx, input, &context).await {
            Ok(stored) => stored,
            Err(HandoverError::Database(e)) if crate::db::has_sqlstate(&e, &["23505"]) => {
                // The same record, sent twice at once: the other one got in first.
                drop(tx);
                return self.replayed(booking, input, &context.input_hash).await;
            }
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        self.bookings.projection().publish(&[change]).await;
        tracing::info!(booking = %booking, %kind, inspection = %stored.id, "handover recorded");
        Ok(Handover {
            booking: updated,
            inspection: stored,
        })
    }

    async fn replayed(
        &self,
        booking: Uuid,
        input: &InspectionInput,
        input_hash: &str,
    ) -> Result<Handover, HandoverError> {
        let existing = records::replay(&self.db, input.id, input_hash)
            .await?
            .ok_or(HandoverError::IdReused)?;
        self.with_booking(booking, existing).await
    }

    /// A stored record answered with its booking as it is now (a replay).
    async fn with_booking(
        &self,
        booking: Uuid,
        inspection: StoredInspection,
    ) -> Result<Handover, HandoverError> {
        let booking = crate::booking::repo::get(&self.db, booking)
            .await?
            .ok_or(HandoverError::NotFound("Booking"))?;
        Ok(Handover {
            booking,
            inspection,
        })
    }

    /// Records a DELIVERY or TRANSFER inspection, or a correction of any record, on its own.
    pub async fn record(
        &self,
        principal: &Principal,
        input: &InspectionInput,
        taken: Taken,
    ) -> Result<StoredInspection, HandoverError> {
        let (asset_id, branch_id) = match (input.booking_id, input.asset_id) {
            (Some(booking), asset) => {
                let row = self.booking_for(principal, booking).await?;
                // A delivery hands the asset over at the customer's address: only for a booking
                // that is confirmed or under way (corrections of any record are always allowed).
                let deliverable =
                    matches!(row.status, BookingStatus::Confirmed | BookingStatus::Active);
                if input.kind == InspectionKind::Delivery
                    && input.corrects.is_none()
                    && !deliverable
                {
                    return Err(HandoverError::InvalidState {
                        status: row.status,
                        action: "delivered",
                    });
                }
                if asset.is_some_and(|a| a != row.asset_id) {
                    return Err(HandoverError::Invalid(
                        "asset_id: not the booking's asset".to_owned(),
                    ));
                }
                (row.asset_id, row.branch_id)
            }
            (None, Some(asset)) if input.kind == InspectionKind::Transfer => {
                let branch: Option<Uuid> =
                    sqlx::query_scalar("SELECT home_branch_id FROM assets WHERE id = $1")
                        .bind(asset)
                        .fetch_optional(&self.db)
                        .await?;
                match branch {
                    Some(branch) if principal.can_access_branch(branch) => (asset, branch),
                    _ => return Err(HandoverError::NotFound("Asset")),
                }
            }
            _ => {
                return Err(HandoverError::Invalid(
                    "booking_id: required (asset_id alone only for a TRANSFER)".to_owned(),
                ));
            }
        };
        let is_correction = input.corrects.is_some();
        if !is_correction && matches!(input.kind, InspectionKind::Pickup | InspectionKind::Return) {
            return Err(HandoverError::Invalid(
                "kind: PICKUP and RETURN records come with the pickup or return of the booking"
                    .to_owned(),
            ));
        }
        let input_hash = records::input_hash(input, input.booking_id);
        if let Some(existing) = records::replay(&self.db, input.id, &input_hash).await? {
            return Ok(existing);
        }
        let context = records::Context {
            asset_id,
            branch_id,
            booking_id: input.booking_id,
            inspector: principal.id,
            recorded_at: Self::record_time(input, taken)?,
            input_hash,
        };
        let mut tx = self.db.begin().await?;
        sqlx::query("SELECT 1 FROM assets WHERE id = $1 FOR UPDATE")
            .bind(asset_id)
            .execute(&mut *tx)
            .await?;
        let stored = match records::insert(&mut tx, input, &context).await {
            Ok(stored) => stored,
            Err(HandoverError::Database(e)) if crate::db::has_sqlstate(&e, &["23505"]) => {
                drop(tx);
                return records::replay(&self.db, input.id, &context.input_hash)
                    .await?
                    .ok_or(HandoverError::IdReused);
            }
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        Ok(stored)
    }

    /// Closes a RETURNED rental (its charges settled).
    pub async fn complete(
        &self,
        principal: &Principal,
        booking: Uuid,
    ) -> Result<BookingRow, HandoverError> {
        self.booking_for(principal, booking).await?;
        lifecycle::complete(&self.db, booking).await
    }

    /// One record, if the caller's branch holds it.
    pub async fn inspection(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<StoredInspection, HandoverError> {
        let stored = records::get(&self.db, id)
            .await?
            .ok_or(HandoverError::NotFound("Inspection"))?;
        if principal.can_access_branch(stored.branch_id) {
            Ok(stored)
        } else {
            Err(HandoverError::NotFound("Inspection"))
        }
    }

    /// Grows overdue rentals' occupancy (of one branch, or all) and publishes it.
    pub async fn extend_overdue(
        &self,
        branch: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> sqlx::Result<usize> {
        let changes = lifecycle::extend_overdue(&self.db, branch, now).await?;
        self.bookings.projection().publish(&changes).await;
        Ok(changes.len())
    }
}

/// Every `interval`, for as long as the server runs: grows overdue rentals' occupancy and
/// removes presigned uploads never completed.
pub async fn run_overdue_sweeper(handovers: Handovers, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match handovers.extend_overdue(None, Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rentals = n, "overdue rentals keep their assets"),
            Err(e) => tracing::warn!(error = %e, "the overdue sweep failed; trying again later"),
        }
        match handovers.sweep_pending_uploads().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(uploads = n, "uncompleted presigned uploads removed"),
            Err(e) => tracing::warn!(error = %e, "the upload sweep failed; trying again later"),
        }
    }
}
