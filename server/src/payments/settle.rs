//! The bill at return: the computed lines (rental, early days, late fee per the SKU's rule,
//! fuel), damage lines staff enter from the RETURN inspection, and its settlement: staff confirm
//! the total they saw → one capture of what the hold covers (never above it), the rest
//! released, anything above the hold owed as a separate payment → a numbered invoice
//! (`INV/<branch>/<year>/<6 digits>`) listing every line and what was released.
//!
//! The settlement row is committed (CAPTURING, with a safety-net job) before the provider is
//! asked; [`Payments::finish_settlement`] records the capture and issues the invoice, and is
//! run again by the job until it succeeds.

use chrono::{DateTime, Datelike, Utc};
use sentra_domain::{
    BranchTimeZone, LateFeeRule, Money,
    charges::{Charge, ChargeKind, ReturnFacts, computed_charges},
    payment::{HoldStatus, cover},
};
use sentra_protocol::{AddDamageRequest, ChargeLine, Charges, Settlement};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    PaymentError, Payments,
    holds::{self, DEPOSIT},
};
use crate::{
    auth::Principal,
    jobs::{self, SettlementCapture},
};

mod capture;
mod invoice;

/// The next gap-free number of `kind` for a branch and year: `PREFIX/BRANCH/YEAR/000042`.
pub async fn next_number(
    tx: &mut PgConnection,
    branch: Uuid,
    kind: &str,
    prefix: &str,
    branch_code: &str,
    year: i32,
) -> sqlx::Result<String> {
    let n: i32 = sqlx::query_scalar(
        "INSERT INTO document_sequences (branch_id, kind, year, last) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (branch_id, kind, year) DO UPDATE SET last = document_sequences.last + 1 \
         RETURNING last",
    )
    .bind(branch)
    .bind(kind)
    .bind(year)
    .fetch_one(tx)
    .await?;
    Ok(crate::handover::documents::document_number(
        prefix,
        branch_code,
        year,
        n,
    ))
}

/// What the computed lines of a return depend on.
#[derive(Debug, sqlx::FromRow)]
struct ReturnRow {
    status: String,
    time_zone: String,
    start_date: chrono::NaiveDate,
    end_date: chrono::NaiveDate,
    early_days: i32,
    returned_at: Option<DateTime<Utc>>,
    total_idr: i64,
    daily_rate_idr: i64,
    late_grace_minutes: i32,
    late_fee_per_hour_idr: i64,
    late_fee_daily_cap_idr: i64,
    fuel_per_eighth_idr: i64,
    fuel_out: Option<i16>,
    fuel_in: Option<i16>,
}

#[derive(Debug, sqlx::FromRow)]
struct LineRow {
    id: Uuid,
    kind: String,
    description: String,
    amount_idr: i64,
    reason: Option<String>,
    inspection_id: Option<Uuid>,
}

impl LineRow {
    fn to_dto(&self) -> ChargeLine {
        ChargeLine {
            id: Some(self.id),
            kind: ChargeKind::parse(&self.kind).unwrap_or(ChargeKind::Damage),
            description: self.description.clone(),
            amount: Money::from_rupiah(self.amount_idr),
            reason: self.reason.clone(),
            inspection_id: self.inspection_id,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct SettlementRow {
    id: Uuid,
    booking_id: Uuid,
    branch_id: Uuid,
    hold_id: Option<Uuid>,
    total_idr: i64,
    capture_idr: i64,
    outstanding_idr: i64,
    released_idr: i64,
    precaptured: bool,
    status: String,
    invoice_number: Option<String>,
}

const SETTLEMENT_COLUMNS: &str = "id, booking_id, branch_id, hold_id, total_idr, capture_idr, \
    outstanding_idr, released_idr, precaptured, status, invoice_number";

impl SettlementRow {
    fn to_dto(&self) -> Settlement {
        Settlement {
            id: self.id,
            status: self.status.clone(),
            total: Money::from_rupiah(self.total_idr),
            captured: Money::from_rupiah(self.capture_idr),
            outstanding: Money::from_rupiah(self.outstanding_idr),
            released: Money::from_rupiah(self.released_idr),
            invoice_number: self.invoice_number.clone(),
            invoice_path: self
                .invoice_number
                .as_ref()
                .map(|_| format!("/api/v1/bookings/{}/invoice", self.booking_id)),
        }
    }
}

const LINE_COLUMNS: &str = "id, kind, description, amount_idr, reason, inspection_id";

/// The bill as it stands: confirmed lines once settled, else computed lines plus drafts.
async fn bill(
    conn: &mut PgConnection,
    booking: Uuid,
) -> Result<(Vec<ChargeLine>, Option<SettlementRow>), PaymentError> {
    let settlement: Option<SettlementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SETTLEMENT_COLUMNS} FROM charge_settlements WHERE booking_id = $1"
    )))
    .bind(booking)
    .fetch_optional(&mut *conn)
    .await?;
    let stored: Vec<LineRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {LINE_COLUMNS} FROM charge_lines WHERE booking_id = $1 ORDER BY created_at, id"
    )))
    .bind(booking)
    .fetch_all(&mut *conn)
    .await?;
    if settlement.is_some() {
        return Ok((stored.iter().map(LineRow::to_dto).collect(), settlement));
    }
    let facts: ReturnRow = sqlx::query_as(
        "SELECT b.status, br.time_zone, lower(b.period) AS start_date, \
                upper(b.period) AS end_date, b.early_days, b.returned_at, b.total_idr, s.daily_rate_idr, \
                s.late_grace_minutes, s.late_fee_per_hour_idr, s.late_fee_daily_cap_idr, \
                s.fuel_per_eighth_idr, \
                (SELECT i.fuel_eighths FROM inspections i WHERE i.booking_id = b.id \
                   AND i.kind IN ('PICKUP', 'DELIVERY') ORDER BY i.seq DESC LIMIT 1) AS fuel_out, \
                (SELECT i.fuel_eighths FROM inspections i WHERE i.booking_id = b.id \
                   AND i.kind = 'RETURN' ORDER BY i.seq DESC LIMIT 1) AS fuel_in \
         FROM bookings b JOIN branches br ON br.id = b.branch_id \
         JOIN assets a ON a.id = b.asset_id JOIN skus s ON s.id = a.sku_id WHERE b.id = $1",
    )
    .bind(booking)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(PaymentError::NotFound("Booking"))?;
    let Some(returned_at) = facts.returned_at else {
        return Err(PaymentError::InvalidState {
            status: facts
                .status
                .parse::<sentra_domain::BookingStatus>()
                .ok()
                .unwrap_or(sentra_domain::BookingStatus::Active),
            action: "billed before its return",
        });
    };
    let zone: BranchTimeZone = facts.time_zone.parse().unwrap_or(BranchTimeZone::Wib);
    let booked_days = u32::try_from((facts.end_date - facts.start_date).num_days()).unwrap_or(0);
    // The price it was booked at (the SKU's rate may have changed since).
    let booked_rate = match i64::from(booked_days) {
        n if n > 0 && facts.total_idr > 0 => facts.total_idr / n,
        _ => facts.daily_rate_idr,
    };
    let eighths = |v: Option<i16>| u8::try_from(v.unwrap_or(0)).unwrap_or(0);
    let computed = computed_charges(&ReturnFacts {
        daily_rate: Money::from_rupiah(booked_rate),
        booked_days,
        early_days: u32::try_from(facts.early_days).unwrap_or(0),
        due_at: sentra_domain::handover::due_at(facts.end_date, zone),
        returned_at,
        late_fee: LateFeeRule {
            grace_minutes: u32::try_from(facts.late_grace_minutes).unwrap_or(0),
            per_hour_idr: facts.late_fee_per_hour_idr,
            daily_cap_idr: facts.late_fee_daily_cap_idr,
        },
        fuel_out_eighths: eighths(facts.fuel_out),
        fuel_in_eighths: eighths(facts.fuel_in.or(facts.fuel_out)),
        fuel_per_eighth: Money::from_rupiah(facts.fuel_per_eighth_idr),
    });
    let mut lines: Vec<ChargeLine> = computed.into_iter().map(computed_line).collect();
    lines.extend(stored.iter().map(LineRow::to_dto));
    Ok((lines, None))
}

fn computed_line(charge: Charge) -> ChargeLine {
    ChargeLine {
        id: None,
        kind: charge.kind,
        description: charge.description,
        amount: charge.amount,
        reason: None,
        inspection_id: None,
    }
}

fn sum(lines: &[ChargeLine]) -> Result<Money, PaymentError> {
    lines
        .iter()
        .try_fold(Money::ZERO, |s, l| s.checked_add(l.amount))
        .ok_or_else(|| PaymentError::Invalid("the bill is too large".to_owned()))
}

impl Payments {
    pub(super) async fn settlement_of(
        &self,
        booking: Uuid,
    ) -> Result<Option<Settlement>, PaymentError> {
        let row: Option<SettlementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SETTLEMENT_COLUMNS} FROM charge_settlements WHERE booking_id = $1"
        )))
        .bind(booking)
        .fetch_optional(&self.db)
        .await?;
        Ok(row.as_ref().map(SettlementRow::to_dto))
    }

    /// The bill of a returned booking, with what the hold covers.
    pub async fn charges(
        &self,
        principal: &Principal,
        booking: Uuid,
    ) -> Result<Charges, PaymentError> {
        self.facts(principal, booking).await?;
        let mut conn = self.db.acquire().await?;
        let (lines, settlement) = bill(&mut conn, booking).await?;
        let total = sum(&lines)?;
        let held = holds::of_booking(&mut *conn, booking)
            .await?
            .into_iter()
            .rev()
            .find(|h| h.purpose == DEPOSIT && !h.status().is_final())
            .map_or(Money::ZERO, |hold| covers(&hold));
        let (capture, outstanding) = match &settlement {
            Some(s) => (
                Money::from_rupiah(s.capture_idr),
                Money::from_rupiah(s.outstanding_idr),
            ),
            None => cover(total, held),
        };
        Ok(Charges {
            booking_id: booking,
            lines,
            total,
            held,
            capture,
            outstanding,
            settlement: settlement.as_ref().map(SettlementRow::to_dto),
        })
    }

    /// Staff add a damage line from the booking's RETURN inspection (before confirmation).
    pub async fn add_damage(
        &self,
        principal: &Principal,
        booking: Uuid,
        request: &AddDamageRequest,
    ) -> Result<ChargeLine, PaymentError> {
        let facts = self.facts(principal, booking).await?;
        let text = |field, rule, value: &str| {
            crate::text::checked_one(field, rule, value)
                .map_err(|e| PaymentError::Invalid(e.to_string()))
        };
        let description = &text(
            "description",
            sentra_domain::TextRule::line(200),
            &request.description,
        )?;
        let reason = &text("reason", crate::text::required_note(500), &request.reason)?;
        if request.amount <= Money::ZERO {
            return Err(PaymentError::Invalid("amount: more than Rp 0".to_owned()));
        }
        let mut tx = self.db.begin().await?;
        lock_booking(&mut tx, booking).await?;
        let settled: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM charge_settlements WHERE booking_id = $1)",
        )
        .bind(booking)
        .fetch_one(&mut *tx)
        .await?;
        if settled {
            return Err(PaymentError::Invalid(
                "the bill is confirmed already; it cannot change".to_owned(),
            ));
        }
        let is_return: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM inspections WHERE id = $1 AND booking_id = $2 \
             AND kind = 'RETURN')",
        )
        .bind(request.inspection_id)
        .bind(booking)
        .fetch_one(&mut *tx)
        .await?;
        if !is_return {
            return Err(PaymentError::Invalid(
                "inspection_id: not a RETURN inspection of this booking".to_owned(),
            ));
        }
        let line: LineRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO charge_lines (id, booking_id, branch_id, kind, description, amount_idr, \
               reason, inspection_id, created_by) \
             VALUES ($1, $2, $3, 'DAMAGE', $4, $5, $6, $7, $8) RETURNING {LINE_COLUMNS}"
        )))
        .bind(Uuid::now_v7())
        .bind(booking)
        .bind(facts.branch_id)
        .bind(description)
        .bind(request.amount.rupiah())
        .bind(reason)
        .bind(request.inspection_id)
        .bind(principal.id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(line.to_dto())
    }

    /// Staff remove a damage line not yet confirmed.
    pub async fn remove_damage(
        &self,
        principal: &Principal,
        booking: Uuid,
        line: Uuid,
    ) -> Result<(), PaymentError> {
        self.facts(principal, booking).await?;
        let deleted = sqlx::query(
            "DELETE FROM charge_lines WHERE id = $1 AND booking_id = $2 AND settlement_id IS NULL",
        )
        .bind(line)
        .bind(booking)
        .execute(&self.db)
        .await
        .map_err(|e| {
            if crate::db::has_sqlstate(&e, &["23001"]) {
                PaymentError::Invalid("a confirmed line cannot change".to_owned())
            } else {
                e.into()
            }
        })?;
        if deleted.rows_affected() == 0 {
            return Err(PaymentError::NotFound("Charge line"));
        }
        Ok(())
    }

    /// Staff confirm the bill they saw (`total`): one capture of what the hold covers, the rest
    /// released, anything above owed apart. Asked again, the same settlement answers.
    pub async fn confirm_charges(
        &self,
        principal: &Principal,
        booking: Uuid,
        total_seen: Money,
    ) -> Result<Settlement, PaymentError> {
        let facts = self.facts(principal, booking).await?;
        let mut tx = self.db.begin().await?;
        lock_booking(&mut tx, booking).await?;
        let (lines, settlement) = bill(&mut tx, booking).await?;
        let total = sum(&lines)?;
        if let Some(existing) = settlement {
            drop(tx);
            if Money::from_rupiah(existing.total_idr) != total_seen {
                return Err(PaymentError::ChargesChanged { now: total });
            }
            self.finish_settlement(existing.id).await?;
            return self
                .settlement_of(booking)
                .await?
                .ok_or(PaymentError::NotFound("Settlement"));
        }
        if total != total_seen {
            return Err(PaymentError::ChargesChanged { now: total });
        }
        let hold = holds::live_locked(&mut tx, booking, DEPOSIT).await?;
        let hold =
            hold.filter(|h| matches!(h.status(), HoldStatus::Authorised | HoldStatus::Captured));
        let available = hold.as_ref().map_or(Money::ZERO, covers);
        let (capture, outstanding) = cover(total, available);
        // Captured whole before it lapsed: the rest is refunded. Else the uncaptured rest is
        // released.
        let precaptured = hold
            .as_ref()
            .is_some_and(|h| h.status() == HoldStatus::Captured);
        let released = if precaptured {
            available.rupiah() - capture.rupiah()
        } else {
            (hold.as_ref().map_or(0, |h| h.authorised_idr) - capture.rupiah()).max(0)
        };
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO charge_settlements (id, booking_id, branch_id, hold_id, total_idr, \
               capture_idr, outstanding_idr, released_idr, precaptured, status, confirmed_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'CAPTURING', $10)",
        )
        .bind(id)
        .bind(booking)
        .bind(facts.branch_id)
        .bind(hold.as_ref().map(|h| h.id))
        .bind(total.rupiah())
        .bind(capture.rupiah())
        .bind(outstanding.rupiah())
        .bind(released)
        .bind(precaptured)
        .bind(principal.id)
        .execute(&mut *tx)
        .await?;
        for line in lines.iter().filter(|l| l.id.is_none()) {
            sqlx::query(
                "INSERT INTO charge_lines (id, booking_id, branch_id, kind, description, \
                   amount_idr, settlement_id, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(Uuid::now_v7())
            .bind(booking)
            .bind(facts.branch_id)
            .bind(line.kind.as_str())
            .bind(&line.description)
            .bind(line.amount.rupiah())
            .bind(id)
            .bind(principal.id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE charge_lines SET settlement_id = $2 WHERE booking_id = $1 AND settlement_id IS NULL",
        )
        .bind(booking)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        jobs::enqueue(
            &mut tx,
            &SettlementCapture { settlement_id: id },
            Some(Utc::now() + chrono::Duration::seconds(60)),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(settlement = %id, %total, %capture, %outstanding, "bill confirmed");
        if let Err(e) = self.finish_settlement(id).await {
            // The capture is retried by the job; staff see CAPTURING meanwhile.
            tracing::warn!(settlement = %id, error = %e, "capture not recorded yet; the job retries");
        }
        self.settlement_of(booking)
            .await?
            .ok_or(PaymentError::NotFound("Settlement"))
    }
}

/// What a deposit hold can cover: what it still holds, or, captured whole before it lapsed,
/// what was captured and not refunded.
fn covers(hold: &holds::HoldRow) -> Money {
    let h = hold.hold();
    if h.status == HoldStatus::Captured {
        Money::from_rupiah(h.captured.rupiah() - h.refunded.rupiah())
    } else {
        h.held()
    }
}

/// Locks a booking's row for a change to its bill.
async fn lock_booking(tx: &mut PgConnection, booking: Uuid) -> Result<(), PaymentError> {
    let found: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM bookings WHERE id = $1 FOR UPDATE")
            .bind(booking)
            .fetch_optional(tx)
            .await?;
    found.map(|_| ()).ok_or(PaymentError::NotFound("Booking"))
}

/// The year of `at` at a branch in `zone`.
pub(super) fn local_year(at: DateTime<Utc>, zone: BranchTimeZone) -> i32 {
    zone.local_date_of(at).year()
}
