//! Recording what a provider says about a hold ([`Payments::record`]: an authorised deposit
//! confirms its booking in the same transaction, or is voided at once when the payment window
//! lapsed), catching a hold up with its provider's status, run by jobs so it survives restarts
//! and is retried with back-off ([`Payments::sync`], asked again every minute while the
//! customer is at 3-D Secure), capturing a separate charge, and capturing at most once
//! ([`Payments::capture_once`]).

use chrono::Utc;
use sentra_domain::{
    BookingStatus, Money,
    payment::{HoldStatus, RemoteState},
};
use uuid::Uuid;

use super::{
    PaymentError, Payments,
    gateway::{GatewayError, Report, lapses_at},
    holds::{self, CHARGE, DEPOSIT, HoldRow},
};
use crate::jobs::{self, HoldLapseGuard, HoldRelease, PaymentSync};

/// What recording a provider's answer did.
#[derive(Debug)]
pub enum Recorded {
    /// The hold moved (or stayed) as reported.
    Hold(HoldRow),
    /// Authorised after the booking's payment window lapsed: it is being voided.
    LapsedVoiding(HoldRow),
}

impl Recorded {
    pub fn row(&self) -> &HoldRow {
        match self {
            Self::Hold(row) | Self::LapsedVoiding(row) => row,
        }
    }
}

impl Payments {
    /// Records `report` for a hold, with its consequences, in one transaction.
    pub async fn record(
        &self,
        hold_id: Uuid,
        report: &Report,
        source: &str,
    ) -> Result<Recorded, PaymentError> {
        let mut tx = self.db.begin().await?;
        // The lock order of the booking engine: waitlist entry, booking, then (by the trigger
        // on bookings) its holds. An authorisation may confirm the booking, so it takes them
        // in that order before the hold.
        if let Some(booking) = holds::get(&mut *tx, hold_id)
            .await?
            .filter(|h| h.purpose == DEPOSIT && h.status() == HoldStatus::Pending)
            .map(|h| h.booking_id)
        {
            lock_booking_first(&mut tx, booking).await?;
        }
        let row = holds::lock(&mut tx, hold_id)
            .await?
            .ok_or(PaymentError::NotFound("Hold"))?;
        let recorded = self.record_in(&mut tx, &row, report, source).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// [`Self::record`] inside the caller's transaction, on a hold it locked.
    pub(super) async fn record_in(
        &self,
        tx: &mut sqlx::PgConnection,
        locked: &HoldRow,
        report: &Report,
        source: &str,
    ) -> Result<Recorded, PaymentError> {
        let hold_id = locked.id;
        let before = locked.status();
        let mut row = holds::apply_in(tx, locked, report, source).await?;
        let mut lapsed = false;
        if before == HoldStatus::Pending && row.status() == HoldStatus::Authorised {
            let gateway = self.gateway(row.provider())?;
            // The hold runs from when it was asked for (a late answer does not extend it).
            if let Some(at) = lapses_at(row.created_at, gateway.hold_lifetime(row.method())) {
                sqlx::query("UPDATE payment_holds SET lapses_at = $2 WHERE id = $1")
                    .bind(row.id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                row.lapses_at = Some(at);
                let lead = chrono::Duration::from_std(self.config.lapse_lead)
                    .unwrap_or(chrono::Duration::hours(24));
                jobs::enqueue(&mut *tx, &HoldLapseGuard { hold_id }, Some(at - lead)).await?;
            }
            if row.purpose == DEPOSIT {
                lapsed = !confirm_booking(tx, row.booking_id).await?;
            } else if row.purpose == CHARGE {
                // A separate charge is taken at once.
                jobs::enqueue(&mut *tx, &PaymentSync { hold_id }, None).await?;
            }
            if lapsed {
                row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE payment_holds SET cancel_asked = 'VOID' WHERE id = $1 \
                     RETURNING {}",
                    holds::HOLD_COLUMNS
                )))
                .bind(row.id)
                .fetch_one(&mut *tx)
                .await?;
                jobs::enqueue(&mut *tx, &HoldRelease { hold_id }, None).await?;
            }
        }
        if row.purpose == CHARGE
            && row.status() == HoldStatus::Captured
            && row.hold().held() == Money::ZERO
        {
            // A separate charge taken whole is done.
            let step = row.hold().release()?;
            row = holds::write_steps(tx, &row, &[(step.0, Some(step.1))], source).await?;
        }
        tracing::info!(hold = %hold_id, from = %before, to = %row.status, source, "hold recorded");
        Ok(if lapsed {
            Recorded::LapsedVoiding(row)
        } else {
            Recorded::Hold(row)
        })
    }

    /// Catches a hold up with what its provider says now, then does what it still needs.
    pub async fn sync(&self, hold_id: Uuid) -> anyhow::Result<()> {
        let Some(row) = holds::get(&self.db, hold_id).await? else {
            return Ok(());
        };
        if matches!(row.status(), HoldStatus::Failed | HoldStatus::Expired) {
            return self.void_orphan(&row).await;
        }
        if !row.status().is_final() {
            let gateway = self.gateway(row.provider())?;
            match gateway.status(&row.payment_ref()).await {
                Ok(report) => {
                    self.record(hold_id, &report, "webhook").await?;
                }
                Err(GatewayError::NoRemoteState) => {}
                Err(GatewayError::NotFound) if row.status() == HoldStatus::Pending => {
                    // The request never reached the provider (this check runs a minute after
                    // it was sent): nothing is held, and the customer may pay again.
                    let report = Report {
                        state: RemoteState::Failed,
                        failure: Some("the provider never received the payment".to_owned()),
                        ..Report::nothing()
                    };
                    self.record(hold_id, &report, "job").await?;
                }
                Err(e) => return Err(e.into()),
            }
            self.check_again_while_pending(hold_id).await?;
        }
        self.follow_up(hold_id).await
    }

    /// A hold still waiting (3-D Secure allows 10 minutes) is asked about again a minute later,
    /// for an hour: a lost webhook cannot leave a paid booking unconfirmed.
    async fn check_again_while_pending(&self, hold_id: Uuid) -> anyhow::Result<()> {
        let mut tx = self.db.begin().await?;
        let waiting: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM payment_holds WHERE id = $1 AND status = 'PENDING' \
             AND created_at > now() - interval '1 hour')",
        )
        .bind(hold_id)
        .fetch_one(&mut *tx)
        .await?;
        if waiting {
            jobs::enqueue(
                &mut tx,
                &PaymentSync { hold_id },
                Some(Utc::now() + chrono::Duration::seconds(60)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A hold we gave up on (failed: its request seemed lost) that the provider authorised
    /// after all holds the customer's money for nothing: it is cancelled at the provider.
    async fn void_orphan(&self, row: &HoldRow) -> anyhow::Result<()> {
        let gateway = self.gateway(row.provider())?;
        match gateway.status(&row.payment_ref()).await {
            Ok(report) if report.state == RemoteState::Authorised => {
                tracing::warn!(hold = %row.id, "an abandoned hold was authorised after all; cancelling it");
                gateway
                    .cancel(&row.payment_ref(), &format!("o-{}", row.id.simple()))
                    .await?;
                Ok(())
            }
            Ok(_) | Err(GatewayError::NotFound | GatewayError::NoRemoteState) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Does what a hold still needs: let it go if asked, take a separate charge.
    async fn follow_up(&self, hold_id: Uuid) -> anyhow::Result<()> {
        let Some(row) = holds::get(&self.db, hold_id).await? else {
            return Ok(());
        };
        if row.cancel_asked.is_some() && !row.status().is_final() {
            return self.release(hold_id).await;
        }
        if row.purpose == CHARGE && row.status() == HoldStatus::Authorised {
            let amount = row.hold().held();
            let report = self
                .capture_once(&row, amount, &format!("c-{}", row.id.simple()))
                .await?;
            self.record(hold_id, &report, "job").await?;
        }
        Ok(())
    }

    /// Captures `amount` of a hold unless the provider already captured it: the status is read
    /// first, so a retry after a lost answer never captures twice (Midtrans keeps idempotency
    /// keys 5 minutes only; Xendit's v3 keys are not documented). A refusal in the current
    /// state answers with the status.
    pub(super) async fn capture_once(
        &self,
        row: &HoldRow,
        amount: Money,
        key: &str,
    ) -> Result<Report, GatewayError> {
        let gateway = self
            .gateway(row.provider())
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        let payment = row.payment_ref();
        match gateway.status(&payment).await {
            Ok(report) if report.state != RemoteState::Authorised => return Ok(report),
            Ok(_) | Err(GatewayError::NoRemoteState) => {}
            Err(e) => return Err(e),
        }
        match gateway.capture(&payment, amount, key).await {
            Err(GatewayError::NotAllowed(why)) => {
                tracing::info!(hold = %row.id, why, "capture refused; reading the status");
                gateway.status(&payment).await
            }
            answer => answer,
        }
    }
}

/// Locks a booking's waitlist offer (if any) and then its row, in the booking engine's order.
async fn lock_booking_first(tx: &mut sqlx::PgConnection, booking: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "SELECT id FROM waitlist WHERE offer_booking_id = $1 AND status = 'OFFERED' FOR UPDATE",
    )
    .bind(booking)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("SELECT id FROM bookings WHERE id = $1 FOR UPDATE")
        .bind(booking)
        .fetch_optional(&mut *tx)
        .await?;
    Ok(())
}

/// Confirms the booking a deposit was authorised for, in the caller's transaction: `false`
/// when it can no longer be (the payment window lapsed, or it was cancelled).
async fn confirm_booking(tx: &mut sqlx::PgConnection, booking: Uuid) -> sqlx::Result<bool> {
    let current: Option<(String, Option<Uuid>)> =
        sqlx::query_as("SELECT status, hold_token FROM bookings WHERE id = $1")
            .bind(booking)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((status, token)) = current else {
        return Ok(false);
    };
    match status.parse::<BookingStatus>().ok() {
        Some(BookingStatus::PendingPayment) => match token {
            Some(token) => Ok(crate::booking::repo::confirm_in(tx, booking, token)
                .await?
                .is_some()),
            None => Ok(false),
        },
        // Confirmed already (staff took the deposit at the counter meanwhile): the hold still
        // serves the rental.
        Some(BookingStatus::Confirmed | BookingStatus::Active) => Ok(true),
        _ => Ok(false),
    }
}
