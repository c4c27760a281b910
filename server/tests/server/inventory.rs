//! Inventory through the typed client: branches with their partitions, SKUs, assets, transfers
//! with their notes, QR labels and scans.

use sentra_api_client::{ApiClient, ApiError};
use sentra_domain::{AssetStatus, BranchTimeZone, label::LabelKind};
use sentra_protocol::{
    AssetQuery, ChecklistLine, CreateAssetRequest, CreateBranchRequest, CreateSkuRequest,
    CustomerLoginRequest, LateFee, ScanRequest, TransferRequest, UpdateAssetRequest,
    UpdateSkuRequest,
};
use uuid::Uuid;

use crate::{
    fixtures::{assets, customers, day, overlapping_pairs, seed, unit_booking},
    support::TestApp,
};

async fn jakarta_admin(app: &TestApp) -> anyhow::Result<ApiClient> {
    let token = app
        .staff_token("admin.jkt@demo.sentrarental.id", "demo-jkt-2026")
        .await?;
    Ok(app.api().with_token(&token))
}

fn refusal(err: &ApiError) -> (Option<u16>, &str) {
    (err.status(), err.code())
}

fn fields(err: &ApiError) -> Vec<&str> {
    err.problem()
        .map(|p| p.errors.iter().map(|e| e.field.as_str()).collect())
        .unwrap_or_default()
}

fn branch(code: &str, name: &str, time_zone: &str) -> CreateBranchRequest {
    CreateBranchRequest {
        code: code.to_owned(),
        name: name.to_owned(),
        address: String::new(),
        time_zone: time_zone.to_owned(),
        location: None,
    }
}

fn asset(sku: &str, branch: &str, plate: &str, odometer_km: Option<i32>) -> CreateAssetRequest {
    CreateAssetRequest {
        sku_code: sku.to_owned(),
        branch_code: branch.to_owned(),
        plate_or_serial: plate.to_owned(),
        odometer_km,
    }
}

#[tokio::test]
async fn hq_opens_a_branch_and_it_can_take_bookings_at_once() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let hq = app.api();
    let surabaya = hq
        .create_branch(&CreateBranchRequest {
            address: "Jl. Raya Juanda 1".to_owned(),
            ..branch("SUB01", "Surabaya Juanda", "Asia/Jakarta")
        })
        .await?;
    let partition = format!("bookings_{}", surabaya.id.simple());
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(&partition)
        .fetch_one(&app.db)
        .await?;
    assert!(exists, "the branch's bookings partition exists");

    let car = hq
        .create_asset(&asset("AVANZA-13G-AT", "SUB01", " l 1234 ab ", Some(500)))
        .await?;
    assert_eq!(car.plate_or_serial, "L 1234 AB");
    let people = customers(&app.db).await?;
    let booking = hq
        .create_booking("sub-1", &unit_booking(car.id, people[0], day(2), day(4)))
        .await?;
    assert_eq!(booking.branch_id, surabaya.id);

    let err = hq
        .create_branch(&branch("SUB01", "Again", "Asia/Jakarta"))
        .await
        .expect_err("the code is taken");
    assert_eq!(refusal(&err), (Some(409), "conflict"));
    let err = hq
        .create_branch(&branch("x", "", "Europe/Berlin"))
        .await
        .expect_err("every field is wrong");
    assert_eq!(refusal(&err), (Some(422), "validation_failed"));
    assert_eq!(
        fields(&err),
        ["code", "name", "time_zone"],
        "every bad field is named"
    );
    assert_eq!(hq.branches().await?.items.len(), 3);
    Ok(())
}

#[tokio::test]
async fn a_branch_in_an_alias_zone_is_stored_under_its_canonical_name() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    // Pontianak keeps WIB; the database knows three canonical names only.
    let pontianak = app
        .api()
        .create_branch(&branch("PNK01", "Pontianak Supadio", "Asia/Pontianak"))
        .await?;
    assert_eq!(pontianak.time_zone, BranchTimeZone::Wib);
    let listed = app.api().branches().await?.items;
    let stored = listed.iter().find(|b| b.code == "PNK01").expect("listed");
    assert_eq!(stored.time_zone.iana(), "Asia/Jakarta");
    Ok(())
}

#[tokio::test]
async fn skus_carry_prices_late_fees_and_a_checked_checklist() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let hq = app.api();
    let line = |key: &str, label: &str, en: &str, requires_photo| ChecklistLine {
        key: key.to_owned(),
        label_id: label.to_owned(),
        label_en: en.to_owned(),
        requires_photo,
    };
    let sku = CreateSkuRequest {
        code: "XPANDER-ULT".to_owned(),
        name: "Mitsubishi Xpander Ultimate".to_owned(),
        category: "car".to_owned(),
        daily_rate_idr: 550_000,
        deposit_idr: 1_000_000,
        late_fee: LateFee {
            grace_minutes: 60,
            per_hour_idr: 55_000,
            daily_cap_idr: 550_000,
        },
        fuel_per_eighth_idr: 80_000,
        turnaround_buffer_days: 1,
        checklist: vec![line("fuel_level", "Level BBM", "Fuel level", true)],
    };
    let created = hq.create_sku(&sku).await?;
    assert_eq!(created.checklist[0].key, "fuel_level");
    assert_eq!(
        created.fuel_per_eighth_idr, 80_000,
        "the fuel price the bill charges"
    );

    let err = hq
        .update_sku(
            "XPANDER-ULT",
            &UpdateSkuRequest {
                daily_rate_idr: Some(600_000),
                checklist: Some(vec![
                    line("jack", "Dongkrak", "Jack", false),
                    line("jack", "Dongkrak", "Jack", false),
                ]),
                ..UpdateSkuRequest::default()
            },
        )
        .await
        .expect_err("a key twice");
    assert_eq!(err.status(), Some(422));
    let first = err
        .problem()
        .and_then(|p| p.errors.first())
        .expect("an error");
    assert_eq!(first.field, "checklist");
    assert!(first.message.contains("line 2"), "{err}");

    hq.update_sku(
        "XPANDER-ULT",
        &UpdateSkuRequest {
            daily_rate_idr: Some(600_000),
            ..UpdateSkuRequest::default()
        },
    )
    .await?;
    let xpander = hq
        .skus()
        .await?
        .items
        .into_iter()
        .find(|s| s.code == "XPANDER-ULT")
        .expect("listed");
    assert_eq!(xpander.daily_rate_idr, 600_000);
    assert_eq!(xpander.deposit_idr, 1_000_000, "unsent fields stay");

    let bad = CreateSkuRequest {
        code: "BAD-FEE".to_owned(),
        late_fee: LateFee {
            daily_cap_idr: 10,
            ..sku.late_fee
        },
        ..sku.clone()
    };
    let err = hq
        .create_sku(&bad)
        .await
        .expect_err("cap below the hourly fee");
    assert_eq!(err.status(), Some(422));
    assert_eq!(fields(&err), ["late_fee"]);

    // Branch staff read the catalogue but do not shape it.
    let err = jakarta_admin(&app)
        .await?
        .create_sku(&sku)
        .await
        .expect_err("HQ only");
    assert_eq!(err.status(), Some(403));
    Ok(())
}

#[tokio::test]
async fn branch_admins_manage_their_own_fleet_only() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let admin = jakarta_admin(&app).await?;
    let err = admin
        .create_asset(&asset("VARIO-125", "DPS01", "DK 9999 ZZ", None))
        .await
        .expect_err("not at another branch");
    assert_eq!(err.status(), Some(403), "not at another branch");
    let err = admin
        .assets(&AssetQuery {
            branch: Some("DPS01".to_owned()),
        })
        .await
        .expect_err("not their branch");
    assert_eq!(err.status(), Some(403));
    let fleet = admin.assets(&AssetQuery::default()).await?.items;
    assert!(!fleet.is_empty() && fleet.iter().all(|a| a.home_branch_code == "JKT01"));
    let bali = assets(&app.db, "VARIO-125", "DPS01").await?[0];
    let err = admin.asset(bali).await.expect_err("hidden");
    assert_eq!(
        err.status(),
        Some(404),
        "other branches' assets do not exist for you: {err}"
    );

    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let other = fleet
        .iter()
        .find(|a| a.id != avanza && a.odometer_km.is_some())
        .expect("a second vehicle");
    let km = other.odometer_km.expect("odometer");
    let patch = |status: Option<AssetStatus>, odometer_km: Option<i32>| UpdateAssetRequest {
        status: status.map(|s| s.as_str().to_owned()),
        odometer_km,
    };
    let err = admin
        .update_asset(other.id, &patch(None, Some(km - 1)))
        .await
        .expect_err("odometers never go down");
    assert_eq!(err.status(), Some(422), "odometers never go down");
    let updated = admin
        .update_asset(
            other.id,
            &patch(Some(AssetStatus::Maintenance), Some(km + 250)),
        )
        .await?;
    assert_eq!(
        (updated.status, updated.odometer_km),
        (AssetStatus::Maintenance, Some(km + 250))
    );

    // An asset with an open booking cannot be retired; once retired it stays retired.
    let people = customers(&app.db).await?;
    admin
        .create_booking("r1", &unit_booking(avanza, people[0], day(5), day(6)))
        .await?;
    let err = admin
        .update_asset(avanza, &patch(Some(AssetStatus::Retired), None))
        .await
        .expect_err("booked");
    assert_eq!(refusal(&err), (Some(409), "asset_in_use"));
    admin
        .update_asset(other.id, &patch(Some(AssetStatus::Retired), None))
        .await?;
    let err = admin
        .update_asset(other.id, &patch(Some(AssetStatus::Active), None))
        .await
        .expect_err("retired for good");
    assert_eq!(err.status(), Some(409));
    Ok(())
}

#[tokio::test]
async fn a_transfer_moves_the_asset_and_its_future_bookings_with_a_note() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let hq = app.api();
    let people = customers(&app.db).await?;
    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let first = hq
        .create_booking("t1", &unit_booking(avanza, people[0], day(3), day(5)))
        .await?;
    let second = hq
        .create_booking("t2", &unit_booking(avanza, people[1], day(10), day(12)))
        .await?;
    let transfer = TransferRequest {
        to_branch_code: "DPS01".to_owned(),
        reason: "Libur Natal: armada Bali kurang".to_owned(),
    };

    // A Jakarta admin does not work in Bali: only HQ (or staff of both) may move it there.
    let jakarta = jakarta_admin(&app).await?;
    let err = jakarta
        .transfer_asset(avanza, &transfer)
        .await
        .expect_err("not their branch");
    assert_eq!(err.status(), Some(403), "{err}");

    let note = hq.transfer_asset(avanza, &transfer).await?;
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(note.number, format!("TR/JKT01/{year}/000001"));
    assert_eq!(
        (note.from.code.as_str(), note.to.code.as_str()),
        ("JKT01", "DPS01")
    );
    let moved: Vec<Uuid> = note.moved_bookings.iter().map(|b| b.id).collect();
    assert_eq!(moved, [first.id, second.id]);
    assert_eq!(note.issued_by, "hq");

    let dps: Uuid = sqlx::query_scalar("SELECT id FROM branches WHERE code = 'DPS01'")
        .fetch_one(&app.db)
        .await?;
    let branches: Vec<Uuid> =
        sqlx::query_scalar("SELECT branch_id FROM bookings WHERE asset_id = $1")
            .bind(avanza)
            .fetch_all(&app.db)
            .await?;
    assert!(
        branches.len() == 2 && branches.iter().all(|b| *b == dps),
        "bookings moved along"
    );
    // The exclusion constraint still guards the moved bookings in their new partition.
    let err = hq
        .create_booking("t3", &unit_booking(avanza, people[2], day(4), day(6)))
        .await
        .expect_err("the days are taken");
    // (The bookings in the way are other customers' unpaid holds.)
    assert_eq!(refusal(&err), (Some(409), "asset_held"));
    assert_eq!(overlapping_pairs(&app.db).await?, 0);

    // The note is there for both branches' admins, and only for them.
    assert_eq!(hq.transfer(note.id).await?.number, note.number);
    assert_eq!(
        jakarta.transfer(note.id).await?.number,
        note.number,
        "the sending branch keeps its copy"
    );
    let err = jakarta.asset(avanza).await.expect_err("moved away");
    assert_eq!(err.status(), Some(404), "no longer a Jakarta asset");
    Ok(())
}

#[tokio::test]
async fn an_asset_out_on_a_rental_cannot_be_transferred() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[1];
    // A rental that started yesterday (Jakarta time) and is still out.
    sqlx::query(
        "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status) \
         SELECT $1, home_branch_id, id, $3, daterange((now() AT TIME ZONE 'Asia/Jakarta')::date - 1, \
                (now() AT TIME ZONE 'Asia/Jakarta')::date + 2), 'ACTIVE' FROM assets WHERE id = $2",
    )
    .bind(Uuid::now_v7())
    .bind(avanza)
    .bind(people[0])
    .execute(&app.db)
    .await?;
    let err = app
        .api()
        .transfer_asset(
            avanza,
            &TransferRequest {
                to_branch_code: "DPS01".to_owned(),
                reason: "x".to_owned(),
            },
        )
        .await
        .expect_err("out on a rental");
    assert_eq!(refusal(&err), (Some(409), "asset_in_use"), "{err}");
    let home: String = sqlx::query_scalar(
        "SELECT b.code FROM assets a JOIN branches b ON b.id = a.home_branch_id WHERE a.id = $1",
    )
    .bind(avanza)
    .fetch_one(&app.db)
    .await?;
    assert_eq!(home, "JKT01", "nothing moved");
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM transfer_notes")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(notes, 0);
    Ok(())
}

#[tokio::test]
async fn labels_scan_until_reissued_and_forgeries_are_refused() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let admin = jakarta_admin(&app).await?;
    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let label = admin.label(avanza).await?;
    let payload = label.payload.clone();
    assert!(payload.starts_with("SR1:A:"), "{payload}");
    let scan = |payload: &str| ScanRequest {
        payload: payload.to_owned(),
    };

    let scanned = admin.scan(&scan(&format!("{payload}\r\n"))).await?;
    assert_eq!(
        (scanned.kind, scanned.asset.map(|a| a.id)),
        (LabelKind::Asset, Some(avanza))
    );

    // A label made without the server's secret: same shape, wrong signature.
    let forged = sentra_domain::label::sign(
        b"not-the-server-secret-0123456789",
        LabelKind::Asset,
        avanza,
        1,
    );
    for (what, text) in [
        ("forged", forged.as_str()),
        ("not ours", "https://example.com/promo"),
    ] {
        let err = admin.scan(&scan(text)).await.expect_err(what);
        assert_eq!(refusal(&err), (Some(422), "invalid_label"), "{what}");
    }

    let reissued = admin.reissue_label(avanza).await?;
    assert_eq!(reissued.label_version, 2);
    let err = admin.scan(&scan(&payload)).await.expect_err("replaced");
    assert_eq!(
        refusal(&err),
        (Some(422), "invalid_label"),
        "the old label no longer scans"
    );
    admin.scan(&scan(&reissued.payload)).await?;

    assert!(admin.label_pdf(avanza).await?.starts_with(b"%PDF-"));
    let path = format!("/api/v1/assets/{avanza}/label.pdf");
    let (status, content_type, _) = app.get(&path).await?;
    assert_eq!(
        (status, content_type.as_str()),
        (401, "application/problem+json"),
        "no label without a login"
    );
    app.token = Some(
        app.staff_token("admin.jkt@demo.sentrarental.id", "demo-jkt-2026")
            .await?,
    );
    let (status, content_type, _) = app.get(&path).await?;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));

    // A Bali admin scanning a Jakarta label learns nothing about it.
    let bali = app.api().with_token(
        &app.staff_token("admin.dps@demo.sentrarental.id", "demo-dps-2026")
            .await?,
    );
    let err = bali
        .scan(&scan(&reissued.payload))
        .await
        .expect_err("hidden");
    assert_eq!(err.status(), Some(404));
    Ok(())
}

#[tokio::test]
async fn customers_see_a_booking_code_the_counter_can_scan() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let email: String = sqlx::query_scalar(
        "SELECT email FROM customers WHERE email IS NOT NULL ORDER BY full_name LIMIT 1",
    )
    .fetch_one(&app.db)
    .await?;
    let tokens = app
        .api()
        .customer_login(&CustomerLoginRequest {
            login: email,
            password: "demo-pelanggan-2026".to_owned(),
        })
        .await?;
    let customer = app.api().with_token(&tokens.access_token);
    let me = customer.my_profile().await?;
    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let booking = customer
        .create_booking("qr", &unit_booking(avanza, me.id, day(2), day(3)))
        .await?;
    let code = customer.my_bookings().await?.items[0]
        .qr_payload
        .clone()
        .expect("a booking code");
    assert!(code.starts_with("SR1:B:"));

    let scanned = jakarta_admin(&app)
        .await?
        .scan(&ScanRequest { payload: code })
        .await?;
    assert_eq!(
        (scanned.kind, scanned.booking.map(|b| b.id)),
        (LabelKind::Booking, Some(booking.id))
    );
    Ok(())
}
