//! Booking endpoints: create (idempotent), get, list by branch, cancel, staff confirm.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use sentra_domain::BookingStatus;
use sentra_protocol::FieldError;
use sentra_protocol::{
    Booking, BookingList, BookingListQuery, ConfirmBookingRequest, CreateBookingRequest, ErrorCode,
    Problem,
};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiQuery, path_id},
    idempotency::{self, Decision},
};
use crate::{
    auth::{Principal, Role, SubjectKind},
    booking::{BookingError, Conflict, CreateBooking, SkuBooking, repo::BookingRow},
    error::AppError,
    inventory::catalogue,
    state::AppState,
};

impl From<BookingError> for AppError {
    fn from(err: BookingError) -> Self {
        match err {
            BookingError::Invalid(errors) => AppError::validation(errors),
            BookingError::UnknownAsset => {
                AppError::validation(vec![sentra_protocol::FieldError::new(
                    "asset_id",
                    "no such asset".to_owned(),
                )])
            }
            BookingError::NotFound => AppError::not_found("Booking"),
            BookingError::Taken(Conflict {
                held_until: Some(held_until),
            }) => {
                let mut problem = Problem::new(ErrorCode::AssetHeld).with_detail(format!(
                    "Another customer is paying for this asset on some of these days; their hold \
                     ends at {} unless they pay. Join the waitlist to be offered the asset if it \
                     frees up, or pick other dates or another unit.",
                    held_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ));
                problem.held_until = Some(held_until);
                problem.waitlist_available = Some(true);
                AppError::Client(Box::new(problem))
            }
            BookingError::Taken(Conflict { held_until: None }) => {
                let mut problem = Problem::new(ErrorCode::BookingConflict).with_detail(
                    "The asset is already booked for some of these days. Pick other dates or \
                     another unit, or join the waitlist to be offered the asset when it frees up.",
                );
                problem.waitlist_available = Some(true);
                AppError::Client(Box::new(problem))
            }
            BookingError::NotRentable(status) => AppError::new(
                ErrorCode::AssetNotRentable,
                format!("The asset cannot be rented now (it is in {status})"),
            ),
            BookingError::Moved => AppError::new(
                ErrorCode::AssetMoved,
                "The asset was just moved to another branch; search availability again",
            ),
            BookingError::Busy { retry_after } => {
                let mut problem = Problem::new(ErrorCode::AssetBeingBooked).with_detail(
                    "Someone else is booking this asset right now; try again in a moment",
                );
                problem.retry_after_seconds = Some(retry_after.as_secs().max(1));
                AppError::Client(Box::new(problem))
            }
            BookingError::Contended { retry_after } => {
                let mut problem = Problem::new(ErrorCode::AssetBeingBooked).with_detail(
                    "Many customers are booking this model for these dates right now; try again \
                     in a moment",
                );
                problem.retry_after_seconds = Some(retry_after.as_secs().max(1));
                AppError::Client(Box::new(problem))
            }
            BookingError::EntryGone => AppError::new(
                ErrorCode::Conflict,
                "The waitlist entry is no longer waiting",
            ),
            BookingError::DecidedElsewhere => AppError::Internal(anyhow::anyhow!(
                "an idempotent decision reached the error mapping"
            )),
            BookingError::HoldExpired => AppError::new(
                ErrorCode::HoldExpired,
                "The payment window of this booking lapsed before it was confirmed; the booking \
                 has expired and any payment hold must be released",
            ),
            BookingError::InvalidState { status, action } => AppError::new(
                ErrorCode::InvalidState,
                format!("A {status} booking cannot be {action}"),
            ),
            BookingError::SoldOut => {
                let mut problem = Problem::new(ErrorCode::SoldOut).with_detail(
                    "No unit of this model is free for these dates. Try other dates or another \
                     branch, or join the waitlist to be offered a unit if one frees up.",
                );
                problem.waitlist_available = Some(true);
                AppError::Client(Box::new(problem))
            }
            BookingError::UnknownSku => {
                AppError::validation(vec![FieldError::new("sku", "no SKU with this code")])
            }
            BookingError::UnknownBranch => {
                AppError::validation(vec![FieldError::new("branch", "no branch with this code")])
            }
            BookingError::Database(e) => AppError::from(e),
        }
    }
}

pub(crate) fn to_dto(row: &BookingRow) -> Booking {
    row.to_dto()
}

/// Creates a booking held for payment (PENDING_PAYMENT) for the payment window.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "bookings",
    params(("Idempotency-Key" = String, Header, description = "Unique per booking attempt; a replay returns the first response")),
    request_body = CreateBookingRequest,
    responses(
        (status = 201, description = "Held for payment", body = Booking),
        (status = 400, description = "No Idempotency-Key, or not JSON", body = Problem),
        (status = 409, description = "No unit of the model free (sold_out, checked in the database), dates taken (booking_conflict), held for another customer's payment until `held_until` (asset_held), asset being booked right now (asset_being_booked, retry after `Retry-After`), or moved to another branch meanwhile (asset_moved)", body = Problem),
        (status = 503, description = "The database could not answer; nothing is stored for the key, retry after `Retry-After`", body = Problem),
        (status = 422, description = "Invalid dates or ids, or a reused Idempotency-Key", body = Problem)))]
#[tracing::instrument(name = "http.bookings.create", skip_all)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, AppError> {
    // Keys are per caller: one customer's key never replays another's response.
    let scope = format!("bookings.create:{}", principal.id);
    let db = state.db.clone();
    idempotency::once(&db, &scope, &headers, &body.clone(), |claim| async move {
        let request: CreateBookingRequest = serde_json::from_value(body).map_err(|e| {
            AppError::validation(vec![sentra_protocol::FieldError::new(
                "body",
                e.to_string(),
            )])
        })?;
        let target = booking_target(&request)?;
        may_book(&state, &principal, &request, &target).await?;
        // The response is stored with the booking, in its transaction.
        let render = |row: &BookingRow| serde_json::to_value(to_dto(row)).unwrap_or_default();
        let created = StatusCode::CREATED.as_u16();
        let outcome = match target {
            Target::Unit(asset_id) => {
                let create = CreateBooking {
                    asset_id,
                    customer_id: request.customer_id,
                    start: request.start,
                    end: request.end,
                };
                state
                    .bookings
                    .create_recorded(&create, &claim, created, &render)
                    .await
            }
            Target::Model(sku) => {
                let create = SkuBooking {
                    sku,
                    branch: request.branch.clone(),
                    near: request.near.map(|at| (at.latitude, at.longitude)),
                    customer_id: request.customer_id,
                    start: request.start,
                    end: request.end,
                };
                state
                    .bookings
                    .create_for_sku_recorded(&create, &claim, created, &render)
                    .await
            }
        };
        match outcome {
            Ok(row) => Ok(Decision::Recorded(StatusCode::CREATED, render(&row))),
            Err(BookingError::DecidedElsewhere) => Ok(Decision::DecidedElsewhere),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// One booking.
#[utoipa::path(get, path = "/api/v1/bookings/{id}", tag = "bookings",
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, body = Booking), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.bookings.get_one", skip_all, fields(booking = %id))]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Booking>, AppError> {
    let id = path_id(&id, "Booking")?;
    let row = visible_booking(&state, &principal, id, STAFF_READ).await?;
    Ok(Json(to_dto(&row)))
}

/// Staff roles that may see a booking of their branch.
const STAFF_READ: &[Role] = &[Role::Inspector, Role::BranchAdmin, Role::HqAdmin];
/// Staff roles that may change a booking of their branch.
const STAFF_WRITE: &[Role] = &[Role::BranchAdmin, Role::HqAdmin];

/// The booking if the caller may act on it: a customer their own, staff (of `staff_roles`)
/// their branches'. Anything else is answered "not found", so nothing leaks across branches.
async fn visible_booking(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    staff_roles: &[Role],
) -> Result<BookingRow, AppError> {
    let row = state.bookings.get(id).await?;
    let allowed = match principal.kind {
        SubjectKind::Customer => row.customer_id == Some(principal.id),
        SubjectKind::Staff => {
            staff_roles.contains(&principal.role) && principal.can_access_branch(row.branch_id)
        }
    };
    if allowed {
        Ok(row)
    } else {
        Err(AppError::not_found("Booking"))
    }
}

/// What a create request books: one unit, or a model (the server picks the unit).
enum Target {
    Unit(Uuid),
    Model(String),
}

fn booking_target(request: &CreateBookingRequest) -> Result<Target, AppError> {
    let mut errors = Vec::new();
    let target = match (request.asset_id, &request.sku) {
        (Some(asset), None) => {
            if request.branch.is_some() || request.near.is_some() {
                errors.push(FieldError::new(
                    "branch",
                    "branch and near go with sku; a unit is booked at its own branch",
                ));
            }
            Some(Target::Unit(asset))
        }
        (None, Some(sku)) => Some(Target::Model(sku.clone())),
        (Some(_), Some(_)) => {
            errors.push(FieldError::new("sku", "give sku or asset_id, not both"));
            None
        }
        (None, None) => {
            errors.push(FieldError::new(
                "sku",
                "give the SKU to rent (or, for staff, the asset_id of one unit)",
            ));
            None
        }
    };
    if let Some(at) = request.near
        && !((-90.0..=90.0).contains(&at.latitude) && (-180.0..=180.0).contains(&at.longitude))
    {
        errors.push(FieldError::new(
            "near",
            "latitude must be from -90 to 90 and longitude from -180 to 180",
        ));
    }
    match target {
        Some(target) if errors.is_empty() => Ok(target),
        _ => Err(AppError::validation(errors)),
    }
}

/// Customers book for themselves; branch admins and HQ book their branches' assets for anyone.
async fn may_book(
    state: &AppState,
    principal: &Principal,
    request: &CreateBookingRequest,
    target: &Target,
) -> Result<(), AppError> {
    match principal.kind {
        SubjectKind::Customer if request.customer_id == principal.id => Ok(()),
        SubjectKind::Customer => Err(AppError::new(
            ErrorCode::Forbidden,
            "Customers can only book for themselves",
        )),
        SubjectKind::Staff => {
            if !STAFF_WRITE.contains(&principal.role) {
                return Err(AppError::new(
                    ErrorCode::Forbidden,
                    "Your role may not create bookings",
                ));
            }
            let branch: Option<Uuid> = match target {
                Target::Unit(asset) => state.bookings.home_branch_of(*asset).await?,
                Target::Model(_) => match request.branch.as_deref() {
                    Some(code) => Some(state.availability.branch(code).await?.id),
                    None if principal.role == Role::HqAdmin => None,
                    None => {
                        return Err(AppError::validation(vec![FieldError::new(
                            "branch",
                            "branch staff book a model at one of their branches: name it",
                        )]));
                    }
                },
            };
            match branch {
                Some(branch) if !principal.can_access_branch(branch) => Err(AppError::new(
                    ErrorCode::Forbidden,
                    "This asset belongs to another branch; ask that branch or HQ",
                )),
                _ => Ok(()),
            }
        }
    }
}

/// Bookings of one branch, newest first.
#[utoipa::path(get, path = "/api/v1/bookings", tag = "bookings", params(BookingListQuery),
    responses((status = 200, body = BookingList), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.bookings.list", skip_all)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<BookingListQuery>,
) -> Result<Json<BookingList>, AppError> {
    let mut errors = Vec::new();
    let status = match query.status.as_deref().map(str::parse::<BookingStatus>) {
        Some(Err(_)) => {
            errors.push(FieldError::new("status", "unknown status"));
            None
        }
        other => other.and_then(Result::ok),
    };
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        errors.push(FieldError::new("limit", "must be from 1 to 500"));
    }
    let branch = catalogue::branch_id(&state.db, &query.branch).await?;
    if branch.is_none() {
        errors.push(FieldError::new("branch", "no branch with this code"));
    }
    let (Some(branch), true) = (branch, errors.is_empty()) else {
        return Err(AppError::validation(errors));
    };
    if !principal.can_access_branch(branch) {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "You do not work at this branch",
        ));
    }
    let rows = crate::booking::repo::list_for_branch(
        &state.db,
        branch,
        status.map(BookingStatus::as_str),
        limit,
    )
    .await?;
    let items = rows.iter().map(to_dto).collect();
    Ok(Json(BookingList { items }))
}

/// Cancels a pending or confirmed booking; its days become free (and go to the waitlist).
#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", tag = "bookings",
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, body = Booking), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[tracing::instrument(name = "http.bookings.cancel", skip_all, fields(booking = %id))]
pub async fn cancel(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Booking>, AppError> {
    let id = path_id(&id, "Booking")?;
    visible_booking(&state, &principal, id, STAFF_WRITE).await?;
    Ok(Json(to_dto(&state.bookings.cancel(id).await?)))
}

/// Staff confirm a pending booking (manual deposit), fenced by the hold token.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/confirm", tag = "bookings",
    params(("id" = Uuid, Path, description = "Booking id")),
    request_body = ConfirmBookingRequest,
    responses(
        (status = 200, body = Booking),
        (status = 404, body = Problem),
        (status = 409, description = "The payment window lapsed (hold_expired) or wrong state", body = Problem)))]
#[tracing::instrument(name = "http.bookings.confirm", skip_all, fields(booking = %id))]
pub async fn confirm(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConfirmBookingRequest>,
) -> Result<Json<Booking>, AppError> {
    let id = path_id(&id, "Booking")?;
    visible_booking(&state, &principal, id, STAFF_WRITE).await?;
    Ok(Json(to_dto(
        &state.bookings.confirm(id, body.hold_token).await?,
    )))
}
