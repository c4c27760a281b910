//! Tauri commands: each forwards to `sentra-client-core` and maps its error to `{code, message}`.
//! Arguments arrive in `snake_case`, as the Rust names are.

// Tauri's command macro hands arguments over by value (`State`, `String`).
#![expect(
    clippy::needless_pass_by_value,
    reason = "Tauri's command macro hands arguments over by value"
)]

use std::{path::PathBuf, sync::Arc};

use sentra_client_core::{
    CoreError, ServerStatus,
    counter::{Counter, CounterState, LabelPreview, Printed},
    lookup::Opened,
    preferences::{BranchInfo, Preferences},
    printer::{self, PrinterInfo},
    scanner::{self, PortChoice},
    store::{CounterDay, Resolution, Unsettled},
};
use sentra_protocol::{Asset, SkuCalendar, SyncBooking, WaitlistQueue};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime, State};
use uuid::Uuid;

use crate::{AppState, background::events};

/// The error every command returns to the UI: a stable `code` and an English `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    /// Stable `snake_case` code the UI translates.
    pub code: String,
    /// English detail for support staff.
    pub message: String,
}

impl CommandError {
    /// An error with a code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl From<CoreError> for CommandError {
    fn from(err: CoreError) -> Self {
        Self::new(err.code, err.message)
    }
}

type Answer<T> = Result<T, CommandError>;

fn counter(state: &AppState) -> Answer<Arc<Counter>> {
    state.counter.clone().map_err(CommandError::from)
}

/// The configured server's version and readiness.
#[tauri::command]
pub async fn server_status(state: State<'_, AppState>) -> Answer<ServerStatus> {
    let client = state.client.clone()?;
    Ok(sentra_client_core::server_status(&client).await?)
}

/// Who is signed in, the branch, pending changes, keychain trouble.
#[tauri::command]
pub async fn app_state<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Answer<CounterState> {
    // The start-up resume first (the keychain and the server each answer or time out).
    state.ensure_started(&app).await;
    Ok(counter(&state)?.state()?)
}

/// The branches, for the login screen.
#[tauri::command]
pub async fn branches(state: State<'_, AppState>) -> Answer<Vec<BranchInfo>> {
    Ok(counter(&state)?.branches().await?)
}

/// Logs in for a branch (optional for staff of one branch) and starts syncing it.
#[tauri::command(rename_all = "snake_case")]
pub async fn login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    email: String,
    password: String,
    branch: Option<Uuid>,
) -> Answer<CounterState> {
    let counter = counter(&state)?;
    let signed = counter.login(&email, &password, branch).await?;
    state.background.start_sync(app, counter);
    Ok(signed)
}

/// Logs out and stops syncing.
#[tauri::command]
pub async fn logout(state: State<'_, AppState>) -> Answer<CounterState> {
    state.background.stop_sync();
    Ok(counter(&state)?.logout().await?)
}

/// Today's pickups, returns and overdue rentals, from the offline copy.
#[tauri::command]
pub async fn counter_day(state: State<'_, AppState>) -> Answer<CounterDay> {
    Ok(counter(&state)?.counter_day()?)
}

/// An asset found by plate, with its coming bookings.
#[derive(Debug, Serialize)]
pub struct PlateFound {
    pub asset: Asset,
    pub bookings: Vec<SyncBooking>,
}

/// Looks an asset up by plate, from the offline copy.
#[tauri::command(rename_all = "snake_case")]
pub async fn find_plate(state: State<'_, AppState>, plate: String) -> Answer<PlateFound> {
    let (asset, bookings) = counter(&state)?.find_plate(&plate)?;
    Ok(PlateFound { asset, bookings })
}

/// A typed or keyboard-wedge scan: what it opens.
#[tauri::command(rename_all = "snake_case")]
pub async fn scan_text(state: State<'_, AppState>, text: String) -> Answer<Opened> {
    if let scanner::ScanEvent::Scan(Err(problem)) = scanner::typed(&text) {
        return Err(sentra_client_core::counter::scan_error(problem).into());
    }
    Ok(counter(&state)?.scan(&text).await?)
}

/// The server's answer to a scan already shown from the copy: the code's signature and the
/// label's version checked. `server_unreachable` means the copy's answer stands.
#[tauri::command(rename_all = "snake_case")]
pub async fn confirm_scan(state: State<'_, AppState>, text: String) -> Answer<Opened> {
    let target = scanner::decode(&text).map_err(sentra_client_core::counter::scan_error)?;
    Ok(counter(&state)?.confirm_scan(&target).await?)
}

/// Runs a sync round now.
#[tauri::command]
pub fn sync_now(state: State<'_, AppState>) {
    state.background.sync_now();
}

/// A SKU's month (`YYYY-MM`) at this branch. Needs the server.
#[tauri::command(rename_all = "snake_case")]
pub async fn sku_calendar(
    state: State<'_, AppState>,
    sku: String,
    month: String,
) -> Answer<SkuCalendar> {
    Ok(counter(&state)?.sku_calendar(&sku, &month).await?)
}

/// A SKU's open waitlist at this branch. Needs the server.
#[tauri::command(rename_all = "snake_case")]
pub async fn sku_waitlist(state: State<'_, AppState>, sku: String) -> Answer<WaitlistQueue> {
    Ok(counter(&state)?.sku_waitlist(&sku).await?)
}

/// Records an asset's odometer reading: in the copy at once, and queued for the server.
#[tauri::command(rename_all = "snake_case")]
pub async fn record_odometer(
    state: State<'_, AppState>,
    asset_id: Uuid,
    odometer_km: i32,
) -> Answer<()> {
    Ok(counter(&state)?
        .record_odometer(asset_id, odometer_km)
        .await?)
}

/// The changes the server did not take, waiting for staff.
#[tauri::command]
pub async fn unsettled_changes(state: State<'_, AppState>) -> Answer<Vec<Unsettled>> {
    Ok(counter(&state)?.unsettled()?)
}

/// Settles one: keep the server's record, or send the change again.
#[tauri::command(rename_all = "snake_case")]
pub async fn resolve_unsettled(
    state: State<'_, AppState>,
    op_id: Uuid,
    resolution: Resolution,
) -> Answer<()> {
    Ok(counter(&state)?
        .resolve_unsettled(op_id, resolution)
        .await?)
}

/// The print preview of an asset's label, and the printer it would go to.
#[tauri::command(rename_all = "snake_case")]
pub async fn label_preview(state: State<'_, AppState>, asset_id: Uuid) -> Answer<LabelPreview> {
    Ok(counter(&state)?.label_preview(asset_id).await?)
}

/// Prints an asset's label on the chosen printer, reporting the job's status as `print` events.
#[tauri::command(rename_all = "snake_case")]
pub async fn print_label<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    asset_id: Uuid,
    label_version: Option<u32>,
) -> Answer<Printed> {
    let printed = counter(&state)?
        .print_label(asset_id, label_version, |status| {
            let _ = app.emit(events::PRINT, status);
        })
        .await?;
    Ok(printed)
}

/// Saves an asset's label as a PDF (no printer, or for e-mail).
#[tauri::command(rename_all = "snake_case")]
pub async fn save_label(state: State<'_, AppState>, asset_id: Uuid, path: PathBuf) -> Answer<()> {
    Ok(counter(&state)?.save_label(asset_id, &path).await?)
}

/// The printers of the configured print server.
#[tauri::command]
pub async fn printers(state: State<'_, AppState>) -> Answer<Vec<PrinterInfo>> {
    let server = counter(&state)?.preferences().printer.server;
    Ok(printer::printers(&server).await?)
}

/// The serial scanner's connection now (`null` when none is set up).
#[tauri::command]
pub fn scanner_status(state: State<'_, AppState>) -> Option<scanner::ScanEvent> {
    state.background.scanner_status()
}

/// The serial ports of this PC, for the scanner setting.
#[tauri::command]
pub async fn serial_ports() -> Vec<PortChoice> {
    // Enumerating asks udev: off the UI thread.
    tauri::async_runtime::spawn_blocking(scanner::available_ports)
        .await
        .unwrap_or_default()
}

/// The saved preferences.
#[tauri::command]
pub fn preferences(state: State<'_, AppState>) -> Answer<Preferences> {
    Ok(counter(&state)?.preferences())
}

/// Saves preferences; the scanner is reopened only when its own settings changed (reopening
/// closes the port for a moment).
#[tauri::command(rename_all = "snake_case")]
pub async fn save_preferences<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    preferences: Preferences,
) -> Answer<Preferences> {
    let counter = counter(&state)?;
    let before = counter.preferences().scanner;
    counter.save_preferences(preferences)?;
    let saved = counter.preferences();
    if saved.scanner != before {
        state
            .background
            .start_scanner(&app, &counter, saved.scanner.clone())?;
    }
    Ok(saved)
}
