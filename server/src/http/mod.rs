//! The HTTP surface: the router, its middleware stack and the fallbacks that keep every error a
//! problem+json document.

pub mod auth;
pub mod availability;
pub mod bookings;
pub mod customers;
pub mod extract;
pub mod handovers;
pub mod health;
pub mod idempotency;
pub mod inventory;
pub mod kyc;
pub mod maintenance;
pub mod notifications;
pub mod openapi;
mod openapi_answers;
pub mod payments;
pub mod policy;
pub mod rate_limit;
pub mod sync;
pub mod waitlist;

use std::time::Duration;

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderName, Uri, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{delete, get, patch, post},
};
use sentra_protocol::{ErrorCode, Problem};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa_swagger_ui::SwaggerUi;

use crate::{error::problem_response, metrics, state::AppState};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A stored document's PDF, shown inline and named by its number (`INV-JKT01-2026-000001.pdf`).
pub(crate) fn pdf_response(number: &str, pdf: Vec<u8>) -> Response {
    let name = number.replace('/', "-");
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response()
}

/// Builds the whole application router.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/api/v1/version", get(health::version))
        .route(
            "/api/v1/bookings",
            get(bookings::list).post(bookings::create),
        )
        .route("/api/v1/bookings/{id}", get(bookings::get_one))
        .route("/api/v1/bookings/{id}/cancel", post(bookings::cancel))
        .route("/api/v1/bookings/{id}/confirm", post(bookings::confirm))
        .merge(handover_routes())
        .merge(payment_routes())
        .merge(auth_routes())
        .route("/api/v1/availability", get(availability::search))
        .route("/api/v1/availability/units", get(availability::units))
        .route("/api/v1/skus/{code}/calendar", get(availability::calendar))
        .route("/api/v1/skus/{code}/waitlist", get(waitlist::queue))
        .route("/api/v1/customers", post(customers::register))
        .route("/api/v1/customers/{id}", delete(customers::erase))
        .route(
            "/api/v1/customers/me",
            get(customers::me)
                .patch(customers::update_me)
                .delete(customers::erase_me),
        )
        .route("/api/v1/customers/me/bookings", get(customers::my_bookings))
        .route("/api/v1/customers/me/export", get(customers::export))
        .route(
            "/api/v1/customers/me/notifications",
            get(notifications::preferences).patch(notifications::set_preferences),
        )
        .route(
            "/api/v1/notifications/problems",
            get(notifications::problems),
        )
        .route(
            "/api/v1/notifications/webhooks/whatsapp",
            get(notifications::whatsapp_verify).post(notifications::whatsapp_webhook),
        )
        .merge(inventory_routes())
        .merge(kyc_routes())
        .route("/api/v1/waitlist", post(waitlist::join))
        .route(
            "/api/v1/waitlist/{id}",
            get(waitlist::get_one).delete(waitlist::leave),
        )
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", openapi::document()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.rate_limiter.clone(),
            rate_limit::limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.auth.clone(),
            policy::enforce,
        ))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::record,
        ))
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .layer(CatchPanicLayer::custom(|_panic| {
            // The panic message may hold internal detail; the trace span logs the failure.
            tracing::error!("handler panicked");
            problem_response(Problem::new(ErrorCode::Internal))
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let route = request
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str());
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    route,
                    request_id,
                    // Filled in by the access policy once the caller is known.
                    principal = tracing::field::Empty,
                    role = tracing::field::Empty,
                )
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::map_request(plain_request_id))
        .with_state(state)
}

/// Logins, refreshes and the caller's session: their answers (tokens, errors) are never
/// stored by a browser or a proxy.
fn auth_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/staff/login", post(auth::staff_login))
        .route("/api/v1/auth/customer/login", post(auth::customer_login))
        .route("/api/v1/auth/refresh", post(auth::refresh))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/password", post(auth::change_password))
        .route("/api/v1/auth/me", get(auth::whoami))
        .layer(middleware::map_response(no_store))
}

async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// Whether a client's `X-Request-Id` may be kept: a plain token of letters, digits, `.`, `_`
/// and `-`, at most 64 characters (anything else could forge log lines or be echoed as markup).
pub fn is_plain_request_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Drops a client's `X-Request-Id` that is not a plain token (a fresh one is made instead).
async fn plain_request_id(mut request: Request) -> Request {
    let plain = request
        .headers()
        .get(&REQUEST_ID)
        .is_none_or(|v| v.to_str().is_ok_and(is_plain_request_id));
    if !plain {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// Consent, KTP verification and its review.
fn kyc_routes() -> Router<AppState> {
    // Two photos of up to 5 MB each, base64-encoded, plus the rest of the body.
    let upload_limit = axum::extract::DefaultBodyLimit::max(15 * 1024 * 1024);
    Router::new()
        .route("/api/v1/kyc/consent", get(kyc::consent_text))
        .route("/api/v1/customers/me/consents", post(kyc::give_consent))
        .route(
            "/api/v1/customers/me/consents/kyc",
            delete(kyc::withdraw_consent),
        )
        .route(
            "/api/v1/customers/me/kyc",
            get(kyc::my_status).post(kyc::submit).layer(upload_limit),
        )
        .route("/api/v1/customers/me/kyc/review", post(kyc::ask_for_review))
        .route("/api/v1/kyc/reviews", get(kyc::reviews))
        .route("/api/v1/kyc/cases/{id}", get(kyc::case))
        .route(
            "/api/v1/kyc/cases/{id}/documents/{kind}",
            get(kyc::document),
        )
        .route("/api/v1/kyc/cases/{id}/decision", post(kyc::decide))
        .route("/api/v1/kyc/cases/{id}/access-log", get(kyc::access_log))
}

/// Pickups, returns, inspection records, their verification, uploads and overdue rentals.
fn payment_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/bookings/{id}/quote", get(payments::quote))
        .route(
            "/api/v1/bookings/{id}/payment",
            get(payments::view).post(payments::start),
        )
        .route(
            "/api/v1/bookings/{id}/counter-payment",
            post(payments::counter),
        )
        .route(
            "/api/v1/bookings/{id}/counter-return",
            post(payments::counter_return),
        )
        .route(
            "/api/v1/bookings/{id}/charges",
            get(payments::charges).post(payments::add_damage),
        )
        .route(
            "/api/v1/bookings/{id}/charges/confirm",
            post(payments::confirm_charges),
        )
        .route(
            "/api/v1/bookings/{id}/charges/{line}",
            delete(payments::remove_damage),
        )
        .route("/api/v1/bookings/{id}/invoice", get(payments::invoice))
        .route(
            "/api/v1/payments/webhooks/midtrans",
            post(payments::midtrans_webhook),
        )
        .route(
            "/api/v1/payments/webhooks/xendit",
            post(payments::xendit_webhook),
        )
        .route("/api/v1/payments/report", get(payments::report))
        .route("/api/v1/payments/reconcile", post(payments::reconcile))
}

fn handover_routes() -> Router<AppState> {
    // A photo of up to 10 MiB plus the multipart framing; the handler refuses more itself.
    let upload_limit = axum::extract::DefaultBodyLimit::max(11 * 1024 * 1024);
    Router::new()
        .route("/api/v1/bookings/{id}/pickup", post(handovers::pickup))
        .route("/api/v1/bookings/{id}/return", post(handovers::take_back))
        .route("/api/v1/bookings/{id}/complete", post(handovers::complete))
        .route("/api/v1/inspections", post(handovers::record))
        .route("/api/v1/inspections/{id}", get(handovers::inspection))
        .route("/api/v1/inspections/{id}/verify", get(handovers::verify))
        .route("/v/{hash}", get(handovers::verify_page))
        .route(
            "/api/v1/uploads",
            post(handovers::upload).layer(upload_limit),
        )
        .route("/api/v1/uploads/presign", post(handovers::presign))
        .route(
            "/api/v1/uploads/{id}/complete",
            post(handovers::complete_upload),
        )
        .route("/api/v1/branches/{code}/overdue", get(handovers::overdue))
        .route(
            "/api/v1/bookings/{id}/documents/{kind}",
            post(handovers::document),
        )
        .route("/api/v1/documents/{id}/pdf", get(handovers::document_pdf))
        .route(
            "/api/v1/maintenance/plans",
            get(maintenance::plans).post(maintenance::create_plan),
        )
        .route(
            "/api/v1/assets/{id}/work-orders",
            post(maintenance::open_work_order),
        )
        .route(
            "/api/v1/work-orders/{id}/close",
            post(maintenance::close_work_order),
        )
        .route(
            "/api/v1/branches/{code}/maintenance",
            get(maintenance::overview),
        )
}

/// Branches, SKUs, assets, transfers, labels and scans.
fn inventory_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/branches",
            get(inventory::list_branches).post(inventory::create_branch),
        )
        .route(
            "/api/v1/skus",
            get(inventory::list_skus).post(inventory::create_sku),
        )
        .route("/api/v1/skus/{code}", patch(inventory::update_sku))
        .route(
            "/api/v1/assets",
            get(inventory::list_assets).post(inventory::create_asset),
        )
        .route(
            "/api/v1/assets/{id}",
            get(inventory::get_asset).patch(inventory::update_asset),
        )
        .route(
            "/api/v1/assets/{id}/transfer",
            post(inventory::transfer_asset),
        )
        .route("/api/v1/assets/{id}/label", get(inventory::get_label))
        .route(
            "/api/v1/assets/{id}/label.pdf",
            get(inventory::get_label_pdf),
        )
        .route(
            "/api/v1/assets/{id}/label/reissue",
            post(inventory::reissue_label),
        )
        .route("/api/v1/transfers/{id}", get(inventory::get_transfer))
        .route("/api/v1/scans", post(inventory::scan))
        .route(
            "/api/v1/sync/devices",
            post(sync::register_device).get(sync::devices),
        )
        .route(
            "/api/v1/sync/devices/{id}/revoke",
            post(sync::revoke_device),
        )
        .route("/api/v1/sync/pull", get(sync::pull))
        .route("/api/v1/sync/push", post(sync::push))
}

async fn not_found(uri: Uri) -> Response {
    let mut problem = Problem::new(ErrorCode::NotFound).with_detail("No such endpoint");
    problem.instance = Some(uri.path().to_owned());
    problem_response(problem)
}

async fn method_not_allowed() -> Response {
    problem_response(
        Problem::new(ErrorCode::MethodNotAllowed)
            .with_detail("This endpoint does not support this HTTP method"),
    )
}

/// Answers `timeout` (504 problem) when a handler runs longer than the configured limit.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    if let Ok(response) = tokio::time::timeout(limit, next.run(request)).await {
        response
    } else {
        tracing::warn!(limit_secs = limit.as_secs(), "request timed out");
        problem_response(Problem::new(ErrorCode::Timeout))
    }
}
