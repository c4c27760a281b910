//! Branches and SKUs: creating and listing them, and changing a SKU's prices and checklist.
//! Creating a branch creates its bookings partition (a trigger does it in the same transaction).

use sentra_domain::{
    BranchTimeZone, LateFeeRule, SkuCategory, TextRule,
    inventory::{ChecklistItem, validate_checklist},
};
use sentra_protocol::{
    Branch, ChecklistLine, CreateBranchRequest, CreateSkuRequest, FieldError, LateFee, Location,
    Sku, UpdateSkuRequest,
};
use sqlx::PgPool;
use uuid::Uuid;

use super::InventoryError;

/// The most a day may cost, in Rupiah (a sanity bound against typos, 1 billion).
const MAX_DAILY_RATE_IDR: i64 = 1_000_000_000;

/// Creates a branch (and its bookings partition).
#[tracing::instrument(name = "inventory.create_branch", skip_all)]
pub async fn create_branch(
    db: &PgPool,
    request: &CreateBranchRequest,
) -> Result<Branch, InventoryError> {
    let mut errors = Vec::new();
    let code = request.code.trim().to_owned();
    let code_ok = (2..=12).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !code_ok {
        errors.push(FieldError::new(
            "code",
            "2-12 upper-case letters and digits, such as JKT02",
        ));
    }
    let name = crate::text::checked("name", TextRule::line(120), &request.name, &mut errors);
    let address = crate::text::checked(
        "address",
        TextRule::note(500),
        &request.address,
        &mut errors,
    );
    let zone = BranchTimeZone::from_iana(&request.time_zone);
    if zone.is_err() {
        errors.push(FieldError::new(
            "time_zone",
            "expected Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT)",
        ));
    }
    if let Some(at) = request.location
        && !(at.latitude.is_finite()
            && at.longitude.is_finite()
            && (-90.0..=90.0).contains(&at.latitude)
            && (-180.0..=180.0).contains(&at.longitude))
    {
        errors.push(FieldError::new(
            "location",
            "latitude must be from -90 to 90 and longitude from -180 to 180",
        ));
    }
    let (Ok(time_zone), true) = (zone, errors.is_empty()) else {
        return Err(InventoryError::Invalid(errors));
    };
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO branches (id, code, name, address, time_zone, latitude, longitude) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(&code)
    .bind(&name)
    .bind(&address)
    // Stored under its canonical name (`Asia/Pontianak` is WIB, kept as `Asia/Jakarta`).
    .bind(time_zone.iana())
    .bind(request.location.map(|l| l.latitude))
    .bind(request.location.map(|l| l.longitude))
    .execute(db)
    .await
    .map_err(|e| {
        if crate::db::has_sqlstate(&e, &["23505"]) {
            InventoryError::Conflict(format!("A branch with code {code} exists already"))
        } else {
            InventoryError::Database(e)
        }
    })?;
    Ok(Branch {
        id,
        code,
        name,
        address,
        time_zone,
        location: request.location,
    })
}

/// The id of the branch with `code`, if there is one: the one place a branch code is looked up.
pub async fn branch_id<'e>(
    db: impl sqlx::PgExecutor<'e>,
    code: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT id FROM branches WHERE code = $1")
        .bind(code)
        .fetch_optional(db)
        .await
}

/// The id of the SKU with `code`, if there is one.
pub async fn sku_id<'e>(db: impl sqlx::PgExecutor<'e>, code: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT id FROM skus WHERE code = $1")
        .bind(code)
        .fetch_optional(db)
        .await
}

/// A stored branch.
#[derive(sqlx::FromRow)]
pub(crate) struct BranchRow {
    pub(crate) id: Uuid,
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) address: String,
    #[sqlx(try_from = "String")]
    pub(crate) time_zone: BranchTimeZone,
    pub(crate) latitude: Option<f64>,
    pub(crate) longitude: Option<f64>,
}

/// Columns of [`BranchRow`].
pub(crate) const BRANCH_COLUMNS: &str = "id, code, name, address, time_zone, latitude, longitude";

/// Every branch, by code.
#[tracing::instrument(name = "inventory.list_branches", skip_all)]
pub async fn list_branches(db: &PgPool) -> Result<Vec<Branch>, InventoryError> {
    let rows: Vec<BranchRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BRANCH_COLUMNS} FROM branches ORDER BY code"
    )))
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Branch {
            id: row.id,
            code: row.code,
            name: row.name,
            address: row.address,
            time_zone: row.time_zone,
            location: row
                .latitude
                .zip(row.longitude)
                .map(|(latitude, longitude)| Location {
                    latitude,
                    longitude,
                }),
        })
        .collect())
}

/// SKUs by id (the sync feed's changes), in id order.
pub(crate) async fn skus_by_id(db: &PgPool, ids: &[Uuid]) -> sqlx::Result<Vec<Sku>> {
    let rows: Vec<SkuRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SKU_COLUMNS} FROM skus WHERE id = ANY($1) ORDER BY id"
    )))
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Sku::from).collect())
}

/// Up to `limit` SKUs with an id after `after`, in id order (the sync feed's first copy).
pub(crate) async fn skus_after(db: &PgPool, after: Uuid, limit: i64) -> sqlx::Result<Vec<Sku>> {
    let rows: Vec<SkuRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SKU_COLUMNS} FROM skus WHERE id > $1 ORDER BY id LIMIT $2"
    )))
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Sku::from).collect())
}

#[derive(sqlx::FromRow)]
struct SkuRow {
    id: Uuid,
    code: String,
    name: String,
    #[sqlx(try_from = "String")]
    category: SkuCategory,
    daily_rate_idr: i64,
    deposit_idr: i64,
    late_grace_minutes: i32,
    late_fee_per_hour_idr: i64,
    late_fee_daily_cap_idr: i64,
    fuel_per_eighth_idr: i64,
    turnaround_buffer_days: i32,
    checklist: sqlx::types::Json<Vec<ChecklistItem>>,
}

const SKU_COLUMNS: &str = "id, code, name, category, daily_rate_idr, deposit_idr, late_grace_minutes, \
    late_fee_per_hour_idr, late_fee_daily_cap_idr, fuel_per_eighth_idr, turnaround_buffer_days, \
    checklist";

impl From<SkuRow> for Sku {
    fn from(row: SkuRow) -> Self {
        Sku {
            id: row.id,
            code: row.code,
            name: row.name,
            category: row.category,
            daily_rate_idr: row.daily_rate_idr,
            deposit_idr: row.deposit_idr,
            late_fee: LateFee {
                grace_minutes: u32::try_from(row.late_grace_minutes).unwrap_or(0),
                per_hour_idr: row.late_fee_per_hour_idr,
                daily_cap_idr: row.late_fee_daily_cap_idr,
            },
            fuel_per_eighth_idr: row.fuel_per_eighth_idr,
            turnaround_buffer_days: row.turnaround_buffer_days,
            checklist: row
                .checklist
                .0
                .into_iter()
                .map(|item| ChecklistLine {
                    key: item.key,
                    label_id: item.label_id,
                    label_en: item.label_en,
                    requires_photo: item.requires_photo,
                })
                .collect(),
        }
    }
}

/// The checked values of a SKU's editable fields.
struct SkuFields {
    name: Option<String>,
    daily_rate_idr: Option<i64>,
    deposit_idr: Option<i64>,
    late_fee: Option<LateFeeRule>,
    fuel_per_eighth_idr: Option<i64>,
    buffer_days: Option<i32>,
    checklist: Option<Vec<ChecklistItem>>,
}

fn check_fields(request: &UpdateSkuRequest, errors: &mut Vec<FieldError>) -> SkuFields {
    let name = request
        .name
        .as_deref()
        .map(|n| crate::text::checked("name", TextRule::line(120), n, errors));
    if request
        .daily_rate_idr
        .is_some_and(|r| !(1..=MAX_DAILY_RATE_IDR).contains(&r))
    {
        errors.push(FieldError::new(
            "daily_rate_idr",
            "must be a whole number of Rupiah from 1 to 1,000,000,000",
        ));
    }
    if request
        .deposit_idr
        .is_some_and(|d| !(0..=MAX_DAILY_RATE_IDR * 10).contains(&d))
    {
        errors.push(FieldError::new(
            "deposit_idr",
            "must be from 0 to 10,000,000,000 Rupiah",
        ));
    }
    let late_fee = request.late_fee.map(|fee| LateFeeRule {
        grace_minutes: fee.grace_minutes,
        per_hour_idr: fee.per_hour_idr,
        daily_cap_idr: fee.daily_cap_idr,
    });
    if let Some(Err(e)) = late_fee.map(|rule| rule.validate()) {
        errors.push(FieldError::new("late_fee", e.to_string()));
    }
    if late_fee.is_some_and(|rule| rule.daily_cap_idr > MAX_DAILY_RATE_IDR) {
        errors.push(FieldError::new(
            "late_fee.daily_cap_idr",
            "must be at most 1,000,000,000 Rupiah",
        ));
    }
    if request
        .fuel_per_eighth_idr
        .is_some_and(|f| !(0..=MAX_DAILY_RATE_IDR).contains(&f))
    {
        errors.push(FieldError::new(
            "fuel_per_eighth_idr",
            "must be from 0 to 1,000,000,000 Rupiah",
        ));
    }
    if request
        .turnaround_buffer_days
        .is_some_and(|d| !(0..=14).contains(&d))
    {
        errors.push(FieldError::new(
            "turnaround_buffer_days",
            "must be from 0 to 14",
        ));
    }
    let checklist: Option<Vec<ChecklistItem>> = request
        .checklist
        .clone()
        .map(|lines| lines.into_iter().map(ChecklistItem::from).collect());
    if let Some(Err(e)) = checklist.as_deref().map(validate_checklist) {
        errors.push(FieldError::new("checklist", e.to_string()));
    }
    SkuFields {
        name,
        daily_rate_idr: request.daily_rate_idr,
        deposit_idr: request.deposit_idr,
        late_fee,
        fuel_per_eighth_idr: request.fuel_per_eighth_idr,
        buffer_days: request.turnaround_buffer_days,
        checklist,
    }
}

/// Creates a SKU.
#[tracing::instrument(name = "inventory.create_sku", skip_all)]
pub async fn create_sku(db: &PgPool, request: &CreateSkuRequest) -> Result<Sku, InventoryError> {
    let mut errors = Vec::new();
    let code = request.code.trim().to_owned();
    let code_ok = (2..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    if !code_ok {
        errors.push(FieldError::new(
            "code",
            "2-32 upper-case letters, digits and dashes, such as AVANZA-13G-AT",
        ));
    }
    let category = SkuCategory::parse(&request.category);
    if category.is_none() {
        errors.push(FieldError::new(
            "category",
            "expected car, motorbike or equipment",
        ));
    }
    let fields = check_fields(
        &UpdateSkuRequest {
            name: Some(request.name.clone()),
            daily_rate_idr: Some(request.daily_rate_idr),
            deposit_idr: Some(request.deposit_idr),
            late_fee: Some(request.late_fee),
            fuel_per_eighth_idr: Some(request.fuel_per_eighth_idr),
            turnaround_buffer_days: Some(request.turnaround_buffer_days),
            checklist: Some(request.checklist.clone()),
        },
        &mut errors,
    );
    let (Some(category), Some(late_fee), true) = (category, fields.late_fee, errors.is_empty())
    else {
        return Err(InventoryError::Invalid(errors));
    };
    let id = Uuid::now_v7();
    let row: SkuRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO skus (id, code, name, category, daily_rate_idr, deposit_idr, late_grace_minutes, \
         late_fee_per_hour_idr, late_fee_daily_cap_idr, turnaround_buffer_days, checklist, \
         fuel_per_eighth_idr) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {SKU_COLUMNS}"
    )))
    .bind(id)
    .bind(&code)
    .bind(fields.name)
    .bind(category.as_str())
    .bind(request.daily_rate_idr)
    .bind(request.deposit_idr)
    .bind(i32::try_from(late_fee.grace_minutes).unwrap_or(0))
    .bind(late_fee.per_hour_idr)
    .bind(late_fee.daily_cap_idr)
    .bind(request.turnaround_buffer_days)
    .bind(sqlx::types::Json(fields.checklist.unwrap_or_default()))
    .bind(request.fuel_per_eighth_idr)
    .fetch_one(db)
    .await
    .map_err(|e| {
        if crate::db::has_sqlstate(&e, &["23505"]) {
            InventoryError::Conflict(format!("A SKU with code {code} exists already"))
        } else {
            InventoryError::Database(e)
        }
    })?;
    Ok(row.into())
}

/// Changes the fields sent. Prices apply to bookings made from now on; existing bookings keep
/// the total they were made with.
#[tracing::instrument(name = "inventory.update_sku", skip_all)]
pub async fn update_sku(
    db: &PgPool,
    code: &str,
    request: &UpdateSkuRequest,
) -> Result<Sku, InventoryError> {
    let mut errors = Vec::new();
    let fields = check_fields(request, &mut errors);
    if !errors.is_empty() {
        return Err(InventoryError::Invalid(errors));
    }
    let late_fee = fields.late_fee;
    let row: Option<SkuRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE skus SET name = coalesce($2, name), daily_rate_idr = coalesce($3, daily_rate_idr), \
         deposit_idr = coalesce($4, deposit_idr), late_grace_minutes = coalesce($5, late_grace_minutes), \
         late_fee_per_hour_idr = coalesce($6, late_fee_per_hour_idr), \
         late_fee_daily_cap_idr = coalesce($7, late_fee_daily_cap_idr), \
         turnaround_buffer_days = coalesce($8, turnaround_buffer_days), checklist = coalesce($9, checklist), \
         fuel_per_eighth_idr = coalesce($10, fuel_per_eighth_idr), \
         updated_at = now() WHERE code = $1 RETURNING {SKU_COLUMNS}"
    )))
    .bind(code)
    .bind(fields.name)
    .bind(fields.daily_rate_idr)
    .bind(fields.deposit_idr)
    .bind(late_fee.map(|f| i32::try_from(f.grace_minutes).unwrap_or(0)))
    .bind(late_fee.map(|f| f.per_hour_idr))
    .bind(late_fee.map(|f| f.daily_cap_idr))
    .bind(fields.buffer_days)
    .bind(fields.checklist.map(sqlx::types::Json))
    .bind(fields.fuel_per_eighth_idr)
    .fetch_optional(db)
    .await?;
    row.map(Sku::from)
        .ok_or_else(|| InventoryError::NotFound("SKU"))
}

/// Every SKU, by code.
#[tracing::instrument(name = "inventory.list_skus", skip_all)]
pub async fn list_skus(db: &PgPool) -> Result<Vec<Sku>, InventoryError> {
    let rows: Vec<SkuRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SKU_COLUMNS} FROM skus ORDER BY code"
    )))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Sku::from).collect())
}
