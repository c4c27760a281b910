//! The start without a server: what the counter shows from the keychain and the copy alone.
//! The server URL points at a port nobody listens on; nothing here may wait for it.

use std::time::Duration;

use sentra_domain::BranchTimeZone;

use super::*;

/// A loopback port that refuses connections.
const NO_SERVER: &str = "http://127.0.0.1:9";

fn counter(dir: &Path, keychain: Keychain) -> Counter {
    Counter::new(
        CounterConfig {
            server_url: NO_SERVER.to_owned(),
            data_dir: dir.to_owned(),
            device_name: "Kasir test".to_owned(),
        },
        keychain,
    )
    .expect("counter")
}

async fn start(desk: &Counter) -> CounterState {
    tokio::time::timeout(Duration::from_secs(10), desk.start())
        .await
        .expect("the start answers")
        .expect("start")
}

#[tokio::test]
async fn without_a_keychain_the_start_asks_for_a_login_and_says_why() {
    let dir = tempfile::tempdir().expect("dir");
    let desk = counter(dir.path(), Keychain::unavailable("no Secret Service"));
    let state = start(&desk).await;
    assert!(
        state.signed_in.is_none() && state.branch.is_none(),
        "{state:?}"
    );
    assert_eq!(state.login_reason.as_deref(), Some("keychain_unavailable"));
    assert!(state.keychain_problem.is_some());
}

#[tokio::test]
async fn a_kept_session_shows_the_branch_copy_at_once_and_renews_later() {
    let dir = tempfile::tempdir().expect("dir");
    let keychain = Keychain::in_memory();
    let branch = BranchInfo {
        id: Uuid::from_u128(1),
        code: "JKT01".to_owned(),
        name: "Jakarta Pusat".to_owned(),
        time_zone: BranchTimeZone::Wib,
    };
    let desk = counter(dir.path(), keychain.clone());
    // What an earlier login left: the session in the keychain, the branch and its copy on disk.
    keychain
        .write(
            &format!("staff-session@{}", desk.api().base_url()),
            &serde_json::json!({"email": "admin@demo", "branch": branch.id,
                                "refresh_token": "kept"})
            .to_string(),
        )
        .expect("keep");
    Preferences {
        last_branch: Some(branch.clone()),
        ..Preferences::default()
    }
    .save(dir.path())
    .expect("preferences");
    private_dir(&dir.path().join("branches")).expect("dir");
    Store::open(&desk.copy_path(branch.id)).expect("copy");

    let state = start(&desk).await;
    assert!(state.renewing && !state.offline_session, "{state:?}");
    assert_eq!(state.kept_email.as_deref(), Some("admin@demo"));
    assert_eq!(
        state.branch.as_ref().map(|b| b.code.as_str()),
        Some("JKT01")
    );
    assert!(
        desk.counter_day()
            .expect("from the copy")
            .pickups
            .is_empty()
    );

    // The first call that needs the server tries to renew: no server, so offline from now on.
    let err = desk.signed_api().await.expect_err("no server");
    assert_eq!(err.code, "server_unreachable");
    let state = desk.state().expect("state");
    assert!(state.offline_session && !state.renewing, "{state:?}");
    assert!(state.branch.is_some(), "the branch stays on screen");
}

#[tokio::test]
async fn nothing_kept_means_the_login_screen() {
    let dir = tempfile::tempdir().expect("dir");
    let state = start(&counter(dir.path(), Keychain::in_memory())).await;
    assert_eq!(state, CounterState::default());
}
