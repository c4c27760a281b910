//! Moving an asset to another branch: one transaction moves the asset, its holding bookings
//! (pending, confirmed) follow its home branch (a trigger moves them into the new branch's
//! partition, so the exclusion constraint keeps guarding them), past rentals stay with the branch
//! where they happened, and an append-only transfer note with a per-branch, per-year number
//! records the move and carries the data of its surat jalan.
//!
//! An asset that is out on a rental, or whose rental has started, cannot move: the transfer
//! would take a car from under a customer.

use chrono::{Datelike, NaiveDate, Utc};
use sentra_domain::{AssetStatus, BookingStatus};
use sentra_protocol::{FieldError, MovedBooking, NoteBranch, TransferNote, TransferRequest};
use sqlx::PgPool;
use uuid::Uuid;

use super::InventoryError;
use super::assets;
use super::catalogue::{BRANCH_COLUMNS, BranchRow};
use crate::auth::Principal;

/// A future booking that moves with the asset.
#[derive(sqlx::FromRow)]
struct MovedRow {
    id: Uuid,
    start: NaiveDate,
    end: NaiveDate,
    #[sqlx(try_from = "String")]
    status: BookingStatus,
}

impl From<&BranchRow> for NoteBranch {
    fn from(row: &BranchRow) -> Self {
        NoteBranch {
            code: row.code.clone(),
            name: row.name.clone(),
            address: row.address.clone(),
        }
    }
}

async fn branch(
    db: impl sqlx::PgExecutor<'_>,
    filter: &str,
    value: impl ToString,
) -> sqlx::Result<Option<BranchRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BRANCH_COLUMNS} FROM branches WHERE {filter} = $1"
    )))
    .bind(value.to_string())
    .fetch_optional(db)
    .await
}

/// Moves the asset and its bookings to `request.to_branch_code`; returns the transfer note.
#[tracing::instrument(name = "inventory.transfer", skip_all, fields(asset = %asset_id))]
pub async fn transfer(
    db: &PgPool,
    principal: &Principal,
    asset_id: Uuid,
    request: &TransferRequest,
) -> Result<TransferNote, InventoryError> {
    let reason = &sentra_domain::TextRule::line(500)
        .clean(&request.reason)
        .map_err(|e| InventoryError::Invalid(vec![FieldError::new("reason", e.to_string())]))?;
    let mut tx = db.begin().await?;
    // Lock the asset first: bookings of it wait for the move (they lock the same row's key).
    let locked: Option<Uuid> = sqlx::query_scalar("SELECT id FROM assets WHERE id = $1 FOR UPDATE")
        .bind(asset_id)
        .fetch_optional(&mut *tx)
        .await?;
    if locked.is_none() {
        return Err(InventoryError::NotFound("Asset"));
    }
    let asset = assets::visible(&mut *tx, principal, asset_id).await?;
    let from = branch(&mut *tx, "id::text", asset.home_branch_id)
        .await?
        .ok_or_else(|| InventoryError::NotFound("Branch"))?;
    let Some(to) = branch(&mut *tx, "code", &request.to_branch_code).await? else {
        return Err(InventoryError::Invalid(vec![FieldError::new(
            "to_branch_code",
            "no branch with this code",
        )]));
    };
    if to.id == from.id {
        return Err(InventoryError::Invalid(vec![FieldError::new(
            "to_branch_code",
            "the asset is at this branch already",
        )]));
    }
    if !principal.can_access_branch(to.id) {
        return Err(InventoryError::Forbidden(format!(
            "You do not work at {}; ask HQ to make this transfer",
            to.code
        )));
    }
    if asset.status == AssetStatus::Retired {
        return Err(InventoryError::Conflict(
            "A retired asset cannot be transferred".to_owned(),
        ));
    }
    let today = from.time_zone.local_date_of(Utc::now());
    let in_use: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM bookings WHERE asset_id = $1 AND kind = 'RENTAL' \
         AND (status = 'ACTIVE' OR (status IN ('PENDING_PAYMENT', 'CONFIRMED') AND lower(period) <= $2))",
    )
    .bind(asset_id)
    .bind(today)
    .fetch_one(&mut *tx)
    .await?;
    if in_use > 0 {
        return Err(InventoryError::AssetInUse(
            "The asset is out on a rental or its rental has started; transfer it after the return"
                .to_owned(),
        ));
    }
    let moved: Vec<MovedRow> = sqlx::query_as(
        "SELECT id, lower(period) AS start, upper(period) AS end, status FROM bookings WHERE asset_id = $1 \
         AND status IN ('PENDING_PAYMENT', 'CONFIRMED') AND lower(period) > $2 ORDER BY lower(period)",
    )
    .bind(asset_id)
    .bind(today)
    .fetch_all(&mut *tx)
    .await?;
    // A trigger moves the asset's holding bookings along (into the new branch's partition, where
    // the exclusion constraint checks them again); past ones stay where they happened.
    sqlx::query("UPDATE assets SET home_branch_id = $2, updated_at = now() WHERE id = $1")
        .bind(asset_id)
        .bind(to.id)
        .execute(&mut *tx)
        .await?;
    let note = write_note(
        &mut tx,
        principal,
        &asset,
        (&from, &to),
        reason,
        today,
        moved,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(asset = %asset_id, from = from.code, to = to.code, note = note.number, "asset transferred");
    Ok(note)
}

/// Numbers and stores the transfer note inside the transfer's transaction.
async fn write_note(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    principal: &Principal,
    asset: &assets::AssetRow,
    (from, to): (&BranchRow, &BranchRow),
    reason: &str,
    today: NaiveDate,
    moved: Vec<MovedRow>,
) -> Result<TransferNote, InventoryError> {
    let asset_id = asset.id;
    let year = today.year();
    let sequence: i32 = sqlx::query_scalar(
        "INSERT INTO transfer_note_sequences (branch_id, year, last) VALUES ($1, $2, 1) \
         ON CONFLICT (branch_id, year) DO UPDATE SET last = transfer_note_sequences.last + 1 RETURNING last",
    )
    .bind(from.id)
    .bind(year)
    .fetch_one(&mut **tx)
    .await?;
    let issued_by: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
        .bind(principal.id)
        .fetch_optional(&mut **tx)
        .await?
        .unwrap_or_default();
    let note = TransferNote {
        id: Uuid::now_v7(),
        number: format!("TR/{}/{year}/{sequence:06}", from.code),
        asset_id,
        plate_or_serial: asset.plate_or_serial.clone(),
        sku_name: asset.sku_name.clone(),
        odometer_km: asset.odometer_km,
        from: NoteBranch::from(from),
        to: NoteBranch::from(to),
        reason: reason.to_owned(),
        moved_bookings: moved
            .into_iter()
            .map(|row| MovedBooking {
                id: row.id,
                start: row.start,
                end: row.end,
                status: row.status,
            })
            .collect(),
        issued_by,
        issued_at: Utc::now(),
    };
    let moved_ids: Vec<Uuid> = note.moved_bookings.iter().map(|b| b.id).collect();
    sqlx::query(
        "INSERT INTO transfer_notes (id, number, asset_id, from_branch_id, to_branch_id, moved_booking_ids, \
         reason, details, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(note.id)
    .bind(&note.number)
    .bind(asset_id)
    .bind(from.id)
    .bind(to.id)
    .bind(&moved_ids)
    .bind(&note.reason)
    .bind(sqlx::types::Json(&note))
    .bind(principal.id)
    .bind(note.issued_at)
    .execute(&mut **tx)
    .await?;
    Ok(note)
}

/// A transfer note, for staff of either branch.
#[tracing::instrument(name = "inventory.note", skip_all, fields(transfer = %id))]
pub async fn note(
    db: &PgPool,
    principal: &Principal,
    id: Uuid,
) -> Result<TransferNote, InventoryError> {
    let row: Option<(Uuid, Uuid, sqlx::types::Json<TransferNote>)> = sqlx::query_as(
        "SELECT from_branch_id, to_branch_id, details FROM transfer_notes WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.filter(|(from, to, _)| {
        principal.can_access_branch(*from) || principal.can_access_branch(*to)
    })
    .map(|(_, _, details)| details.0)
    .ok_or_else(|| InventoryError::NotFound("Transfer note"))
}
