//! Tauri commands: each forwards to `sentra-client-core` and maps its error to `{code, message}`.

use sentra_client_core::{CoreError, ServerStatus};
use serde::Serialize;
use tauri::State;

use crate::AppState;

/// The error every command returns to the UI: a stable `code` and an English `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    /// Stable `snake_case` code the UI translates.
    pub code: String,
    /// English detail for support staff.
    pub message: String,
}

impl From<CoreError> for CommandError {
    fn from(err: CoreError) -> Self {
        Self {
            code: err.code,
            message: err.message,
        }
    }
}

/// The configured server's version and readiness.
#[tauri::command]
pub async fn server_status(state: State<'_, AppState>) -> Result<ServerStatus, CommandError> {
    let client = state.client.clone()?;
    Ok(sentra_client_core::server_status(&client).await?)
}
