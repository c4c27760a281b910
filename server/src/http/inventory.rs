//! Inventory endpoints: branches, SKUs, assets, transfers, QR labels and scans.

use axum::{
    Json,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use secrecy::ExposeSecret;
use sentra_domain::label::{self, LabelError, LabelKind};
use sentra_protocol::{
    Asset, AssetList, AssetQuery, Branch, BranchList, CreateAssetRequest, CreateBranchRequest,
    CreateSkuRequest, ErrorCode, LabelPayload, Problem, ScanRequest, ScanResult, Sku, SkuList,
    TransferNote, TransferRequest, UpdateAssetRequest, UpdateSkuRequest,
};

use super::extract::{ApiJson, ApiQuery, path_id};
use crate::{
    auth::{Principal, SubjectKind},
    error::AppError,
    inventory::{InventoryError, assets, catalogue, transfer},
    state::AppState,
};

impl From<InventoryError> for AppError {
    fn from(err: InventoryError) -> Self {
        match err {
            InventoryError::Invalid(errors) => AppError::validation(errors),
            InventoryError::NotFound(what) => AppError::not_found(what),
            InventoryError::Forbidden(message) => AppError::new(ErrorCode::Forbidden, message),
            InventoryError::Conflict(message) => AppError::new(ErrorCode::Conflict, message),
            InventoryError::AssetInUse(message) => AppError::new(ErrorCode::AssetInUse, message),
            // Only device pushes get these, and they map them to results; never an HTTP answer.
            InventoryError::Stale => AppError::new(
                ErrorCode::StaleRecord,
                "The asset changed since this device last synced",
            ),
            InventoryError::DecidedElsewhere => {
                AppError::new(ErrorCode::Conflict, "This operation was carried out before")
            }
            InventoryError::Database(e) => AppError::from(e),
            InventoryError::Internal(e) => AppError::Internal(e),
        }
    }
}

fn label_key(state: &AppState) -> &[u8] {
    state.config.label_secret.expose_secret().as_bytes()
}

/// Every branch (public: customers pick a pickup branch).
#[utoipa::path(get, path = "/api/v1/branches", tag = "inventory", responses((status = 200, body = BranchList)))]
#[tracing::instrument(name = "http.inventory.list_branches", skip_all)]
pub async fn list_branches(State(state): State<AppState>) -> Result<Json<BranchList>, AppError> {
    Ok(Json(BranchList {
        items: catalogue::list_branches(&state.db).await?,
    }))
}

/// Opens a branch (HQ). Its bookings partition is created with it.
#[utoipa::path(post, path = "/api/v1/branches", tag = "inventory", security(("bearer" = [])),
    request_body = CreateBranchRequest,
    responses((status = 201, body = Branch), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.inventory.create_branch", skip_all)]
pub async fn create_branch(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBranchRequest>,
) -> Result<(StatusCode, Json<Branch>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(catalogue::create_branch(&state.db, &body).await?),
    ))
}

/// The SKU catalogue with prices (public: the customers' web shows it).
#[utoipa::path(get, path = "/api/v1/skus", tag = "inventory", responses((status = 200, body = SkuList)))]
#[tracing::instrument(name = "http.inventory.list_skus", skip_all)]
pub async fn list_skus(State(state): State<AppState>) -> Result<Json<SkuList>, AppError> {
    Ok(Json(SkuList {
        items: catalogue::list_skus(&state.db).await?,
    }))
}

/// Adds a SKU (HQ).
#[utoipa::path(post, path = "/api/v1/skus", tag = "inventory", security(("bearer" = [])),
    request_body = CreateSkuRequest,
    responses((status = 201, body = Sku), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.inventory.create_sku", skip_all)]
pub async fn create_sku(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateSkuRequest>,
) -> Result<(StatusCode, Json<Sku>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(catalogue::create_sku(&state.db, &body).await?),
    ))
}

/// Changes a SKU's name, prices, buffer or checklist (HQ). Existing bookings keep their price.
#[utoipa::path(patch, path = "/api/v1/skus/{code}", tag = "inventory", security(("bearer" = [])),
    params(("code" = String, Path, description = "SKU code")), request_body = UpdateSkuRequest,
    responses((status = 200, body = Sku), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.inventory.update_sku", skip_all, fields(sku = %code))]
pub async fn update_sku(
    State(state): State<AppState>,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<UpdateSkuRequest>,
) -> Result<Json<Sku>, AppError> {
    Ok(Json(catalogue::update_sku(&state.db, &code, &body).await?))
}

/// The fleet of the caller's branches.
#[utoipa::path(get, path = "/api/v1/assets", tag = "inventory", security(("bearer" = [])), params(AssetQuery),
    responses((status = 200, body = AssetList), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.inventory.list_assets", skip_all)]
pub async fn list_assets(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<AssetQuery>,
) -> Result<Json<AssetList>, AppError> {
    Ok(Json(AssetList {
        items: assets::list(&state.db, &principal, query.branch.as_deref()).await?,
    }))
}

/// Registers an asset at one of the caller's branches.
#[utoipa::path(post, path = "/api/v1/assets", tag = "inventory", security(("bearer" = [])),
    request_body = CreateAssetRequest,
    responses((status = 201, body = Asset), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.inventory.create_asset", skip_all)]
pub async fn create_asset(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateAssetRequest>,
) -> Result<(StatusCode, Json<Asset>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(assets::create(&state.db, &principal, &body).await?),
    ))
}

/// One asset.
#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id")),
    responses((status = 200, body = Asset), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.inventory.get_asset", skip_all, fields(asset = %id))]
pub async fn get_asset(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Asset>, AppError> {
    let id = path_id(&id, "Asset")?;
    Ok(Json(
        assets::visible(&state.db, &principal, id).await?.into(),
    ))
}

/// Changes an asset's status (active, maintenance, retired) or odometer.
#[utoipa::path(patch, path = "/api/v1/assets/{id}", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id")), request_body = UpdateAssetRequest,
    responses((status = 200, body = Asset), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.inventory.update_asset", skip_all, fields(asset = %id))]
pub async fn update_asset(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateAssetRequest>,
) -> Result<Json<Asset>, AppError> {
    let id = path_id(&id, "Asset")?;
    Ok(Json(
        assets::update(&state.db, &principal, id, &body).await?,
    ))
}

/// Moves an asset and its future bookings to another branch; answers the transfer note.
#[utoipa::path(post, path = "/api/v1/assets/{id}/transfer", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id")), request_body = TransferRequest,
    responses((status = 201, body = TransferNote), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Out on a rental (asset_in_use) or retired", body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.inventory.transfer_asset", skip_all, fields(asset = %id))]
pub async fn transfer_asset(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TransferRequest>,
) -> Result<(StatusCode, Json<TransferNote>), AppError> {
    let id = path_id(&id, "Asset")?;
    let note = transfer::transfer(&state.db, &principal, id, &body).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// A transfer note (staff of the sending or receiving branch).
#[utoipa::path(get, path = "/api/v1/transfers/{id}", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Transfer note id")),
    responses((status = 200, body = TransferNote), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.inventory.get_transfer", skip_all, fields(transfer = %id))]
pub async fn get_transfer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<TransferNote>, AppError> {
    let id = path_id(&id, "Transfer note")?;
    Ok(Json(transfer::note(&state.db, &principal, id).await?))
}

/// The signed QR text of the asset's current label.
#[utoipa::path(get, path = "/api/v1/assets/{id}/label", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id")),
    responses((status = 200, body = LabelPayload), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.inventory.get_label", skip_all, fields(asset = %id))]
pub async fn get_label(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<LabelPayload>, AppError> {
    let id = path_id(&id, "Asset")?;
    let row = assets::visible(&state.db, &principal, id).await?;
    Ok(Json(assets::label_payload(label_key(&state), &row)))
}

/// The printable label (PDF, 50 × 30 mm) of the asset's current label version.
#[utoipa::path(get, path = "/api/v1/assets/{id}/label.pdf", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.inventory.get_label_pdf", skip_all, fields(asset = %id))]
pub async fn get_label_pdf(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = path_id(&id, "Asset")?;
    let row = assets::visible(&state.db, &principal, id).await?;
    let pdf = assets::label_pdf(label_key(&state), &row)?;
    let disposition = format!(
        "inline; filename=\"label-{}.pdf\"",
        row.plate_or_serial
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response())
}

/// Re-issues the label (lost or damaged): the old label stops scanning.
#[utoipa::path(post, path = "/api/v1/assets/{id}/label/reissue", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id")),
    responses((status = 200, body = LabelPayload), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.inventory.reissue_label", skip_all, fields(asset = %id))]
pub async fn reissue_label(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<LabelPayload>, AppError> {
    let id = path_id(&id, "Asset")?;
    Ok(Json(
        assets::reissue_label(&state.db, &principal, id, label_key(&state)).await?,
    ))
}

/// Resolves what the desktop scanner read: a genuine asset label or booking code of the caller's
/// branches. Forged, damaged and outdated codes answer `invalid_label`.
#[utoipa::path(post, path = "/api/v1/scans", tag = "inventory", security(("bearer" = [])),
    request_body = ScanRequest,
    responses((status = 200, body = ScanResult), (status = 404, body = Problem),
        (status = 422, description = "Not a genuine SentraRental code (invalid_label)", body = Problem)))]
#[tracing::instrument(name = "http.inventory.scan", skip_all)]
pub async fn scan(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<ScanRequest>,
) -> Result<Json<ScanResult>, AppError> {
    let invalid = |e: LabelError| AppError::new(ErrorCode::InvalidLabel, e.to_string());
    let scanned = label::verify(label_key(&state), &body.payload).map_err(invalid)?;
    match scanned.kind {
        LabelKind::Asset => {
            let row = assets::visible(&state.db, &principal, scanned.id).await?;
            if i64::from(scanned.version) != i64::from(row.label_version) {
                return Err(AppError::new(
                    ErrorCode::InvalidLabel,
                    "This label was replaced by a newer one; remove it from the asset",
                ));
            }
            Ok(Json(ScanResult {
                kind: LabelKind::Asset,
                asset: Some(row.into()),
                booking: None,
            }))
        }
        LabelKind::Booking => {
            let row = state.bookings.get(scanned.id).await?;
            let allowed =
                principal.kind == SubjectKind::Staff && principal.can_access_branch(row.branch_id);
            if !allowed {
                return Err(AppError::not_found("Booking"));
            }
            Ok(Json(ScanResult {
                kind: LabelKind::Booking,
                asset: None,
                booking: Some(super::bookings::to_dto(&row)),
            }))
        }
    }
}

/// The signed booking code (`SR1:B:…`) of a booking.
pub(crate) fn booking_code(state: &AppState, id: uuid::Uuid) -> String {
    label::sign(label_key(state), LabelKind::Booking, id, 0)
}
