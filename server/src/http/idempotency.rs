//! `Idempotency-Key` handling for create requests: every replay with the same key and the same
//! body gets the first decision back; the same key with a different body is refused (422).
//!
//! A key is stored only with its decided response (`crate::idempotency`): a success in the
//! transaction that made it, a refusal right after it was decided. A request that ends without a
//! decision (a transient error, the time limit, a crash) stores nothing, so its retry runs afresh;
//! there is no "in progress" state to get stuck in. When two requests with the same key race, the
//! first decision stored wins and the other answers with it.

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use sentra_protocol::ErrorCode;
use serde_json::Value;
use sqlx::PgPool;

use crate::{
    error::AppError,
    idempotency::{self, Claim, Lookup, StoredResponse},
};

/// Header name of the key.
pub const HEADER: &str = "idempotency-key";

/// What the action decided.
#[derive(Debug)]
pub enum Decision {
    /// Decided, and the response already stored with the action's own transaction.
    Recorded(StatusCode, Value),
    /// Another request with this key decided first; the action changed nothing.
    DecidedElsewhere,
}

/// Runs `action` unless the key already has a decision, which is replayed instead. Refusals the
/// action returns (client errors that are not transient) are stored as its decision.
pub async fn once<F, Fut>(
    db: &PgPool,
    scope: &str,
    headers: &HeaderMap,
    body: &Value,
    action: F,
) -> Result<Response, AppError>
where
    F: FnOnce(Claim) -> Fut,
    Fut: std::future::Future<Output = Result<Decision, AppError>>,
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
    let claim = Claim {
        scope: scope.to_owned(),
        key: key.to_owned(),
        request_hash: hash.as_bytes().to_vec(),
    };
    match idempotency::lookup(db, &claim).await? {
        Lookup::New => {}
        decided => return answer(decided),
    }
    match action(claim.clone()).await {
        Ok(Decision::Recorded(status, body)) => Ok(render(status, body, false)),
        Ok(Decision::DecidedElsewhere) => answer(idempotency::lookup(db, &claim).await?),
        // "Try again shortly" is no decision: nothing is stored, the retry runs again.
        Err(AppError::Client(problem)) if is_transient(problem.code) => {
            Err(AppError::Client(problem))
        }
        Err(AppError::Client(problem)) => {
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
            let body = serde_json::to_value(&*problem).map_err(anyhow::Error::from)?;
            if idempotency::record(db, &claim, status.as_u16(), &body).await? {
                Ok(render(status, body, false))
            } else {
                answer(idempotency::lookup(db, &claim).await?)
            }
        }
        // Nothing was decided: the client's retry runs again.
        Err(internal) => Err(internal),
    }
}

/// The answer for a key that already has a decision.
fn answer(lookup: Lookup) -> Result<Response, AppError> {
    match lookup {
        Lookup::Replay(StoredResponse { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Ok(render(status, body, true))
        }
        Lookup::Mismatch => Err(AppError::new(
            ErrorCode::IdempotencyKeyReused,
            "This Idempotency-Key was already used with a different request body",
        )),
        // Stored keys are never deleted, so this only happens if one vanished by hand.
        Lookup::New => {
            let mut problem = sentra_protocol::Problem::new(ErrorCode::RequestInProgress)
                .with_detail("The first request with this Idempotency-Key did not finish; retry");
            problem.retry_after_seconds = Some(1);
            Err(AppError::Client(Box::new(problem)))
        }
    }
}

fn is_transient(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::AssetBeingBooked
            | ErrorCode::AssetMoved
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
