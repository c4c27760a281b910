//! Assets: registering them at a branch, listing a branch's fleet, status and odometer changes,
//! and their QR labels (signed payload, re-issue, printable PDF).

use sentra_domain::{
    AssetStatus,
    label::{self, LabelKind},
};
use sentra_printing::{AssetLabel, LabelTemplate, render_asset_label};
use sentra_protocol::{Asset, CreateAssetRequest, FieldError, LabelPayload, UpdateAssetRequest};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::InventoryError;
use crate::{
    auth::Principal,
    idempotency::{self, DeviceOp},
};

/// An asset with its SKU and branch, as loaded for the API.
#[derive(Debug, sqlx::FromRow)]
pub struct AssetRow {
    pub id: Uuid,
    pub sku_code: String,
    pub sku_name: String,
    pub home_branch_id: Uuid,
    pub home_branch_code: String,
    pub plate_or_serial: String,
    #[sqlx(try_from = "String")]
    pub status: AssetStatus,
    pub odometer_km: Option<i32>,
    pub label_version: i32,
}

const SELECT_ASSET: &str = "SELECT a.id, s.code AS sku_code, s.name AS sku_name, a.home_branch_id, \
    b.code AS home_branch_code, a.plate_or_serial, a.status, a.odometer_km, a.label_version \
    FROM assets a JOIN skus s ON s.id = a.sku_id JOIN branches b ON b.id = a.home_branch_id";

impl From<AssetRow> for Asset {
    fn from(row: AssetRow) -> Self {
        Asset {
            id: row.id,
            sku_code: row.sku_code,
            sku_name: row.sku_name,
            home_branch_id: row.home_branch_id,
            home_branch_code: row.home_branch_code,
            plate_or_serial: row.plate_or_serial,
            status: row.status,
            odometer_km: row.odometer_km,
            label_version: row.label_version,
        }
    }
}

/// The assets of `branch` among `ids` (the sync feed's changes; an asset that left the branch is
/// not among them).
pub(crate) async fn of_branch_by_id(
    db: &sqlx::PgPool,
    branch: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Asset>> {
    let rows: Vec<AssetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_ASSET} WHERE a.home_branch_id = $1 AND a.id = ANY($2) ORDER BY a.id"
    )))
    .bind(branch)
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Asset::from).collect())
}

/// Up to `limit` assets of `branch` with an id after `after`, in id order (the feed's first copy).
pub(crate) async fn of_branch_after(
    db: &sqlx::PgPool,
    branch: Uuid,
    after: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<Asset>> {
    let rows: Vec<AssetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_ASSET} WHERE a.home_branch_id = $1 AND a.id > $2 ORDER BY a.id LIMIT $3"
    )))
    .bind(branch)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Asset::from).collect())
}

/// The asset, if it exists and the caller works at its branch; otherwise "not found", so other
/// branches' fleets stay invisible.
#[tracing::instrument(name = "inventory.asset", skip_all, fields(asset = %id))]
pub(crate) async fn visible(
    db: impl PgExecutor<'_>,
    principal: &Principal,
    id: Uuid,
) -> Result<AssetRow, InventoryError> {
    let row: Option<AssetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_ASSET} WHERE a.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.filter(|r| principal.can_access_branch(r.home_branch_id))
        .ok_or_else(|| InventoryError::NotFound("Asset"))
}

/// Registers an asset at a branch the caller works at.
#[tracing::instrument(name = "inventory.create_asset", skip_all)]
pub async fn create(
    db: &PgPool,
    principal: &Principal,
    request: &CreateAssetRequest,
) -> Result<Asset, InventoryError> {
    let mut errors = Vec::new();
    let plate = crate::text::checked(
        "plate_or_serial",
        sentra_domain::TextRule::line(40),
        &normalise_plate(&request.plate_or_serial),
        &mut errors,
    );
    if request.odometer_km.is_some_and(|km| km < 0) {
        errors.push(FieldError::new("odometer_km", "must not be negative"));
    }
    let sku = super::catalogue::sku_id(db, &request.sku_code).await?;
    if sku.is_none() {
        errors.push(FieldError::new("sku_code", "no SKU with this code"));
    }
    let branch = super::catalogue::branch_id(db, &request.branch_code).await?;
    if branch.is_none() {
        errors.push(FieldError::new("branch_code", "no branch with this code"));
    }
    let (Some(sku), Some(branch), true) = (sku, branch, errors.is_empty()) else {
        return Err(InventoryError::Invalid(errors));
    };
    if !principal.can_access_branch(branch) {
        return Err(InventoryError::Forbidden(
            "You do not work at this branch".to_owned(),
        ));
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO assets (id, sku_id, home_branch_id, plate_or_serial, odometer_km) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(sku)
    .bind(branch)
    .bind(&plate)
    .bind(request.odometer_km)
    .execute(db)
    .await
    .map_err(|e| {
        if crate::db::has_sqlstate(&e, &["23505"]) {
            InventoryError::Conflict(format!("An asset with plate or serial {plate} exists already"))
        } else {
            InventoryError::Database(e)
        }
    })?;
    Ok(visible(db, principal, id).await?.into())
}

/// Plates are stored upper-case with single spaces (`B 1234 SRT`), so look-ups match.
fn normalise_plate(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// The fleet of one branch (or of every branch the caller works at), by plate.
#[tracing::instrument(name = "inventory.list_assets", skip_all)]
pub async fn list(
    db: &PgPool,
    principal: &Principal,
    branch_code: Option<&str>,
) -> Result<Vec<Asset>, InventoryError> {
    let branches: Vec<Uuid> = match branch_code {
        Some(code) => {
            let id = super::catalogue::branch_id(db, code).await?;
            let id = id.ok_or_else(|| {
                InventoryError::Invalid(vec![FieldError::new("branch", "no branch with this code")])
            })?;
            if !principal.can_access_branch(id) {
                return Err(InventoryError::Forbidden(
                    "You do not work at this branch".to_owned(),
                ));
            }
            vec![id]
        }
        None if principal.role == crate::auth::Role::HqAdmin => {
            sqlx::query_scalar("SELECT id FROM branches")
                .fetch_all(db)
                .await?
        }
        None => principal.branches.clone(),
    };
    let rows: Vec<AssetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_ASSET} WHERE a.home_branch_id = ANY($1) ORDER BY b.code, a.plate_or_serial LIMIT 5000"
    )))
    .bind(&branches)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Asset::from).collect())
}

/// Changes status and odometer. Retiring needs an empty future; the odometer never goes down.
#[tracing::instrument(name = "inventory.update_asset", skip_all, fields(asset = %id))]
pub async fn update(
    db: &PgPool,
    principal: &Principal,
    id: Uuid,
    request: &UpdateAssetRequest,
) -> Result<Asset, InventoryError> {
    update_guarded(db, principal, id, request, None).await
}

/// What a device's pushed asset change rests on: its claim, and the status and odometer the
/// device showed when staff made the change.
#[derive(Debug, Clone, Copy)]
pub struct DeviceGuard<'a> {
    pub claim: &'a DeviceOp,
    pub seen: (AssetStatus, Option<i32>),
}

/// [`update`] for a device's pushed operation: claimed in the same transaction, and refused as
/// [`InventoryError::Stale`] when the asset (locked) is no longer what the device saw.
pub async fn update_guarded(
    db: &PgPool,
    principal: &Principal,
    id: Uuid,
    request: &UpdateAssetRequest,
    guard: Option<DeviceGuard<'_>>,
) -> Result<Asset, InventoryError> {
    let mut errors = Vec::new();
    let next = match request.status.as_deref().map(AssetStatus::parse) {
        Some(None) => {
            errors.push(FieldError::new(
                "status",
                "expected active, maintenance or retired",
            ));
            None
        }
        other => other.flatten(),
    };
    if request.odometer_km.is_some_and(|km| km < 0) {
        errors.push(FieldError::new("odometer_km", "must not be negative"));
    }
    if !errors.is_empty() {
        return Err(InventoryError::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    // A device's claim first, like every claimed action (one lock order: claim, then rows).
    if let Some(guard) = guard
        && !idempotency::claim_device_op(&mut *tx, guard.claim).await?
    {
        return Err(InventoryError::DecidedElsewhere);
    }
    // Lock first, then read: a concurrent change is seen, not overwritten.
    sqlx::query("SELECT 1 FROM assets WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let current = visible(&mut *tx, principal, id).await?;
    if let Some(guard) = guard
        && (current.status, current.odometer_km) != guard.seen
    {
        return Err(InventoryError::Stale);
    }
    let status = current.status;
    if let Some(next) = next {
        if !status.can_become(next) {
            return Err(InventoryError::Conflict(
                "A retired asset cannot return to the fleet".to_owned(),
            ));
        }
        if next == AssetStatus::Retired && status != AssetStatus::Retired {
            let open: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM bookings WHERE asset_id = $1 \
                 AND status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE')",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if open > 0 {
                return Err(InventoryError::AssetInUse(format!(
                    "The asset has {open} open booking(s); move or cancel them before retiring it"
                )));
            }
        }
    }
    if let (Some(new), Some(old)) = (request.odometer_km, current.odometer_km)
        && new < old
    {
        return Err(InventoryError::Invalid(vec![FieldError::new(
            "odometer_km",
            format!("must not be lower than the last reading ({old} km)"),
        )]));
    }
    sqlx::query(
        "UPDATE assets SET status = coalesce($2, status), odometer_km = coalesce($3, odometer_km), \
         updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(next.map(AssetStatus::as_str))
    .bind(request.odometer_km)
    .execute(&mut *tx)
    .await?;
    let updated = visible(&mut *tx, principal, id).await?;
    tx.commit().await?;
    Ok(updated.into())
}

/// The signed QR text of the asset's current label.
pub fn label_payload(key: &[u8], row: &AssetRow) -> LabelPayload {
    let version = u32::try_from(row.label_version).unwrap_or(1);
    LabelPayload {
        asset_id: row.id,
        label_version: row.label_version,
        payload: label::sign(key, LabelKind::Asset, row.id, version),
    }
}

/// Starts a new label version: labels printed before no longer scan.
#[tracing::instrument(name = "inventory.reissue_label", skip_all, fields(asset = %id))]
pub async fn reissue_label(
    db: &PgPool,
    principal: &Principal,
    id: Uuid,
    key: &[u8],
) -> Result<LabelPayload, InventoryError> {
    let mut tx = db.begin().await?;
    visible(&mut *tx, principal, id).await?;
    sqlx::query(
        "UPDATE assets SET label_version = label_version + 1, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let row = visible(&mut *tx, principal, id).await?;
    tx.commit().await?;
    Ok(label_payload(key, &row))
}

/// The printable label (PDF) of the asset's current label version.
pub fn label_pdf(key: &[u8], row: &AssetRow) -> Result<Vec<u8>, InventoryError> {
    let payload = label_payload(key, row);
    let template = LabelTemplate::shipped().map_err(|e| InventoryError::Internal(e.into()))?;
    render_asset_label(
        &template,
        &AssetLabel {
            payload: payload.payload,
            plate: row.plate_or_serial.clone(),
            sku_name: row.sku_name.clone(),
            branch_code: row.home_branch_code.clone(),
            label_version: u32::try_from(row.label_version).unwrap_or(1),
        },
    )
    .map_err(|e| InventoryError::Internal(e.into()))
}

#[cfg(test)]
mod tests {
    use super::normalise_plate;

    #[test]
    fn plates_are_normalised() {
        assert_eq!(normalise_plate("  b 1234   srt "), "B 1234 SRT");
        assert_eq!(normalise_plate("SN-00912"), "SN-00912");
    }
}
