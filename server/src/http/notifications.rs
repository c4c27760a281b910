//! Notification endpoints: the customer's choices, HQ's list of messages that did not go out,
//! and WhatsApp's webhook (its verification handshake and the delivery statuses it reports).

use axum::{
    Json,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use secrecy::ExposeSecret;
use sentra_protocol::{
    ErrorCode, NotificationPreferences, NotificationProblems, Problem,
    UpdateNotificationPreferences,
};
use serde::Deserialize;

use super::extract::ApiJson;
use crate::{auth::Principal, error::AppError, notify::whatsapp, state::AppState};

/// The caller's notification choices: language, channels, reminders.
#[utoipa::path(get, path = "/api/v1/customers/me/notifications", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = NotificationPreferences)))]
#[tracing::instrument(name = "http.customers.notifications", skip_all)]
pub async fn preferences(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<NotificationPreferences>, AppError> {
    Ok(Json(state.customers.preferences(principal.id).await?))
}

/// Changes the caller's notification choices (only the fields given). Reminders can be turned
/// off; messages the law or the rental requires are sent on the chosen channels regardless,
/// so at least one channel stays on.
#[utoipa::path(patch, path = "/api/v1/customers/me/notifications", tag = "customers", security(("bearer" = [])),
    request_body = UpdateNotificationPreferences,
    responses((status = 200, body = NotificationPreferences),
        (status = 422, description = "Unknown language, or both channels off", body = Problem)))]
#[tracing::instrument(name = "http.customers.set_notifications", skip_all)]
pub async fn set_preferences(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<UpdateNotificationPreferences>,
) -> Result<Json<NotificationPreferences>, AppError> {
    Ok(Json(
        state.customers.set_preferences(principal.id, &body).await?,
    ))
}

/// HQ: messages refused by their provider (with its reason) or being retried, newest first.
#[utoipa::path(get, path = "/api/v1/notifications/problems", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationProblems)))]
#[tracing::instrument(name = "http.notifications.problems", skip_all)]
pub async fn problems(
    State(state): State<AppState>,
) -> Result<Json<NotificationProblems>, AppError> {
    Ok(Json(state.notify.problems().await?))
}

/// Meta's webhook verification request.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Verification {
    #[serde(rename = "hub.mode")]
    #[param(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    #[param(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    #[param(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// WhatsApp's webhook verification: answers the challenge when the verify token matches.
#[utoipa::path(get, path = "/api/v1/notifications/webhooks/whatsapp", tag = "notifications",
    params(Verification),
    responses((status = 200, description = "The challenge, echoed", body = String),
              (status = 403, body = Problem)))]
#[tracing::instrument(name = "http.notifications.whatsapp_verify", skip_all)]
pub async fn whatsapp_verify(
    State(state): State<AppState>,
    Query(q): Query<Verification>,
) -> Result<Response, AppError> {
    let expected = state.notify.settings.whatsapp_verify_token.as_ref();
    let matches = match (expected, q.verify_token.as_deref()) {
        (Some(expected), Some(given)) => {
            subtle::ConstantTimeEq::ct_eq(expected.expose_secret().as_bytes(), given.as_bytes())
                .into()
        }
        _ => false,
    };
    match (q.mode.as_deref(), matches, q.challenge) {
        (Some("subscribe"), true, Some(challenge)) => {
            Ok((StatusCode::OK, challenge).into_response())
        }
        _ => Err(AppError::new(
            ErrorCode::Forbidden,
            "The verification token does not match",
        )),
    }
}

/// WhatsApp's delivery statuses (verified by `X-Hub-Signature-256`): delivered, read, or
/// failed with Meta's reason, which HQ then sees.
#[utoipa::path(post, path = "/api/v1/notifications/webhooks/whatsapp", tag = "notifications",
    request_body = serde_json::Value,
    responses((status = 200, description = "Received"), (status = 400, body = Problem),
              (status = 401, body = Problem)))]
#[tracing::instrument(name = "http.notifications.whatsapp_webhook", skip_all)]
pub async fn whatsapp_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let valid = state
        .notify
        .settings
        .whatsapp_app_secret
        .as_ref()
        .is_some_and(|secret| whatsapp::signature_valid(secret, &body, signature));
    if !valid {
        return Err(AppError::unauthorized(
            "The webhook's X-Hub-Signature-256 is not valid",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| AppError::new(ErrorCode::BadRequest, "The webhook body is not JSON"))?;
    let matched = state
        .notify
        .record_statuses(&whatsapp::statuses(&value))
        .await?;
    Ok((
        StatusCode::OK,
        Json(serde_json::json!({"matched": matched})),
    )
        .into_response())
}
