//! The SentraRental desktop shell: a thin Tauri 2 layer over `sentra-client-core`.
//!
//! Commands live in [`commands`] and are a few lines each; background work (sync loop, serial
//! scanner) lives in [`background`]. Errors reach the UI as `{code, message}`.

pub mod background;
pub mod commands;
pub mod first_screen;

use std::{path::PathBuf, sync::Arc};

use sentra_api_client::ApiClient;
use sentra_client_core::{
    CoreError, DesktopSettings, Keychain,
    counter::{Counter, CounterConfig},
    preferences::Preferences,
};
use tauri::Manager;

use crate::background::Background;

/// What the commands share.
#[derive(Debug)]
pub struct AppState {
    /// Settings resolved at start-up.
    pub settings: DesktopSettings,
    /// Client of the configured server, or why it could not be built (a bad URL).
    pub client: Result<ApiClient, CoreError>,
    /// The counter, or why it could not be built (a bad URL).
    pub counter: Result<Arc<Counter>, CoreError>,
    /// Sync loop and scanner.
    pub background: Background,
    /// The start-up resume (kept session, branch copy), run once by whoever needs it first: the
    /// setup hook or the UI's first `app_state`, so the UI never shows a login the keychain
    /// would have spared.
    started: tokio::sync::OnceCell<()>,
    /// Turns true once the start-up resume has run (the window waits for it, briefly).
    resumed: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// Builds the state: `data_dir` holds the offline copies and preferences, secrets go to
    /// `keychain`.
    pub fn new(settings: DesktopSettings, data_dir: PathBuf, keychain: Keychain) -> Self {
        let config = CounterConfig {
            server_url: settings.server_url.clone(),
            data_dir,
            device_name: device_name(),
        };
        let counter = Counter::new(config, keychain).map(Arc::new);
        // One HTTP client for both (building one loads the system's CA certificates: ~70 ms).
        let client = match &counter {
            Ok(counter) => Ok(counter.api().clone()),
            Err(err) => Err(err.clone()),
        };
        Self {
            settings,
            client,
            counter,
            background: Background::default(),
            started: tokio::sync::OnceCell::new(),
            resumed: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Opens the copy of the kept session's branch, once (local work: keychain and disk); then
    /// syncs in the background, whose first round renews the session with the server.
    pub async fn ensure_started<R: tauri::Runtime>(&self, app: &tauri::AppHandle<R>) {
        self.started
            .get_or_init(|| async {
                let Ok(counter) = self.counter.clone() else {
                    return;
                };
                if let Ok(resumed) = counter.start().await
                    && (resumed.signed_in.is_some() || resumed.kept_email.is_some())
                {
                    self.background.start_sync(app.clone(), counter);
                }
                self.resumed.send_replace(true);
            })
            .await;
    }

    /// Waits, at most `limit`, for the start-up resume that someone else runs; true when it
    /// has run. Waiting never runs it, so a slow keychain cannot hold up the caller.
    pub async fn wait_resumed(&self, limit: std::time::Duration) -> bool {
        let mut resumed = self.resumed.subscribe();
        tokio::time::timeout(limit, resumed.wait_for(|done| *done))
            .await
            .is_ok_and(|answer| answer.is_ok())
    }
}

/// The PC's name in HQ's device list.
fn device_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "PC".to_owned());
    format!("Kasir {host}")
}

/// Every command, registered on a builder with its state (the mock-runtime tests use this).
pub fn build_app<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    state: AppState,
) -> tauri::Builder<R> {
    with_commands(builder).manage(state).setup(|app| start(app))
}

/// Every command, registered on a builder.
fn with_commands<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::server_status,
        commands::app_state,
        commands::branches,
        commands::login,
        commands::logout,
        commands::counter_day,
        commands::find_plate,
        commands::scan_text,
        commands::confirm_scan,
        commands::sync_now,
        commands::sku_calendar,
        commands::sku_waitlist,
        commands::record_odometer,
        commands::unsettled_changes,
        commands::resolve_unsettled,
        commands::label_preview,
        commands::print_label,
        commands::save_label,
        commands::printers,
        commands::serial_ports,
        commands::scanner_status,
        commands::preferences,
        commands::save_preferences,
    ])
}

/// The setup hook: resumes the kept session, starts the scanner and the sync loop in the
/// background, and opens the window with the first screen's data.
fn start<R: tauri::Runtime>(app: &mut tauri::App<R>) -> Result<(), Box<dyn std::error::Error>> {
    let handle = app.handle().clone();
    let state = app.state::<AppState>();
    if let Ok(counter) = state.counter.clone() {
        let scanner = counter.preferences().scanner;
        if let Err(err) = state.background.start_scanner(&handle, &counter, scanner) {
            eprintln!("sentra-desktop: the scanner could not start: {err}");
        }
        tauri::async_runtime::spawn(async move {
            handle.state::<AppState>().ensure_started(&handle).await;
        });
    }
    first_screen::create_windows(app)?;
    Ok(())
}

/// Starts the desktop app.
pub fn run() {
    let env = |name: &str| std::env::var(name).ok();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let first = DesktopSettings::resolve(&args, env, None);
    let data_dir = first.data_dir.clone().unwrap_or_else(default_data_dir);
    let saved = Preferences::load(&data_dir).unwrap_or_default().server_url;
    let settings = DesktopSettings::resolve(&args, env, saved);
    let building =
        std::thread::spawn(move || AppState::new(settings, data_dir, Keychain::system()));
    // The state (its HTTP client loads the system's CA certificates, ~60 ms) is built on another
    // thread while Tauri starts its event loop, and taken over in the setup hook, before any
    // window exists.
    let app = with_commands(tauri::Builder::default()).setup(move |app| {
        let state = building
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        app.manage(state);
        start(app)
    });
    if let Err(err) = app.run(tauri::generate_context!()) {
        eprintln!("sentra-desktop: the window could not be started: {err}");
        std::process::exit(1);
    }
}

/// `$XDG_DATA_HOME/id.sentrarental.desktop` (or the OS's equivalent).
fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .unwrap_or_else(std::env::temp_dir);
    base.join("id.sentrarental.desktop")
}
