//! The counter end to end: the real app under Xvfb, the real server with the demo branch, a
//! real Secret Service, a serial scanner on a pseudo-terminal and CUPS with a PDF printer.
//! Staff log in, a scan arrives over the serial line and opens the booking, a label is printed
//! and read back from the PDF queue, and with the server gone the branch is still there.
//! Screenshots of each step are kept in `target/tmp/screenshots/`.

use sentra_domain::label::{self, LabelKind};
use sentra_test_support::{CupsServer, SecretService};
use uuid::Uuid;

use crate::{
    pty::PtyScanner,
    server,
    webdriver::{Display, Driver},
    window::screenshot,
};

const APP: &str = env!("CARGO_BIN_EXE_sentra-desktop");
/// The label secret the desktop tests' server signs with (see `server.rs`).
const LABEL_SECRET: &[u8] = b"desktop-label-secret-0123456789-abcdef";

/// A confirmed booking of `plate` starting today (Jakarta), for the first demo customer.
async fn booking_today(server: &server::RunningServer, plate: &str) -> anyhow::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, total_idr) \
         SELECT $1, a.home_branch_id, a.id, (SELECT id FROM customers ORDER BY id LIMIT 1), \
                daterange((now() AT TIME ZONE 'Asia/Jakarta')::date, \
                          (now() AT TIME ZONE 'Asia/Jakarta')::date + 2), 'CONFIRMED', 700000 \
         FROM assets a WHERE a.plate_or_serial = $2",
    )
    .bind(id)
    .bind(plate)
    .execute(&server.database.pool().await?)
    .await?;
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_log_in_scan_a_booking_print_a_label_and_keep_the_branch_offline()
-> anyhow::Result<()> {
    let server = server::start_with_demo().await?;
    let booking = booking_today(&server, "B 1235 XYZ").await?;
    let cups = tokio::task::spawn_blocking(CupsServer::start).await??;
    cups.add_pdf_printer("Counter_Label")?;
    let secrets = tokio::task::spawn_blocking(SecretService::start).await??;
    let dir = tempfile::tempdir()?;
    let mut scanner = PtyScanner::start(dir.path())?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    // The settings a branch would have saved: the scanner's port and the label printer.
    std::fs::write(
        data.join("preferences.json"),
        serde_json::json!({
            "scanner": {"port": dir.path().join("scanner"), "baud_rate": 9600, "line_ending": "auto"},
            "printer": {"server": cups.url(), "printer": "Counter_Label"},
        })
        .to_string(),
    )?;
    // A label left by an earlier, interrupted run must not pass for this one.
    CupsServer::forget_printed("Label B 1234 XYZ")?;

    let display = Display::start()?;
    let mut driver = Driver::start_with_env(
        &display,
        &[("DBUS_SESSION_BUS_ADDRESS", secrets.bus_address())],
    )
    .await?;
    let data_arg = data.to_string_lossy().into_owned();
    driver
        .open_app(APP, &["--server-url", &server.url, "--data-dir", &data_arg])
        .await?;

    // 1. Log in (Bahasa Indonesia by default).
    driver
        .type_into(
            "[data-testid=login-email]",
            "admin.jkt@demo.sentrarental.id",
        )
        .await?;
    driver
        .type_into("[data-testid=login-password]", "demo-jkt-2026")
        .await?;
    screenshot(&display, "counter-1-login");
    driver.click("[data-testid=login-submit]").await?;
    driver
        .wait_for_text("[data-testid=branch-name]", |t| t.starts_with("JKT01"))
        .await?;
    // The first copy of the branch arrives in the background; the banner says when it is in.
    driver
        .wait_for_text("[data-testid=sync-banner]", |t| t.contains("Tersinkron"))
        .await?;
    driver
        .wait_for_text("[data-testid=pickups]", |t| t.contains("B 1235 XYZ"))
        .await?;
    assert_eq!(
        driver
            .execute("return document.documentElement.lang")
            .await?,
        "id",
        "Bahasa Indonesia by default"
    );
    screenshot(&display, "counter-2-today");

    // 2. A customer shows the booking QR; the serial scanner reads it.
    driver
        .wait_for_text("[data-testid=scanner-state]", |t| t.contains("tersambung"))
        .await?;
    scanner.scan(&label::sign(LABEL_SECRET, LabelKind::Booking, booking, 0))?;
    driver
        .wait_for_text("[data-testid=booking-status]", |t| t == "Terkonfirmasi")
        .await?;
    let customer = driver
        .wait_for_text("[data-testid=booking-customer]", |t| !t.is_empty())
        .await?;
    assert!(!customer.is_empty());
    screenshot(&display, "counter-3-scanned-booking");

    // 3. Print an asset's label on the branch printer; the PDF queue holds it.
    driver
        .type_into("[data-testid=scan-input]", "b1234xyz\u{E007}")
        .await?; // then Enter
    driver
        .wait_for_text("[data-testid=asset-plate]", |t| t == "B 1234 XYZ")
        .await?;
    print_through_the_preview(&driver, &display).await?;
    let printed =
        tokio::task::spawn_blocking(|| CupsServer::take_printed("Label B 1234 XYZ")).await??;
    assert!(printed.contains("B 1234 XYZ"), "{printed:?}");
    // (OCR may read the 0 of JKT01 as an O.)
    assert!(printed.contains("Cabang JKT"), "{printed:?}");

    // 4. The cable is pulled: the branch is still there, and the banner says offline.
    drop(server);
    driver.click("[data-testid=tab-today]").await?;
    driver.click("[data-testid=sync-now]").await?;
    driver
        .wait_for_text("[data-testid=offline-banner]", |t| t.contains("Luring"))
        .await?;
    driver
        .wait_for_text("[data-testid=pickups]", |t| t.contains("B 1235 XYZ"))
        .await?;
    screenshot(&display, "counter-6-offline");
    odometer_offline(&driver, &display).await?;
    driver.close_app().await?;
    Ok(())
}

/// Offline, an odometer reading is saved at once and waits in the outbox: the banner counts it.
async fn odometer_offline(driver: &Driver, display: &Display) -> anyhow::Result<()> {
    driver
        .type_into("[data-testid=scan-input]", "b1234xyz\u{E007}")
        .await?;
    driver
        .type_into("[data-testid=odometer-input]", "12.345")
        .await?;
    driver.click("[data-testid=odometer-save]").await?;
    driver
        .wait_for_text("[data-testid=asset-odometer]", |t| t == "12.345 km")
        .await?;
    driver
        .wait_for_text("[data-testid=pending-count]", |t| {
            t == "1 perubahan menunggu dikirim"
        })
        .await?;
    screenshot(display, "counter-7-offline-change-waiting");
    Ok(())
}

/// Opens the label's print preview, checks it is drawn, and prints from it.
async fn print_through_the_preview(driver: &Driver, display: &Display) -> anyhow::Result<()> {
    driver.click("[data-testid=print-label]").await?;
    driver
        .wait_for_text("[data-testid=label-preview-printer]", |t| {
            t.contains("Counter_Label")
        })
        .await?;
    let drawn = driver
        .execute(
            "const i = document.querySelector('[data-testid=label-preview-image]'); \
             return i.complete ? i.naturalWidth : 0",
        )
        .await?;
    assert!(
        drawn.as_f64().is_some_and(|w| w > 0.0),
        "the preview image is drawn: {drawn}"
    );
    screenshot(display, "counter-4-print-preview");
    driver.click("[data-testid=print-confirm]").await?;
    driver
        .wait_for_text("[data-testid=label-done]", |t| t.contains("Label tercetak"))
        .await?;
    screenshot(display, "counter-5-label-printed");
    Ok(())
}
