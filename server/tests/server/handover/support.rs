//! Shared set-up of the handover tests: a confirmed booking, uploaded photos and signatures, and
//! an inspection body that answers the demo car checklist.

use chrono::NaiveDate;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    fixtures::{assets, customers, seed},
    support::TestApp,
};

/// The demo car checklist's lines, and those that need a photo.
const CAR_LINES: &[&str] = &[
    "body_exterior",
    "tyres",
    "spare_tyre_jack",
    "fuel_level",
    "odometer",
    "interior_clean",
    "stnk",
];
const PHOTO_LINES: &[&str] = &["body_exterior", "fuel_level", "odometer"];

/// A tiny valid-looking PNG (signature, photo) with `salt` making it unique.
pub(crate) fn png(salt: u8) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend(std::iter::repeat_n(salt, 64));
    bytes
}

/// A JPEG-looking photo of `size` bytes.
pub(crate) fn jpeg(salt: u8, size: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend(
        (0..size.saturating_sub(4)).map(|i| salt.wrapping_add(u8::try_from(i % 251).unwrap_or(0))),
    );
    bytes
}

/// POSTs one file as `multipart/form-data`; returns the status and body.
pub(crate) async fn upload_raw(
    app: &TestApp,
    purpose: &str,
    bytes: &[u8],
) -> anyhow::Result<(u16, Value)> {
    let boundary = "sentra-test-boundary-7f3a";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/uploads?branch=JKT01&purpose={purpose}"),
        )
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// Uploads a file and answers its id.
pub(crate) async fn upload(app: &TestApp, purpose: &str, bytes: &[u8]) -> anyhow::Result<Uuid> {
    let (status, body) = upload_raw(app, purpose, bytes).await?;
    anyhow::ensure!(status == 201, "upload: {status} {body}");
    Ok(serde_json::from_value(body["id"].clone())?)
}

/// The files one inspection refers to.
pub(crate) struct Files {
    pub photos: Vec<(Uuid, &'static str)>,
    pub customer: Uuid,
    pub staff: Uuid,
}

/// Uploads one photo per photo line and two signatures (`salt` makes them unique).
pub(crate) async fn files(app: &TestApp, salt: u8) -> anyhow::Result<Files> {
    let mut photos = Vec::new();
    for (i, line) in PHOTO_LINES.iter().enumerate() {
        let salt = salt
            .wrapping_mul(7)
            .wrapping_add(u8::try_from(i).unwrap_or(0));
        photos.push((upload(app, "PHOTO", &jpeg(salt, 3000)).await?, *line));
    }
    Ok(Files {
        photos,
        customer: upload(app, "SIGNATURE", &png(salt)).await?,
        staff: upload(app, "SIGNATURE", &png(salt.wrapping_add(100))).await?,
    })
}

/// An inspection body for `booking` answering every car line.
pub(crate) fn inspection(kind: &str, booking: Uuid, files: &Files, odometer: u32) -> Value {
    json!({
        "id": Uuid::new_v4(),
        "kind": kind,
        "booking_id": booking,
        "checklist": CAR_LINES.iter().map(|k| json!({"key": k, "ok": *k != "tyres", "note": if *k == "tyres" { "ban kiri depan aus" } else { "" }})).collect::<Vec<_>>(),
        "odometer_km": odometer,
        "fuel_eighths": 6,
        "damages": [{"area": "bemper belakang", "type": "gores", "severity": "MINOR", "note": "5 cm"}],
        "photos": files.photos.iter().map(|(id, line)| json!({"upload_id": id, "checklist_key": line})).collect::<Vec<_>>(),
        "customer_signature": files.customer,
        "staff_signature": files.staff,
    })
}

/// Today's date at JKT01 (WIB).
pub(crate) fn today_wib() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// A server with the demo data, as HQ, with its JKT01 Avanzas and customers.
pub(crate) async fn app() -> anyhow::Result<(TestApp, Vec<Uuid>, Vec<Uuid>)> {
    app_with(&[]).await
}

/// [`app`] with extra environment variables (e.g. S3 storage).
pub(crate) async fn app_with(
    vars: &[(&str, &str)],
) -> anyhow::Result<(TestApp, Vec<Uuid>, Vec<Uuid>)> {
    let mut app = TestApp::spawn_with(vars).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let avanzas = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let people = customers(&app.db).await?;
    Ok((app, avanzas, people))
}

/// A CONFIRMED booking of `asset` for `[start, end)`.
pub(crate) async fn confirmed(
    app: &TestApp,
    asset: Uuid,
    customer: Uuid,
    start: NaiveDate,
    end: NaiveDate,
) -> anyhow::Result<Uuid> {
    let (status, booking) = app
        .post(
            "/api/v1/bookings",
            Some(&Uuid::new_v4().to_string()),
            &crate::fixtures::booking_body(asset, customer, start, end),
        )
        .await?;
    anyhow::ensure!(status == 201, "booking: {status} {booking}");
    let id: Uuid = serde_json::from_value(booking["id"].clone())?;
    let (status, body) = app
        .post(
            &format!("/api/v1/bookings/{id}/confirm"),
            None,
            &json!({"hold_token": booking["hold_token"]}),
        )
        .await?;
    anyhow::ensure!(status == 200, "confirm: {status} {body}");
    Ok(id)
}

/// Moves a booking's period (the test's clock: the rental "began" days ago).
pub(crate) async fn move_period(
    app: &TestApp,
    booking: Uuid,
    start: NaiveDate,
    end: NaiveDate,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE bookings SET period = daterange($2, $3, '[)'), early_days = 0, early_reason = NULL WHERE id = $1")
        .bind(booking)
        .bind(start)
        .bind(end)
        .execute(&app.db)
        .await?;
    Ok(())
}

/// SHA-256 of bytes as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// Asserts an answer is the refusal a user would see: this status and this stable code.
#[track_caller]
pub(crate) fn assert_refused(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(
        (status, body["code"].as_str()),
        (expected_status, Some(code)),
        "{body}"
    );
}
