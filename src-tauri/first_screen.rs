//! The first screen without a round trip: the window is created by the setup hook with the
//! counter's state and today's list from the branch copy already in the page (an initialization
//! script), so the first render shows the day instead of asking for it. A webview's first
//! command answers 100–150 ms after its script starts (measured under Xvfb), most of the
//! start-up's budget.
//!
//! The start-up resume is local (keychain and copy, see `Counter::start`) and normally takes
//! milliseconds. It runs on the async runtime; the window waits for it at most [`START_WAIT`]
//! (never running it itself) and otherwise opens as before, with the UI asking once the page
//! runs.
//!
//! The script hands the data over once per window, and only to the app's own page: a reload (or
//! a page of another origin, should the window ever show one) gets nothing and asks the app,
//! so what was true at start is never shown again later. The data is milliseconds old when the
//! page draws it; the first sync round (which the page asks for a second later) refreshes both.

use std::time::Duration;

use sentra_client_core::{counter::CounterState, store::CounterDay};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime};

use crate::AppState;

/// Where the app's own page is served from: `tauri://localhost` on Linux and macOS,
/// `http(s)://tauri.localhost` on Windows.
const APP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// How long the window waits for the start-up resume before opening without it.
pub const START_WAIT: Duration = Duration::from_millis(400);

/// What the page's first render can show.
#[derive(Debug, Serialize)]
pub struct FirstScreen {
    pub state: CounterState,
    /// Today at the counter, when someone works from the branch copy.
    pub day: Option<CounterDay>,
}

impl FirstScreen {
    /// The start-up resume's result, waited for at most [`START_WAIT`].
    pub fn prepare<R: Runtime>(app: &AppHandle<R>) -> Option<Self> {
        let app = app.clone();
        tauri::async_runtime::block_on(async move {
            let state = app.state::<AppState>();
            let counter = state.counter.as_ref().ok()?;
            if !state.wait_resumed(START_WAIT).await {
                return None;
            }
            let counter_state = counter.state().ok()?;
            let working = counter_state.signed_in.is_some() || counter_state.kept_email.is_some();
            let day = if working && counter_state.branch.is_some() {
                counter.counter_day().ok()
            } else {
                None
            };
            Some(Self {
                state: counter_state,
                day,
            })
        })
    }

    /// The initialization script that hands this to the page: once per window (a session
    /// storage mark survives reloads), and only to the app's own origins.
    pub fn script(&self) -> Option<String> {
        let json = serde_json::to_string(self).ok()?;
        Some(format!(
            "(() => {{\n\
             if (![{origins}].includes(window.location.origin)) return;\n\
             try {{\n\
               if (window.sessionStorage.getItem('sentra-first-screen')) return;\n\
               window.sessionStorage.setItem('sentra-first-screen', 'taken');\n\
             }} catch (_) {{ return; }}\n\
             window.__SENTRA_FIRST__ = {json};\n\
             }})();",
            origins = APP_ORIGINS
                .iter()
                .map(|o| format!("'{o}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// Creates the windows the configuration leaves to the app (`"create": false`), with the first
/// screen's data when it is ready.
pub fn create_windows<R: Runtime>(app: &tauri::App<R>) -> tauri::Result<()> {
    let script = FirstScreen::prepare(app.handle()).and_then(|first| first.script());
    let configs: Vec<_> = app
        .config()
        .app
        .windows
        .iter()
        .filter(|w| !w.create)
        .cloned()
        .collect();
    for config in &configs {
        let mut builder = tauri::WebviewWindowBuilder::from_config(app, config)?;
        if let Some(script) = &script {
            builder = builder.initialization_script(script);
        }
        builder.build()?;
    }
    Ok(())
}
