//! The desktop's staff session (`sentra-client-core`) against the real server and a real Secret
//! Service (GNOME Keyring on a private D-Bus session bus), and without any keychain.
//!
//! The keychain scenarios run in a child process of this test binary given its own
//! `DBUS_SESSION_BUS_ADDRESS`: the parent starts the server and the bus and checks the child's
//! verdict.

use std::{process::Command, time::Duration};

use sentra_client_core::{Keychain, Resumed, Session};
use sentra_test_support::{KillOnDrop, SecretService};

use crate::{fixtures::seed, support::TestApp};

use super::desk::JAKARTA_ADMIN;

/// Tells a child which server to use; a child without it does nothing.
const SERVER_ENV: &str = "SENTRA_TEST_SESSION_SERVER";

/// Runs `child` (a test in this module) with `envs` and fails with its output if it fails or
/// takes longer than two minutes (a keychain waiting for a prompt must not hang the suite).
fn run_child(child: &str, envs: &[(&str, &str)]) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let log = tempfile::NamedTempFile::new()?;
    let mut running = KillOnDrop(
        Command::new(exe)
            .args([
                "--ignored",
                "--exact",
                &format!("sync::session::{child}"),
                "--nocapture",
            ])
            .envs(envs.iter().copied())
            .stdout(log.reopen()?)
            .stderr(log.reopen()?)
            .spawn()?,
    );
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = running.0.try_wait()? {
            break status;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_mins(2),
            "{child} did not finish in two minutes:\n{}",
            std::fs::read_to_string(log.path())?
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(log.path())?;
    anyhow::ensure!(status.success(), "{child} failed:\n{text}");
    anyhow::ensure!(text.contains("1 passed"), "{child} did not run:\n{text}");
    Ok(())
}

#[tokio::test]
async fn a_staff_session_is_kept_in_the_real_secret_service() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let secrets = tokio::task::spawn_blocking(SecretService::start).await??;
    let url = app.api().base_url().to_owned();
    tokio::task::spawn_blocking(move || {
        run_child(
            "secret_service_child",
            &[
                (SERVER_ENV, url.as_str()),
                ("DBUS_SESSION_BUS_ADDRESS", secrets.bus_address()),
            ],
        )
    })
    .await?
}

#[tokio::test]
async fn without_a_keychain_the_app_says_so_and_keeps_nothing_on_disk() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let home = tempfile::tempdir()?;
    let url = app.api().base_url().to_owned();
    let nowhere = format!("unix:path={}", home.path().join("no-bus").display());
    let home_path = home.path().to_string_lossy().into_owned();
    tokio::task::spawn_blocking(move || {
        run_child(
            "no_keychain_child",
            &[
                (SERVER_ENV, url.as_str()),
                ("DBUS_SESSION_BUS_ADDRESS", nowhere.as_str()),
                ("HOME", home_path.as_str()),
                ("XDG_DATA_HOME", home_path.as_str()),
                ("XDG_CONFIG_HOME", home_path.as_str()),
            ],
        )
    })
    .await??;
    let left: Vec<_> = std::fs::read_dir(home.path())?.collect();
    assert!(left.is_empty(), "nothing written in plain text: {left:?}");
    Ok(())
}

#[tokio::test]
async fn a_branch_the_account_does_not_work_at_is_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let mut session = Session::new(app.api(), Keychain::unavailable("not needed"));
    let err = session
        .login(JAKARTA_ADMIN.0, JAKARTA_ADMIN.1, Some(uuid::Uuid::new_v4()))
        .await
        .expect_err("not this admin's branch");
    assert_eq!(err.code, "branch_not_allowed");
    assert!(session.signed_in().is_none());
    let err = session
        .login(JAKARTA_ADMIN.0, "wrong password", None)
        .await
        .expect_err("wrong password");
    assert_eq!(err.code, "unauthorized", "{err}");
    Ok(())
}

fn child_server() -> Option<sentra_api_client::ApiClient> {
    let url = std::env::var(SERVER_ENV).ok()?;
    Some(sentra_api_client::ApiClient::new(&url).expect("the parent's server URL"))
}

#[tokio::test]
#[ignore = "a child of a_staff_session_is_kept_in_the_real_secret_service"]
async fn secret_service_child() -> anyhow::Result<()> {
    let Some(api) = child_server() else {
        return Ok(());
    };
    let keychain = Keychain::system();
    keychain.check()?;

    // Log in: the admin works at one branch, so it is chosen; the session is remembered.
    let mut session = Session::new(api.clone(), keychain.clone());
    let who = session
        .login(JAKARTA_ADMIN.0, JAKARTA_ADMIN.1, None)
        .await?;
    assert!(who.remembered, "kept in the Secret Service");
    assert_eq!(who.me.branches, vec![who.branch]);

    // Restart: the kept session is renewed, and its access token works.
    let mut restarted = Session::new(api.clone(), keychain.clone());
    let Resumed::SignedIn(again) = restarted.resume().await? else {
        panic!("the session survives a restart");
    };
    assert_eq!(
        (again.email.as_str(), again.branch),
        (JAKARTA_ADMIN.0, who.branch)
    );
    let token = restarted.access_token().await?;
    assert_eq!(api.with_token(&token).me().await?.id, who.me.id);

    // Renewal before expiry: with a margin longer than the token's life every call renews, and
    // the keychain follows the rotation (a stale kept token would be reuse: the session ended).
    let mut eager =
        Session::new(api.clone(), keychain.clone()).with_refresh_margin(Duration::from_hours(1));
    assert!(matches!(eager.resume().await?, Resumed::SignedIn(_)));
    let account = eager.keychain_account().to_owned();
    let kept = || keychain.read(&account);
    let before = kept()?;
    let token = eager.access_token().await?;
    assert_ne!(
        kept()?,
        before,
        "renewed before it expired: a new refresh token is kept"
    );
    assert_eq!(api.with_token(&token).me().await?.id, who.me.id);
    let mut after_rotation = Session::new(api.clone(), keychain.clone());
    assert!(
        matches!(after_rotation.resume().await?, Resumed::SignedIn(_)),
        "the keychain holds the latest refresh token"
    );

    // Ended elsewhere: a password change on another PC ends every session of the account,
    // including the kept one. The next start asks for a login and the dead entry is gone.
    let mut elsewhere = Session::new(api.clone(), Keychain::unavailable("other PC"));
    elsewhere
        .login(JAKARTA_ADMIN.0, JAKARTA_ADMIN.1, None)
        .await?;
    let password_api = api.with_token(&elsewhere.access_token().await?);
    password_api
        .change_password(&sentra_protocol::ChangePasswordRequest {
            current_password: JAKARTA_ADMIN.1.to_owned(),
            new_password: JAKARTA_ADMIN.1.to_owned(),
        })
        .await?;
    let mut next_start = Session::new(api.clone(), keychain.clone());
    assert_eq!(
        next_start.resume().await?,
        Resumed::LoginNeeded {
            reason: Some("session_ended".to_owned())
        }
    );
    assert_eq!(
        Session::new(api.clone(), keychain.clone()).resume().await?,
        Resumed::LoginNeeded { reason: None },
        "the dead entry was removed"
    );

    // Logout clears the keychain.
    let mut session = Session::new(api.clone(), keychain.clone());
    session
        .login(JAKARTA_ADMIN.0, JAKARTA_ADMIN.1, None)
        .await?;
    session.logout().await?;
    assert!(session.signed_in().is_none());
    assert_eq!(
        Session::new(api, keychain).resume().await?,
        Resumed::LoginNeeded { reason: None }
    );
    Ok(())
}

#[tokio::test]
#[ignore = "a child of without_a_keychain_the_app_says_so_and_keeps_nothing_on_disk"]
async fn no_keychain_child() -> anyhow::Result<()> {
    let Some(api) = child_server() else {
        return Ok(());
    };
    let keychain = Keychain::system();
    let err = keychain
        .check()
        .expect_err("no Secret Service on a dead bus");
    assert_eq!(err.code, "keychain_unavailable");

    // Staff can still work: the session lives in memory and the UI is told it is not kept.
    let mut session = Session::new(api.clone(), keychain.clone());
    let who = session
        .login(JAKARTA_ADMIN.0, JAKARTA_ADMIN.1, None)
        .await?;
    assert!(!who.remembered);
    let token = session.access_token().await?;
    assert_eq!(api.with_token(&token).me().await?.id, who.me.id);

    // The next start asks for a login, saying why.
    assert_eq!(
        Session::new(api, keychain).resume().await?,
        Resumed::LoginNeeded {
            reason: Some("keychain_unavailable".to_owned())
        }
    );
    Ok(())
}
