//! The `server_status` command through Tauri's IPC (mock runtime: no display needed).

use sentra_client_core::DesktopSettings;
use sentra_desktop::{AppState, build_app};
use serde_json::Value;
use tauri::{
    ipc::{CallbackFn, InvokeBody},
    test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets},
    webview::InvokeRequest,
};

use crate::server;

/// Invokes `command` in a mock app whose server is `server_url`; Ok = resolved, Err = rejected.
fn invoke(server_url: String, command: &'static str) -> Result<Value, Value> {
    let settings = DesktopSettings { server_url };
    let app = build_app(mock_builder(), AppState::new(settings))
        .build(mock_context(noop_assets()))
        .expect("mock app");
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", tauri::WebviewUrl::default())
        .build()
        .expect("mock window");
    let request = InvokeRequest {
        cmd: command.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        // Linux/macOS local origin; anything else counts as remote and is refused by the ACL.
        url: "tauri://localhost".parse().expect("url"),
        body: InvokeBody::Json(Value::Object(serde_json::Map::new())),
        headers: tauri::http::HeaderMap::default(),
        invoke_key: INVOKE_KEY.to_owned(),
    };
    get_ipc_response(&webview, request).map(|body| body.deserialize::<Value>().expect("json body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_status_shows_version_and_checks() -> anyhow::Result<()> {
    let server = server::start().await?;
    let url = server.url.clone();
    let status = tokio::task::spawn_blocking(move || invoke(url, "server_status"))
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
    let url = server::closed_url()?;
    let error = tokio::task::spawn_blocking(move || invoke(url, "server_status"))
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
    let error = tokio::task::spawn_blocking(|| invoke("ftp://nowhere".to_owned(), "server_status"))
        .await?
        .expect_err("not http");
    assert_eq!(error["code"], "invalid_server_url");
    Ok(())
}
