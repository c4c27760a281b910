//! The customers' own account: self-registration, profile, their bookings. The work is in
//! `crate::customers`; this maps its errors to problem+json.

use axum::{
    Extension, Json,
    extract::State,
    http::{StatusCode, header},
};
use sentra_protocol::{
    AccountErased, BookingList, CustomerExport, CustomerProfile, EraseAccountRequest, ErrorCode,
    ExportQuery, FieldError, Problem, RegisterCustomerRequest, UpdateProfileRequest,
};

use super::{
    bookings::to_dto,
    extract::{ApiJson, ApiQuery},
    rate_limit::ClientAddress,
};
use crate::{
    auth::Principal, booking::repo, customers::CustomerError, error::AppError, state::AppState,
};

impl From<CustomerError> for AppError {
    fn from(err: CustomerError) -> Self {
        match err {
            CustomerError::Invalid(errors) => AppError::validation(errors),
            CustomerError::ContactTaken => AppError::new(
                ErrorCode::Conflict,
                "This phone number or e-mail address is already registered; log in instead",
            ),
            CustomerError::NotFound => AppError::not_found("Customer"),
            CustomerError::PasswordRequired => AppError::validation(vec![FieldError::new(
                "current_password",
                "give your current password to change your login e-mail or phone",
            )]),
            CustomerError::WrongPassword => AppError::validation(vec![FieldError::new(
                "current_password",
                "the current password is wrong",
            )]),
            CustomerError::OpenRentals(open) => AppError::new(
                ErrorCode::Conflict,
                format!(
                    "{open} rental(s) are still open: finish, cancel or settle them before the account is erased"
                ),
            ),
            CustomerError::Throttled(retry_after) => {
                let mut problem = Problem::new(ErrorCode::RateLimited)
                    .with_detail("Too many wrong passwords; wait before trying again");
                problem.retry_after_seconds = Some(retry_after.as_secs().max(1));
                AppError::Client(Box::new(problem))
            }
            CustomerError::Database(e) => AppError::from(e),
            CustomerError::Internal(e) => AppError::Internal(e),
        }
    }
}
/// Registers a customer account (then log in at `/api/v1/auth/customer/login`).
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = RegisterCustomerRequest,
    responses(
        (status = 201, body = CustomerProfile),
        (status = 409, description = "Phone or e-mail already registered", body = Problem),
        (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.customers.register", skip_all)]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterCustomerRequest>,
) -> Result<(StatusCode, Json<CustomerProfile>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(state.customers.register(body).await?),
    ))
}

/// The caller's profile.
#[utoipa::path(get, path = "/api/v1/customers/me", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = CustomerProfile), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[tracing::instrument(name = "http.customers.me", skip_all)]
pub async fn me(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<CustomerProfile>, AppError> {
    Ok(Json(state.customers.profile(principal.id).await?))
}

/// Changes the caller's name, phone or e-mail. A new phone or e-mail (the login) needs
/// `current_password`, and the old address is told.
#[utoipa::path(patch, path = "/api/v1/customers/me", tag = "customers", security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses((status = 200, body = CustomerProfile), (status = 409, body = Problem),
        (status = 422, description = "Invalid fields, or the current password missing or wrong", body = Problem),
        (status = 429, description = "Too many wrong passwords; see Retry-After", body = Problem)))]
#[tracing::instrument(name = "http.customers.update_me", skip_all)]
pub async fn update_me(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<UpdateProfileRequest>,
) -> Result<Json<CustomerProfile>, AppError> {
    Ok(Json(
        state
            .customers
            .update(&principal, &body, &state.auth)
            .await?,
    ))
}

/// The caller's bookings, newest first, each with its QR booking code for the counter.
#[utoipa::path(get, path = "/api/v1/customers/me/bookings", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = BookingList), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[tracing::instrument(name = "http.customers.my_bookings", skip_all)]
pub async fn my_bookings(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<BookingList>, AppError> {
    let rows = repo::list_for_customer(&state.db, principal.id, 200).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let mut booking = to_dto(&row);
            booking.qr_payload = Some(super::inventory::booking_code(&state, booking.id));
            booking
        })
        .collect();
    Ok(Json(BookingList { items }))
}

/// Everything SentraRental holds about the caller (UU PDP's right of access): the profile, every
/// booking, every consent with the words consented to, every identity verification (never the
/// NIK in full), the log of who accessed their identity documents, and with `documents=true`
/// their own photos still stored (each one logged as viewed by them). Never cached.
#[utoipa::path(get, path = "/api/v1/customers/me/export", tag = "customers", security(("bearer" = [])),
    params(ExportQuery),
    responses((status = 200, body = CustomerExport)))]
#[tracing::instrument(name = "http.customers.export", skip_all)]
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    address: Option<Extension<ClientAddress>>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<axum::response::Response, AppError> {
    let profile = state.customers.profile(principal.id).await?;
    let bookings = repo::list_for_customer(&state.db, principal.id, 100_000)
        .await?
        .iter()
        .map(to_dto)
        .collect();
    let actor = super::kyc::actor(&principal, address.as_ref());
    let data = state
        .kyc
        .subject_data(principal.id, query.documents.unwrap_or(false), &actor)
        .await?;
    Ok(axum::response::IntoResponse::into_response((
        [(header::CACHE_CONTROL, "no-store")],
        Json(CustomerExport {
            exported_at: chrono::Utc::now(),
            profile,
            bookings,
            consents: data.consents,
            verifications: data.verifications,
            document_access: data.document_access,
            documents: data.documents,
        }),
    )))
}

/// Erases the caller's account (UU PDP): name, contacts, password, sessions, identity photos and
/// verification details go; bookings, invoices and handover records stay under a pseudonym, as
/// tax and dispute law requires. Confirmed with the password; refused while a rental is open.
#[utoipa::path(delete, path = "/api/v1/customers/me", tag = "customers", security(("bearer" = [])),
    request_body = EraseAccountRequest,
    responses((status = 200, body = AccountErased),
        (status = 409, description = "A rental is still open", body = Problem),
        (status = 422, description = "The password is missing or wrong", body = Problem)))]
#[tracing::instrument(name = "http.customers.erase_me", skip_all)]
pub async fn erase_me(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<EraseAccountRequest>,
) -> Result<Json<AccountErased>, AppError> {
    state
        .auth
        .check_password(&principal, &body.current_password)
        .await
        .map_err(CustomerError::from)?;
    let erased = state.customers.erase(principal.id).await?;
    Ok(Json(AccountErased {
        bookings_kept: erased.bookings_kept,
        photos_deleted: erased.photos_deleted,
    }))
}

/// HQ erases a customer on their request (received by customer service, the identity checked
/// there): the same erasure as the customer's own. Refused while a rental is open.
#[utoipa::path(delete, path = "/api/v1/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = AccountErased),
        (status = 404, body = Problem),
        (status = 409, description = "A rental is still open", body = Problem)))]
#[tracing::instrument(name = "http.customers.erase", skip_all, fields(customer = %id))]
pub async fn erase(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<AccountErased>, AppError> {
    let id = super::extract::path_id(&id, "Customer")?;
    let erased = state.customers.erase(id).await?;
    tracing::info!("customer erased on request by HQ");
    Ok(Json(AccountErased {
        bookings_kept: erased.bookings_kept,
        photos_deleted: erased.photos_deleted,
    }))
}
