//! Login, refresh, logout, password change and "who am I".

use std::net::SocketAddr;

use axum::{
    Extension, Json,
    extract::{ConnectInfo, State},
    http::StatusCode,
};
use sentra_protocol::FieldError;
use sentra_protocol::{
    ChangePasswordRequest, CustomerLoginRequest, ErrorCode, Me, Problem, RefreshRequest,
    StaffLoginRequest, TokenResponse,
};

use super::{extract::ApiJson, rate_limit::ClientAddress};
use crate::{
    auth::{AuthError, Principal, TokenPair},
    error::AppError,
    state::AppState,
};

impl From<AuthError> for AppError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::BadCredentials => {
                AppError::unauthorized("The login or the password is wrong")
            }
            AuthError::Throttled { retry_after } => {
                let mut problem = Problem::new(ErrorCode::RateLimited)
                    .with_detail("Too many failed logins; wait before trying again");
                problem.retry_after_seconds = Some(retry_after.as_secs().max(1));
                AppError::Client(Box::new(problem))
            }
            AuthError::BadRefreshToken => {
                AppError::unauthorized("The refresh token is not valid any more; log in again")
            }
            AuthError::NotSignedIn => AppError::unauthorized(
                "The access token is not valid, has expired or its session ended; refresh it or log in again",
            ),
            AuthError::WeakPassword(n) => AppError::validation(vec![FieldError::new(
                "new_password",
                format!("must have at least {n} characters"),
            )]),
            AuthError::Database(e) => AppError::from(e),
            AuthError::Internal(e) => AppError::Internal(e),
        }
    }
}

/// The client's address for the login throttle: as the rate limiter saw it (behind trusted
/// proxies, the address they forwarded), else the connection's.
fn client(peer: SocketAddr, address: Option<Extension<ClientAddress>>) -> String {
    address.map_or(peer.ip(), |a| a.0.0).to_string()
}

fn me(principal: &Principal) -> Me {
    Me {
        id: principal.id,
        kind: principal.kind,
        role: principal.role,
        branches: principal.branches.clone(),
    }
}

fn token_response(pair: TokenPair) -> Json<TokenResponse> {
    Json(TokenResponse {
        me: me(&pair.principal),
        access_token: pair.access_token,
        token_type: "Bearer".to_owned(),
        expires_in: pair.expires_in,
        refresh_token: pair.refresh_token,
        refresh_expires_at: pair.refresh_expires_at,
    })
}

/// Staff login (branch admins, inspectors, HQ).
#[utoipa::path(post, path = "/api/v1/auth/staff/login", tag = "auth", request_body = StaffLoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Wrong e-mail or password", body = Problem),
        (status = 429, description = "Too many failed logins; see Retry-After", body = Problem)))]
#[tracing::instrument(name = "http.auth.staff_login", skip_all)]
pub async fn staff_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    address: Option<Extension<ClientAddress>>,
    ApiJson(body): ApiJson<StaffLoginRequest>,
) -> Result<Json<TokenResponse>, AppError> {
    let pair = state
        .auth
        .staff_login(&body.email, &body.password, &client(peer, address))
        .await?;
    Ok(token_response(pair))
}

/// Customer login by e-mail or phone.
#[utoipa::path(post, path = "/api/v1/auth/customer/login", tag = "auth", request_body = CustomerLoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem),
        (status = 429, body = Problem)))]
#[tracing::instrument(name = "http.auth.customer_login", skip_all)]
pub async fn customer_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    address: Option<Extension<ClientAddress>>,
    ApiJson(body): ApiJson<CustomerLoginRequest>,
) -> Result<Json<TokenResponse>, AppError> {
    let pair = state
        .auth
        .customer_login(&body.login, &body.password, &client(peer, address))
        .await?;
    Ok(token_response(pair))
}

/// A new token pair for a refresh token (which stops working).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem)))]
#[tracing::instrument(name = "http.auth.refresh", skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, AppError> {
    Ok(token_response(
        state.auth.refresh(&body.refresh_token).await?,
    ))
}

/// Ends the session of a refresh token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "Logged out")))]
#[tracing::instrument(name = "http.auth.logout", skip_all)]
pub async fn logout(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<StatusCode, AppError> {
    state.auth.logout(&body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the caller's password; every session of the caller ends.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.auth.change_password", skip_all)]
pub async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, AppError> {
    state
        .auth
        .change_password(&principal, &body.current_password, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller, as the access token says.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
#[tracing::instrument(name = "http.auth.whoami", skip_all)]
pub async fn whoami(principal: Principal) -> Json<Me> {
    Json(me(&principal))
}
