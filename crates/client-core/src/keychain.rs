//! The OS keychain: the only place the desktop keeps secrets (the staff member's refresh token
//! and the counter PC's device token). Secret Service on Linux (GNOME Keyring, `KWallet`,
//! `KeePassXC`), Keychain on macOS, Credential Manager on Windows, through `keyring-core` and the
//! keyring project's store crates.
//!
//! There is no file fallback: when no keychain can be reached, [`Keychain::check`] says why and
//! the app keeps its secrets in memory only, so staff log in at each start.
//!
//! Every call runs on its own short-lived thread and gives up after [`ANSWER_LIMIT`]: a locked
//! keyring may wait for a password prompt nobody sees, and the app must not wait with it.

use std::{fmt, sync::Arc, time::Duration};

use keyring_core::{Entry, Error, api::CredentialStore};

use crate::CoreError;

/// The service name every entry is filed under (the app's bundle identifier).
pub const SERVICE: &str = "id.sentrarental.desktop";

/// How long a keychain call may take before it counts as unavailable.
pub const ANSWER_LIMIT: Duration = Duration::from_secs(5);

/// A handle on the keychain, or the reason there is none.
#[derive(Clone)]
pub struct Keychain {
    store: Result<Arc<CredentialStore>, String>,
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.store {
            Ok(store) => write!(f, "Keychain({})", store.vendor()),
            Err(reason) => write!(f, "Keychain(unavailable: {reason})"),
        }
    }
}

impl Keychain {
    /// The operating system's keychain. Connecting can fail (no D-Bus session, no Secret Service
    /// provider): the handle then reports itself unavailable instead of failing the app.
    pub fn system() -> Self {
        Self {
            store: platform_store(),
        }
    }

    /// A keychain over a given store (tests use `keyring_core::mock`).
    pub fn with_store(store: Arc<CredentialStore>) -> Self {
        Self { store: Ok(store) }
    }

    /// A keychain in this process's memory (`keyring_core::mock`): secrets vanish at exit. For
    /// tests and demos, never the app's choice when the real one is missing.
    pub fn in_memory() -> Self {
        match keyring_core::mock::Store::new() {
            Ok(store) => Self::with_store(store),
            Err(err) => Self::unavailable(format!("the in-memory store failed: {err}")),
        }
    }

    /// No keychain, for the given reason.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self {
            store: Err(reason.into()),
        }
    }

    /// Whether secrets can be kept: reads an entry that need not exist. A missing Secret
    /// Service, a refusal, or no answer within [`ANSWER_LIMIT`] (a locked keyring waiting for
    /// its password) is `keychain_unavailable` with the reason.
    pub fn check(&self) -> Result<(), CoreError> {
        self.read("availability-check").map(|_| ())
    }

    /// The secret filed under `account`, or `None` when there is none.
    pub fn read(&self, account: &str) -> Result<Option<String>, CoreError> {
        self.answer(account, |entry| match entry.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(Error::NoEntry) => Ok(None),
            Err(err) => Err(keychain_error(&err)),
        })
    }

    /// Files `secret` under `account`, replacing what was there.
    pub fn write(&self, account: &str, secret: &str) -> Result<(), CoreError> {
        let secret = secret.to_owned();
        self.answer(account, move |entry| {
            entry
                .set_password(&secret)
                .map_err(|err| keychain_error(&err))
        })
    }

    /// Removes the secret under `account`; removing nothing is fine.
    pub fn remove(&self, account: &str) -> Result<(), CoreError> {
        self.answer(account, |entry| match entry.delete_credential() {
            Ok(()) | Err(Error::NoEntry) => Ok(()),
            Err(err) => Err(keychain_error(&err)),
        })
    }

    /// Runs `call` on the entry for `account` on its own thread, waiting at most
    /// [`ANSWER_LIMIT`] (a thread stuck on a prompt ends when the prompt does).
    fn answer<T: Send + 'static>(
        &self,
        account: &str,
        call: impl FnOnce(Entry) -> Result<T, CoreError> + Send + 'static,
    ) -> Result<T, CoreError> {
        let store = self
            .store
            .as_ref()
            .map_err(|reason| CoreError::new("keychain_unavailable", reason.clone()))?;
        let entry =
            Entry::new_in_store(store, SERVICE, account).map_err(|err| keychain_error(&err))?;
        let (done, answer) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("sentra-keychain".into())
            .spawn(move || {
                let _ = done.send(call(entry));
            })
            .map_err(|e| CoreError::new("keychain_unavailable", e.to_string()))?;
        answer.recv_timeout(ANSWER_LIMIT).unwrap_or_else(|_| {
            Err(CoreError::new(
                "keychain_unavailable",
                "the keychain did not answer (locked and waiting for its password?)",
            ))
        })
    }
}

/// Describes a keychain failure without the secret: `BadEncoding` and `BadDataFormat` carry the
/// stored bytes, so their text is never used.
fn keychain_error(err: &Error) -> CoreError {
    let message = match err {
        Error::NoStorageAccess(reason) => {
            format!("the keychain is locked or refused access: {reason}")
        }
        Error::PlatformFailure(reason) => format!("the keychain failed: {reason}"),
        Error::BadEncoding(_) | Error::BadDataFormat(..) => {
            "a keychain entry is not in the expected format".to_owned()
        }
        other => format!("the keychain refused the request: {other:?}")
            .chars()
            .take(200)
            .collect(),
    };
    CoreError::new("keychain_unavailable", message)
}

#[cfg(any(target_os = "linux", target_os = "freebsd"))]
fn platform_store() -> Result<Arc<CredentialStore>, String> {
    match zbus_secret_service_keyring_store::Store::new() {
        Ok(store) => Ok(store),
        Err(err) => Err(format!(
            "no Secret Service on this desktop session (GNOME Keyring, KWallet or KeePassXC): {err}"
        )),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn platform_store() -> Result<Arc<CredentialStore>, String> {
    Err("this build has no keychain support for this operating system".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_removal_is_idempotent() {
        let keychain = Keychain::with_store(keyring_core::mock::Store::new().expect("mock store"));
        keychain.check().expect("the mock store is available");
        assert_eq!(keychain.read("staff").expect("read"), None);
        keychain.write("staff", "token-1").expect("write");
        keychain.write("staff", "token-2").expect("overwrite");
        assert_eq!(
            keychain.read("staff").expect("read").as_deref(),
            Some("token-2")
        );
        keychain.remove("staff").expect("remove");
        keychain.remove("staff").expect("removing nothing is fine");
        assert_eq!(keychain.read("staff").expect("read"), None);
    }

    #[test]
    fn without_a_keychain_every_call_says_so_and_nothing_is_kept() {
        let keychain = Keychain::unavailable("no Secret Service");
        let err = keychain
            .write("staff", "token")
            .expect_err("nowhere to keep it");
        assert_eq!(err.code, "keychain_unavailable");
        assert_eq!(
            keychain.check().expect_err("unavailable").code,
            "keychain_unavailable"
        );
        assert!(format!("{keychain:?}").contains("unavailable"));
    }
}
