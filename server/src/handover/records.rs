//! Inspection records in Postgres: built from the inspector's input and the files it refers to,
//! hashed, chained to the asset's previous record and appended (the table refuses updates and
//! deletes). Callers hold the asset's row lock, so one asset's records are numbered in order.

use chrono::{DateTime, Utc};
use sentra_domain::{
    ChecklistItem, InspectionKind, TextRule,
    inspection::{self, ChecklistAnswer, DamageMark, FileRef, InspectionRecord, Signatures},
};
use sentra_protocol::{InspectionInput, RecordFile};
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::HandoverError;

/// Who and what a new record is about, decided by the caller.
#[derive(Debug)]
pub(crate) struct Context {
    pub asset_id: Uuid,
    pub branch_id: Uuid,
    pub booking_id: Option<Uuid>,
    pub inspector: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub input_hash: String,
}

/// A stored record.
#[derive(Debug, Clone)]
pub struct StoredInspection {
    pub id: Uuid,
    pub branch_id: Uuid,
    pub record: InspectionRecord,
    pub tamper_proof_hash: String,
    pub recorded_at: DateTime<Utc>,
}

impl StoredInspection {
    /// The record as the API shows it.
    pub fn to_dto(&self) -> sentra_protocol::Inspection {
        let r = &self.record;
        sentra_protocol::Inspection {
            id: self.id,
            asset_id: r.asset_id,
            branch_id: self.branch_id,
            booking_id: r.booking_id,
            kind: r.kind,
            corrects: r.corrects,
            seq: r.seq,
            checklist: r.checklist.clone(),
            odometer_km: r.odometer_km,
            fuel_eighths: r.fuel_eighths,
            damages: r.damages.clone(),
            photos: r
                .photos
                .iter()
                .map(|p| RecordFile {
                    object_key: p.object_key.clone(),
                    sha256: p.sha256.clone(),
                    checklist_key: p.checklist_key.clone(),
                })
                .collect(),
            inspector_id: r.inspector_id,
            device_id: r.device_id,
            recorded_at: self.recorded_at,
            tamper_proof_hash: self.tamper_proof_hash.clone(),
            prev_hash: r.prev_hash.clone(),
            verify_path: format!("/v/{}", self.tamper_proof_hash),
        }
    }
}

/// SHA-256 (hex) of the request that makes a record (with the booking it was sent for).
pub(crate) fn input_hash(input: &InspectionInput, booking: Option<Uuid>) -> String {
    let value = serde_json::json!({ "input": input, "booking": booking });
    sentra_domain::evidence_hash(&value)
        .map(|h| h.to_hex())
        .unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    branch_id: Uuid,
    payload: serde_json::Value,
    tamper_proof_hash: String,
    recorded_at: DateTime<Utc>,
    input_hash: String,
}

impl Row {
    fn into_stored(self) -> Result<StoredInspection, HandoverError> {
        let record: InspectionRecord = serde_json::from_value(self.payload).map_err(|e| {
            HandoverError::Storage(anyhow::anyhow!(
                "inspection {}: the stored payload no longer reads: {e}",
                self.id
            ))
        })?;
        Ok(StoredInspection {
            id: self.id,
            branch_id: self.branch_id,
            record,
            tamper_proof_hash: self.tamper_proof_hash,
            recorded_at: self.recorded_at,
        })
    }
}

const COLUMNS: &str = "id, branch_id, payload, tamper_proof_hash, recorded_at, input_hash";

async fn row(db: &sqlx::PgPool, id: Uuid) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM inspections WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// One record by id.
pub(crate) async fn get(
    db: &sqlx::PgPool,
    id: Uuid,
) -> Result<Option<StoredInspection>, HandoverError> {
    row(db, id).await?.map(Row::into_stored).transpose()
}

/// Records of `branch` for the change feed (a stored payload that no longer reads is left out:
/// verification names it).
pub(crate) async fn of_branch(
    db: &sqlx::PgPool,
    branch: Uuid,
    select: super::BranchSelect<'_>,
) -> sqlx::Result<Vec<StoredInspection>> {
    let rows: Vec<Row> = select
        .fetch(
            db,
            "inspections",
            COLUMNS,
            "recorded_at >= $3::date",
            branch,
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_stored().ok())
        .collect())
}

/// The record stored earlier under `id`, if the same request made it (a replay); a different
/// request under the same id is refused.
pub(crate) async fn replay(
    db: &sqlx::PgPool,
    id: Uuid,
    input_hash: &str,
) -> Result<Option<StoredInspection>, HandoverError> {
    match row(db, id).await? {
        None => Ok(None),
        Some(row) if row.input_hash == input_hash => row.into_stored().map(Some),
        Some(_) => Err(HandoverError::IdReused),
    }
}

#[derive(sqlx::FromRow)]
struct UploadRow {
    id: Uuid,
    branch_id: Uuid,
    purpose: String,
    object_key: String,
    status: String,
    sha256: Option<String>,
}

/// The stored files the input names, checked: complete, of the record's branch, for the right
/// purpose. Nothing half-uploaded can be referred to.
async fn files(
    tx: &mut Transaction<'_, Postgres>,
    input: &InspectionInput,
    branch: Uuid,
) -> Result<(Vec<FileRef>, Signatures), HandoverError> {
    let mut ids: Vec<Uuid> = input.photos.iter().map(|p| p.upload_id).collect();
    ids.push(input.staff_signature);
    ids.extend(input.customer_signature);
    let rows: Vec<UploadRow> = sqlx::query_as(
        "SELECT id, branch_id, purpose, object_key, status, sha256 FROM uploads WHERE id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    let find = |id: Uuid, purpose: &str, checklist_key: Option<String>| {
        let row = rows.iter().find(|r| r.id == id);
        match row {
            Some(r) if r.branch_id == branch && r.purpose == purpose && r.status == "COMPLETE" => {
                Ok(FileRef {
                    object_key: r.object_key.clone(),
                    sha256: r.sha256.clone().unwrap_or_default(),
                    checklist_key,
                })
            }
            Some(r) if r.status != "COMPLETE" => Err(HandoverError::Upload(format!(
                "upload {id} is not complete yet; finish it first"
            ))),
            _ => Err(HandoverError::Upload(format!(
                "upload {id} is not a {} of this branch",
                purpose.to_lowercase()
            ))),
        }
    };
    let photos = input
        .photos
        .iter()
        .map(|p| find(p.upload_id, "PHOTO", p.checklist_key.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let signatures = Signatures {
        customer: input
            .customer_signature
            .map(|id| find(id, "SIGNATURE", None))
            .transpose()?,
        staff: find(input.staff_signature, "SIGNATURE", None)?,
    };
    Ok((photos, signatures))
}

/// The asset's checklist template, after checking that a correction names a record of the
/// same asset.
async fn template_checked(
    tx: &mut Transaction<'_, Postgres>,
    input: &InspectionInput,
    context: &Context,
) -> Result<Vec<ChecklistItem>, HandoverError> {
    let template: serde_json::Value = sqlx::query_scalar(
        "SELECT s.checklist FROM assets a JOIN skus s ON s.id = a.sku_id WHERE a.id = $1",
    )
    .bind(context.asset_id)
    .fetch_one(&mut **tx)
    .await?;
    let template: Vec<ChecklistItem> = serde_json::from_value(template).unwrap_or_default();
    if let Some(corrected) = input.corrects {
        let asset: Option<Uuid> =
            sqlx::query_scalar("SELECT asset_id FROM inspections WHERE id = $1")
                .bind(corrected)
                .fetch_optional(&mut **tx)
                .await?;
        if asset != Some(context.asset_id) {
            return Err(HandoverError::Invalid(
                "corrects: no record of this asset with that id".to_owned(),
            ));
        }
    }
    Ok(template)
}

/// Builds, checks, hashes and appends a record. The caller holds the asset's row lock.
pub(crate) async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    input: &InspectionInput,
    context: &Context,
) -> Result<StoredInspection, HandoverError> {
    let template = template_checked(tx, input, context).await?;
    let (photos, signatures) = files(tx, input, context.branch_id).await?;
    let last: Option<(i32, String)> = sqlx::query_as(
        "SELECT seq, tamper_proof_hash FROM inspections WHERE asset_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(context.asset_id)
    .fetch_optional(&mut **tx)
    .await?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (u32::try_from(seq).unwrap_or(0) + 1, Some(hash)),
        None => (1, None),
    };
    let record = InspectionRecord {
        id: input.id,
        asset_id: context.asset_id,
        branch_id: context.branch_id,
        booking_id: context.booking_id,
        kind: input.kind,
        corrects: input.corrects,
        checklist: input.checklist.iter().map(trimmed_answer).collect(),
        odometer_km: input.odometer_km,
        fuel_eighths: input.fuel_eighths,
        damages: input.damages.iter().map(trimmed_damage).collect(),
        photos,
        signatures,
        inspector_id: context.inspector,
        device_id: input.device_id,
        recorded_at: inspection::record_time(context.recorded_at),
        seq,
        prev_hash,
    };
    inspection::validate(&record, &template).map_err(|e| HandoverError::Invalid(e.to_string()))?;
    let payload = record.to_json();
    let hash = record.tamper_proof_hash().to_hex();
    let members =
        inspection::member_hashes(&payload).map_err(|e| HandoverError::Invalid(e.to_string()))?;
    let recorded_at = DateTime::parse_from_rfc3339(&record.recorded_at)
        .map_or(context.recorded_at, |t| t.to_utc());
    sqlx::query(
        "INSERT INTO inspections (id, asset_id, branch_id, booking_id, kind, corrects, seq, payload, \
           member_hashes, tamper_proof_hash, prev_hash, odometer_km, fuel_eighths, damage_count, \
           inspector_id, device_id, recorded_at, input_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(record.id)
    .bind(record.asset_id)
    .bind(context.branch_id)
    .bind(record.booking_id)
    .bind(record.kind.as_str())
    .bind(record.corrects)
    .bind(i32::try_from(seq).unwrap_or(i32::MAX))
    .bind(&payload)
    .bind(serde_json::to_value(&members).unwrap_or_default())
    .bind(&hash)
    .bind(&record.prev_hash)
    .bind(i32::try_from(record.odometer_km).unwrap_or(i32::MAX))
    .bind(i16::from(record.fuel_eighths))
    .bind(i32::try_from(record.damages.len()).unwrap_or(i32::MAX))
    .bind(record.inspector_id)
    .bind(record.device_id)
    .bind(recorded_at)
    .bind(&context.input_hash)
    .execute(&mut **tx)
    .await?;
    if record.kind == InspectionKind::Return || record.kind == InspectionKind::Pickup {
        // The asset's odometer follows the handover readings (never backwards).
        sqlx::query(
            "UPDATE assets SET odometer_km = $2, updated_at = now() \
             WHERE id = $1 AND (odometer_km IS NULL OR odometer_km < $2)",
        )
        .bind(record.asset_id)
        .bind(i32::try_from(record.odometer_km).unwrap_or(i32::MAX))
        .execute(&mut **tx)
        .await?;
    }
    Ok(StoredInspection {
        id: record.id,
        branch_id: context.branch_id,
        tamper_proof_hash: hash,
        recorded_at,
        record,
    })
}

/// The text as the record stores it (NFC, trimmed); text the rule refuses is kept as given, so
/// `inspection::validate` names the field.
fn cleaned(rule: TextRule, text: &str) -> String {
    rule.clean(text).unwrap_or_else(|_| text.to_owned())
}

fn trimmed_answer(answer: &ChecklistAnswer) -> ChecklistAnswer {
    ChecklistAnswer {
        key: answer.key.clone(),
        ok: answer.ok,
        note: cleaned(TextRule::note(500), &answer.note),
    }
}

fn trimmed_damage(damage: &DamageMark) -> DamageMark {
    DamageMark {
        area: cleaned(TextRule::line(120), &damage.area),
        kind: cleaned(TextRule::line(120), &damage.kind),
        severity: damage.severity,
        note: cleaned(TextRule::note(500), &damage.note),
    }
}

/// SHA-256 of bytes as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}
