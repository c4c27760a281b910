//! Payment endpoints: a booking's quote, starting its payment, what the payment went through,
//! deposits taken at the counter, the bill at return (damage lines, confirmation, invoice), the
//! providers' webhooks, and HQ's report and reconciliation.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use sentra_protocol::{
    AddDamageRequest, BookingPayment, ChargeLine, Charges, ConfirmChargesRequest,
    CounterPaymentRequest, ErrorCode, FieldError, PaymentQuote, PaymentsReport, Problem,
    Reconciliation, Settlement, StartPaymentRequest,
};

use super::extract::{ApiJson, path_id};
use crate::{
    auth::Principal,
    error::AppError,
    payments::{
        PaymentError,
        gateway::GatewayError,
        webhooks::{Received, WebhookError},
    },
    state::AppState,
};

impl From<PaymentError> for AppError {
    fn from(err: PaymentError) -> Self {
        match err {
            PaymentError::NotFound(what) => AppError::not_found(what),
            PaymentError::InvalidState { status, action } => AppError::new(
                ErrorCode::InvalidState,
                format!("A {status} booking cannot be {action}"),
            ),
            e @ PaymentError::WindowLapsed { .. } => {
                AppError::new(ErrorCode::PaymentWindowLapsed, e.to_string())
            }
            PaymentError::WindowClosed => AppError::new(
                ErrorCode::HoldExpired,
                "The payment window of this booking lapsed; nothing was held. Book again.",
            ),
            PaymentError::Declined(why) => AppError::new(
                ErrorCode::PaymentDeclined,
                format!("The payment was declined ({why}); nothing is held. Try another card."),
            ),
            PaymentError::PayAtCounter => AppError::new(
                ErrorCode::PayAtCounter,
                "This branch takes the deposit at the counter (cash or transfer)",
            ),
            PaymentError::Invalid(message) => {
                AppError::validation(vec![FieldError::new("body", message)])
            }
            PaymentError::Conflict(message) => AppError::new(ErrorCode::Conflict, message),
            PaymentError::ChargesNotSettled => AppError::new(
                ErrorCode::ChargesNotSettled,
                "Confirm the return's charges first",
            ),
            PaymentError::ChargesChanged { now } => AppError::new(
                ErrorCode::ChargesChanged,
                format!("The charges changed since they were shown: the total is now {now}"),
            ),
            PaymentError::Gateway(GatewayError::Refused(why)) => AppError::new(
                ErrorCode::PaymentDeclined,
                format!("The payment provider refused it ({why})"),
            ),
            PaymentError::Gateway(
                e @ (GatewayError::NotAllowed(_) | GatewayError::AboveHold(_)),
            ) => AppError::new(ErrorCode::Conflict, e.to_string()),
            PaymentError::Gateway(GatewayError::Unauthorized) => AppError::Internal(
                anyhow::anyhow!("the payment provider refused our credentials (configuration)"),
            ),
            PaymentError::Gateway(e) => {
                tracing::warn!(error = %e, "payment provider call failed");
                AppError::unavailable()
            }
            PaymentError::Database(e) => AppError::from(e),
            PaymentError::Storage(e) => AppError::Internal(e),
        }
    }
}

/// The price of a booking and what the card will hold.
#[utoipa::path(get, path = "/api/v1/bookings/{id}/quote", tag = "payments",
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, body = PaymentQuote), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.payments.quote", skip_all, fields(booking = %id))]
pub async fn quote(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<PaymentQuote>, AppError> {
    let id = path_id(&id, "Booking")?;
    Ok(Json(state.payments.quote(&principal, id).await?))
}

/// Starts the payment of a pending booking (or of a bill above the hold): a hold on the card.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/payment", tag = "payments",
    params(("id" = Uuid, Path, description = "Booking id")),
    request_body = StartPaymentRequest,
    responses((status = 200, body = BookingPayment), (status = 402, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.payments.start", skip_all, fields(booking = %id))]
pub async fn start(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<StartPaymentRequest>,
) -> Result<Json<BookingPayment>, AppError> {
    let id = path_id(&id, "Booking")?;
    state.payments.start(&principal, id, &request).await?;
    Ok(Json(state.payments.view(&principal, id).await?))
}

/// Everything the booking's payment went through: each hold and its movements.
#[utoipa::path(get, path = "/api/v1/bookings/{id}/payment", tag = "payments",
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, body = BookingPayment), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.payments.view", skip_all, fields(booking = %id))]
pub async fn view(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<BookingPayment>, AppError> {
    let id = path_id(&id, "Booking")?;
    Ok(Json(state.payments.view(&principal, id).await?))
}

/// Staff record a deposit (or the bill's remainder) paid at the counter, with a receipt.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/counter-payment", tag = "payments",
    params(("id" = Uuid, Path, description = "Booking id")),
    request_body = CounterPaymentRequest,
    responses((status = 200, body = BookingPayment), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.payments.counter", skip_all, fields(booking = %id))]
pub async fn counter(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CounterPaymentRequest>,
) -> Result<Json<BookingPayment>, AppError> {
    let id = path_id(&id, "Booking")?;
    state
        .payments
        .counter_payment(&principal, id, &request)
        .await?;
    Ok(Json(state.payments.view(&principal, id).await?))
}

/// Staff give a cash or transfer deposit back after the booking ended without a bill, with a
/// numbered return receipt.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/counter-return", tag = "payments",
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, body = BookingPayment), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
#[tracing::instrument(name = "http.payments.counter_return", skip_all, fields(booking = %id))]
pub async fn counter_return(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<BookingPayment>, AppError> {
    let id = path_id(&id, "Booking")?;
    state.payments.counter_return(&principal, id).await?;
    Ok(Json(state.payments.view(&principal, id).await?))
}

/// The bill of a returned booking and what the hold covers.
#[utoipa::path(get, path = "/api/v1/bookings/{id}/charges", tag = "payments",
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, body = Charges), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
#[tracing::instrument(name = "http.payments.charges", skip_all, fields(booking = %id))]
pub async fn charges(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Charges>, AppError> {
    let id = path_id(&id, "Booking")?;
    Ok(Json(state.payments.charges(&principal, id).await?))
}

/// Staff add a damage line from the booking's RETURN inspection.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/charges", tag = "payments",
    params(("id" = Uuid, Path, description = "Booking id")),
    request_body = AddDamageRequest,
    responses((status = 201, body = ChargeLine), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.payments.add_damage", skip_all, fields(booking = %id))]
pub async fn add_damage(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AddDamageRequest>,
) -> Result<(StatusCode, Json<ChargeLine>), AppError> {
    let id = path_id(&id, "Booking")?;
    let line = state.payments.add_damage(&principal, id, &request).await?;
    Ok((StatusCode::CREATED, Json(line)))
}

/// Staff remove a damage line not yet confirmed.
#[utoipa::path(delete, path = "/api/v1/bookings/{id}/charges/{line}", tag = "payments",
    params(("id" = Uuid, Path, description = "Booking id"),
           ("line" = Uuid, Path, description = "Charge line id")),
    responses((status = 204, description = "Removed"), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.payments.remove_damage", skip_all, fields(booking = %id))]
pub async fn remove_damage(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, line)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let id = path_id(&id, "Booking")?;
    let line = path_id(&line, "Charge line")?;
    state.payments.remove_damage(&principal, id, line).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Staff confirm the bill they saw: one capture (at most the hold), the rest released.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/charges/confirm", tag = "payments",
    params(("id" = Uuid, Path, description = "Booking id")),
    request_body = ConfirmChargesRequest,
    responses((status = 200, body = Settlement), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.payments.confirm_charges", skip_all, fields(booking = %id))]
pub async fn confirm_charges(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ConfirmChargesRequest>,
) -> Result<Json<Settlement>, AppError> {
    let id = path_id(&id, "Booking")?;
    Ok(Json(
        state
            .payments
            .confirm_charges(&principal, id, request.total)
            .await?,
    ))
}

/// The invoice of a settled bill.
#[utoipa::path(get, path = "/api/v1/bookings/{id}/invoice", tag = "payments",
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.payments.invoice", skip_all, fields(booking = %id))]
pub async fn invoice(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = path_id(&id, "Booking")?;
    let (number, pdf) = state.payments.invoice_pdf(&principal, id).await?;
    Ok(super::pdf_response(&number, pdf))
}

fn webhook_answer(outcome: Result<Received, WebhookError>) -> Result<Response, AppError> {
    match outcome {
        Ok(received) => Ok((
            StatusCode::OK,
            Json(serde_json::json!({"received": format!("{received:?}").to_lowercase()})),
        )
            .into_response()),
        Err(WebhookError::Forged) => Err(AppError::unauthorized(
            "The notification's signature or token is not valid",
        )),
        Err(WebhookError::Malformed) => Err(AppError::new(
            ErrorCode::BadRequest,
            "The notification is not JSON of the documented shape",
        )),
        Err(WebhookError::Database(e)) => Err(AppError::from(e)),
    }
}

/// Midtrans' HTTP notification (verified by its SHA-512 signature; stored once).
#[utoipa::path(post, path = "/api/v1/payments/webhooks/midtrans", tag = "payments",
    request_body = serde_json::Value,
    responses((status = 200, description = "Received"), (status = 400, body = Problem),
              (status = 401, body = Problem)))]
#[tracing::instrument(name = "http.payments.webhook_midtrans", skip_all)]
pub async fn midtrans_webhook(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, AppError> {
    webhook_answer(state.payments.midtrans_notification(&body).await)
}

/// Xendit's payment webhook (verified by its `x-callback-token`; stored once).
#[utoipa::path(post, path = "/api/v1/payments/webhooks/xendit", tag = "payments",
    request_body = serde_json::Value,
    responses((status = 200, description = "Received"), (status = 400, body = Problem),
              (status = 401, body = Problem)))]
#[tracing::instrument(name = "http.payments.webhook_xendit", skip_all)]
pub async fn xendit_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    webhook_answer(
        state
            .payments
            .xendit_notification(header("x-callback-token"), header("webhook-id"), &body)
            .await,
    )
}

/// HQ: holds still open per branch with their expiry, daily totals, the latest reconciliation.
#[utoipa::path(get, path = "/api/v1/payments/report", tag = "payments",
    responses((status = 200, body = PaymentsReport)))]
#[tracing::instrument(name = "http.payments.report", skip_all)]
pub async fn report(State(state): State<AppState>) -> Result<Json<PaymentsReport>, AppError> {
    Ok(Json(
        state
            .payments
            .report(31)
            .await
            .map_err(AppError::Internal)?,
    ))
}

/// HQ: compares the ledger with every provider now and lists the differences.
#[utoipa::path(post, path = "/api/v1/payments/reconcile", tag = "payments",
    responses((status = 200, body = Reconciliation)))]
#[tracing::instrument(name = "http.payments.reconcile", skip_all)]
pub async fn reconcile(State(state): State<AppState>) -> Result<Json<Reconciliation>, AppError> {
    Ok(Json(
        state
            .payments
            .reconcile(false)
            .await
            .map_err(AppError::Internal)?,
    ))
}
