//! The sync API for the branch desktops: registering devices, revoking them, pulling the
//! branch's change feed and pushing what staff did on the device. The work is in `crate::sync`; this maps its errors to problem+json.
//!
//! A pull carries two credentials: the staff member's bearer token and the device's token in
//! `X-Sentra-Device`.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};
use sentra_protocol::{
    DeviceList, DeviceQuery, DeviceRegistration, ErrorCode, Problem, PushRequest, PushResponse,
    RegisterDeviceRequest, SyncPage, SyncPullQuery,
};

use super::extract::{ApiJson, ApiQuery, path_id};
use crate::{auth::Principal, error::AppError, state::AppState, sync::SyncError};

/// The header a device sends its token in.
pub const DEVICE_HEADER: &str = "x-sentra-device";

impl From<SyncError> for AppError {
    fn from(err: SyncError) -> Self {
        match err {
            SyncError::Invalid(errors) => AppError::validation(errors),
            SyncError::DeviceNotRegistered => AppError::new(
                ErrorCode::DeviceNotRegistered,
                "Register this computer for your branch first (X-Sentra-Device)",
            ),
            SyncError::DeviceRevoked => AppError::new(
                ErrorCode::DeviceRevoked,
                "This computer was revoked by HQ; ask your branch admin to register it again",
            ),
            SyncError::Forbidden => AppError::new(ErrorCode::Forbidden, "Not your branch"),
            SyncError::NotFound(what) => AppError::not_found(what),
            SyncError::Database(e) => AppError::from(e),
            SyncError::Internal(e) => AppError::Internal(e),
        }
    }
}

/// Registers a counter PC for a branch (its admins, or HQ). The device token is shown once.
#[utoipa::path(post, path = "/api/v1/sync/devices", tag = "sync", security(("bearer" = [])),
    request_body = RegisterDeviceRequest,
    responses((status = 201, body = DeviceRegistration), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.sync.register_device", skip_all)]
pub async fn register_device(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<RegisterDeviceRequest>,
) -> Result<(StatusCode, Json<DeviceRegistration>), AppError> {
    let (device, device_token) = state.sync.register_device(&principal, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(DeviceRegistration {
            device,
            device_token,
        }),
    ))
}

/// The devices of the caller's branches (or of one branch).
#[utoipa::path(get, path = "/api/v1/sync/devices", tag = "sync", security(("bearer" = [])),
    params(DeviceQuery),
    responses((status = 200, body = DeviceList), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.sync.devices", skip_all)]
pub async fn devices(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<DeviceQuery>,
) -> Result<Json<DeviceList>, AppError> {
    Ok(Json(DeviceList {
        items: state
            .sync
            .devices(&principal, query.branch.as_deref())
            .await?,
    }))
}

/// Revokes a device (HQ): its pulls are refused from now on.
#[utoipa::path(post, path = "/api/v1/sync/devices/{id}/revoke", tag = "sync", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device id")),
    responses((status = 200, body = sentra_protocol::Device), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.sync.revoke_device", skip_all, fields(device = %id))]
pub async fn revoke_device(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<sentra_protocol::Device>, AppError> {
    let id = path_id(&id, "Device")?;
    Ok(Json(state.sync.revoke_device(id).await?))
}

/// One page of the branch's change feed for this device.
#[utoipa::path(get, path = "/api/v1/sync/pull", tag = "sync", security(("bearer" = [])),
    params(SyncPullQuery, ("X-Sentra-Device" = String, Header, description = "The device token from its registration")),
    responses((status = 200, body = SyncPage),
        (status = 403, description = "No registered device (device_not_registered), or a revoked one (device_revoked)", body = Problem),
        (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.sync.pull", skip_all, fields(device = tracing::field::Empty))]
pub async fn pull(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<SyncPullQuery>,
) -> Result<Json<SyncPage>, AppError> {
    let token = headers.get(DEVICE_HEADER).and_then(|v| v.to_str().ok());
    let device = state.sync.authenticate(&principal, token).await?;
    Ok(Json(
        state
            .sync
            .pull(device, query.cursor.as_deref(), query.limit)
            .await?,
    ))
}

/// Applies what staff did on the device, in order; each operation once (a replay answers its
/// first result).
#[utoipa::path(post, path = "/api/v1/sync/push", tag = "sync", security(("bearer" = [])),
    params(("X-Sentra-Device" = String, Header, description = "The device token from its registration")),
    request_body = PushRequest,
    responses((status = 200, body = PushResponse),
        (status = 403, description = "No registered device (device_not_registered), or a revoked one (device_revoked)", body = Problem),
        (status = 422, description = "More than 100 operations", body = Problem)))]
#[tracing::instrument(name = "http.sync.push", skip_all, fields(device = tracing::field::Empty))]
pub async fn push(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, AppError> {
    let token = headers.get(DEVICE_HEADER).and_then(|v| v.to_str().ok());
    let device = state.sync.authenticate(&principal, token).await?;
    let results = state
        .sync
        .push(device, &principal, &body.operations)
        .await?;
    Ok(Json(PushResponse { results }))
}
