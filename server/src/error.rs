//! The one error type handlers return, and its RFC 9457 problem+json rendering.
//!
//! Client mistakes carry a stable [`ErrorCode`] and a caller-safe detail. Internal failures keep
//! their cause for the log only: the client sees `internal_error` and nothing else.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sentra_protocol::{ErrorCode, FieldError, PROBLEM_CONTENT_TYPE, Problem};

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A problem the caller caused or can act on.
    #[error("{}: {}", .0.code, .0.detail.as_deref().unwrap_or(&.0.title))]
    Client(Box<Problem>),
    /// A failure inside the server; logged with its cause, answered as `internal_error`.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A client error with `code` and a caller-safe `detail`.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        AppError::Client(Box::new(Problem::new(code).with_detail(detail)))
    }

    /// A `validation_failed` error listing the bad fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        AppError::Client(Box::new(
            Problem::new(ErrorCode::ValidationFailed)
                .with_detail("Some fields are not valid")
                .with_errors(errors),
        ))
    }

    /// An `unauthorized` error (answered with `WWW-Authenticate: Bearer`).
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Unauthorized, detail)
    }

    /// A `service_unavailable` error (503, `Retry-After: 1`): a dependency could not answer and
    /// nothing was decided.
    pub fn unavailable() -> Self {
        let mut problem = Problem::new(ErrorCode::ServiceUnavailable)
            .with_detail("The service is briefly unavailable; please retry shortly");
        problem.retry_after_seconds = Some(1);
        AppError::Client(Box::new(problem))
    }

    /// A `not_found` error for a kind of resource.
    pub fn not_found(what: &str) -> Self {
        AppError::new(ErrorCode::NotFound, format!("{what} not found"))
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        // Data exceptions caused by what the caller sent (text too long, a number out of range,
        // a character the database cannot store, a malformed date): the caller's to fix.
        const INPUT_ERRORS: [&str; 6] = ["22001", "22003", "22007", "22008", "22021", "22P05"];
        if crate::db::has_sqlstate(&err, &INPUT_ERRORS) {
            tracing::warn!(error = %err, "input refused by the database");
            return AppError::validation(vec![FieldError::new(
                "body",
                "a value is out of range or contains characters that cannot be stored",
            )]);
        }
        if crate::db::is_transient(&err) {
            // A restart, a lost connection, a full pool: nothing was decided, retrying is safe.
            tracing::warn!(error = %err, "database unavailable for this request");
            return AppError::unavailable();
        }
        AppError::Internal(anyhow::Error::new(err).context("database error"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let problem = match self {
            AppError::Client(problem) => *problem,
            AppError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                Problem::new(ErrorCode::Internal)
                    .with_detail("The error was logged; please try again or contact support")
            }
        };
        problem_response(problem)
    }
}

/// Renders a problem with its status, content type and, when set, `Retry-After`.
pub fn problem_response(problem: Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let retry_after = problem.retry_after_seconds;
    let mut response = (status, Json(problem)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
