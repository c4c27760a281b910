//! What a hold still needs from its provider, done by jobs (so it survives restarts and is
//! retried with back-off): catch up with the provider's status ([`Payments::sync`]), record an
//! answer and its consequences ([`Payments::record`]: an authorised deposit confirms its
//! booking in the same transaction, or is voided at once when the payment window lapsed), let a
//! hold go once its booking ended ([`Payments::release`]), capture a separate charge, and act
//! before a long rental's card hold lapses ([`Payments::lapse_guard`]).

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
use crate::{
    config::LongRentalPolicy,
    jobs::{self, HoldLapseGuard, HoldRelease, PaymentSync},
};

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
        let row = holds::lock(&mut tx, hold_id)
            .await?
            .ok_or(PaymentError::NotFound("Hold"))?;
        let before = row.status();
        let mut row = holds::apply_in(&mut tx, &row, report, source).await?;
        let mut lapsed = false;
        if before == HoldStatus::Pending && row.status() == HoldStatus::Authorised {
            let gateway = self.gateway(row.provider())?;
            if let Some(at) = lapses_at(Utc::now(), gateway.hold_lifetime(row.method())) {
                sqlx::query("UPDATE payment_holds SET lapses_at = $2 WHERE id = $1")
                    .bind(row.id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                row.lapses_at = Some(at);
                let lead = chrono::Duration::from_std(self.config.lapse_lead)
                    .unwrap_or(chrono::Duration::hours(24));
                jobs::enqueue(&mut tx, &HoldLapseGuard { hold_id }, Some(at - lead)).await?;
            }
            if row.purpose == DEPOSIT {
                lapsed = !confirm_booking(&mut tx, row.booking_id).await?;
            } else if row.purpose == CHARGE {
                // A separate charge is taken at once.
                jobs::enqueue(&mut tx, &PaymentSync { hold_id }, None).await?;
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
                jobs::enqueue(&mut tx, &HoldRelease { hold_id }, None).await?;
            }
        }
        tx.commit().await?;
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
        }
        self.follow_up(hold_id).await
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
            let gateway = self.gateway(row.provider())?;
            let amount = row.hold().held();
            let report = match gateway
                .capture(
                    &row.payment_ref(),
                    amount,
                    &format!("c-{}", row.id.simple()),
                )
                .await
            {
                Ok(report) => report,
                Err(GatewayError::NotAllowed(_)) => gateway.status(&row.payment_ref()).await?,
                Err(e) => return Err(e.into()),
            };
            self.record(hold_id, &report, "job").await?;
        }
        Ok(())
    }

    /// Lets a hold go once its booking no longer needs it: an uncaptured hold is cancelled at
    /// the provider (voided, or released after the rental); after a capture the provider frees
    /// the rest, which the ledger records once the provider's status confirms the capture. A
    /// refusal (Midtrans 412, Xendit ineligible) is reconciled with the provider's status; a bank
    /// that cannot void an uncaptured hold lets it lapse, and staff are told when.
    pub async fn release(&self, hold_id: Uuid) -> anyhow::Result<()> {
        let Some(row) = holds::get(&self.db, hold_id).await? else {
            return Ok(());
        };
        if row.status().is_final() {
            return Ok(());
        }
        let gateway = self.gateway(row.provider())?;
        let payment = row.payment_ref();
        let key = format!("r-{}", row.id.simple());
        let report = match row.status() {
            HoldStatus::Captured => match gateway.status(&payment).await {
                Ok(report) if report.state == RemoteState::Authorised => {
                    gateway.cancel(&payment, &key).await?
                }
                Ok(report) => report,
                Err(GatewayError::NoRemoteState) => {
                    return self.counter_needs_staff(&row).await;
                }
                Err(e) => return Err(e.into()),
            },
            _ => match gateway.cancel(&payment, &key).await {
                Ok(report) => report,
                Err(GatewayError::NotAllowed(why)) => {
                    tracing::info!(hold = %hold_id, why, "cancel refused; reading the status");
                    gateway.status(&payment).await?
                }
                Err(GatewayError::NoRemoteState) => {
                    return self.counter_needs_staff(&row).await;
                }
                Err(e) => return Err(e.into()),
            },
        };
        let row = self.record(hold_id, &report, "job").await?.row().clone();
        if row.status() == HoldStatus::Captured && report.state == RemoteState::Captured {
            // The capture is confirmed: the provider freed the uncaptured rest.
            let mut tx = self.db.begin().await?;
            if let Some(locked) = holds::lock(&mut tx, hold_id).await?
                && locked.status() == HoldStatus::Captured
            {
                let step = locked.hold().release()?;
                holds::write_steps(&mut tx, &locked, &[(step.0, Some(step.1))], "job").await?;
            }
            tx.commit().await?;
        } else if row.status() == HoldStatus::Authorised {
            self.cannot_void(&row).await?;
        }
        Ok(())
    }

    /// The bank keeps an uncaptured hold until it lapses: staff are told, and the hold is
    /// looked at again after it lapsed (the provider then reports it expired).
    async fn cannot_void(&self, row: &HoldRow) -> anyhow::Result<()> {
        let when = row
            .lapses_at
            .unwrap_or_else(|| Utc::now() + chrono::Duration::days(8));
        let note = format!(
            "Bank {} tidak dapat membatalkan otorisasi yang belum ditarik; dana kembali ke \
             pelanggan otomatis setelah {} (UTC).",
            row.bank.as_deref().unwrap_or("penerbit").to_uppercase(),
            when.format("%Y-%m-%d %H:%M")
        );
        let mut tx = self.db.begin().await?;
        holds::set_attention(&mut tx, row.id, Some(&note)).await?;
        jobs::enqueue(
            &mut tx,
            &HoldRelease { hold_id: row.id },
            Some(when + chrono::Duration::hours(1)),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(hold = %row.id, "the bank cannot void this hold; it lapses by itself");
        Ok(())
    }

    /// Cash kept at the counter goes back by hand: staff are told.
    async fn counter_needs_staff(&self, row: &HoldRow) -> anyhow::Result<()> {
        let mut tx = self.db.begin().await?;
        holds::set_attention(
            &mut tx,
            row.id,
            Some("Kembalikan jaminan tunai/transfer kepada pelanggan dan catat tanda terimanya."),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A card hold lapses soon while the rental still needs it: by the configured policy the
    /// whole hold is captured (and what the bill does not need refunded at settlement), or
    /// staff only are told to arrange a new deposit. Staff see it in the reports either way.
    pub async fn lapse_guard(&self, hold_id: Uuid) -> anyhow::Result<()> {
        let Some(row) = holds::get(&self.db, hold_id).await? else {
            return Ok(());
        };
        if row.status() != HoldStatus::Authorised || row.cancel_asked.is_some() {
            return Ok(());
        }
        // The booking's row stays locked while the policy applies, so a bill confirmed at the
        // same moment waits and then sees the capture (and a confirmed bill stops the guard).
        let mut guard = self.db.begin().await?;
        let status: Option<(String, bool)> = sqlx::query_as(
            "SELECT b.status, EXISTS (SELECT 1 FROM charge_settlements s WHERE s.booking_id = b.id) \
             FROM bookings b WHERE b.id = $1 FOR UPDATE",
        )
        .bind(row.booking_id)
        .fetch_optional(&mut *guard)
        .await?;
        let still_needed = status.is_some_and(|(status, billed)| {
            !billed
                && status.parse::<BookingStatus>().is_ok_and(|s| {
                    matches!(
                        s,
                        BookingStatus::Confirmed | BookingStatus::Active | BookingStatus::Returned
                    )
                })
        });
        if !still_needed {
            return Ok(());
        }
        let lapses = row.lapses_at.map_or_else(
            || "-".to_owned(),
            |at| at.format("%Y-%m-%d %H:%M").to_string(),
        );
        let amount = Money::from_rupiah(row.authorised_idr);
        let note = if self.config.long_rental_policy == LongRentalPolicy::CaptureDeposit {
            let gateway = self.gateway(row.provider())?;
            let payment = row.payment_ref();
            let report = match gateway
                .capture(
                    &payment,
                    row.hold().held(),
                    &format!("g-{}", row.id.simple()),
                )
                .await
            {
                Ok(report) => report,
                Err(GatewayError::NotAllowed(_)) => gateway.status(&payment).await?,
                Err(e) => return Err(e.into()),
            };
            self.record(hold_id, &report, "job").await?;
            format!(
                "Otorisasi kartu {amount} berakhir pada {lapses} (UTC): jaminan ditarik penuh \
                 agar tidak hilang; yang tidak terpakai dikembalikan (refund) saat tagihan \
                 dikonfirmasi."
            )
        } else {
            format!(
                "Otorisasi kartu {amount} berakhir pada {lapses} (UTC): minta jaminan baru dari \
                 pelanggan sebelum itu."
            )
        };
        holds::set_attention(&mut guard, row.id, Some(&note)).await?;
        guard.commit().await?;
        tracing::warn!(hold = %row.id, "a card hold lapses soon during a rental");
        Ok(())
    }
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
