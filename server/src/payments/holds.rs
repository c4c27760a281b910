//! Hold rows and their ledger. A hold changes only here, and only through the domain state
//! machine: [`apply_in`] brings a locked row up to what its provider reports, writing one
//! ledger row per step in the same transaction (the database also refuses a hold going back).

use chrono::{DateTime, Utc};
use sentra_domain::{
    Money,
    payment::{CancelMeaning, Hold, HoldStatus, LedgerEntry, PaymentMethod, PaymentProvider},
};
use sentra_protocol::{HoldMovement, PaymentHold};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::gateway::{PaymentRef, Report};

/// A `payment_holds` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HoldRow {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub branch_id: Uuid,
    pub customer_id: Uuid,
    pub provider: String,
    pub method: String,
    pub purpose: String,
    pub status: String,
    pub amount_idr: i64,
    pub authorised_idr: i64,
    pub captured_idr: i64,
    pub returned_idr: i64,
    pub refunded_idr: i64,
    pub order_id: String,
    pub provider_payment_id: Option<String>,
    pub action_url: Option<String>,
    pub bank: Option<String>,
    pub lapses_at: Option<DateTime<Utc>>,
    pub cancel_asked: Option<String>,
    pub attention: Option<String>,
    pub return_receipt: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub const HOLD_COLUMNS: &str = "id, booking_id, branch_id, customer_id, provider, method, \
    purpose, status, amount_idr, authorised_idr, captured_idr, returned_idr, refunded_idr, order_id, \
    provider_payment_id, action_url, bank, lapses_at, cancel_asked, attention, return_receipt, \
    created_at";

/// A DEPOSIT hold (rental and deposit, before pickup).
pub const DEPOSIT: &str = "DEPOSIT";
/// A CHARGE hold (the bill above the deposit hold).
pub const CHARGE: &str = "CHARGE";

impl HoldRow {
    pub fn status(&self) -> HoldStatus {
        HoldStatus::parse(&self.status).unwrap_or(HoldStatus::Pending)
    }

    pub fn provider(&self) -> PaymentProvider {
        PaymentProvider::parse(&self.provider).unwrap_or(PaymentProvider::Manual)
    }

    pub fn method(&self) -> PaymentMethod {
        PaymentMethod::parse(&self.method).unwrap_or(PaymentMethod::Card)
    }

    /// The hold as the domain sees it.
    pub fn hold(&self) -> Hold {
        Hold {
            status: self.status(),
            authorised: Money::from_rupiah(self.authorised_idr),
            captured: Money::from_rupiah(self.captured_idr),
            returned: Money::from_rupiah(self.returned_idr),
            refunded: Money::from_rupiah(self.refunded_idr),
        }
    }

    pub fn payment_ref(&self) -> PaymentRef {
        PaymentRef {
            order_id: self.order_id.clone(),
            payment_id: self.provider_payment_id.clone(),
        }
    }

    /// What a cancel at the provider means for this hold now.
    pub fn cancel_meaning(&self) -> CancelMeaning {
        match self.cancel_asked.as_deref() {
            Some("VOID") => CancelMeaning::Voided,
            Some("RELEASE") => CancelMeaning::Released,
            _ => CancelMeaning::Lapsed,
        }
    }

    /// As the API shows it, with its movements.
    pub fn to_dto(&self, movements: Vec<HoldMovement>) -> PaymentHold {
        let hold = self.hold();
        PaymentHold {
            id: self.id,
            booking_id: self.booking_id,
            provider: self.provider(),
            method: self.method(),
            purpose: self.purpose.clone(),
            status: hold.status,
            amount: Money::from_rupiah(self.amount_idr),
            authorised: hold.authorised,
            captured: hold.captured,
            returned: hold.returned,
            refunded: hold.refunded,
            held: hold.held(),
            reference: self.order_id.clone(),
            action_url: self.action_url.clone(),
            lapses_at: self.lapses_at,
            attention: self.attention.clone(),
            return_receipt: self.return_receipt.clone(),
            created_at: self.created_at,
            movements,
        }
    }
}

/// Locks a hold for a change.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<HoldRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {HOLD_COLUMNS} FROM payment_holds WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn get<'e>(db: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<HoldRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {HOLD_COLUMNS} FROM payment_holds WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The holds of a booking, oldest first.
pub async fn of_booking<'e>(db: impl PgExecutor<'e>, booking: Uuid) -> sqlx::Result<Vec<HoldRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {HOLD_COLUMNS} FROM payment_holds WHERE booking_id = $1 ORDER BY created_at, id"
    )))
    .bind(booking)
    .fetch_all(db)
    .await
}

/// The live hold of `purpose` of a booking, locked.
pub async fn live_locked(
    conn: &mut PgConnection,
    booking: Uuid,
    purpose: &str,
) -> sqlx::Result<Option<HoldRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {HOLD_COLUMNS} FROM payment_holds WHERE booking_id = $1 AND purpose = $2 \
         AND status IN ('PENDING', 'AUTHORISED', 'CAPTURED') FOR UPDATE"
    )))
    .bind(booking)
    .bind(purpose)
    .fetch_optional(conn)
    .await
}

/// The ledger of a hold, in order.
pub async fn movements<'e>(db: impl PgExecutor<'e>, hold: Uuid) -> sqlx::Result<Vec<HoldMovement>> {
    let rows: Vec<(String, i64, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT entry, amount_idr, status_after, created_at FROM payment_ledger \
         WHERE hold_id = $1 ORDER BY id",
    )
    .bind(hold)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(entry, amount, status, at)| HoldMovement {
            entry,
            amount: Money::from_rupiah(amount),
            status_after: HoldStatus::parse(&status).unwrap_or(HoldStatus::Pending),
            at,
        })
        .collect())
}

/// Whether the ledger of `row` balances (authorised = captured + returned + still held).
pub async fn ledger_balances(conn: &mut PgConnection, row: &HoldRow) -> sqlx::Result<bool> {
    let entries: Vec<(String, i64)> =
        sqlx::query_as("SELECT entry, amount_idr FROM payment_ledger WHERE hold_id = $1")
            .bind(row.id)
            .fetch_all(conn)
            .await?;
    let entries: Vec<LedgerEntry> = entries
        .into_iter()
        .filter_map(|(entry, amount)| {
            let m = Money::from_rupiah(amount);
            Some(match entry.as_str() {
                "AUTHORISED" => LedgerEntry::Authorised(m),
                "CAPTURED" => LedgerEntry::Captured(m),
                "RELEASED" => LedgerEntry::Released(m),
                "VOIDED" => LedgerEntry::Voided(m),
                "EXPIRED" => LedgerEntry::Expired(m),
                "REFUNDED" => LedgerEntry::Refunded(m),
                _ => return None,
            })
        })
        .collect();
    Ok(sentra_domain::payment::balances(&row.hold(), &entries))
}

fn entry_name(entry: LedgerEntry) -> (&'static str, Money) {
    match entry {
        LedgerEntry::Authorised(m) => ("AUTHORISED", m),
        LedgerEntry::Captured(m) => ("CAPTURED", m),
        LedgerEntry::Released(m) => ("RELEASED", m),
        LedgerEntry::Voided(m) => ("VOIDED", m),
        LedgerEntry::Expired(m) => ("EXPIRED", m),
        LedgerEntry::Refunded(m) => ("REFUNDED", m),
    }
}

/// Moves a locked hold through `steps` (from the domain), one ledger row each, and stores the
/// result. Returns the updated row.
pub async fn write_steps(
    conn: &mut PgConnection,
    row: &HoldRow,
    steps: &[(Hold, Option<LedgerEntry>)],
    source: &str,
) -> sqlx::Result<HoldRow> {
    let Some((last, _)) = steps.last() else {
        return Ok(row.clone());
    };
    for (hold, entry) in steps {
        if let Some(entry) = entry {
            let (name, amount) = entry_name(*entry);
            sqlx::query(
                "INSERT INTO payment_ledger (hold_id, branch_id, entry, amount_idr, status_after, source) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(row.id)
            .bind(row.branch_id)
            .bind(name)
            .bind(amount.rupiah())
            .bind(hold.status.as_str())
            .bind(source)
            .execute(&mut *conn)
            .await?;
        }
    }
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE payment_holds SET status = $2, authorised_idr = $3, captured_idr = $4, \
         returned_idr = $5, refunded_idr = $6, updated_at = now() WHERE id = $1 \
         RETURNING {HOLD_COLUMNS}"
    )))
    .bind(row.id)
    .bind(last.status.as_str())
    .bind(last.authorised.rupiah())
    .bind(last.captured.rupiah())
    .bind(last.returned.rupiah())
    .bind(last.refunded.rupiah())
    .fetch_one(conn)
    .await
}

/// Brings a locked hold up to `report` (never back), storing what the provider told us about
/// it (its id, the 3-D Secure page, the bank). `Err` from the domain: the report cannot be
/// followed (for the reconciliation report); nothing changes.
pub async fn apply_in(
    conn: &mut PgConnection,
    row: &HoldRow,
    report: &Report,
    source: &str,
) -> Result<HoldRow, super::PaymentError> {
    let steps = row
        .hold()
        .catch_up(&report.remote(), row.cancel_meaning())?;
    let row = write_steps(conn, row, &steps, source).await?;
    let updated: HoldRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE payment_holds SET provider_payment_id = coalesce(provider_payment_id, $2), \
           action_url = CASE WHEN status = 'PENDING' THEN coalesce($3, action_url) END, \
           bank = coalesce($4, bank) WHERE id = $1 RETURNING {HOLD_COLUMNS}"
    )))
    .bind(row.id)
    .bind(report.payment_id.as_deref())
    .bind(report.action_url.as_deref())
    .bind(report.bank.as_deref())
    .fetch_one(conn)
    .await?;
    Ok(updated)
}

/// Sets what staff must know about a hold (or clears it).
pub async fn set_attention(
    conn: &mut PgConnection,
    id: Uuid,
    attention: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE payment_holds SET attention = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(attention)
        .execute(conn)
        .await?;
    Ok(())
}
