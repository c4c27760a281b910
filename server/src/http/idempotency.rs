//! `Idempotency-Key` handling for create requests: the first request with a key runs, and every
//! replay with the same key and the same body gets the first response back; the same key with a
//! different body is refused (422). Keys live in Postgres, so replays work across restarts and
//! server instances.

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use sentra_protocol::ErrorCode;
use serde_json::Value;
use sqlx::PgPool;

use crate::error::AppError;

/// Header name of the key.
pub const HEADER: &str = "idempotency-key";

/// The response of a first run, to store and replay.
pub type Outcome = (StatusCode, Value);

/// Runs `action` at most once per (`scope`, key) and replays its response afterwards.
pub async fn once<F, Fut>(
    db: &PgPool,
    scope: &str,
    headers: &HeaderMap,
    body: &Value,
    action: F,
) -> Result<Response, AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Outcome, AppError>>,
{
    let key = headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::IdempotencyKeyRequired,
                "Send a unique Idempotency-Key header (1-255 characters) with every create request",
            )
        })?;
    let hash = sentra_domain::evidence_hash(body)
        .map_err(|e| AppError::new(ErrorCode::BadRequest, e.to_string()))?;

    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(hash.as_bytes().as_slice())
    .execute(db)
    .await?
    .rows_affected()
        == 1;

    if !inserted {
        let (stored_hash, status, stored_body): (Vec<u8>, Option<i32>, Option<Value>) =
            sqlx::query_as(
                "SELECT request_hash, response_status, response_body FROM idempotency_keys \
             WHERE scope = $1 AND key = $2",
            )
            .bind(scope)
            .bind(key)
            .fetch_one(db)
            .await?;
        if stored_hash != hash.as_bytes() {
            return Err(AppError::new(
                ErrorCode::IdempotencyKeyReused,
                "This Idempotency-Key was already used with a different request body",
            ));
        }
        let (Some(status), Some(stored_body)) = (status, stored_body) else {
            let mut problem = sentra_protocol::Problem::new(ErrorCode::RequestInProgress)
                .with_detail("The first request with this Idempotency-Key is still running");
            problem.retry_after_seconds = Some(1);
            return Err(AppError::Client(Box::new(problem)));
        };
        let status = StatusCode::from_u16(u16::try_from(status).unwrap_or(500))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Ok(render(status, stored_body, true));
    }

    let outcome = match action().await {
        Ok(outcome) => outcome,
        Err(AppError::Client(problem)) if is_transient(problem.code) => {
            // "Try again shortly" is no decision: the retry with this key must run again.
            forget(db, scope, key).await;
            return Err(AppError::Client(problem));
        }
        Err(AppError::Client(problem)) => {
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
            (status, serde_json::to_value(&*problem).unwrap_or_default())
        }
        Err(internal) => {
            // Nothing was decided: forget the key so the client's retry runs again.
            forget(db, scope, key).await;
            return Err(internal);
        }
    };
    sqlx::query(
        "UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .bind(i32::from(outcome.0.as_u16()))
    .bind(&outcome.1)
    .execute(db)
    .await?;
    Ok(render(outcome.0, outcome.1, false))
}

async fn forget(db: &PgPool, scope: &str, key: &str) {
    let result = sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .execute(db)
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not forget an idempotency key");
    }
}

fn is_transient(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::AssetBeingBooked
            | ErrorCode::RateLimited
            | ErrorCode::ServiceUnavailable
            | ErrorCode::Timeout
            | ErrorCode::RequestInProgress
    )
}

fn render(status: StatusCode, body: Value, replayed: bool) -> Response {
    let is_problem = status.is_client_error() || status.is_server_error();
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    if is_problem {
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(sentra_protocol::PROBLEM_CONTENT_TYPE),
        );
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
