//! The SentraRental desktop shell: a thin Tauri 2 layer over `sentra-client-core`.
//!
//! Commands live in [`commands`], are a few lines each, and return `Result<T, CommandError>`
//! where the error is `{code, message}` for the UI to translate.

pub mod commands;

use sentra_api_client::ApiClient;
use sentra_client_core::{CoreError, DesktopSettings};

/// What the commands share: the resolved settings and the server client.
#[derive(Debug)]
pub struct AppState {
    /// Settings resolved at start-up.
    pub settings: DesktopSettings,
    /// Client of the configured server, or why it could not be built (a bad URL).
    pub client: Result<ApiClient, CoreError>,
}

impl AppState {
    /// Builds the state from settings.
    pub fn new(settings: DesktopSettings) -> Self {
        let client = ApiClient::new(&settings.server_url).map_err(CoreError::from);
        Self { settings, client }
    }
}

/// Registers state and commands on a builder (shared by `run` and the mock-runtime tests).
pub fn build_app<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    state: AppState,
) -> tauri::Builder<R> {
    builder
        .manage(state)
        .invoke_handler(tauri::generate_handler![commands::server_status])
}

/// Starts the desktop app.
pub fn run() {
    let settings = DesktopSettings::resolve(
        std::env::args().skip(1),
        std::env::var("SENTRA_SERVER_URL").ok(),
    );
    if let Err(err) = build_app(tauri::Builder::default(), AppState::new(settings))
        .run(tauri::generate_context!())
    {
        eprintln!("sentra-desktop: the window could not be started: {err}");
        std::process::exit(1);
    }
}
