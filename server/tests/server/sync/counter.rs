//! The whole counter (`sentra_client_core::counter::Counter`) against the real server and a real
//! CUPS with a PDF queue: log in, first sync, today's work from the copy, a scan, a printed
//! label read back, a restart that resumes, and a server that goes away while the branch stays
//! visible.

use sentra_client_core::{
    Keychain,
    counter::{Counter, CounterConfig},
    lookup::Opened,
    printer::PrinterSettings,
};
use sentra_test_support::CupsServer;
use uuid::Uuid;

use crate::{
    fixtures::{assets, customers, seed},
    support::TestApp,
};

use super::desk::JAKARTA_ADMIN;

/// The demo data, HQ signed in, and today's work at Jakarta; returns the Avanzas there.
async fn branch_with_todays_work() -> anyhow::Result<(TestApp, Vec<Uuid>)> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let cars = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let person = customers(&app.db).await?[0];
    todays_work(&app, &cars, person).await?;
    Ok((app, cars))
}

/// Puts a rental that went out three days ago and is now overdue, and one picked up today.
async fn todays_work(app: &TestApp, cars: &[Uuid], person: Uuid) -> anyhow::Result<()> {
    for (car, from, to, status) in [(cars[0], -3, -1, "ACTIVE"), (cars[1], 0, 2, "CONFIRMED")] {
        sqlx::query(
            "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status) \
             SELECT $1, home_branch_id, id, $3, daterange(\
                 (now() AT TIME ZONE 'Asia/Jakarta')::date + $4, \
                 (now() AT TIME ZONE 'Asia/Jakarta')::date + $5), $6 \
             FROM assets WHERE id = $2",
        )
        .bind(Uuid::now_v7())
        .bind(car)
        .bind(person)
        .bind(from)
        .bind(to)
        .bind(status)
        .execute(&app.db)
        .await?;
    }
    Ok(())
}

fn counter(app: &TestApp, dir: &std::path::Path, keychain: &Keychain) -> anyhow::Result<Counter> {
    Ok(Counter::new(
        CounterConfig {
            server_url: app.base_url.clone(),
            data_dir: dir.to_owned(),
            device_name: "Kasir 1".to_owned(),
        },
        keychain.clone(),
    )?)
}

#[tokio::test]
async fn a_counter_logs_in_syncs_scans_prints_and_keeps_the_branch_without_the_server()
-> anyhow::Result<()> {
    let (mut app, cars) = branch_with_todays_work().await?;
    let cups = tokio::task::spawn_blocking(CupsServer::start).await??;
    cups.add_pdf_printer("Counter_Printer")?;
    let dir = tempfile::tempdir()?;
    let keychain = Keychain::in_memory();

    let desk = counter(&app, dir.path(), &keychain)?;
    let state = desk.start().await?;
    assert!(state.signed_in.is_none() && state.login_reason.is_none());
    let state = desk.login(JAKARTA_ADMIN.0, JAKARTA_ADMIN.1, None).await?;
    assert_eq!(
        state.branch.as_ref().map(|b| b.code.as_str()),
        Some("JKT01")
    );
    let report = desk.sync_round(|_| {}).await?;
    assert!(report.pulled > 0);

    // Today's work, from the copy.
    let day = desk.counter_day()?;
    assert_eq!(
        day.pickups
            .iter()
            .map(|b| b.rental.booking.asset_id)
            .collect::<Vec<_>>(),
        [cars[1]]
    );
    assert_eq!(
        day.overdue
            .iter()
            .map(|b| b.rental.booking.asset_id)
            .collect::<Vec<_>>(),
        [cars[0]]
    );
    assert!(day.returns.is_empty());
    let plate_out = app.api().asset(cars[0]).await?.plate_or_serial;
    assert_eq!(
        day.overdue[0].plate.as_deref(),
        Some(plate_out.as_str()),
        "staff see the plate"
    );
    let plate = app.api().asset(cars[1]).await?.plate_or_serial;
    let (asset, coming) = desk.find_plate(&plate.replace(' ', "").to_lowercase())?;
    assert_eq!((asset.id, coming.len()), (cars[1], 1));

    // A scanned label opens the asset from the copy at once, then the server confirms it.
    let code = app.api().label(cars[1]).await?.payload;
    assert!(
        matches!(desk.scan(&code).await?, Opened::Asset { offline: true, asset } if asset.id == cars[1])
    );
    let target = sentra_client_core::scanner::decode(&code)?;
    assert!(matches!(
        desk.confirm_scan(&target).await?,
        Opened::Asset { offline: false, .. }
    ));
    assert_eq!(
        desk.scan("8991234567890")
            .await
            .expect_err("a product barcode")
            .code,
        "scan_not_ours"
    );

    // The label, printed on the branch printer and read back from the PDF queue.
    let mut preferences = desk.preferences();
    preferences.printer = PrinterSettings {
        server: cups.url(),
        printer: Some("Counter_Printer".to_owned()),
    };
    desk.save_preferences(preferences)?;
    CupsServer::forget_printed(&format!("Label {plate}"))?; // left by an interrupted run
    CupsServer::forget_printed(&format!("Label {plate}"))?; // left by an interrupted run
    let mut statuses = Vec::new();
    let printed = desk
        .print_label(cars[1], Some(1), |s| statuses.push(s))
        .await?;
    assert!(printed.job_id > 0, "{statuses:?}");
    let text = CupsServer::take_printed(&format!("Label {plate}"))?;
    assert!(text.contains(&plate), "{text:?}");

    drop(desk);
    restart_and_renew(&app, dir.path(), &keychain).await?;

    // The cable is pulled: a new start finds no server and still shows the branch.
    app.stop();
    let desk = counter(&app, dir.path(), &keychain)?;
    let state = desk.start().await?;
    assert!(state.renewing, "{state:?}");
    assert_eq!(state.branch.map(|b| b.code), Some("JKT01".to_owned()));
    assert_eq!(desk.counter_day()?.pickups.len(), 1);
    let err = desk.sync_round(|_| {}).await.expect_err("no server");
    assert_eq!(
        err.code, "server_unreachable",
        "retried later, not a logout: {err}"
    );
    let state = desk.state()?;
    assert!(state.offline_session && !state.renewing, "{state:?}");
    assert_eq!(
        desk.counter_day()?.pickups.len(),
        1,
        "the branch is still shown"
    );
    Ok(())
}

/// A restart shows the branch from the copy at once, then renews the session with the first
/// round and keeps the device: no second registration.
async fn restart_and_renew(
    app: &TestApp,
    dir: &std::path::Path,
    keychain: &Keychain,
) -> anyhow::Result<()> {
    let desk = counter(app, dir, keychain)?;
    let state = desk.start().await?;
    assert!(state.renewing && state.signed_in.is_none(), "{state:?}");
    assert_eq!(state.kept_email.as_deref(), Some(JAKARTA_ADMIN.0));
    assert_eq!(desk.counter_day()?.pickups.len(), 1);
    desk.sync_round(|_| {}).await?;
    let state = desk.state()?;
    assert!(state.signed_in.is_some() && !state.renewing, "{state:?}");
    let devices: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_devices")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(devices, 1);

    Ok(())
}

/// A session ended while the PC was off (a password change on another PC): the start shows the
/// branch from the copy, and the first round, which renews the session, closes the copy and
/// asks for a login.
#[tokio::test]
async fn a_session_ended_while_the_pc_was_off_closes_the_copy_at_the_first_round()
-> anyhow::Result<()> {
    let (app, _) = branch_with_todays_work().await?;
    let dir = tempfile::tempdir()?;
    let keychain = Keychain::in_memory();
    let desk = counter(&app, dir.path(), &keychain)?;
    desk.start().await?;
    desk.login(JAKARTA_ADMIN.0, JAKARTA_ADMIN.1, None).await?;
    desk.sync_round(|_| {}).await?;
    drop(desk);

    let mut elsewhere = sentra_client_core::Session::new(
        sentra_api_client::ApiClient::new(&app.base_url)?,
        Keychain::unavailable("another PC"),
    );
    elsewhere
        .login(JAKARTA_ADMIN.0, JAKARTA_ADMIN.1, None)
        .await?;
    sentra_api_client::ApiClient::new(&app.base_url)?
        .with_token(&elsewhere.access_token().await?)
        .change_password(&sentra_protocol::ChangePasswordRequest {
            current_password: JAKARTA_ADMIN.1.to_owned(),
            new_password: JAKARTA_ADMIN.1.to_owned(),
        })
        .await?;

    let desk = counter(&app, dir.path(), &keychain)?;
    let state = desk.start().await?;
    assert!(state.renewing, "{state:?}");
    assert_eq!(desk.counter_day()?.pickups.len(), 1);
    let err = desk.sync_round(|_| {}).await.expect_err("ended");
    assert_eq!(err.code, "session_ended");
    let state = desk.state()?;
    assert!(
        state.signed_in.is_none() && !state.renewing && state.branch.is_none(),
        "{state:?}"
    );
    assert_eq!(state.login_reason.as_deref(), Some("session_ended"));
    assert_eq!(
        desk.counter_day().expect_err("closed").code,
        "no_branch",
        "nothing of the branch is left on screen"
    );
    Ok(())
}
