//! Inventory through the API: branches with their partitions, SKUs, assets, transfers with their
//! notes, QR labels and scans.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    fixtures::{assets, booking_body, customers, day, overlapping_pairs, seed},
    support::TestApp,
};

async fn jakarta_admin(app: &TestApp) -> anyhow::Result<String> {
    app.staff_token("admin.jkt@demo.sentrarental.id", "demo-jkt-2026")
        .await
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn hq_opens_a_branch_and_it_can_take_bookings_at_once() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let (status, branch) = app
        .post(
            "/api/v1/branches",
            None,
            &json!({"code": "SUB01", "name": "Surabaya Juanda", "address": "Jl. Raya Juanda 1", "time_zone": "Asia/Jakarta"}),
        )
        .await?;
    assert_eq!(status, 201, "{branch}");
    let branch_id: Uuid = branch["id"].as_str().expect("id").parse()?;
    let partition = format!("bookings_{}", branch_id.simple());
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(&partition)
        .fetch_one(&app.db)
        .await?;
    assert!(exists, "the branch's bookings partition exists");

    let (status, asset) = app
        .post(
            "/api/v1/assets",
            None,
            &json!({"sku_code": "AVANZA-13G-AT", "branch_code": "SUB01", "plate_or_serial": " l 1234 ab ", "odometer_km": 500}),
        )
        .await?;
    assert_eq!(status, 201, "{asset}");
    assert_eq!(asset["plate_or_serial"], "L 1234 AB");
    let people = customers(&app.db).await?;
    let (status, booking) = app
        .post(
            "/api/v1/bookings",
            Some("sub-1"),
            &booking_body(
                asset["id"].as_str().expect("id").parse()?,
                people[0],
                day(2),
                day(4),
            ),
        )
        .await?;
    assert_eq!(status, 201, "{booking}");
    assert_eq!(booking["branch_id"], branch["id"]);

    let (status, body) = app
        .post(
            "/api/v1/branches",
            None,
            &json!({"code": "SUB01", "name": "Again", "time_zone": "Asia/Jakarta"}),
        )
        .await?;
    assert_eq!((status, code(&body)), (409, "conflict"));
    let (status, body) = app
        .post(
            "/api/v1/branches",
            None,
            &json!({"code": "x", "name": "", "time_zone": "Europe/Berlin"}),
        )
        .await?;
    assert_eq!((status, code(&body)), (422, "validation_failed"));
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["code", "name", "time_zone"],
        "every bad field is named"
    );
    let (_, list) = app.get_json("/api/v1/branches").await?;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3));
    Ok(())
}

#[tokio::test]
async fn skus_carry_prices_late_fees_and_a_checked_checklist() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let sku = json!({
        "code": "XPANDER-ULT", "name": "Mitsubishi Xpander Ultimate", "category": "car",
        "daily_rate_idr": 550_000, "deposit_idr": 1_000_000,
        "late_fee": {"grace_minutes": 60, "per_hour_idr": 55_000, "daily_cap_idr": 550_000},
        "turnaround_buffer_days": 1,
        "checklist": [{"key": "fuel_level", "label_id": "Level BBM", "label_en": "Fuel level", "requires_photo": true}]
    });
    let (status, created) = app.post("/api/v1/skus", None, &sku).await?;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["checklist"][0]["key"], "fuel_level");

    let response = app
        .request(reqwest::Method::PATCH, "/api/v1/skus/XPANDER-ULT")
        .json(&json!({"daily_rate_idr": 600_000, "checklist": [
            {"key": "jack", "label_id": "Dongkrak", "label_en": "Jack"},
            {"key": "jack", "label_id": "Dongkrak", "label_en": "Jack"}]}))
        .send()
        .await?;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await?;
    assert_eq!(body["errors"][0]["field"], "checklist");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("line 2"),
        "{body}"
    );

    let response = app
        .request(reqwest::Method::PATCH, "/api/v1/skus/XPANDER-ULT")
        .json(&json!({"daily_rate_idr": 600_000}))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let (_, list) = app.get_json("/api/v1/skus").await?;
    let xpander = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["code"] == "XPANDER-ULT")
        .cloned();
    assert_eq!(
        xpander.as_ref().map(|s| s["daily_rate_idr"].clone()),
        Some(json!(600_000))
    );
    assert_eq!(
        xpander.map(|s| s["deposit_idr"].clone()),
        Some(json!(1_000_000)),
        "unsent fields stay"
    );

    let mut bad = sku.clone();
    bad["code"] = json!("BAD-FEE");
    bad["late_fee"] = json!({"grace_minutes": 60, "per_hour_idr": 55_000, "daily_cap_idr": 10});
    let (status, body) = app.post("/api/v1/skus", None, &bad).await?;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "late_fee");

    // Branch staff read the catalogue but do not shape it.
    app.token = Some(jakarta_admin(&app).await?);
    let (status, _) = app.post("/api/v1/skus", None, &sku).await?;
    assert_eq!(status, 403);
    Ok(())
}

#[tokio::test]
async fn branch_admins_manage_their_own_fleet_only() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.token = Some(jakarta_admin(&app).await?);
    let body =
        json!({"sku_code": "VARIO-125", "branch_code": "DPS01", "plate_or_serial": "DK 9999 ZZ"});
    let (status, _) = app.post("/api/v1/assets", None, &body).await?;
    assert_eq!(status, 403, "not at another branch");
    let (status, _) = app.get_json("/api/v1/assets?branch=DPS01").await?;
    assert_eq!(status, 403);
    let (status, fleet) = app.get_json("/api/v1/assets").await?;
    assert_eq!(status, 200);
    let fleet = fleet["items"].as_array().expect("items").clone();
    assert!(!fleet.is_empty() && fleet.iter().all(|a| a["home_branch_code"] == "JKT01"));
    let bali = assets(&app.db, "VARIO-125", "DPS01").await?[0];
    let (status, body) = app.get_json(&format!("/api/v1/assets/{bali}")).await?;
    assert_eq!(
        status, 404,
        "other branches' assets do not exist for you: {body}"
    );

    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let other = fleet
        .iter()
        .find(|a| a["id"] != json!(avanza) && a["odometer_km"].is_i64())
        .expect("a second vehicle");
    let mine = other["id"].as_str().expect("id").to_owned();
    let patch = |body: Value| {
        app.request(reqwest::Method::PATCH, &format!("/api/v1/assets/{mine}"))
            .json(&body)
            .send()
    };
    let km = other["odometer_km"].as_i64().expect("odometer");
    let response = patch(json!({"odometer_km": km - 1})).await?;
    assert_eq!(response.status(), 422, "odometers never go down");
    let response = patch(json!({"status": "maintenance", "odometer_km": km + 250})).await?;
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await?;
    assert_eq!(
        (updated["status"].as_str(), updated["odometer_km"].as_i64()),
        (Some("maintenance"), Some(km + 250))
    );

    // An asset with an open booking cannot be retired; once retired it stays retired.
    let people = customers(&app.db).await?;
    let (status, _) = app
        .post(
            "/api/v1/bookings",
            Some("r1"),
            &booking_body(avanza, people[0], day(5), day(6)),
        )
        .await?;
    assert_eq!(status, 201);
    let retire = app
        .request(reqwest::Method::PATCH, &format!("/api/v1/assets/{avanza}"))
        .json(&json!({"status": "retired"}))
        .send()
        .await?;
    assert_eq!(retire.status(), 409);
    assert_eq!(retire.json::<Value>().await?["code"], "asset_in_use");
    assert_eq!(patch(json!({"status": "retired"})).await?.status(), 200);
    assert_eq!(patch(json!({"status": "active"})).await?.status(), 409);
    Ok(())
}

#[tokio::test]
async fn a_transfer_moves_the_asset_and_its_future_bookings_with_a_note() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let (_, first) = app
        .post(
            "/api/v1/bookings",
            Some("t1"),
            &booking_body(avanza, people[0], day(3), day(5)),
        )
        .await?;
    let (_, second) = app
        .post(
            "/api/v1/bookings",
            Some("t2"),
            &booking_body(avanza, people[1], day(10), day(12)),
        )
        .await?;
    let transfer = json!({"to_branch_code": "DPS01", "reason": "Libur Natal: armada Bali kurang"});

    // A Jakarta admin does not work in Bali: only HQ (or staff of both) may move it there.
    let admin = app.token.replace(jakarta_admin(&app).await?);
    let (status, body) = app
        .post(
            &format!("/api/v1/assets/{avanza}/transfer"),
            None,
            &transfer,
        )
        .await?;
    assert_eq!(status, 403, "{body}");
    app.token = admin;

    let (status, note) = app
        .post(
            &format!("/api/v1/assets/{avanza}/transfer"),
            None,
            &transfer,
        )
        .await?;
    assert_eq!(status, 201, "{note}");
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(note["number"], format!("TR/JKT01/{year}/000001"));
    assert_eq!(
        (note["from"]["code"].as_str(), note["to"]["code"].as_str()),
        (Some("JKT01"), Some("DPS01"))
    );
    let moved: Vec<&Value> = note["moved_bookings"]
        .as_array()
        .expect("moved")
        .iter()
        .map(|b| &b["id"])
        .collect();
    assert_eq!(moved, [&first["id"], &second["id"]]);
    assert_eq!(note["issued_by"], "hq");

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
    let (status, clash) = app
        .post(
            "/api/v1/bookings",
            Some("t3"),
            &booking_body(avanza, people[2], day(4), day(6)),
        )
        .await?;
    // (The bookings in the way are other customers' unpaid holds.)
    assert_eq!((status, code(&clash)), (409, "asset_held"));
    assert_eq!(overlapping_pairs(&app.db).await?, 0);

    // The note is there for both branches' admins, and only for them.
    let path = format!("/api/v1/transfers/{}", note["id"].as_str().expect("id"));
    let (status, again) = app.get_json(&path).await?;
    assert_eq!((status, &again["number"]), (200, &note["number"]));
    app.token = Some(jakarta_admin(&app).await?);
    assert_eq!(
        app.get_json(&path).await?.0,
        200,
        "the sending branch keeps its copy"
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/assets/{avanza}")).await?.0,
        404,
        "no longer a Jakarta asset"
    );
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
    let (status, body) = app
        .post(
            &format!("/api/v1/assets/{avanza}/transfer"),
            None,
            &json!({"to_branch_code": "DPS01", "reason": "x"}),
        )
        .await?;
    assert_eq!((status, code(&body)), (409, "asset_in_use"), "{body}");
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
    app.token = Some(jakarta_admin(&app).await?);
    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let (status, label) = app
        .get_json(&format!("/api/v1/assets/{avanza}/label"))
        .await?;
    assert_eq!(status, 200);
    let payload = label["payload"].as_str().expect("payload").to_owned();
    assert!(payload.starts_with("SR1:A:"), "{payload}");

    let (status, scanned) = app
        .post(
            "/api/v1/scans",
            None,
            &json!({"payload": format!("{payload}\r\n")}),
        )
        .await?;
    assert_eq!(status, 200, "{scanned}");
    assert_eq!(
        (scanned["kind"].as_str(), scanned["asset"]["id"].as_str()),
        (Some("asset"), Some(avanza.to_string().as_str()))
    );

    // A label made without the server's secret: same shape, wrong signature.
    let forged = sentra_domain::label::sign(
        b"not-the-server-secret-0123456789",
        sentra_domain::label::LabelKind::Asset,
        avanza,
        1,
    );
    let (status, body) = app
        .post("/api/v1/scans", None, &json!({"payload": forged}))
        .await?;
    assert_eq!((status, code(&body)), (422, "invalid_label"));
    let (status, body) = app
        .post(
            "/api/v1/scans",
            None,
            &json!({"payload": "https://example.com/promo"}),
        )
        .await?;
    assert_eq!((status, code(&body)), (422, "invalid_label"));

    let (status, reissued) = app
        .post(
            &format!("/api/v1/assets/{avanza}/label/reissue"),
            None,
            &json!({}),
        )
        .await?;
    assert_eq!((status, reissued["label_version"].as_i64()), (200, Some(2)));
    let (status, body) = app
        .post("/api/v1/scans", None, &json!({"payload": payload}))
        .await?;
    assert_eq!(
        (status, code(&body)),
        (422, "invalid_label"),
        "the old label no longer scans"
    );
    let (status, _) = app
        .post(
            "/api/v1/scans",
            None,
            &json!({"payload": reissued["payload"]}),
        )
        .await?;
    assert_eq!(status, 200);

    let (status, content_type, pdf) = app
        .get(&format!("/api/v1/assets/{avanza}/label.pdf"))
        .await?;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    assert!(pdf.starts_with("%PDF-1.4"));

    // A Bali admin scanning a Jakarta label learns nothing about it.
    app.token = Some(
        app.staff_token("admin.dps@demo.sentrarental.id", "demo-dps-2026")
            .await?,
    );
    let (status, _) = app
        .post(
            "/api/v1/scans",
            None,
            &json!({"payload": reissued["payload"]}),
        )
        .await?;
    assert_eq!(status, 404);
    Ok(())
}

#[tokio::test]
async fn customers_see_a_booking_code_the_counter_can_scan() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let email: String = sqlx::query_scalar(
        "SELECT email FROM customers WHERE email IS NOT NULL ORDER BY full_name LIMIT 1",
    )
    .fetch_one(&app.db)
    .await?;
    let (_, tokens) = app
        .post(
            "/api/v1/auth/customer/login",
            None,
            &json!({"login": email, "password": "demo-pelanggan-2026"}),
        )
        .await?;
    app.token = tokens["access_token"].as_str().map(str::to_owned);
    let (_, me) = app.get_json("/api/v1/customers/me").await?;
    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let (status, booking) = app
        .post(
            "/api/v1/bookings",
            Some("qr"),
            &booking_body(
                avanza,
                me["id"].as_str().expect("id").parse()?,
                day(2),
                day(3),
            ),
        )
        .await?;
    assert_eq!(status, 201, "{booking}");
    let (_, mine) = app.get_json("/api/v1/customers/me/bookings").await?;
    let code = mine["items"][0]["qr_payload"]
        .as_str()
        .expect("a booking code")
        .to_owned();
    assert!(code.starts_with("SR1:B:"));

    app.token = Some(jakarta_admin(&app).await?);
    let (status, scanned) = app
        .post("/api/v1/scans", None, &json!({"payload": code}))
        .await?;
    assert_eq!(status, 200, "{scanned}");
    assert_eq!(
        (scanned["kind"].as_str(), &scanned["booking"]["id"]),
        (Some("booking"), &booking["id"])
    );
    Ok(())
}
