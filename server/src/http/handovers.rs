//! Handover endpoints: pickup, return and completion of a rental, inspection records and their
//! verification (JSON for staff, the public `/v/{hash}` page), photo and signature uploads, and
//! the branch's overdue rentals.

use axum::{
    Json,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use chrono::Utc;
use sentra_protocol::{
    Booking, ErrorCode, FieldError, Handover, Inspection, InspectionInput, OverdueList,
    OverdueRental, PickupRequest, PresignRequest, PresignedUpload, Problem, RentalDocumentInfo,
    ReturnRequest, Upload, UploadPurpose, Verification,
};
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{ApiJson, ApiMultipart, ApiQuery, path_id};
use crate::{
    auth::{Principal, Role},
    booking::availability::SearchError,
    error::AppError,
    handover::{self, HandoverError, lifecycle, page},
    state::AppState,
};

impl From<HandoverError> for AppError {
    fn from(err: HandoverError) -> Self {
        match err {
            HandoverError::NotFound(what) => AppError::not_found(what),
            HandoverError::InvalidState { status, action } => AppError::new(
                ErrorCode::InvalidState,
                format!("A {status} booking cannot be {action}"),
            ),
            HandoverError::Pickup(refusal) => {
                AppError::new(ErrorCode::PickupNotAllowed, refusal.to_string())
            }
            HandoverError::InMaintenance => AppError::new(
                ErrorCode::AssetInMaintenance,
                "The asset is in maintenance and cannot be handed over",
            ),
            HandoverError::NotFreeEarly => AppError::new(
                ErrorCode::BookingConflict,
                "The asset is booked on the days before this booking's first day; it cannot \
                 leave early",
            ),
            HandoverError::Invalid(message) => {
                AppError::validation(vec![FieldError::new("body", message)])
            }
            HandoverError::Upload(message) => AppError::new(ErrorCode::UploadIncomplete, message),
            HandoverError::NoHandover => AppError::new(
                ErrorCode::InvalidState,
                "The booking has not been handed over yet: the documents print the handover's \
                 record, so record the pickup (or delivery) first",
            ),
            HandoverError::Maintenance(e) => AppError::from(e),
            HandoverError::InvalidWorkOrder => {
                AppError::new(ErrorCode::Conflict, "The work order is already closed")
            }
            HandoverError::IdReused => AppError::new(
                ErrorCode::RecordIdReused,
                "This record id was used for a different record; make a new id",
            ),
            HandoverError::Checksum(message) => AppError::new(ErrorCode::ChecksumMismatch, message),
            HandoverError::MediaType(message) => {
                AppError::new(ErrorCode::UnsupportedMediaType, message)
            }
            HandoverError::TooLarge { limit } => AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("The file is larger than {} KiB", limit / 1024),
            ),
            HandoverError::Unsupported(message) => AppError::new(ErrorCode::Conflict, message),
            HandoverError::ChargesNotSettled => AppError::new(
                ErrorCode::ChargesNotSettled,
                "The deposit is still held: confirm the return's charges (POST \
                 /api/v1/bookings/{id}/charges/confirm) before completing the rental",
            ),
            HandoverError::Database(e) => AppError::from(e),
            HandoverError::Storage(e) => AppError::Internal(e),
        }
    }
}

fn handover_dto(done: &handover::Handover) -> Handover {
    Handover {
        booking: done.booking.to_dto(),
        inspection: done.inspection.to_dto(),
    }
}

/// Hands a confirmed rental over to the customer with the PICKUP record.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/pickup", tag = "handovers",
    params(("id" = Uuid, Path, description = "Booking id")), request_body = PickupRequest,
    responses((status = 200, body = Handover), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.handovers.pickup", skip_all, fields(booking = %id))]
pub async fn pickup(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<PickupRequest>,
) -> Result<Json<Handover>, AppError> {
    let id = path_id(&id, "Booking")?;
    let done = state
        .handovers
        .pick_up(&principal, id, &request, handover::Taken::Now)
        .await?;
    Ok(Json(handover_dto(&done)))
}

/// Takes a rental back with the RETURN record.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/return", tag = "handovers",
    params(("id" = Uuid, Path, description = "Booking id")), request_body = ReturnRequest,
    responses((status = 200, body = Handover), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.handovers.return", skip_all, fields(booking = %id))]
pub async fn take_back(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReturnRequest>,
) -> Result<Json<Handover>, AppError> {
    let id = path_id(&id, "Booking")?;
    let done = state
        .handovers
        .take_back(&principal, id, &request, handover::Taken::Now)
        .await?;
    Ok(Json(handover_dto(&done)))
}

/// Closes a returned rental whose charges are settled.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/complete", tag = "handovers",
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, body = Booking), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
#[tracing::instrument(name = "http.handovers.complete", skip_all, fields(booking = %id))]
pub async fn complete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Booking>, AppError> {
    let id = path_id(&id, "Booking")?;
    let row = state.handovers.complete(&principal, id).await?;
    Ok(Json(row.to_dto()))
}

/// Records a delivery or transfer inspection, or a correction of any record.
#[utoipa::path(post, path = "/api/v1/inspections", tag = "handovers",
    request_body = InspectionInput,
    responses((status = 201, body = Inspection), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.handovers.record", skip_all)]
pub async fn record(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<InspectionInput>,
) -> Result<(StatusCode, Json<Inspection>), AppError> {
    let stored = state
        .handovers
        .record(&principal, &input, handover::Taken::Now)
        .await?;
    Ok((StatusCode::CREATED, Json(stored.to_dto())))
}

/// One inspection record.
#[utoipa::path(get, path = "/api/v1/inspections/{id}", tag = "handovers",
    params(("id" = Uuid, Path, description = "Inspection id")),
    responses((status = 200, body = Inspection), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.handovers.inspection", skip_all, fields(inspection = %id))]
pub async fn inspection(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Inspection>, AppError> {
    let id = path_id(&id, "Inspection")?;
    Ok(Json(
        state.handovers.inspection(&principal, id).await?.to_dto(),
    ))
}

/// Recomputes a record from what is stored now and names what differs.
#[utoipa::path(get, path = "/api/v1/inspections/{id}/verify", tag = "handovers",
    params(("id" = Uuid, Path, description = "Inspection id")),
    responses((status = 200, body = Verification), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.handovers.verify", skip_all, fields(inspection = %id))]
pub async fn verify(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Verification>, AppError> {
    let id = path_id(&id, "Inspection")?;
    state.handovers.inspection(&principal, id).await?;
    Ok(Json(state.handovers.verify(id).await?))
}

/// The public verify page a printed document's QR opens.
#[utoipa::path(get, path = "/v/{hash}", tag = "handovers",
    params(("hash" = String, Path, description = "The record's tamper-proof hash")),
    responses((status = 200, description = "The record and whether it verifies", content_type = "text/html", body = String),
              (status = 404, description = "No such record", content_type = "text/html", body = String)))]
#[tracing::instrument(name = "http.handovers.page", skip_all)]
pub async fn verify_page(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Response, AppError> {
    let page = match state.handovers.verify_page(&hash).await? {
        Some(html) => (StatusCode::OK, no_store(), Html(html)),
        None => (StatusCode::NOT_FOUND, no_store(), Html(page::unknown())),
    };
    Ok(page.into_response())
}

fn no_store() -> [(header::HeaderName, &'static str); 1] {
    [(header::CACHE_CONTROL, "no-store")]
}

/// Which branch an upload is for, and what it is.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The branch code (`JKT01`).
    pub branch: String,
    /// `PHOTO` or `SIGNATURE`.
    pub purpose: Option<UploadPurpose>,
}

/// The id of the branch with `code`, if the caller works there (else "not found").
pub(super) async fn branch_of(
    state: &AppState,
    principal: &Principal,
    code: &str,
) -> Result<Uuid, AppError> {
    match state.availability.branch(code).await {
        Ok(branch) if principal.can_access_branch(branch.id) => Ok(branch.id),
        Ok(_) | Err(SearchError::UnknownBranch) => Err(AppError::not_found("Branch")),
        Err(e) => Err(e.into()),
    }
}

struct FieldChunks<'a>(axum::extract::multipart::Field<'a>);

impl handover::uploads::Chunks for FieldChunks<'_> {
    async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, HandoverError> {
        self.0.chunk().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                HandoverError::TooLarge {
                    limit: handover::uploads::MAX_PHOTO_BYTES,
                }
            } else {
                HandoverError::Invalid(format!("file: the upload broke off ({})", e.body_text()))
            }
        })
    }
}

/// Uploads one photo or signature image (`multipart/form-data`, one part named `file`),
/// streamed into storage.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "handovers", params(UploadQuery),
    request_body(content_type = "multipart/form-data", content = String, description = "One part named `file`: a JPEG, PNG or WebP image"),
    responses((status = 201, body = Upload), (status = 404, body = Problem),
              (status = 413, body = Problem), (status = 415, body = Problem),
              (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.handovers.upload", skip_all)]
pub async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<UploadQuery>,
    ApiMultipart(mut multipart): ApiMultipart,
) -> Result<(StatusCode, Json<Upload>), AppError> {
    let branch = branch_of(&state, &principal, &query.branch).await?;
    let purpose = query.purpose.unwrap_or(UploadPurpose::Photo);
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| AppError::validation(vec![FieldError::new("file", e.body_text())]))?;
        let Some(field) = field else {
            return Err(AppError::validation(vec![FieldError::new(
                "file",
                "send the image as a multipart part named `file`",
            )]));
        };
        if field.name() == Some("file") {
            let mut chunks = FieldChunks(field);
            let stored = state
                .handovers
                .upload(principal.id, branch, purpose, &mut chunks)
                .await?;
            return Ok((StatusCode::CREATED, Json(stored)));
        }
    }
}

/// Asks for a presigned URL to put a photo straight into S3 (when the store is S3).
#[utoipa::path(post, path = "/api/v1/uploads/presign", tag = "handovers", params(UploadQuery),
    request_body = PresignRequest,
    responses((status = 201, body = PresignedUpload), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.handovers.presign", skip_all)]
pub async fn presign(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<UploadQuery>,
    ApiJson(request): ApiJson<PresignRequest>,
) -> Result<(StatusCode, Json<PresignedUpload>), AppError> {
    let branch = branch_of(&state, &principal, &query.branch).await?;
    let presigned = state
        .handovers
        .presign(principal.id, branch, &request)
        .await?;
    Ok((StatusCode::CREATED, Json(presigned)))
}

/// Checks a presigned upload against its declared checksum and completes it.
#[utoipa::path(post, path = "/api/v1/uploads/{id}/complete", tag = "handovers",
    params(("id" = Uuid, Path, description = "Upload id")),
    responses((status = 200, body = Upload), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.handovers.complete_upload", skip_all, fields(upload = %id))]
pub async fn complete_upload(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Upload>, AppError> {
    let id = path_id(&id, "Upload")?;
    let any = principal.role == Role::HqAdmin;
    let done = state
        .handovers
        .complete_upload(&principal.branches, any, id)
        .await?;
    Ok(Json(done))
}

/// The branch's overdue rentals, each with the asset's next booking and whether it is at risk.
#[utoipa::path(get, path = "/api/v1/branches/{code}/overdue", tag = "handovers",
    params(("code" = String, Path, description = "Branch code")),
    responses((status = 200, body = OverdueList), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.handovers.overdue", skip_all)]
pub async fn overdue(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<Json<OverdueList>, AppError> {
    let branch = branch_of(&state, &principal, &code).await?;
    let now = Utc::now();
    // The list is also the moment to catch up on this branch's occupancy (the sweeper does all
    // branches periodically).
    state.handovers.extend_overdue(Some(branch), now).await?;
    let mut items = Vec::new();
    for rental in lifecycle::active_ending(&state.db, Some(branch), now).await? {
        let row = &rental.row;
        if !sentra_domain::handover::is_overdue(row.status, row.end_date, rental.time_zone, now) {
            continue;
        }
        let due_at = sentra_domain::handover::due_at(row.end_date, rental.time_zone);
        let wanted = sentra_domain::handover::overrun_days(row.end_date, rental.time_zone, now);
        let next = lifecycle::next_booking(&state.db, row).await?;
        let next_at_risk = next.as_ref().is_some_and(|(_, start)| {
            sentra_domain::handover::next_booking_at_risk(
                row.end_date,
                wanted,
                u32::try_from(rental.buffer_days).unwrap_or(0),
                *start,
            )
        });
        items.push(OverdueRental {
            booking: row.to_dto(),
            plate_or_serial: rental.plate_or_serial.clone(),
            due_at,
            overdue_minutes: u64::try_from((now - due_at).num_minutes()).unwrap_or(0),
            next_booking: next.map(|(b, _)| b.to_dto()),
            next_at_risk,
        });
    }
    Ok(Json(OverdueList { items }))
}

/// The booking's surat jalan (`surat-jalan`) or rental agreement (`agreement`): numbered,
/// rendered and stored the first time (201), the same document after that (200).
#[utoipa::path(post, path = "/api/v1/bookings/{id}/documents/{kind}", tag = "handovers",
    params(("id" = Uuid, Path, description = "Booking id"),
           ("kind" = String, Path, description = "`surat-jalan` or `agreement`")),
    responses((status = 201, body = RentalDocumentInfo), (status = 200, body = RentalDocumentInfo),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
#[tracing::instrument(name = "http.handovers.document", skip_all, fields(booking = %id))]
pub async fn document(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, kind)): Path<(String, String)>,
) -> Result<(StatusCode, Json<RentalDocumentInfo>), AppError> {
    let id = path_id(&id, "Booking")?;
    let kind = handover::documents::DocumentKind::from_path(&kind)
        .ok_or_else(|| AppError::not_found("Document kind"))?;
    let (info, made) = state.handovers.document(&principal, id, kind).await?;
    let status = if made {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(info)))
}

/// A stored document's PDF.
#[utoipa::path(get, path = "/api/v1/documents/{id}/pdf", tag = "handovers",
    params(("id" = Uuid, Path, description = "Document id")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.handovers.document_pdf", skip_all, fields(document = %id))]
pub async fn document_pdf(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = path_id(&id, "Document")?;
    let (number, pdf) = state.handovers.document_pdf(&principal, id).await?;
    Ok(super::pdf_response(&number, pdf))
}
