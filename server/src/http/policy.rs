//! Who may call which endpoint, in one table, enforced by one middleware before any handler
//! runs. A route without a rule is refused (fail closed), and the authorization test matrix walks
//! the OpenAPI document so that a new endpoint without a rule fails the build's tests.
//!
//! The table decides by role; which *branch* or *customer* a resource belongs to is checked by
//! the handler that loads the resource (see [`Principal::can_access_branch`]), answering 404 so a
//! caller learns nothing about other branches' data.

use axum::{
    extract::{MatchedPath, Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use sentra_protocol::ErrorCode;

use crate::{
    auth::{AuthService, Principal, Role},
    error::AppError,
};

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// Any logged-in caller, customer or staff.
    Authenticated,
    /// Logged-in callers with one of these roles.
    Roles(&'static [Role]),
}

const STAFF: &[Role] = &[Role::Inspector, Role::BranchAdmin, Role::HqAdmin];
const ADMINS: &[Role] = &[Role::BranchAdmin, Role::HqAdmin];
const CUSTOMERS: &[Role] = &[Role::Customer];
const HQ: &[Role] = &[Role::HqAdmin];
const KYC_REVIEWERS: &[Role] = &[Role::KycReviewer];
/// Who sees a verification's status and masked NIK.
const KYC_READERS: &[Role] = &[Role::BranchAdmin, Role::HqAdmin, Role::KycReviewer];
/// Who may open identity documents: reviewers, and branch admins for their recent customers
/// (the handler checks the booking).
const KYC_DOCUMENT_READERS: &[Role] = &[Role::BranchAdmin, Role::KycReviewer];

/// The rules: (method, route pattern as in the router, access).
pub const RULES: &[(&str, &str, Access)] = &[
    ("GET", "/healthz", Access::Public),
    ("GET", "/readyz", Access::Public),
    ("GET", "/metrics", Access::Public),
    ("GET", "/api/v1/version", Access::Public),
    ("GET", "/openapi.json", Access::Public),
    ("GET", "/docs", Access::Public),
    ("GET", "/docs/", Access::Public),
    ("GET", "/docs/{*rest}", Access::Public),
    ("POST", "/api/v1/auth/staff/login", Access::Public),
    ("POST", "/api/v1/auth/customer/login", Access::Public),
    ("POST", "/api/v1/auth/refresh", Access::Public),
    ("POST", "/api/v1/auth/logout", Access::Public),
    ("POST", "/api/v1/auth/password", Access::Authenticated),
    ("GET", "/api/v1/auth/me", Access::Authenticated),
    // The customers' web API: searching is open, booking needs a login.
    ("GET", "/api/v1/availability", Access::Public),
    ("GET", "/api/v1/skus/{code}/calendar", Access::Public),
    // Staff see the free units themselves (plates), a page at a time.
    ("GET", "/api/v1/availability/units", Access::Roles(STAFF)),
    ("POST", "/api/v1/bookings", Access::Authenticated),
    ("GET", "/api/v1/bookings", Access::Roles(STAFF)),
    ("GET", "/api/v1/bookings/{id}", Access::Authenticated),
    (
        "POST",
        "/api/v1/bookings/{id}/cancel",
        Access::Authenticated,
    ),
    (
        "POST",
        "/api/v1/bookings/{id}/confirm",
        Access::Roles(ADMINS),
    ),
    // Payments: the customer pays online; staff take counter deposits and settle the bill;
    // providers call the webhooks (verified by signature or token, not by a login).
    ("GET", "/api/v1/bookings/{id}/quote", Access::Authenticated),
    (
        "GET",
        "/api/v1/bookings/{id}/payment",
        Access::Authenticated,
    ),
    (
        "POST",
        "/api/v1/bookings/{id}/payment",
        Access::Roles(CUSTOMERS),
    ),
    (
        "POST",
        "/api/v1/bookings/{id}/counter-payment",
        Access::Roles(ADMINS),
    ),
    (
        "POST",
        "/api/v1/bookings/{id}/counter-return",
        Access::Roles(ADMINS),
    ),
    ("GET", "/api/v1/bookings/{id}/charges", Access::Roles(STAFF)),
    (
        "POST",
        "/api/v1/bookings/{id}/charges",
        Access::Roles(STAFF),
    ),
    (
        "DELETE",
        "/api/v1/bookings/{id}/charges/{line}",
        Access::Roles(STAFF),
    ),
    (
        "POST",
        "/api/v1/bookings/{id}/charges/confirm",
        Access::Roles(ADMINS),
    ),
    (
        "GET",
        "/api/v1/bookings/{id}/invoice",
        Access::Authenticated,
    ),
    ("POST", "/api/v1/payments/webhooks/midtrans", Access::Public),
    ("POST", "/api/v1/payments/webhooks/xendit", Access::Public),
    ("GET", "/api/v1/payments/report", Access::Roles(HQ)),
    ("POST", "/api/v1/payments/reconcile", Access::Roles(HQ)),
    ("POST", "/api/v1/customers", Access::Public),
    // Erasure on a customer's request, received by customer service.
    ("DELETE", "/api/v1/customers/{id}", Access::Roles(HQ)),
    ("GET", "/api/v1/customers/me", Access::Roles(CUSTOMERS)),
    ("PATCH", "/api/v1/customers/me", Access::Roles(CUSTOMERS)),
    (
        "GET",
        "/api/v1/customers/me/bookings",
        Access::Roles(CUSTOMERS),
    ),
    // Inventory: the catalogue is public, HQ shapes it; staff see their branches' fleets.
    ("GET", "/api/v1/branches", Access::Public),
    ("POST", "/api/v1/branches", Access::Roles(HQ)),
    ("GET", "/api/v1/skus", Access::Public),
    ("POST", "/api/v1/skus", Access::Roles(HQ)),
    ("PATCH", "/api/v1/skus/{code}", Access::Roles(HQ)),
    ("GET", "/api/v1/assets", Access::Roles(STAFF)),
    ("POST", "/api/v1/assets", Access::Roles(ADMINS)),
    ("GET", "/api/v1/assets/{id}", Access::Roles(STAFF)),
    ("PATCH", "/api/v1/assets/{id}", Access::Roles(ADMINS)),
    (
        "POST",
        "/api/v1/assets/{id}/transfer",
        Access::Roles(ADMINS),
    ),
    ("GET", "/api/v1/assets/{id}/label", Access::Roles(STAFF)),
    ("GET", "/api/v1/assets/{id}/label.pdf", Access::Roles(STAFF)),
    (
        "POST",
        "/api/v1/assets/{id}/label/reissue",
        Access::Roles(ADMINS),
    ),
    ("GET", "/api/v1/transfers/{id}", Access::Roles(ADMINS)),
    ("POST", "/api/v1/scans", Access::Roles(STAFF)),
    // KTP verification: customers consent and submit; KYC reviewers review and open documents;
    // branch admins see the status, and documents of their recent customers; HQ audits access.
    ("GET", "/api/v1/kyc/consent", Access::Public),
    (
        "POST",
        "/api/v1/customers/me/consents",
        Access::Roles(CUSTOMERS),
    ),
    (
        "DELETE",
        "/api/v1/customers/me/consents/kyc",
        Access::Roles(CUSTOMERS),
    ),
    ("GET", "/api/v1/customers/me/kyc", Access::Roles(CUSTOMERS)),
    (
        "GET",
        "/api/v1/customers/me/export",
        Access::Roles(CUSTOMERS),
    ),
    ("DELETE", "/api/v1/customers/me", Access::Roles(CUSTOMERS)),
    (
        "GET",
        "/api/v1/customers/me/notifications",
        Access::Roles(CUSTOMERS),
    ),
    (
        "PATCH",
        "/api/v1/customers/me/notifications",
        Access::Roles(CUSTOMERS),
    ),
    ("GET", "/api/v1/notifications/problems", Access::Roles(HQ)),
    // Meta calls the WhatsApp webhook (verified by its token or signature, not a login).
    (
        "GET",
        "/api/v1/notifications/webhooks/whatsapp",
        Access::Public,
    ),
    (
        "POST",
        "/api/v1/notifications/webhooks/whatsapp",
        Access::Public,
    ),
    ("POST", "/api/v1/customers/me/kyc", Access::Roles(CUSTOMERS)),
    (
        "POST",
        "/api/v1/customers/me/kyc/review",
        Access::Roles(CUSTOMERS),
    ),
    ("GET", "/api/v1/kyc/reviews", Access::Roles(KYC_REVIEWERS)),
    ("GET", "/api/v1/kyc/cases/{id}", Access::Roles(KYC_READERS)),
    (
        "GET",
        "/api/v1/kyc/cases/{id}/documents/{kind}",
        Access::Roles(KYC_DOCUMENT_READERS),
    ),
    (
        "POST",
        "/api/v1/kyc/cases/{id}/decision",
        Access::Roles(KYC_REVIEWERS),
    ),
    (
        "GET",
        "/api/v1/kyc/cases/{id}/access-log",
        Access::Roles(HQ),
    ),
    ("POST", "/api/v1/waitlist", Access::Authenticated),
    ("GET", "/api/v1/waitlist/{id}", Access::Authenticated),
    ("GET", "/api/v1/skus/{code}/waitlist", Access::Roles(ADMINS)),
    ("DELETE", "/api/v1/waitlist/{id}", Access::Authenticated),
    // The branch desktops' sync API: devices are their branch admins' to register, HQ's to
    // revoke; any staff member pulls on a registered device of their branch.
    ("POST", "/api/v1/sync/devices", Access::Roles(ADMINS)),
    ("GET", "/api/v1/sync/devices", Access::Roles(ADMINS)),
    (
        "POST",
        "/api/v1/sync/devices/{id}/revoke",
        Access::Roles(HQ),
    ),
    ("GET", "/api/v1/sync/pull", Access::Roles(STAFF)),
    ("POST", "/api/v1/sync/push", Access::Roles(STAFF)),
    // Handovers: any staff member of the branch hands over and takes back; admins close the
    // rental. The verify page is public: anyone holding the printed QR may check it.
    ("POST", "/api/v1/bookings/{id}/pickup", Access::Roles(STAFF)),
    ("POST", "/api/v1/bookings/{id}/return", Access::Roles(STAFF)),
    (
        "POST",
        "/api/v1/bookings/{id}/complete",
        Access::Roles(ADMINS),
    ),
    ("POST", "/api/v1/inspections", Access::Roles(STAFF)),
    ("GET", "/api/v1/inspections/{id}", Access::Roles(STAFF)),
    (
        "GET",
        "/api/v1/inspections/{id}/verify",
        Access::Roles(STAFF),
    ),
    ("GET", "/v/{hash}", Access::Public),
    ("POST", "/api/v1/uploads", Access::Roles(STAFF)),
    ("POST", "/api/v1/uploads/presign", Access::Roles(STAFF)),
    (
        "POST",
        "/api/v1/uploads/{id}/complete",
        Access::Roles(STAFF),
    ),
    (
        "GET",
        "/api/v1/branches/{code}/overdue",
        Access::Roles(STAFF),
    ),
    (
        "POST",
        "/api/v1/bookings/{id}/documents/{kind}",
        Access::Roles(STAFF),
    ),
    ("GET", "/api/v1/documents/{id}/pdf", Access::Roles(STAFF)),
    // Maintenance: HQ plans the services; branch admins run the workshop; staff see what is due.
    ("POST", "/api/v1/maintenance/plans", Access::Roles(HQ)),
    ("GET", "/api/v1/maintenance/plans", Access::Roles(ADMINS)),
    (
        "POST",
        "/api/v1/assets/{id}/work-orders",
        Access::Roles(ADMINS),
    ),
    (
        "POST",
        "/api/v1/work-orders/{id}/close",
        Access::Roles(ADMINS),
    ),
    (
        "GET",
        "/api/v1/branches/{code}/maintenance",
        Access::Roles(STAFF),
    ),
];

/// The rule of a route, if it has one.
pub fn rule(method: &Method, route: &str) -> Option<Access> {
    RULES
        .iter()
        .find(|(m, r, _)| *m == method.as_str() && *r == route)
        .map(|(_, _, access)| *access)
}

/// The middleware: applies the route's rule and hands the caller to the handler.
pub async fn enforce(
    State(auth): State<AuthService>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(route) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
    else {
        // No route matched: the fallback answers 404 without revealing anything.
        return next.run(request).await;
    };
    let Some(access) = rule(request.method(), &route) else {
        if RULES.iter().any(|(_, r, _)| *r == route) {
            // A method the route does not have: the router answers 405 without a handler.
            return next.run(request).await;
        }
        tracing::error!(method = %request.method(), route, "no access rule for this route; refusing");
        return AppError::new(
            ErrorCode::Forbidden,
            "This endpoint is not open to anyone yet",
        )
        .into_response();
    };
    if access == Access::Public {
        return next.run(request).await;
    }
    let token = bearer_token(&request).map(str::to_owned);
    let principal = match principal_of(&auth, token).await {
        Ok(principal) => principal,
        Err(e) => return e.into_response(),
    };
    if let Access::Roles(roles) = access
        && !roles.contains(&principal.role)
    {
        return AppError::new(ErrorCode::Forbidden, "Your role may not do this").into_response();
    }
    // Every log line of the request names who made it.
    let span = tracing::Span::current();
    span.record("principal", tracing::field::display(principal.id));
    span.record("role", principal.role.as_str());
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// The `Authorization: Bearer …` token of a request.
fn bearer_token(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

async fn principal_of(auth: &AuthService, token: Option<String>) -> Result<Principal, AppError> {
    let token = token.ok_or_else(|| {
        AppError::unauthorized("Log in and send the access token as `Authorization: Bearer …`")
    })?;
    Ok(auth.authenticate(&token).await?)
}
