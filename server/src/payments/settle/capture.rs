//! Carrying out a confirmed bill: one capture of what the hold covers (at most once; the
//! provider's status is read first), or the unused part refunded when the deposit was captured
//! before its hold lapsed; a bill whose hold ended uncaptured is owed instead. Then the invoice.
//! Run after the confirmation and again by the `settlement_capture` job until it succeeds.

use sentra_domain::{Money, payment::HoldStatus};
use uuid::Uuid;

use super::{SETTLEMENT_COLUMNS, SettlementRow};
use crate::payments::{PaymentError, Payments, gateway::GatewayError, holds};

impl Payments {
    /// Captures a confirmed bill at the provider (once: the key is the settlement's id),
    /// records it, releases a counter deposit's rest with a receipt, and issues the invoice.
    pub async fn finish_settlement(&self, id: Uuid) -> Result<(), PaymentError> {
        let row: Option<SettlementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SETTLEMENT_COLUMNS} FROM charge_settlements WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.db)
        .await?;
        let Some(settlement) = row else {
            return Ok(());
        };
        if settlement.status == "SETTLED" {
            return Ok(());
        }
        let capture = Money::from_rupiah(settlement.capture_idr);
        if settlement.precaptured {
            self.refund_rest(&settlement).await?;
        } else if let Some(hold_id) = settlement.hold_id
            && capture > Money::ZERO
        {
            let hold = holds::get(&self.db, hold_id)
                .await?
                .ok_or(PaymentError::NotFound("Hold"))?;
            if hold.status() == HoldStatus::Authorised {
                let report = self
                    .capture_once(&hold, capture, &format!("s-{}", id.simple()))
                    .await?;
                self.record(hold_id, &report, "api").await?;
            }
            let hold = holds::get(&self.db, hold_id)
                .await?
                .ok_or(PaymentError::NotFound("Hold"))?;
            if Money::from_rupiah(hold.captured_idr) != capture {
                if hold.status().is_final() && hold.captured_idr == 0 {
                    // The hold ended before it could be captured (it lapsed, or was voided):
                    // the whole bill is owed as a separate payment.
                    return self.owe_instead(&settlement).await;
                }
                return Err(PaymentError::Gateway(GatewayError::Unavailable(format!(
                    "the capture of {capture} is not confirmed yet (hold {})",
                    hold.status
                ))));
            }
        }
        self.issue_invoice(&settlement).await
    }

    /// A bill whose hold ended uncaptured: all of it is owed (the customer pays it as a new
    /// payment, or at the counter), staff are told, and the invoice says so.
    async fn owe_instead(&self, settlement: &SettlementRow) -> Result<(), PaymentError> {
        let row: SettlementRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE charge_settlements SET capture_idr = 0, outstanding_idr = total_idr, \
               released_idr = 0 WHERE id = $1 AND status = 'CAPTURING' \
             RETURNING {SETTLEMENT_COLUMNS}"
        )))
        .bind(settlement.id)
        .fetch_one(&self.db)
        .await?;
        if let Some(hold) = settlement.hold_id {
            let mut tx = self.db.begin().await?;
            holds::set_attention(
                &mut tx,
                hold,
                Some("Jaminan berakhir sebelum tagihan ditarik: seluruh tagihan harus dibayar terpisah."),
            )
            .await?;
            tx.commit().await?;
        }
        tracing::warn!(settlement = %row.id, "the hold ended uncaptured; the bill is owed");
        self.issue_invoice(&row).await
    }

    /// A deposit captured before its hold lapsed: what the bill did not need is refunded
    /// (once: the key is the settlement's id; before the capture settles the provider refuses,
    /// and the job tries again).
    async fn refund_rest(&self, settlement: &SettlementRow) -> Result<(), PaymentError> {
        let Some(hold_id) = settlement.hold_id else {
            return Ok(());
        };
        let hold = holds::get(&self.db, hold_id)
            .await?
            .ok_or(PaymentError::NotFound("Hold"))?;
        if hold.status() != HoldStatus::Captured {
            return Ok(());
        }
        let amount = Money::from_rupiah(settlement.released_idr);
        if amount > Money::ZERO {
            self.gateway(hold.provider())?
                .refund(
                    &hold.payment_ref(),
                    amount,
                    &format!("f-{}", settlement.id.simple()),
                )
                .await?;
        }
        let mut tx = self.db.begin().await?;
        if let Some(locked) = holds::lock(&mut tx, hold_id).await?
            && locked.status() == HoldStatus::Captured
        {
            let step = if amount > Money::ZERO {
                locked.hold().refund(amount)?
            } else {
                locked.hold().release()?
            };
            holds::write_steps(&mut tx, &locked, &[(step.0, Some(step.1))], "api").await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
