//! The invoice of a settled bill: numbered in the same transaction that marks the settlement
//! SETTLED (no number is used by a failure; a stored PDF whose row did not commit is deleted),
//! rendered by `sentra-printing`, stored with its SHA-256.

use chrono::Utc;
use sentra_domain::{BranchTimeZone, Money};
use sentra_printing::{Invoice, InvoiceLine};

use super::{LINE_COLUMNS, LineRow, SettlementRow, local_year, next_number};
use crate::payments::{PaymentError, Payments};

#[derive(Debug, sqlx::FromRow)]
struct Header {
    branch_code: String,
    branch_name: String,
    branch_address: String,
    time_zone: String,
    customer_name: String,
    plate: String,
    sku_name: String,
    start_date: chrono::NaiveDate,
    end_date: chrono::NaiveDate,
    provider: Option<String>,
    method: Option<String>,
    authorised_idr: Option<i64>,
}

/// What the invoice prints, formatted.
fn document(
    header: &Header,
    lines: &[LineRow],
    settlement: &SettlementRow,
    number: &str,
    now: chrono::DateTime<Utc>,
    zone: BranchTimeZone,
) -> Invoice {
    let money = |n: i64| Money::from_rupiah(n).to_string();
    Invoice {
        number: number.to_owned(),
        issued_at: format!(
            "{} {}",
            now.with_timezone(&zone.utc_offset())
                .format("%d-%m-%Y %H:%M"),
            zone.abbreviation()
        ),
        branch_name: header.branch_name.clone(),
        branch_address: if header.branch_address.trim().is_empty() {
            header.branch_code.clone()
        } else {
            header.branch_address.clone()
        },
        renter_name: header.customer_name.clone(),
        booking_reference: settlement.booking_id.to_string(),
        plate: header.plate.clone(),
        vehicle: header.sku_name.clone(),
        period: format!(
            "{} s.d. {}",
            header.start_date.format("%d-%m-%Y"),
            header.end_date.format("%d-%m-%Y")
        ),
        payment_method: payment_method(header.provider.as_deref(), header.method.as_deref()),
        lines: lines
            .iter()
            .map(|l| InvoiceLine {
                description: l.description.clone(),
                reference: match (&l.reason, l.inspection_id) {
                    (Some(reason), Some(inspection)) => {
                        format!("{reason} — pemeriksaan {inspection}")
                    }
                    _ => String::new(),
                },
                amount: money(l.amount_idr),
            })
            .collect(),
        total: money(settlement.total_idr),
        hold: money(header.authorised_idr.unwrap_or(0)),
        captured: money(settlement.capture_idr),
        released: money(settlement.released_idr),
        outstanding: money(settlement.outstanding_idr),
    }
}

fn payment_method(provider: Option<&str>, method: Option<&str>) -> String {
    match (provider, method) {
        (Some("manual"), Some("cash")) => "Tunai (di loket)".to_owned(),
        (Some("manual"), _) => "Transfer bank (di loket)".to_owned(),
        (Some(p), Some("gopay")) => format!("GoPay ({})", capitalised(p)),
        (Some(p), _) => format!("Kartu kredit ({})", capitalised(p)),
        (None, _) => "-".to_owned(),
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl Payments {
    /// Numbers, renders and stores the invoice, and marks the settlement SETTLED.
    pub(super) async fn issue_invoice(
        &self,
        settlement: &SettlementRow,
    ) -> Result<(), PaymentError> {
        let header: Header = sqlx::query_as(
            "SELECT br.code AS branch_code, br.name AS branch_name, br.address AS branch_address, \
                    br.time_zone, c.full_name AS customer_name, a.plate_or_serial AS plate, \
                    s.name AS sku_name, lower(b.period) AS start_date, upper(b.period) AS end_date, \
                    h.provider, h.method, h.authorised_idr \
             FROM bookings b JOIN branches br ON br.id = b.branch_id \
             JOIN assets a ON a.id = b.asset_id JOIN skus s ON s.id = a.sku_id \
             JOIN customers c ON c.id = b.customer_id \
             LEFT JOIN payment_holds h ON h.id = $2 WHERE b.id = $1",
        )
        .bind(settlement.booking_id)
        .bind(settlement.hold_id)
        .fetch_one(&self.db)
        .await?;
        let lines: Vec<LineRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {LINE_COLUMNS} FROM charge_lines WHERE settlement_id = $1 ORDER BY created_at, id"
        )))
        .bind(settlement.id)
        .fetch_all(&self.db)
        .await?;
        let zone: BranchTimeZone = header.time_zone.parse().unwrap_or(BranchTimeZone::Wib);
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let status: String =
            sqlx::query_scalar("SELECT status FROM charge_settlements WHERE id = $1 FOR UPDATE")
                .bind(settlement.id)
                .fetch_one(&mut *tx)
                .await?;
        if status == "SETTLED" {
            return Ok(());
        }
        self.release_counter_rest(
            &mut tx,
            settlement,
            &header.branch_code,
            local_year(now, zone),
        )
        .await?;
        let number = next_number(
            &mut tx,
            settlement.branch_id,
            "INVOICE",
            "INV",
            &header.branch_code,
            local_year(now, zone),
        )
        .await?;
        let invoice = document(&header, &lines, settlement, &number, now, zone);
        let pdf = sentra_printing::render_invoice(&invoice)
            .map_err(|e| PaymentError::Storage(anyhow::anyhow!("rendering {number}: {e}")))?;
        let key = format!("invoices/{}/{}.pdf", settlement.branch_id, settlement.id);
        let sha256 = crate::handover::records::sha256_hex(&pdf);
        let size = i64::try_from(pdf.len()).unwrap_or(i64::MAX);
        self.storage.put(&key, pdf).await?;
        let updated = sqlx::query(
            "UPDATE charge_settlements SET status = 'SETTLED', invoice_number = $2, \
               object_key = $3, sha256 = $4, size_bytes = $5, settled_at = now() WHERE id = $1",
        )
        .bind(settlement.id)
        .bind(&number)
        .bind(&key)
        .bind(&sha256)
        .bind(size)
        .execute(&mut *tx)
        .await;
        let committed = match updated {
            Ok(_) => tx.commit().await,
            Err(e) => Err(e),
        };
        if let Err(e) = committed {
            let _ = self.storage.delete(&key).await;
            return Err(e.into());
        }
        tracing::info!(settlement = %settlement.id, %number, "invoice issued");
        Ok(())
    }

    /// A counter deposit's rest goes back to the customer at the counter when the bill is
    /// settled, with a numbered return receipt (`KK/<branch>/<year>/<6 digits>`).
    async fn release_counter_rest(
        &self,
        tx: &mut sqlx::PgConnection,
        settlement: &SettlementRow,
        branch_code: &str,
        year: i32,
    ) -> Result<(), PaymentError> {
        let Some(hold_id) = settlement.hold_id else {
            return Ok(());
        };
        let Some(hold) = crate::payments::holds::lock(tx, hold_id).await? else {
            return Ok(());
        };
        if hold.provider() != sentra_domain::payment::PaymentProvider::Manual
            || hold.status().is_final()
        {
            return Ok(());
        }
        let mut current = hold.hold();
        let mut steps = Vec::new();
        if current.status == sentra_domain::payment::HoldStatus::Authorised
            && settlement.capture_idr > 0
        {
            let (next, entry) = current.capture(Money::from_rupiah(settlement.capture_idr))?;
            steps.push((next, Some(entry)));
            current = next;
        }
        let (next, entry) = current.release()?;
        steps.push((next, Some(entry)));
        crate::payments::holds::write_steps(tx, &hold, &steps, "staff").await?;
        let receipt = next_number(
            tx,
            hold.branch_id,
            "RETURN_RECEIPT",
            "KK",
            branch_code,
            year,
        )
        .await?;
        sqlx::query("UPDATE payment_holds SET return_receipt = $2 WHERE id = $1")
            .bind(hold_id)
            .bind(&receipt)
            .execute(tx)
            .await?;
        Ok(())
    }

    /// The invoice PDF of a settled booking, checked against its hash.
    pub async fn invoice_pdf(
        &self,
        principal: &crate::auth::Principal,
        booking: uuid::Uuid,
    ) -> Result<(String, Vec<u8>), PaymentError> {
        self.facts(principal, booking).await?;
        let row: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT invoice_number, object_key, sha256 FROM charge_settlements WHERE booking_id = $1",
        )
        .bind(booking)
        .fetch_optional(&self.db)
        .await?;
        let Some((Some(number), Some(key), Some(sha256))) = row else {
            return Err(PaymentError::NotFound("Invoice"));
        };
        let pdf = self
            .storage
            .get(&key)
            .await?
            .ok_or(PaymentError::NotFound("Invoice"))?;
        if crate::handover::records::sha256_hex(&pdf) != sha256 {
            return Err(PaymentError::Storage(anyhow::anyhow!(
                "invoice {number}: the stored PDF no longer matches its hash"
            )));
        }
        Ok((number, pdf))
    }
}
