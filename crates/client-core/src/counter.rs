//! The branch counter as one object: the staff session, the branch this PC works for, its
//! offline copy and device token, sync rounds, scans, and label printing. The Tauri shell holds
//! one `Counter` and forwards commands to it; everything here runs with plain `cargo test`.
//!
//! The offline copy has two connections: a writer for sync rounds and local changes (behind an
//! async lock, held for a whole round), and a reader for the screens and the header, so a first
//! sync of a big branch never blocks a lookup (SQLite's WAL lets readers and a writer work at
//! once). A local change made during a round waits for the round to end.

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

use chrono::{NaiveDate, Utc};
use sentra_api_client::ApiClient;
use sentra_protocol::{Asset, RegisterDeviceRequest, SyncBooking};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    CoreError,
    keychain::Keychain,
    lookup::{self, Opened},
    preferences::{BranchInfo, Preferences},
    scanner::{self, ScanTarget},
    session::{Session, SignedIn},
    store::{CounterDay, Store},
    sync_loop::{RoundReport, SyncEvent},
};

mod changes;
mod labels;
mod renewal;
#[cfg(test)]
mod start_tests;

pub use labels::{LabelPreview, Printed, RenderedLabel};

/// Where the counter keeps its files and who it says it is.
#[derive(Debug, Clone)]
pub struct CounterConfig {
    pub server_url: String,
    /// The app's data directory (offline copies live in `branches/`).
    pub data_dir: PathBuf,
    /// The PC's name shown to HQ in the device list.
    pub device_name: String,
}

/// What the UI shows in its header and banners.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CounterState {
    pub signed_in: Option<SignedIn>,
    /// A session is kept but the server did not answer when it was renewed: working from the
    /// copy, renewed when the server answers again.
    pub offline_session: bool,
    /// A session is kept and is being renewed; the copy is shown meanwhile.
    pub renewing: bool,
    /// Who the kept session belongs to, while it is not renewed (renewing or offline).
    pub kept_email: Option<String>,
    pub branch: Option<BranchInfo>,
    /// Why nobody is signed in, when a kept session could not be used.
    pub login_reason: Option<String>,
    /// `None` when the keychain works; else why it does not (the UI says a login is needed at
    /// every start).
    pub keychain_problem: Option<String>,
    /// Local changes not yet accepted by the server.
    pub pending: usize,
    /// Conflicts and rejections waiting for the user.
    pub unsettled: usize,
}

/// A kept session not renewed yet.
struct Unrenewed {
    email: String,
    /// A renewal was tried and the server did not answer.
    server_missed: bool,
}

struct BranchCopy {
    branch: BranchInfo,
    device_token: Option<String>,
    writer: Store,
}

/// The counter.
pub struct Counter {
    config: CounterConfig,
    api: ApiClient,
    keychain: Keychain,
    session: tokio::sync::Mutex<Session>,
    copy: tokio::sync::Mutex<Option<BranchCopy>>,
    reader: Mutex<Option<(BranchInfo, Store)>>,
    /// The kept session the copy was opened for, until the server renews it.
    unrenewed: Mutex<Option<Unrenewed>>,
    /// Who was signed in when the state was last read (while a renewal holds the session).
    signed_in_seen: Mutex<Option<SignedIn>>,
    login_reason: Mutex<Option<String>>,
    /// Why the keychain cannot keep secrets, checked at start and login (not per call: a
    /// locked keychain answers slowly).
    keychain_problem: Mutex<Option<String>>,
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counter")
            .field("server", &self.config.server_url)
            .field("keychain", &self.keychain)
            .finish_non_exhaustive()
    }
}

impl Counter {
    /// A counter for `config`, keeping secrets in `keychain`.
    pub fn new(config: CounterConfig, keychain: Keychain) -> Result<Self, CoreError> {
        let api = ApiClient::new(&config.server_url)?;
        let session = Session::new(api.clone(), keychain.clone());
        Ok(Self {
            config,
            api,
            keychain,
            session: tokio::sync::Mutex::new(session),
            copy: tokio::sync::Mutex::new(None),
            reader: Mutex::new(None),
            unrenewed: Mutex::new(None),
            signed_in_seen: Mutex::new(None),
            login_reason: Mutex::new(None),
            keychain_problem: Mutex::new(None),
        })
    }

    /// Logs in for `branch` (may be left out by staff of one branch) and opens its copy.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        branch: Option<Uuid>,
    ) -> Result<CounterState, CoreError> {
        self.check_keychain();
        let who = self
            .session
            .lock()
            .await
            .login(email, password, branch)
            .await?;
        let info = self.branch_info(who.branch).await?;
        self.open_copy(info).await?;
        *lock(&self.unrenewed) = None;
        *lock(&self.login_reason) = None;
        self.state()
    }

    /// Logs out. The offline copy stays on disk for the next login at this branch.
    pub async fn logout(&self) -> Result<CounterState, CoreError> {
        self.session.lock().await.logout().await?;
        self.close_copy().await;
        self.state()
    }

    /// The header's and banners' state.
    pub fn state(&self) -> Result<CounterState, CoreError> {
        let signed_in = match self.session.try_lock() {
            Ok(session) => {
                let now = session.signed_in().cloned();
                lock(&self.signed_in_seen).clone_from(&now);
                now
            }
            // A renewal holds the session (up to the server's timeout): the header shows what
            // it last saw instead of waiting.
            Err(_) => lock(&self.signed_in_seen).clone(),
        };
        let (renewing, offline_session, kept_email) = match &*lock(&self.unrenewed) {
            Some(kept) => (
                !kept.server_missed,
                kept.server_missed,
                Some(kept.email.clone()),
            ),
            None => (false, false, None),
        };
        let (branch, pending, unsettled) = match self
            .with_reader(|_, store| Ok((store.pending_count()?, store.unsettled()?.len())))
        {
            Ok((branch, (pending, unsettled))) => (Some(branch), pending, unsettled),
            Err(err) if err.code == "no_branch" => (None, 0, 0),
            Err(err) => return Err(err),
        };
        Ok(CounterState {
            signed_in,
            offline_session,
            renewing,
            kept_email,
            branch,
            login_reason: lock(&self.login_reason).clone(),
            keychain_problem: lock(&self.keychain_problem).clone(),
            pending,
            unsettled,
        })
    }

    /// The branches, for the login screen (public; the server decides who works where).
    pub async fn branches(&self) -> Result<Vec<BranchInfo>, CoreError> {
        Ok(self
            .api
            .branches()
            .await?
            .items
            .into_iter()
            .map(|b| BranchInfo {
                id: b.id,
                code: b.code,
                name: b.name,
                time_zone: b.time_zone,
            })
            .collect())
    }

    /// The branch's local date now.
    pub fn today(&self) -> Result<NaiveDate, CoreError> {
        let (branch, _) = self.with_reader(|branch, _| Ok(branch.clone()))?;
        Ok(branch.time_zone.local_date_of(Utc::now()))
    }

    /// Today's pickups, returns and overdue rentals, from the copy.
    pub fn counter_day(&self) -> Result<CounterDay, CoreError> {
        let today = self.today()?;
        self.with_reader(|_, store| store.counter_day(today))
            .map(|(_, day)| day)
    }

    /// An asset by plate (as typed) with its coming bookings, from the copy.
    pub fn find_plate(&self, plate: &str) -> Result<(Asset, Vec<SyncBooking>), CoreError> {
        let today = self.today()?;
        self.with_reader(|_, store| {
            let asset = store.asset_by_plate(plate)?.ok_or_else(|| {
                CoreError::new(
                    "not_in_offline_copy",
                    "no asset of this branch has that plate",
                )
            })?;
            let bookings = store.asset_bookings(asset.id, today)?;
            Ok((asset, bookings))
        })
        .map(|(_, found)| found)
    }

    /// What a scanned or typed line opens: from the copy at once when it has the record, else
    /// from the server. [`Counter::confirm_scan`] then asks the server to check the code.
    pub async fn scan(&self, text: &str) -> Result<Opened, CoreError> {
        let target = scanner::decode(text).map_err(scan_error)?;
        self.open(&target).await
    }

    /// What a decoded scan opens (see [`Counter::scan`]).
    pub async fn open(&self, target: &ScanTarget) -> Result<Opened, CoreError> {
        match self.with_reader(|_, store| lookup::open_offline(store, target)) {
            Ok((_, opened)) => Ok(opened),
            Err(err)
                if matches!(
                    err.code.as_str(),
                    "not_in_offline_copy" | "offline_copy_stale" | "no_branch"
                ) =>
            {
                self.confirm_scan(target).await
            }
            Err(err) => Err(err),
        }
    }

    /// Asks the server what a code names (checks its signature and the label version). The
    /// server's booking comes without the customer's counter fields: the copy's are kept.
    pub async fn confirm_scan(&self, target: &ScanTarget) -> Result<Opened, CoreError> {
        let api = self.signed_api().await?;
        match lookup::open_online(&api, target).await? {
            Opened::Booking {
                booking,
                customer: None,
                offline,
            } => {
                let customer = self
                    .with_reader(|_, store| store.booking(booking.id))
                    .ok()
                    .and_then(|(_, found)| found)
                    .and_then(|found| found.customer);
                Ok(Opened::Booking {
                    booking,
                    customer,
                    offline,
                })
            }
            other => Ok(other),
        }
    }

    /// One sync round for the branch (registering this PC first if it has no device token).
    pub async fn sync_round(
        &self,
        on_event: impl FnMut(SyncEvent),
    ) -> Result<RoundReport, CoreError> {
        let api = self.signed_api().await?;
        let mut guard = self.copy.lock().await;
        let copy = guard
            .as_mut()
            .ok_or_else(|| CoreError::new("no_branch", "log in to a branch first"))?;
        if copy.device_token.is_none() {
            copy.device_token = Some(self.register_device(&api, &copy.branch).await?);
        }
        let token = copy.device_token.clone().unwrap_or_default();
        let result = crate::sync_loop::round(&api, &token, &mut copy.writer, on_event).await;
        if let Err(err) = &result
            && matches!(
                err.code.as_str(),
                "device_revoked" | "device_not_registered"
            )
        {
            // The token is dead: forget it, so a later login registers this PC again (for a
            // revoked PC only an admin can, and HQ sees it in the device list).
            copy.device_token = None;
            let _ = self.keychain.remove(&self.device_account(copy.branch.id));
        }
        result
    }

    /// A SKU's month at this branch (`YYYY-MM`): free units per day. Needs the server.
    pub async fn sku_calendar(
        &self,
        sku: &str,
        month: &str,
    ) -> Result<sentra_protocol::SkuCalendar, CoreError> {
        let branch = self.with_reader(|branch, _| Ok(branch.code.clone()))?.1;
        let api = self.signed_api().await?;
        let query = sentra_protocol::CalendarQuery {
            month: month.to_owned(),
            branch: Some(branch),
        };
        Ok(api.sku_calendar(sku, &query).await?)
    }

    /// A SKU's open waitlist at this branch, in queue order. Needs the server.
    pub async fn sku_waitlist(
        &self,
        sku: &str,
    ) -> Result<sentra_protocol::WaitlistQueue, CoreError> {
        let branch = self.with_reader(|branch, _| Ok(branch.code.clone()))?.1;
        let api = self.signed_api().await?;
        let query = sentra_protocol::WaitlistQueueQuery {
            branch: Some(branch),
        };
        Ok(api.sku_waitlist(sku, &query).await?)
    }

    /// The saved preferences (defaults when there are none or the file is unreadable).
    pub fn preferences(&self) -> Preferences {
        Preferences::load(&self.config.data_dir).unwrap_or_default()
    }

    /// Saves preferences, keeping the branch this PC works for.
    pub fn save_preferences(&self, mut preferences: Preferences) -> Result<(), CoreError> {
        preferences.last_branch = self.preferences().last_branch;
        preferences.save(&self.config.data_dir)
    }

    /// Where the branch's copy lives (named by the branch's id: codes can be renamed).
    pub fn copy_path(&self, branch: Uuid) -> PathBuf {
        self.config
            .data_dir
            .join("branches")
            .join(format!("{branch}.sqlite3"))
    }

    /// The server client this counter talks through (without a token).
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// Closes the branch's copy (it stays on disk for the next login at this branch).
    async fn close_copy(&self) {
        *self.copy.lock().await = None;
        *lock(&self.reader) = None;
        *lock(&self.unrenewed) = None;
    }

    fn check_keychain(&self) {
        *lock(&self.keychain_problem) = self.keychain.check().err().map(|e| e.message);
    }

    async fn branch_info(&self, id: Uuid) -> Result<BranchInfo, CoreError> {
        let known = self.preferences().last_branch.filter(|b| b.id == id);
        match self.api.branches().await {
            Ok(list) => list
                .items
                .into_iter()
                .find(|b| b.id == id)
                .map(|b| BranchInfo {
                    id: b.id,
                    code: b.code,
                    name: b.name,
                    time_zone: b.time_zone,
                })
                .ok_or_else(|| CoreError::new("branch_not_allowed", "the branch no longer exists")),
            Err(err) => known.ok_or_else(|| err.into()),
        }
    }

    async fn open_copy(&self, branch: BranchInfo) -> Result<(), CoreError> {
        let path = self.copy_path(branch.id);
        private_dir(path.parent().unwrap_or(Path::new(".")))?;
        let writer = Store::open(&path)?;
        let reader = Store::open(&path)?;
        let device_token = self
            .keychain
            .read(&self.device_account(branch.id))
            .ok()
            .flatten();
        let mut preferences = self.preferences();
        if preferences.last_branch.as_ref() != Some(&branch) {
            preferences.last_branch = Some(branch.clone());
            // Only a convenience for offline starts: a failure to save is not the user's problem.
            let _ = preferences.save(&self.config.data_dir);
        }
        *lock(&self.reader) = Some((branch.clone(), reader));
        *self.copy.lock().await = Some(BranchCopy {
            branch,
            device_token,
            writer,
        });
        Ok(())
    }

    async fn register_device(
        &self,
        api: &ApiClient,
        branch: &BranchInfo,
    ) -> Result<String, CoreError> {
        let registration = api
            .register_device(&RegisterDeviceRequest {
                branch: branch.code.clone(),
                name: self.config.device_name.clone(),
            })
            .await?;
        // Without a keychain the token lives for this run only (a new registration next start).
        let _ = self
            .keychain
            .write(&self.device_account(branch.id), &registration.device_token);
        Ok(registration.device_token)
    }

    fn device_account(&self, branch: Uuid) -> String {
        format!("device@{}#{branch}", self.api.base_url())
    }

    fn with_reader<T>(
        &self,
        read: impl FnOnce(&BranchInfo, &Store) -> Result<T, CoreError>,
    ) -> Result<(BranchInfo, T), CoreError> {
        let guard = lock(&self.reader);
        let (branch, store) = guard
            .as_ref()
            .ok_or_else(|| CoreError::new("no_branch", "log in to a branch first"))?;
        Ok((branch.clone(), read(branch, store)?))
    }
}

/// A scan that is not understood, as the UI's typed error.
pub fn scan_error(problem: scanner::ScanProblem) -> CoreError {
    CoreError::new(scan_code(problem), problem.to_string())
}

fn scan_code(problem: scanner::ScanProblem) -> &'static str {
    match problem {
        scanner::ScanProblem::TooLong => "scan_too_long",
        scanner::ScanProblem::NotText => "scan_not_text",
        scanner::ScanProblem::NotOurs => "scan_not_ours",
        scanner::ScanProblem::UnknownFormat => "scan_unknown_format",
        scanner::ScanProblem::Malformed => "scan_malformed",
    }
}

/// Creates `dir` readable by this OS user only: the copy holds customers' names.
fn private_dir(dir: &Path) -> Result<(), CoreError> {
    let fail =
        |e: std::io::Error| CoreError::new("local_storage", format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    }
    Ok(())
}

/// Locks a mutex, recovering the data of a panicked holder (plain values, never half-written).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
