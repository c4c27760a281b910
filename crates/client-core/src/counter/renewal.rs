//! The start from the branch's copy and the session's renewal: a kept session opens its
//! branch's copy without the server, the first call that needs the server renews it, and a
//! session the server ended closes the copy.

use sentra_api_client::ApiClient;

use super::{Counter, CounterState, Unrenewed, lock};
use crate::{
    CoreError,
    session::{KeptSession, Resumed},
};

impl Counter {
    /// At start: opens the copy of the branch the kept session works for, without waiting for
    /// the server (it may be slow or away); the session is renewed by the first call that needs
    /// the server (the first sync round). Only when this PC has no copy of that branch yet does
    /// the start wait for the server.
    pub async fn start(&self) -> Result<CounterState, CoreError> {
        // Bound first: the session's lock is released before `state` reads who is signed in.
        let kept = self.session.lock().await.kept();
        // That read is also the keychain's check (a second call would only repeat it).
        *lock(&self.keychain_problem) = kept.as_ref().err().map(|e| e.message.clone());
        let kept = match kept {
            Ok(kept) => kept,
            Err(err) => {
                *lock(&self.login_reason) = Some(err.code);
                return self.state();
            }
        };
        let Some(KeptSession { email, branch }) = kept else {
            return self.state();
        };
        let known = self.preferences().last_branch.filter(|b| b.id == branch);
        let has_copy = self.copy_path(branch).exists();
        match known {
            Some(info) if has_copy => {
                self.open_copy(info).await?;
                *lock(&self.unrenewed) = Some(Unrenewed {
                    email,
                    server_missed: false,
                });
                self.state()
            }
            _ => self.start_online().await,
        }
    }

    /// The start of a PC without a copy of the kept session's branch: renews the session first
    /// (the server names the branch).
    async fn start_online(&self) -> Result<CounterState, CoreError> {
        let resumed = self.session.lock().await.resume().await?;
        match resumed {
            Resumed::SignedIn(who) => {
                let branch = self.branch_info(who.branch).await?;
                self.open_copy(branch).await?;
            }
            Resumed::Offline { .. } => {
                // No copy of the branch on this PC: nothing to work from until the server
                // answers, so the login screen says why.
                *lock(&self.login_reason) = Some("server_unreachable".to_owned());
            }
            Resumed::LoginNeeded { reason } => *lock(&self.login_reason) = reason,
        }
        self.state()
    }

    /// The server client with a fresh access token. After a start from the copy, the kept
    /// session is renewed here (again and again while the server does not answer); a session
    /// the server ended closes the copy, so nothing of the branch stays on screen.
    ///
    /// The session's lock is held through the renewal, so only one runs at a time; the header
    /// does not wait for it (see [`Counter::state`]).
    pub async fn signed_api(&self) -> Result<ApiClient, CoreError> {
        let mut session = self.session.lock().await;
        if session.signed_in().is_none() && lock(&self.unrenewed).is_some() {
            let resumed = match session.resume().await {
                Ok(resumed) => resumed,
                Err(err) => {
                    // Not renewed, for whatever reason: the copy stays, shown as offline.
                    self.missed_server();
                    return Err(err);
                }
            };
            match resumed {
                Resumed::SignedIn(_) => *lock(&self.unrenewed) = None,
                Resumed::Offline { .. } => {
                    self.missed_server();
                    return Err(CoreError::new(
                        "server_unreachable",
                        "the server cannot be reached; working from the offline copy",
                    ));
                }
                Resumed::LoginNeeded { reason } => {
                    // Closed while the session is still held: a login cannot slip in between.
                    self.end_session(reason).await;
                    return Err(CoreError::new("session_ended", "log in again"));
                }
            }
        }
        match session.access_token().await {
            Ok(token) => Ok(self.api.with_token(&token)),
            Err(err) if err.code == "session_ended" => {
                self.end_session(Some(err.code.clone())).await;
                Err(err)
            }
            Err(err) => Err(err),
        }
    }

    /// A renewal did not reach the server: working from the copy, offline.
    fn missed_server(&self) {
        if let Some(kept) = lock(&self.unrenewed).as_mut() {
            kept.server_missed = true;
        }
    }

    /// The server ended the session: the copy closes (nothing of the branch stays on screen)
    /// and the login screen says why. Called with the session's lock held.
    async fn end_session(&self, reason: Option<String>) {
        self.close_copy().await;
        *lock(&self.login_reason) = reason;
    }
}
