//! Waitlist endpoints: join (idempotent), see your position, leave, and a SKU's queue for the
//! staff who run it.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use sentra_protocol::{
    ErrorCode, FieldError, JoinWaitlistRequest, Problem, WaitlistEntry, WaitlistQueue,
    WaitlistQueueQuery,
};

use super::extract::{ApiJson, ApiQuery, path_id};
use crate::{
    auth::{Principal, Role, SubjectKind},
    booking::waitlist::{self, Entry, JoinError},
    error::AppError,
    inventory::catalogue,
    state::AppState,
};

async fn to_dto(state: &AppState, entry: Entry) -> Result<WaitlistEntry, AppError> {
    let position = waitlist::position(&state.bookings, &state.db, &entry).await?;
    Ok(WaitlistEntry {
        id: entry.id,
        sku: entry.sku_code,
        branch_id: entry.branch_id,
        customer_id: entry.customer_id,
        start: entry.start_date,
        end: entry.end_date,
        status: entry.status,
        position,
        offer_booking_id: entry.offer_booking_id,
    })
}

/// Joins the waitlist. Joining again with the same request returns the open entry (200).
#[utoipa::path(post, path = "/api/v1/waitlist", tag = "waitlist", request_body = JoinWaitlistRequest,
    responses(
        (status = 201, description = "Joined", body = WaitlistEntry),
        (status = 200, description = "Already waiting: the existing entry", body = WaitlistEntry),
        (status = 409, description = "A unit is free for these dates: book it (units_available)", body = Problem),
        (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.waitlist.join", skip_all)]
pub async fn join(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<JoinWaitlistRequest>,
) -> Result<(StatusCode, Json<WaitlistEntry>), AppError> {
    let allowed = match (principal.kind, principal.role) {
        (SubjectKind::Customer, _) => body.customer_id == principal.id,
        (SubjectKind::Staff, Role::HqAdmin) => true,
        // A branch admin queues customers for their own branch only.
        (SubjectKind::Staff, Role::BranchAdmin) => match body.branch.as_deref() {
            Some(code) => catalogue::branch_id(&state.db, code)
                .await?
                .is_some_and(|branch| principal.can_access_branch(branch)),
            None => false,
        },
        (SubjectKind::Staff, _) => false,
    };
    if !allowed {
        return Err(AppError::new(
            sentra_protocol::ErrorCode::Forbidden,
            "Customers join the waitlist for themselves; branch admins queue customers for their own branch",
        ));
    }
    let joined = waitlist::join(
        &state.bookings,
        &state.db,
        body.customer_id,
        &body.sku,
        body.branch.as_deref(),
        body.start,
        body.end,
    )
    .await;
    let (entry, created) = joined.map_err(|e| match e {
        JoinError::Unknown { field, what } => {
            AppError::validation(vec![FieldError::new(field, format!("no such {what}"))])
        }
        JoinError::BadDates(errors) => AppError::validation(errors),
        JoinError::UnitsFree(free) => AppError::new(
            ErrorCode::UnitsAvailable,
            format!("{free} unit(s) are free for these dates: book one instead of waiting"),
        ),
        JoinError::Database(e) => AppError::from(e),
    })?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(to_dto(&state, entry).await?)))
}

/// An entry with its current position.
#[utoipa::path(get, path = "/api/v1/waitlist/{id}", tag = "waitlist",
    params(("id" = Uuid, Path, description = "Entry id")),
    responses((status = 200, body = WaitlistEntry), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.waitlist.get_one", skip_all, fields(entry = %id))]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<WaitlistEntry>, AppError> {
    let entry = visible_entry(&state, &principal, &id).await?;
    Ok(Json(to_dto(&state, entry).await?))
}

/// The entry if it is the caller's own (customers) or in a queue the caller runs; else 404.
async fn visible_entry(
    state: &AppState,
    principal: &Principal,
    raw_id: &str,
) -> Result<Entry, AppError> {
    let id = path_id(raw_id, "Waitlist entry")?;
    let entry = waitlist::get(&state.db, id)
        .await?
        .filter(|e| match principal.kind {
            SubjectKind::Customer => e.customer_id == principal.id,
            // Admins see their branches' queues; queues of any branch are HQ's.
            SubjectKind::Staff => match e.branch_id {
                _ if principal.role == Role::HqAdmin => true,
                Some(branch) => {
                    principal.role == Role::BranchAdmin && principal.can_access_branch(branch)
                }
                None => false,
            },
        });
    entry.ok_or_else(|| AppError::not_found("Waitlist entry"))
}

/// Leaves the waitlist (an open offer is cancelled). Leaving twice is harmless.
#[utoipa::path(delete, path = "/api/v1/waitlist/{id}", tag = "waitlist",
    params(("id" = Uuid, Path, description = "Entry id")),
    responses((status = 200, body = WaitlistEntry), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.waitlist.leave", skip_all, fields(entry = %id))]
pub async fn leave(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<WaitlistEntry>, AppError> {
    let id = visible_entry(&state, &principal, &id).await?.id;
    let entry = match waitlist::leave(&state.bookings, &state.db, id).await? {
        Some(entry) => entry,
        None => waitlist::get(&state.db, id)
            .await?
            .ok_or_else(|| AppError::not_found("Waitlist entry"))?,
    };
    Ok(Json(to_dto(&state, entry).await?))
}

/// A SKU's open queue: waiting and offered entries in order, with each waiting entry's place
/// among those competing for the same units. Branch admins see their branches' queues, which
/// include the entries for any branch; HQ sees every queue.
#[utoipa::path(get, path = "/api/v1/skus/{code}/waitlist", tag = "waitlist",
    params(("code" = String, Path, description = "SKU code"), WaitlistQueueQuery),
    responses((status = 200, body = WaitlistQueue), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.waitlist.queue", skip_all, fields(sku = %code))]
pub async fn queue(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    ApiQuery(query): ApiQuery<WaitlistQueueQuery>,
) -> Result<Json<WaitlistQueue>, AppError> {
    if catalogue::sku_id(&state.db, &code).await?.is_none() {
        return Err(AppError::not_found("SKU"));
    }
    let branches = match query.branch.as_deref() {
        Some(branch_code) => {
            let branch = catalogue::branch_id(&state.db, branch_code)
                .await?
                .filter(|b| principal.can_access_branch(*b))
                .ok_or_else(|| {
                    AppError::validation(vec![FieldError::new(
                        "branch",
                        "no such branch among those you work at",
                    )])
                })?;
            Some(vec![branch])
        }
        None if principal.role == Role::HqAdmin => None,
        None => Some(principal.branches.clone()),
    };
    let items = waitlist::queue(&state.db, &code, branches.as_deref())
        .await?
        .into_iter()
        .map(|queued| WaitlistEntry {
            id: queued.entry.id,
            sku: queued.entry.sku_code,
            branch_id: queued.entry.branch_id,
            customer_id: queued.entry.customer_id,
            start: queued.entry.start_date,
            end: queued.entry.end_date,
            status: queued.entry.status,
            position: queued.position.and_then(|p| u64::try_from(p).ok()),
            offer_booking_id: queued.entry.offer_booking_id,
        })
        .collect();
    Ok(Json(WaitlistQueue { sku: code, items }))
}
