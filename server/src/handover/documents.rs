//! The printed documents of a handover: the surat jalan and the rental agreement, rendered by
//! `sentra-printing`, numbered gap-free per branch, kind and year, and stored (PDF and SHA-256)
//! once per handover record: printing again returns the same document.
//!
//! The number is taken, the PDF rendered and stored and the row written in one transaction: a
//! failure anywhere leaves no number used, and the sequence row's lock makes numbers of one
//! branch and year follow each other.

use chrono::{DateTime, Datelike, Utc};
use sentra_domain::{BranchTimeZone, Money};
use sentra_printing::RentalDocument;
use sentra_protocol::RentalDocumentInfo;
use uuid::Uuid;

use super::{HandoverError, Handovers, records::sha256_hex};
use crate::auth::Principal;

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    SuratJalan,
    Agreement,
}

impl DocumentKind {
    /// From the path segment (`surat-jalan`, `agreement`).
    pub fn from_path(segment: &str) -> Option<Self> {
        match segment {
            "surat-jalan" => Some(Self::SuratJalan),
            "agreement" => Some(Self::Agreement),
            _ => None,
        }
    }

    fn stored(self) -> &'static str {
        match self {
            Self::SuratJalan => "SURAT_JALAN",
            Self::Agreement => "AGREEMENT",
        }
    }

    /// The number's prefix: SJ (surat jalan), PS (perjanjian sewa).
    fn prefix(self) -> &'static str {
        match self {
            Self::SuratJalan => "SJ",
            Self::Agreement => "PS",
        }
    }
}

/// `SJ/JKT01/2026/000042`.
pub fn document_number(prefix: &str, branch_code: &str, year: i32, n: i32) -> String {
    format!("{prefix}/{branch_code}/{year}/{n:06}")
}

#[derive(sqlx::FromRow)]
struct DocRow {
    id: Uuid,
    kind: String,
    number: String,
    booking_id: Uuid,
    inspection_id: Uuid,
    sha256: String,
    size_bytes: i64,
    created_at: DateTime<Utc>,
}

impl DocRow {
    fn to_dto(&self) -> RentalDocumentInfo {
        RentalDocumentInfo {
            id: self.id,
            kind: self.kind.clone(),
            number: self.number.clone(),
            booking_id: self.booking_id,
            inspection_id: self.inspection_id,
            sha256: self.sha256.clone(),
            size_bytes: u64::try_from(self.size_bytes).unwrap_or(0),
            created_at: self.created_at,
            pdf_path: format!("/api/v1/documents/{}/pdf", self.id),
        }
    }
}

const DOC_COLUMNS: &str =
    "id, kind, number, booking_id, inspection_id, sha256, size_bytes, created_at";

/// Documents of `branch` for the change feed.
pub(crate) async fn of_branch(
    db: &sqlx::PgPool,
    branch: Uuid,
    select: super::BranchSelect<'_>,
) -> sqlx::Result<Vec<RentalDocumentInfo>> {
    let rows: Vec<DocRow> = select
        .fetch(
            db,
            "documents",
            DOC_COLUMNS,
            "created_at >= $3::date",
            branch,
        )
        .await?;
    Ok(rows.iter().map(DocRow::to_dto).collect())
}

/// What the documents print, read in one query.
#[derive(sqlx::FromRow)]
struct Facts {
    branch_id: Uuid,
    branch_code: String,
    branch_name: String,
    branch_address: String,
    time_zone: String,
    customer_name: String,
    customer_phone: Option<String>,
    nik_masked: Option<String>,
    plate: String,
    sku_name: String,
    colour: String,
    start_date: chrono::NaiveDate,
    end_date: chrono::NaiveDate,
    picked_up_at: Option<DateTime<Utc>>,
    total_idr: i64,
    daily_rate_idr: i64,
    deposit_idr: i64,
    late_grace_minutes: i32,
    late_fee_per_hour_idr: i64,
    late_fee_daily_cap_idr: i64,
}

/// `42100` as Indonesians write it: `42.100`.
fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('.');
        }
        out.push(digit);
    }
    out
}

fn local(at: DateTime<Utc>, zone: BranchTimeZone) -> String {
    format!(
        "{} {}",
        at.with_timezone(&zone.utc_offset())
            .format("%d-%m-%Y %H:%M"),
        zone.abbreviation()
    )
}

impl Handovers {
    /// The handover record a booking's documents print: its latest PICKUP or DELIVERY.
    async fn handover_record(
        &self,
        booking: Uuid,
    ) -> Result<super::StoredInspection, HandoverError> {
        let id: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM inspections WHERE booking_id = $1 AND kind IN ('PICKUP', 'DELIVERY') \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(booking)
        .fetch_optional(&self.db)
        .await?;
        let id = id.ok_or(HandoverError::NoHandover)?;
        super::records::get(&self.db, id)
            .await?
            .ok_or(HandoverError::NoHandover)
    }

    /// The booking's document of `kind`, made (numbered, rendered, stored) the first time.
    /// Answers whether it was made now.
    pub async fn document(
        &self,
        principal: &Principal,
        booking: Uuid,
        kind: DocumentKind,
    ) -> Result<(RentalDocumentInfo, bool), HandoverError> {
        self.booking_for(principal, booking).await?;
        let record = self.handover_record(booking).await?;
        if let Some(existing) = self.existing(record.id, kind).await? {
            return Ok((existing.to_dto(), false));
        }
        let facts: Facts = sqlx::query_as(
            "SELECT br.id AS branch_id, br.code AS branch_code, br.name AS branch_name, \
                    br.address AS branch_address, br.time_zone, c.full_name AS customer_name, \
                    c.phone AS customer_phone, \
                    (SELECT k.nik_masked FROM kyc_cases k WHERE k.customer_id = c.id \
                       AND k.status = 'verified' ORDER BY k.created_at DESC LIMIT 1) AS nik_masked, \
                    a.plate_or_serial AS plate, s.name AS sku_name, a.colour, \
                    lower(b.period) AS start_date, upper(b.period) AS end_date, b.picked_up_at, \
                    b.total_idr, s.daily_rate_idr, s.deposit_idr, s.late_grace_minutes, \
                    s.late_fee_per_hour_idr, s.late_fee_daily_cap_idr \
             FROM bookings b JOIN branches br ON br.id = b.branch_id \
             JOIN assets a ON a.id = b.asset_id JOIN skus s ON s.id = a.sku_id \
             JOIN customers c ON c.id = b.customer_id WHERE b.id = $1",
        )
        .bind(booking)
        .fetch_optional(&self.db)
        .await?
        .ok_or(HandoverError::NotFound("Booking"))?;
        let zone: BranchTimeZone = facts.time_zone.parse().unwrap_or(BranchTimeZone::Wib);
        let now = Utc::now();
        let year = zone.local_date_of(now).year();

        let mut tx = self.db.begin().await?;
        let n: i32 = sqlx::query_scalar(
            "INSERT INTO document_sequences (branch_id, kind, year, last) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (branch_id, kind, year) DO UPDATE SET last = document_sequences.last + 1 \
             RETURNING last",
        )
        .bind(facts.branch_id)
        .bind(kind.stored())
        .bind(year)
        .fetch_one(&mut *tx)
        .await?;
        let number = document_number(kind.prefix(), &facts.branch_code, year, n);
        let content = self.content(&facts, &record, zone, &number, now);
        let pdf = match kind {
            DocumentKind::SuratJalan => sentra_printing::render_surat_jalan(&content),
            DocumentKind::Agreement => sentra_printing::render_agreement(&content),
        }
        .map_err(|e| HandoverError::Storage(anyhow::anyhow!("rendering {number}: {e}")))?;
        let id = Uuid::now_v7();
        let key = format!("documents/{}/{id}.pdf", facts.branch_id);
        let sha256 = sha256_hex(&pdf);
        let size = i64::try_from(pdf.len()).unwrap_or(i64::MAX);
        self.storage.put(&key, pdf).await?;
        let inserted: Result<DocRow, sqlx::Error> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO documents (id, kind, number, branch_id, booking_id, inspection_id, \
               object_key, sha256, size_bytes, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {DOC_COLUMNS}"
        )))
        .bind(id)
        .bind(kind.stored())
        .bind(&number)
        .bind(facts.branch_id)
        .bind(booking)
        .bind(record.id)
        .bind(&key)
        .bind(&sha256)
        .bind(size)
        .bind(principal.id)
        .fetch_one(&mut *tx)
        .await;
        let row = match inserted {
            Ok(row) => row,
            Err(e) if crate::db::has_sqlstate(&e, &["23505"]) => {
                // Printed at the same moment elsewhere: that one stands, this number is unused.
                drop(tx);
                let _ = self.storage.delete(&key).await;
                let existing = self.existing(record.id, kind).await?;
                return existing
                    .map(|d| (d.to_dto(), false))
                    .ok_or(HandoverError::Database(e));
            }
            Err(e) => {
                drop(tx);
                let _ = self.storage.delete(&key).await;
                return Err(e.into());
            }
        };
        if let Err(e) = tx.commit().await {
            // Not recorded (and its number not taken): the stored PDF must not linger.
            let _ = self.storage.delete(&key).await;
            return Err(e.into());
        }
        tracing::info!(document = %row.id, number = %row.number, "document issued");
        Ok((row.to_dto(), true))
    }

    async fn existing(
        &self,
        inspection: Uuid,
        kind: DocumentKind,
    ) -> Result<Option<DocRow>, HandoverError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DOC_COLUMNS} FROM documents WHERE inspection_id = $1 AND kind = $2"
        )))
        .bind(inspection)
        .bind(kind.stored())
        .fetch_optional(&self.db)
        .await?)
    }

    /// A stored document's PDF, if the caller's branch holds it (checked against its hash).
    pub async fn document_pdf(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<(String, Vec<u8>), HandoverError> {
        let row: Option<(Uuid, String, String, String)> = sqlx::query_as(
            "SELECT branch_id, object_key, sha256, number FROM documents WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db)
        .await?;
        let Some((_, key, sha256, number)) = row.filter(|r| principal.can_access_branch(r.0))
        else {
            return Err(HandoverError::NotFound("Document"));
        };
        let pdf = self
            .storage
            .get(&key)
            .await?
            .ok_or(HandoverError::NotFound("Document"))?;
        if sha256_hex(&pdf) != sha256 {
            return Err(HandoverError::Storage(anyhow::anyhow!(
                "document {number}: the stored PDF no longer matches its hash"
            )));
        }
        Ok((number, pdf))
    }

    fn content(
        &self,
        facts: &Facts,
        record: &super::StoredInspection,
        zone: BranchTimeZone,
        number: &str,
        now: DateTime<Utc>,
    ) -> RentalDocument {
        let due = sentra_domain::handover::due_at(facts.end_date, zone);
        let start = facts.picked_up_at.unwrap_or(record.recorded_at);
        let days = u32::try_from((facts.end_date - facts.start_date).num_days()).unwrap_or(0);
        let late_fee_rule = format!(
            "{} per jam setelah {} menit, paling banyak {} per hari",
            Money::from_rupiah(facts.late_fee_per_hour_idr),
            facts.late_grace_minutes,
            Money::from_rupiah(facts.late_fee_daily_cap_idr)
        );
        let hash = record.tamper_proof_hash.clone();
        RentalDocument {
            number: number.to_owned(),
            issued_at: local(now, zone),
            branch_name: facts.branch_name.clone(),
            branch_address: if facts.branch_address.trim().is_empty() {
                facts.branch_code.clone()
            } else {
                facts.branch_address.clone()
            },
            time_zone: zone.indonesian_name().to_owned(),
            renter_name: facts.customer_name.clone(),
            renter_nik: facts
                .nik_masked
                .clone()
                .unwrap_or_else(|| "(belum diverifikasi)".to_owned()),
            renter_phone: facts
                .customer_phone
                .clone()
                .unwrap_or_else(|| "-".to_owned()),
            plate: facts.plate.clone(),
            vehicle: facts.sku_name.clone(),
            colour: if facts.colour.is_empty() {
                "-".to_owned()
            } else {
                facts.colour.clone()
            },
            odometer_km: thousands(record.record.odometer_km),
            fuel: format!("{}/8", record.record.fuel_eighths),
            period_start: local(start, zone),
            period_end: local(due, zone),
            days,
            daily_rate: Money::from_rupiah(facts.daily_rate_idr).to_string(),
            total: Money::from_rupiah(facts.total_idr).to_string(),
            deposit: Money::from_rupiah(facts.deposit_idr).to_string(),
            late_fee_rule,
            verify_url: format!("{}/v/{hash}", self.public_url),
            handover_hash: hash,
        }
    }
}
