//! The error type of the desktop logic: a stable code for the UI plus an English message.

use sentra_api_client::ApiError;

/// A failure of a desktop operation, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CoreError {
    /// Stable `snake_case` code (`server_unreachable`, `invalid_server_url`, a server error code…).
    pub code: String,
    /// English detail for logs and support staff; the UI shows a translated text per code.
    pub message: String,
}

impl CoreError {
    /// An error with a code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl From<ApiError> for CoreError {
    fn from(err: ApiError) -> Self {
        // Every 5xx problem is the same thing to the counter: the server has a problem.
        let code = match &err {
            ApiError::Server { status, .. } if *status >= 500 => "server_error",
            other => other.code(),
        };
        Self::new(code, err.to_string())
    }
}
