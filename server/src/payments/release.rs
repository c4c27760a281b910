//! Letting holds go, run by jobs: once a booking ended (completed: release; cancelled, lapsed,
//! no-show: void) its holds are cancelled at the provider or, captured already, confirmed and
//! recorded; a deposit captured before its hold lapsed is refunded if the booking ends without
//! a bill; a bank that cannot void an uncaptured hold lets it lapse (staff are told when); a cash
//! deposit is given back by staff at the counter with a numbered receipt
//! ([`Payments::counter_return`]). And before a long rental's card hold lapses, the configured
//! policy applies ([`Payments::lapse_guard`]).

use chrono::{Datelike, Utc};
use sentra_domain::{
    BookingStatus, Money,
    payment::{HoldStatus, PaymentProvider, RemoteState},
};
use uuid::Uuid;

use super::{
    PaymentError, Payments,
    gateway::GatewayError,
    holds::{self, DEPOSIT, HoldRow},
};
use crate::{
    auth::Principal,
    config::LongRentalPolicy,
    jobs::{self, HoldRelease},
};

impl Payments {
    /// Lets a hold go once its booking no longer needs it: an uncaptured hold is cancelled at
    /// the provider (voided, or released after the rental); after a capture the provider frees
    /// the rest, which the ledger records once the provider's status confirms the capture. A
    /// refusal (Midtrans 412, Xendit ineligible) is reconciled with the provider's status.
    pub async fn release(&self, hold_id: Uuid) -> anyhow::Result<()> {
        let Some(row) = holds::get(&self.db, hold_id).await? else {
            return Ok(());
        };
        if row.status().is_final() {
            return Ok(());
        }
        if row.provider() == PaymentProvider::Manual {
            return self.counter_needs_staff(&row).await;
        }
        let gateway = self.gateway(row.provider())?;
        let payment = row.payment_ref();
        let key = format!("r-{}", row.id.simple());
        let report = if row.status() == HoldStatus::Captured {
            let report = gateway.status(&payment).await?;
            if report.state == RemoteState::Authorised {
                // A provider that keeps the uncaptured rest held until told.
                gateway.cancel(&payment, &key).await?
            } else {
                report
            }
        } else {
            match gateway.cancel(&payment, &key).await {
                Ok(report) => report,
                Err(GatewayError::NotAllowed(why)) => {
                    tracing::info!(hold = %hold_id, why, "cancel refused; reading the status");
                    gateway.status(&payment).await?
                }
                Err(e) => return Err(e.into()),
            }
        };
        let row = self.record(hold_id, &report, "job").await?.row().clone();
        if row.status() == HoldStatus::Captured && report.state == RemoteState::Captured {
            if row.cancel_asked.as_deref() == Some("VOID") && !self.billed(row.booking_id).await? {
                // Captured before its hold lapsed, and the booking ended without a bill: all of
                // it goes back.
                return self.refund_unbilled(&row).await;
            }
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

    async fn billed(&self, booking: Uuid) -> sqlx::Result<bool> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM charge_settlements WHERE booking_id = $1)")
            .bind(booking)
            .fetch_one(&self.db)
            .await
    }

    /// Refunds all of a captured deposit whose booking ended without a bill (the key makes a
    /// retry a no-op at the provider).
    async fn refund_unbilled(&self, row: &HoldRow) -> anyhow::Result<()> {
        let hold = row.hold();
        let amount = Money::from_rupiah(hold.captured.rupiah() - hold.refunded.rupiah());
        if amount > Money::ZERO {
            self.gateway(row.provider())?
                .refund(
                    &row.payment_ref(),
                    amount,
                    &format!("u-{}", row.id.simple()),
                )
                .await?;
        }
        let mut tx = self.db.begin().await?;
        if let Some(locked) = holds::lock(&mut tx, row.id).await?
            && locked.status() == HoldStatus::Captured
        {
            let step = if amount > Money::ZERO {
                locked.hold().refund(amount)?
            } else {
                locked.hold().release()?
            };
            holds::write_steps(&mut tx, &locked, &[(step.0, Some(step.1))], "job").await?;
        }
        tx.commit().await?;
        tracing::info!(hold = %row.id, %amount, "an unbilled captured deposit was refunded");
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

    /// Staff give a cash or transfer deposit back to its customer after the booking ended
    /// without a bill (cancelled, lapsed, no-show), with a numbered return receipt
    /// (`KK/<branch>/<year>/<6 digits>`). Asked again, the same return answers.
    pub async fn counter_return(
        &self,
        principal: &Principal,
        booking: Uuid,
    ) -> Result<HoldRow, PaymentError> {
        let facts = self.facts(principal, booking).await?;
        let mut tx = self.db.begin().await?;
        let rows = holds::of_booking(&mut *tx, booking).await?;
        let Some(row) = rows
            .iter()
            .rev()
            .find(|h| h.purpose == DEPOSIT && h.provider() == PaymentProvider::Manual)
        else {
            return Err(PaymentError::NotFound("Counter deposit"));
        };
        let Some(locked) = holds::lock(&mut tx, row.id).await? else {
            return Err(PaymentError::NotFound("Counter deposit"));
        };
        if locked.return_receipt.is_some() || locked.status().is_final() {
            return Ok(locked);
        }
        if locked.cancel_asked.as_deref() != Some("VOID") {
            return Err(PaymentError::InvalidState {
                status: facts.status(),
                action: "given its deposit back before it ended (the bill gives back the rest)",
            });
        }
        let (next, entry) = locked.hold().void()?;
        holds::write_steps(&mut tx, &locked, &[(next, Some(entry))], "staff").await?;
        let year = facts.zone().local_date_of(Utc::now()).year();
        let receipt = super::settle::next_number(
            &mut tx,
            facts.branch_id,
            "RETURN_RECEIPT",
            "KK",
            &facts.branch_code,
            year,
        )
        .await?;
        let row: HoldRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE payment_holds SET return_receipt = $2, attention = NULL WHERE id = $1 \
             RETURNING {}",
            holds::HOLD_COLUMNS
        )))
        .bind(locked.id)
        .bind(&receipt)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(hold = %row.id, "counter deposit given back");
        Ok(row)
    }

    /// A card hold lapses soon while its booking still needs it. During the rental (picked
    /// up, not yet billed) the configured policy applies: the whole hold is captured (what the
    /// bill does not need is refunded at settlement, or all of it if the booking ends without
    /// a bill), or staff are only told. Before pickup nothing is captured: staff are told to
    /// ask the customer for a new payment. Staff see it in the reports either way.
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
        let booking: Option<(String, bool)> = sqlx::query_as(
            "SELECT b.status, EXISTS (SELECT 1 FROM charge_settlements s WHERE s.booking_id = b.id) \
             FROM bookings b WHERE b.id = $1 FOR UPDATE",
        )
        .bind(row.booking_id)
        .fetch_optional(&mut *guard)
        .await?;
        let Some((status, false)) = booking else {
            return Ok(());
        };
        let status = status.parse::<BookingStatus>().ok();
        let under_way = matches!(
            status,
            Some(BookingStatus::Active | BookingStatus::Returned)
        );
        if !under_way && status != Some(BookingStatus::Confirmed) {
            return Ok(());
        }
        let lapses = row.lapses_at.map_or_else(
            || "-".to_owned(),
            |at| at.format("%Y-%m-%d %H:%M").to_string(),
        );
        let amount = Money::from_rupiah(row.authorised_idr);
        let note = if under_way
            && self.config.long_rental_policy == LongRentalPolicy::CaptureDeposit
        {
            let report = self
                .capture_once(&row, row.hold().held(), &format!("g-{}", row.id.simple()))
                .await?;
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
        tracing::warn!(hold = %row.id, "a card hold lapses soon while its booking needs it");
        Ok(())
    }
}
