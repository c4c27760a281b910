//! The staff member's session on this PC: login with the branch chosen, the refresh token kept
//! in the OS keychain (never in a file), access tokens renewed before they expire, and logout or
//! a revoked session clearing what was kept.
//!
//! Refresh tokens rotate (each works once), so every renewal writes the new one back. Without a
//! keychain the session lives in memory only and [`SignedIn::remembered`] is false: the UI says
//! so, and staff log in again at the next start.

use std::time::{Duration, Instant};

use sentra_api_client::{ApiClient, ApiError};
use sentra_protocol::{Me, RefreshRequest, StaffLoginRequest, TokenResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{CoreError, keychain::Keychain};

/// Renew the access token when less than this is left of it.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_mins(1);

/// Who is signed in, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedIn {
    pub email: String,
    pub me: Me,
    /// The branch this PC works for in this session.
    pub branch: Uuid,
    /// Whether the session survives a restart (kept in the keychain).
    pub remembered: bool,
}

/// What starting the app found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Resumed {
    /// The kept session was renewed with the server.
    SignedIn(SignedIn),
    /// A session is kept but the server cannot be reached: the app works from its offline copy
    /// and renews the session when the server answers again.
    Offline { email: String, branch: Uuid },
    /// Nobody is signed in; `reason` is a `CoreError` code when a kept session could not be used
    /// (`session_ended`, `keychain_unavailable`).
    LoginNeeded { reason: Option<String> },
}

/// A session kept in the keychain, before the server renewed it: enough to open the branch's
/// copy at start without waiting for the network (the token itself stays inside [`Session`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptSession {
    pub email: String,
    pub branch: Uuid,
}

/// What the keychain holds for a session (one entry, so it is never half written).
#[derive(Serialize, Deserialize)]
struct Kept {
    email: String,
    branch: Uuid,
    refresh_token: String,
}

struct Tokens {
    access: String,
    refresh: String,
    renew_at: Instant,
    expires_at: Instant,
}

/// One staff session against one server.
pub struct Session {
    api: ApiClient,
    keychain: Keychain,
    account: String,
    refresh_margin: Duration,
    current: Option<(SignedIn, Tokens)>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.api.base_url())
            .field("keychain", &self.keychain)
            .field("signed_in", &self.current.as_ref().map(|(who, _)| who))
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A signed-out session for the server `api` talks to; the keychain entry is per server.
    pub fn new(api: ApiClient, keychain: Keychain) -> Self {
        let account = format!("staff-session@{}", api.base_url());
        Self {
            api,
            keychain,
            account,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            current: None,
        }
    }

    /// Renews access tokens when less than `margin` is left (tests use a large margin).
    #[must_use]
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The keychain entry this session is kept under (one per server).
    pub fn keychain_account(&self) -> &str {
        &self.account
    }

    /// Who is signed in now.
    pub fn signed_in(&self) -> Option<&SignedIn> {
        self.current.as_ref().map(|(who, _)| who)
    }

    /// Logs in. `branch` may be left out by staff of a single branch; a branch the account does
    /// not work at is refused with `branch_not_allowed`, and the server session is ended again.
    pub async fn login(
        &mut self,
        email: &str,
        password: &str,
        branch: Option<Uuid>,
    ) -> Result<SignedIn, CoreError> {
        let body = StaffLoginRequest {
            email: email.trim().to_owned(),
            password: password.to_owned(),
        };
        let tokens = self.api.staff_login(&body).await?;
        let branch = match choose_branch(&tokens.me, branch) {
            Ok(branch) => branch,
            Err(err) => {
                self.end_on_server(&tokens.refresh_token).await;
                return Err(err);
            }
        };
        Ok(self.start(body.email, branch, tokens))
    }

    /// The session kept in the keychain, if any, without asking the server: the app shows the
    /// branch's copy at once and renews the session with [`Session::resume`] in the background.
    pub fn kept(&self) -> Result<Option<KeptSession>, CoreError> {
        Ok(self.read_kept()?.map(|kept| KeptSession {
            email: kept.email,
            branch: kept.branch,
        }))
    }

    /// At start-up: renews the session kept in the keychain, if any.
    pub async fn resume(&mut self) -> Result<Resumed, CoreError> {
        let kept = match self.read_kept() {
            Ok(kept) => kept,
            Err(err) => {
                return Ok(Resumed::LoginNeeded {
                    reason: Some(err.code),
                });
            }
        };
        let Some(kept) = kept else {
            return Ok(Resumed::LoginNeeded { reason: None });
        };
        let request = RefreshRequest {
            refresh_token: kept.refresh_token,
        };
        match self.api.refresh(&request).await {
            Ok(tokens) => Ok(Resumed::SignedIn(self.start(
                kept.email,
                kept.branch,
                tokens,
            ))),
            Err(err) if is_unreachable(&err) => Ok(Resumed::Offline {
                email: kept.email,
                branch: kept.branch,
            }),
            Err(err) if err.status() == Some(401) => {
                self.forget();
                Ok(Resumed::LoginNeeded {
                    reason: Some("session_ended".to_owned()),
                })
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The keychain's entry for this server; an unreadable one (an older format) is removed.
    fn read_kept(&self) -> Result<Option<Kept>, CoreError> {
        let kept = match self.keychain.read(&self.account)? {
            Some(text) => {
                let kept = serde_json::from_str::<Kept>(&text).ok();
                if kept.is_none() {
                    // Unreadable (an older format): useless, so it goes.
                    let _ = self.keychain.remove(&self.account);
                }
                kept
            }
            None => None,
        };
        Ok(kept)
    }

    /// A valid access token, renewed first when it is about to expire. A session the server
    /// ended (logout elsewhere, password change, revocation) answers `session_ended` and is
    /// forgotten here too.
    pub async fn access_token(&mut self) -> Result<String, CoreError> {
        let Some((_, tokens)) = &self.current else {
            return Err(CoreError::new("not_signed_in", "log in first"));
        };
        if Instant::now() < tokens.renew_at {
            return Ok(tokens.access.clone());
        }
        let request = RefreshRequest {
            refresh_token: tokens.refresh.clone(),
        };
        match self.api.refresh(&request).await {
            Ok(fresh) => {
                let (who, _) = self.current.take().expect("checked above");
                let access = fresh.access_token.clone();
                self.start(who.email, who.branch, fresh);
                Ok(access)
            }
            Err(err) if err.status() == Some(401) => {
                self.forget();
                Err(CoreError::new(
                    "session_ended",
                    "the server ended this session; log in again",
                ))
            }
            // Renewal failed for now (offline): the current token serves until it expires.
            Err(_) if Instant::now() < tokens.expires_at => Ok(tokens.access.clone()),
            Err(err) => Err(err.into()),
        }
    }

    /// Logs out: the server ends the session (best effort when offline) and the keychain entry
    /// is removed either way.
    pub async fn logout(&mut self) -> Result<(), CoreError> {
        let refresh = match self.current.take() {
            Some((_, tokens)) => Some(tokens.refresh),
            // Started offline: the kept token is still live on the server.
            None => self
                .keychain
                .read(&self.account)
                .ok()
                .flatten()
                .and_then(|text| serde_json::from_str::<Kept>(&text).ok())
                .map(|kept| kept.refresh_token),
        };
        if let Some(refresh) = refresh {
            self.end_on_server(&refresh).await;
        }
        self.keychain.remove(&self.account)
    }

    fn start(&mut self, email: String, branch: Uuid, tokens: TokenResponse) -> SignedIn {
        let kept = Kept {
            email: email.clone(),
            branch,
            refresh_token: tokens.refresh_token.clone(),
        };
        let text = serde_json::to_string(&kept).expect("plain strings serialise");
        let remembered = self.keychain.write(&self.account, &text).is_ok();
        if !remembered {
            // An older token may be kept; after this rotation it is dead, so it goes too.
            let _ = self.keychain.remove(&self.account);
        }
        let lifetime = Duration::from_secs(tokens.expires_in);
        let who = SignedIn {
            email,
            me: tokens.me,
            branch,
            remembered,
        };
        let now = Instant::now();
        let renew_at = now + lifetime.saturating_sub(self.refresh_margin);
        self.current = Some((
            who.clone(),
            Tokens {
                access: tokens.access_token,
                refresh: tokens.refresh_token,
                renew_at,
                expires_at: now + lifetime,
            },
        ));
        who
    }

    fn forget(&mut self) {
        self.current = None;
        // Nothing more can be done when the keychain itself fails: the entry is dead anyway.
        let _ = self.keychain.remove(&self.account);
    }

    async fn end_on_server(&self, refresh_token: &str) {
        let request = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        let _ = self.api.logout(&request).await;
    }
}

fn choose_branch(me: &Me, wanted: Option<Uuid>) -> Result<Uuid, CoreError> {
    match (wanted, me.branches.as_slice()) {
        (Some(branch), branches) if branches.contains(&branch) => Ok(branch),
        (Some(_), _) => Err(CoreError::new(
            "branch_not_allowed",
            "this account does not work at the chosen branch",
        )),
        (None, [only]) => Ok(*only),
        (None, []) => Err(CoreError::new(
            "branch_not_allowed",
            "this account works at no branch; the desktop app is for branch staff",
        )),
        (None, _) => Err(CoreError::new(
            "branch_required",
            "this account works at several branches: choose one",
        )),
    }
}

fn is_unreachable(err: &ApiError) -> bool {
    matches!(err, ApiError::Unreachable { .. }) || err.status().is_some_and(|s| s >= 500)
}
