//! The Tauri commands through Tauri's IPC (mock runtime: no display needed), against a real
//! server: what the UI receives, resolved values and `{code, message}` rejections.

use sentra_client_core::{DesktopSettings, Keychain};
use sentra_desktop::{AppState, build_app};
use serde_json::{Value, json};
use tauri::{
    App,
    ipc::{CallbackFn, InvokeBody},
    test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets},
    webview::{InvokeRequest, WebviewWindow},
};

use crate::server;

/// A mock app on `server_url` with its own data directory and an in-memory keychain.
struct MockApp {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    _data: tempfile::TempDir,
}

impl MockApp {
    fn new(server_url: String) -> Self {
        let data = tempfile::tempdir().expect("data dir");
        let state = AppState::new(
            DesktopSettings::for_server(server_url),
            data.path().to_owned(),
            Keychain::in_memory(),
        );
        let app = build_app(mock_builder(), state)
            .build(mock_context(noop_assets()))
            .expect("mock app");
        let window = tauri::WebviewWindowBuilder::new(&app, "main", tauri::WebviewUrl::default())
            .build()
            .expect("mock window");
        Self {
            _app: app,
            window,
            _data: data,
        }
    }

    /// Invokes `command` with `args`; Ok = resolved, Err = rejected.
    fn call(&self, command: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: command.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // Linux/macOS local origin; anything else counts as remote and is refused by the ACL.
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: tauri::http::HeaderMap::default(),
            invoke_key: INVOKE_KEY.to_owned(),
        };
        get_ipc_response(&self.window, request)
            .map(|body| body.deserialize::<Value>().expect("json body"))
    }
}

/// Runs `scenario` on a blocking thread (the mock IPC blocks on the app's async runtime).
async fn with_app<T: Send + 'static>(
    url: String,
    scenario: impl FnOnce(&MockApp) -> T + Send + 'static,
) -> anyhow::Result<T> {
    Ok(tokio::task::spawn_blocking(move || scenario(&MockApp::new(url))).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_status_shows_version_and_checks() -> anyhow::Result<()> {
    let server = server::start().await?;
    let status = with_app(server.url.clone(), |app| {
        app.call("server_status", json!({}))
    })
    .await?
    .map_err(|e| anyhow::anyhow!("rejected: {e}"))?;
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["server_url"], server.url.as_str());
    assert_eq!(status["ready"], true);
    assert_eq!(status["checks"][0]["name"], "postgres");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_gives_a_typed_code_and_message() -> anyhow::Result<()> {
    let error = with_app(server::closed_url()?, |app| {
        app.call("server_status", json!({}))
    })
    .await?
    .expect_err("no server listens there");
    assert_eq!(error["code"], "server_unreachable");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{error}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_server_url_is_reported_not_panicked() -> anyhow::Result<()> {
    let error = with_app("ftp://nowhere".to_owned(), |app| {
        app.call("server_status", json!({}))
    })
    .await?
    .expect_err("not http");
    assert_eq!(error["code"], "invalid_server_url");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_log_in_and_the_counter_answers_from_the_branch_copy() -> anyhow::Result<()> {
    let server = server::start_with_demo().await?;
    with_app(server.url.clone(), |app| {
        let state = app.call("app_state", json!({})).expect("state");
        assert_eq!(state["signed_in"], Value::Null);
        let wrong = app
            .call(
                "login",
                json!({"email": "admin.jkt@demo.sentrarental.id", "password": "nope"}),
            )
            .expect_err("wrong password");
        assert_eq!(wrong["code"], "unauthorized");
        let state = app
            .call(
                "login",
                json!({"email": "admin.jkt@demo.sentrarental.id", "password": "demo-jkt-2026"}),
            )
            .expect("logged in");
        assert_eq!(state["branch"]["code"], "JKT01");
        assert_eq!(state["signed_in"]["remembered"], true);

        // The copy fills in the background; a plate of the branch is then found offline.
        let started = std::time::Instant::now();
        let found = loop {
            match app.call("find_plate", json!({"plate": "b1234xyz"})) {
                Ok(found) => break found,
                Err(e) if e["code"] == "not_in_offline_copy" => {
                    assert!(started.elapsed().as_secs() < 30, "the copy never filled");
                    app.call("sync_now", json!({})).expect("sync now");
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(found["asset"]["plate_or_serial"], "B 1234 XYZ");
        let day = app.call("counter_day", json!({})).expect("day");
        assert!(
            day["pickups"].is_array() && day["overdue"].is_array(),
            "{day}"
        );

        // A typed product barcode is named, not ignored.
        let err = app
            .call("scan_text", json!({"text": "8991234567890"}))
            .expect_err("not ours");
        assert_eq!(err["code"], "scan_not_ours");

        let state = app.call("logout", json!({})).expect("logged out");
        assert_eq!(state["signed_in"], Value::Null);
    })
    .await
}
