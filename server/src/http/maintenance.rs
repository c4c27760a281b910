//! Maintenance endpoints: service plans (HQ), work orders that take a unit into the workshop
//! (blocking its calendar) and close with their cost, and a branch's services due.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use sentra_protocol::{
    CloseWorkOrderRequest, CreatePlanRequest, ErrorCode, MaintenanceOverview, MaintenancePlan,
    OpenWorkOrderRequest, Problem, WorkOrder,
};
use uuid::Uuid;

use super::extract::{ApiJson, path_id};
use crate::{
    auth::Principal, error::AppError, handover::maintenance::MaintenanceError, state::AppState,
};

impl From<MaintenanceError> for AppError {
    fn from(err: MaintenanceError) -> Self {
        match err {
            MaintenanceError::Conflict(bookings) => {
                let list = bookings
                    .iter()
                    .map(Uuid::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                AppError::new(
                    ErrorCode::MaintenanceConflict,
                    format!(
                        "Bookings hold the asset on these days ({list}). Send \"reassign\": true \
                         to move them to another free unit of the model, or pick other days."
                    ),
                )
            }
            MaintenanceError::NoFreeUnit(booking) => AppError::new(
                ErrorCode::MaintenanceConflict,
                format!(
                    "No other unit of the model is free at this branch for booking {booking}; \
                     nothing was changed. Pick other days for the maintenance."
                ),
            ),
            MaintenanceError::RentalUnderWay(booking) => AppError::new(
                ErrorCode::AssetInUse,
                format!("Rental {booking} is under way on these days: the asset is on the road"),
            ),
        }
    }
}

/// Creates a service plan for a SKU or one unit.
#[utoipa::path(post, path = "/api/v1/maintenance/plans", tag = "maintenance",
    request_body = CreatePlanRequest,
    responses((status = 201, body = MaintenancePlan), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.maintenance.create_plan", skip_all)]
pub async fn create_plan(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreatePlanRequest>,
) -> Result<(StatusCode, Json<MaintenancePlan>), AppError> {
    let plan = state.handovers.create_plan(&request).await?;
    Ok((StatusCode::CREATED, Json(plan)))
}

/// Every service plan.
#[utoipa::path(get, path = "/api/v1/maintenance/plans", tag = "maintenance",
    responses((status = 200, body = Vec<MaintenancePlan>)))]
#[tracing::instrument(name = "http.maintenance.plans", skip_all)]
pub async fn plans(State(state): State<AppState>) -> Result<Json<Vec<MaintenancePlan>>, AppError> {
    Ok(Json(state.handovers.plans().await?))
}

/// Takes a unit into the workshop for some days (blocking them in its calendar).
#[utoipa::path(post, path = "/api/v1/assets/{id}/work-orders", tag = "maintenance",
    params(("id" = Uuid, Path, description = "Asset id")), request_body = OpenWorkOrderRequest,
    responses((status = 201, body = WorkOrder), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.maintenance.open", skip_all, fields(asset = %id))]
pub async fn open_work_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<OpenWorkOrderRequest>,
) -> Result<(StatusCode, Json<WorkOrder>), AppError> {
    let id = path_id(&id, "Asset")?;
    let order = state
        .handovers
        .open_work_order(&principal, id, &request)
        .await?;
    Ok((StatusCode::CREATED, Json(order)))
}

/// Closes a work order with its cost and notes.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/close", tag = "maintenance",
    params(("id" = Uuid, Path, description = "Work order id")), request_body = CloseWorkOrderRequest,
    responses((status = 200, body = WorkOrder), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.maintenance.close", skip_all, fields(work_order = %id))]
pub async fn close_work_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CloseWorkOrderRequest>,
) -> Result<Json<WorkOrder>, AppError> {
    let id = path_id(&id, "Work order")?;
    Ok(Json(
        state
            .handovers
            .close_work_order(&principal, id, &request)
            .await?,
    ))
}

/// The branch's services due soon or overdue, and its open work orders.
#[utoipa::path(get, path = "/api/v1/branches/{code}/maintenance", tag = "maintenance",
    params(("code" = String, Path, description = "Branch code")),
    responses((status = 200, body = MaintenanceOverview), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.maintenance.overview", skip_all)]
pub async fn overview(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<Json<MaintenanceOverview>, AppError> {
    let branch = super::handovers::branch_of(&state, &principal, &code).await?;
    Ok(Json(state.handovers.maintenance_overview(branch).await?))
}
