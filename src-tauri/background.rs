//! The shell's background work: the sync loop (a tokio task) and the serial scanner (a reader
//! thread), each stopped when replaced or when the app exits. Both report to the UI as events.

use std::sync::{Arc, Mutex};

use sentra_client_core::{
    counter::{Counter, scan_error},
    scanner::{ScanEvent, ScanTarget, ScannerSettings, SerialScanner, SystemPorts},
    sync_loop::{self, Backoff, SyncEvent},
};
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::{Notify, watch};

use crate::commands::CommandError;

/// Event names the UI listens to.
pub mod events {
    /// A [`super::SyncEvent`].
    pub const SYNC: &str = "sync";
    /// A scanner connection change (`connected` / `disconnected`).
    pub const SCANNER: &str = "scanner";
    /// A scan opened a screen: an `Opened`.
    pub const OPENED: &str = "opened";
    /// A scan could not be used: `{code, message}`.
    pub const SCAN_ERROR: &str = "scan-error";
    /// A print job's status.
    pub const PRINT: &str = "print";
}

/// How often the copy is refreshed when nothing else asks.
const SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
/// The first round waits for the screen to ask (it does once it listens), or this long.
const FIRST_ROUND_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

struct SyncTask {
    stop: watch::Sender<bool>,
    task: tauri::async_runtime::JoinHandle<()>,
}

impl Drop for SyncTask {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.task.abort();
    }
}

/// The running background work.
#[derive(Default)]
pub struct Background {
    sync: Mutex<Option<SyncTask>>,
    scanner: Mutex<Option<SerialScanner>>,
    /// The scanner's last connection event, for a screen that opens after it happened.
    scanner_status: Arc<Mutex<Option<ScanEvent>>>,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background").finish_non_exhaustive()
    }
}

impl Background {
    /// (Re)starts the sync loop for `counter`.
    pub fn start_sync<R: Runtime>(&self, app: AppHandle<R>, counter: Arc<Counter>) {
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::clone(&self.wake);
        let task = tauri::async_runtime::spawn(async move {
            let emit_app = app.clone();
            let round = move || {
                let counter = Arc::clone(&counter);
                let app = app.clone();
                async move {
                    counter
                        .sync_round(|event| {
                            let _ = app.emit(events::SYNC, event);
                        })
                        .await
                }
            };
            let ended = sync_loop::run_after(
                FIRST_ROUND_WAIT,
                round,
                SYNC_INTERVAL,
                Backoff::default(),
                &wake,
                stopped,
                |e| {
                    let _ = emit_app.emit(events::SYNC, e);
                },
            )
            .await;
            if let Some(err) = ended {
                // Final: the user must act (log in again, ask HQ about this PC).
                let _ = emit_app.emit(
                    events::SYNC,
                    SyncEvent::Offline {
                        code: err.code,
                        message: err.message,
                        retry_in_secs: 0,
                    },
                );
            }
        });
        *lock(&self.sync) = Some(SyncTask { stop, task });
    }

    /// Stops the sync loop (logout).
    pub fn stop_sync(&self) {
        lock(&self.sync).take();
    }

    /// Runs a round now.
    pub fn sync_now(&self) {
        self.wake.notify_one();
    }

    /// The scanner's connection now (`None`: no serial scanner is set up).
    pub fn scanner_status(&self) -> Option<ScanEvent> {
        lock(&self.scanner_status).clone()
    }

    /// (Re)starts the serial scanner with `settings`; `None` stops it.
    pub fn start_scanner<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        counter: &Arc<Counter>,
        settings: Option<ScannerSettings>,
    ) -> Result<(), CommandError> {
        // The old reader stops (and closes its port) before the new one opens it.
        lock(&self.scanner).take();
        *lock(&self.scanner_status) = None;
        // The old port's state no longer holds: the indicator goes until the new reader reports.
        let _ = app.emit(events::SCANNER, Option::<ScanEvent>::None);
        let Some(settings) = settings.filter(|s| !s.port.trim().is_empty()) else {
            return Ok(());
        };
        let app = app.clone();
        let counter = Arc::clone(counter);
        let status = Arc::clone(&self.scanner_status);
        let scanner = SerialScanner::start(settings, SystemPorts, move |event| {
            if !matches!(event, ScanEvent::Scan(_)) {
                *lock(&status) = Some(event.clone());
            }
            on_scanner_event(&app, &counter, event);
        })
        .map_err(|e| CommandError::new("scanner_failed", e.to_string()))?;
        *lock(&self.scanner) = Some(scanner);
        Ok(())
    }
}

/// Forwards a scanner event; a scan is opened (copy first, then server) off the reader thread.
pub fn on_scanner_event<R: Runtime>(app: &AppHandle<R>, counter: &Arc<Counter>, event: ScanEvent) {
    match event {
        ScanEvent::Scan(Ok(target)) => {
            let app = app.clone();
            let counter = Arc::clone(counter);
            tauri::async_runtime::spawn(async move {
                match counter.open(&target).await {
                    Ok(opened) => {
                        let from_copy = opened.is_offline();
                        let _ = app.emit(events::OPENED, opened);
                        // The copy cannot check a code's signature: the server does, when it
                        // answers, and its answer replaces (or refuses) what is on screen.
                        if from_copy {
                            confirm(&app, &counter, &target).await;
                        }
                    }
                    Err(err) => {
                        let _ = app.emit(events::SCAN_ERROR, CommandError::from(err));
                    }
                }
            });
        }
        ScanEvent::Scan(Err(problem)) => {
            let _ = app.emit(events::SCAN_ERROR, CommandError::from(scan_error(problem)));
        }
        other => {
            let _ = app.emit(events::SCANNER, other);
        }
    }
}

/// Asks the server about a scan already shown from the copy. Unreachable: the copy's answer
/// stands (offline). Refused (a forged or replaced code): the refusal replaces the screen.
async fn confirm<R: Runtime>(app: &AppHandle<R>, counter: &Counter, target: &ScanTarget) {
    match counter.confirm_scan(target).await {
        Ok(opened) => {
            let _ = app.emit(events::OPENED, opened);
        }
        Err(err) if err.code == "session_ended" => {
            // The copy is closed: the screen re-reads the state and shows the login.
            let _ = app.emit(
                events::SYNC,
                SyncEvent::Offline {
                    code: err.code,
                    message: err.message,
                    retry_in_secs: 0,
                },
            );
        }
        Err(err) if is_offline(&err) => {}
        Err(err) => {
            let _ = app.emit(events::SCAN_ERROR, CommandError::from(err));
        }
    }
}

/// Failures that mean "no server now", not "the server says no".
pub fn is_offline(err: &sentra_client_core::CoreError) -> bool {
    matches!(
        err.code.as_str(),
        "server_unreachable" | "server_error" | "not_signed_in" | "session_ended"
    )
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
