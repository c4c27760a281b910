//! Request extractors whose rejections are problem+json documents with stable codes.

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Query, Request, rejection::JsonRejection},
    http::request::Parts,
};
use sentra_protocol::{ErrorCode, FieldError};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// `Json<T>` that answers `bad_request` / `validation_failed` problems instead of plain text.
/// The body must be a JSON object.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Parsed as a JSON value first, so text no database can store (NUL characters) is refused
        // with a field error before any handler sees it.
        match Json::<serde_json::Value>::from_request(req, state).await {
            Ok(Json(value)) => {
                // Every request body is an object: serde would also read a struct from an array
                // of its fields in order, which no client means and the schema does not allow.
                if !value.is_object() {
                    return Err(AppError::validation(vec![FieldError::new(
                        "body",
                        "expected a JSON object",
                    )]));
                }
                if let Some(path) = nul_path(&value, "body") {
                    return Err(AppError::validation(vec![FieldError::new(
                        &path,
                        "must not contain NUL characters",
                    )]));
                }
                serde_json::from_value(value)
                    .map(Self)
                    .map_err(|e| AppError::validation(vec![FieldError::new("body", e.to_string())]))
            }
            Err(JsonRejection::JsonDataError(e)) => {
                Err(AppError::validation(vec![FieldError::new(
                    "body",
                    e.body_text(),
                )]))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::new(
                ErrorCode::BadRequest,
                "Send the body as JSON with Content-Type: application/json",
            )),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::new(
                    ErrorCode::PayloadTooLarge,
                    "The request body is larger than this endpoint accepts",
                ))
            }
            Err(e) => Err(AppError::new(ErrorCode::BadRequest, e.body_text())),
        }
    }
}

/// Where in `value` a string (or key) contains a NUL character, as a dotted path.
fn nul_path(value: &serde_json::Value, at: &str) -> Option<String> {
    match value {
        serde_json::Value::String(text) => text.contains('\0').then(|| at.to_owned()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, &format!("{at}[{i}]"))),
        serde_json::Value::Object(members) => members.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(at.to_owned())
            } else {
                nul_path(item, &format!("{at}.{key}"))
            }
        }),
        _ => None,
    }
}

/// `Query<T>` that answers a `validation_failed` problem naming the bad parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts
            .uri
            .query()
            .is_some_and(|q| q.to_ascii_lowercase().contains("%00"))
        {
            return Err(AppError::validation(vec![FieldError::new(
                "query",
                "must not contain NUL characters",
            )]));
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(e) => Err(AppError::validation(vec![FieldError::new(
                "query",
                e.body_text(),
            )])),
        }
    }
}

/// `Multipart` that answers a `bad_request` problem (not plain text) when the body is not
/// `multipart/form-data` with a boundary.
#[derive(Debug)]
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(Self)
            .map_err(|e| {
                AppError::new(
                    ErrorCode::BadRequest,
                    format!("Send the file as multipart/form-data: {}", e.body_text()),
                )
            })
    }
}

/// Parses a resource id from the path; a malformed id is answered like an unknown one (404), so
/// the caller learns nothing either way.
pub fn path_id(raw: &str, what: &str) -> Result<uuid::Uuid, AppError> {
    raw.parse().map_err(|_| AppError::not_found(what))
}
