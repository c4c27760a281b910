//! The real desktop window under Xvfb: what branch staff see in the server panel.

use std::process::Command;

use crate::{
    server,
    webdriver::{Display, Driver},
};

const APP: &str = env!("CARGO_BIN_EXE_sentra-desktop");

/// Saves a picture of the whole display for people reading the test output (not asserted).
pub(crate) fn screenshot(display: &Display, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let _ = std::fs::create_dir_all(&dir);
    let _ = Command::new("import")
        .args(["-display", &display.name(), "-window", "root"])
        .arg(dir.join(format!("{name}.png")))
        .status();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_shows_the_servers_version_and_health_then_a_clear_error_when_down()
-> anyhow::Result<()> {
    let server = server::start().await?;
    let display = Display::start()?;
    let mut driver = Driver::start(&display).await?;

    driver.open_app(APP, &["--server-url", &server.url]).await?;
    // The first screen's data was handed to this page (first_screen.rs checks the origin).
    let origin = driver.execute("return window.location.origin").await?;
    assert_eq!(origin.as_str(), Some("tauri://localhost"));
    let handed = driver
        .execute("return window.sessionStorage.getItem('sentra-first-screen')")
        .await?;
    assert_eq!(
        handed.as_str(),
        Some("taken"),
        "the initialization script ran"
    );
    let version = driver
        .wait_for_text("[data-testid=server-version]", |t| !t.is_empty())
        .await?;
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    // Bahasa Indonesia by default.
    driver
        .wait_for_text("[data-testid=server-state]", |t| t == "Siap")
        .await?;
    driver
        .wait_for_text("[data-testid=check-postgres]", |t| {
            t.contains("postgres") && t.contains("OK")
        })
        .await?;
    screenshot(&display, "server-ready");
    driver.close_app().await?;

    let closed = server::closed_url()?;
    driver.open_app(APP, &["--server-url", &closed]).await?;
    driver
        .wait_for_text("[data-testid=error-code]", |t| {
            t.contains("server_unreachable")
        })
        .await?;
    let message = driver
        .wait_for_text("[data-testid=server-error]", |t| !t.is_empty())
        .await?;
    assert!(message.contains("tidak dapat dihubungi"), "{message}");
    screenshot(&display, "server-down");
    driver.close_app().await?;
    Ok(())
}
