//! The printed documents of a handover: numbered gap-free per branch, kind and year, the same
//! document when printed again, stored with their hash, and their text and QR code checked the way
//! a reader and a scanner see them.

use chrono::{Datelike, Days};
use serde_json::{Value, json};
use uuid::Uuid;

use super::support::{
    app_with, assert_refused, confirmed, files, inspection, move_period, today_wib,
};
use crate::{fixtures::day, support::TestApp};

/// A picked-up rental; its pickup record's hash.
async fn picked_up(
    app: &TestApp,
    asset: Uuid,
    customer: Uuid,
    salt: u8,
) -> anyhow::Result<(Uuid, String)> {
    let today = today_wib();
    let booking = confirmed(app, asset, customer, day(1), day(3)).await?;
    move_period(app, booking, today, today + Days::new(2)).await?;
    let refs = files(app, salt).await?;
    let (status, out) = app
        .post(
            &format!("/api/v1/bookings/{booking}/pickup"),
            None,
            &json!({"inspection": inspection("PICKUP", booking, &refs, 42_100)}),
        )
        .await?;
    anyhow::ensure!(status == 200, "{out}");
    Ok((
        booking,
        out["inspection"]["tamper_proof_hash"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    ))
}

async fn document(app: &TestApp, booking: Uuid, kind: &str) -> anyhow::Result<(u16, Value)> {
    app.post(
        &format!("/api/v1/bookings/{booking}/documents/{kind}"),
        None,
        &json!({}),
    )
    .await
}

#[tokio::test]
async fn documents_are_numbered_gap_free_and_printed_once_per_handover() -> anyhow::Result<()> {
    let (app, avanzas, people) =
        app_with(&[("SENTRA_PUBLIC_URL", "https://sewa.example.id/")]).await?;
    let year = today_wib().year();
    // Before the handover there is nothing to print.
    let booking = confirmed(&app, avanzas[3], people[0], day(1), day(3)).await?;
    let (status, refused) = document(&app, booking, "surat-jalan").await?;
    assert_refused(status, &refused, 409, "invalid_state");

    let (first, hash) = picked_up(&app, avanzas[0], people[0], 1).await?;
    let (second, _) = picked_up(&app, avanzas[1], people[1], 2).await?;
    let (status, sj1) = document(&app, first, "surat-jalan").await?;
    assert_eq!(status, 201, "{sj1}");
    assert_eq!(sj1["number"], format!("SJ/JKT01/{year}/000001"));
    let (status, again) = document(&app, first, "surat-jalan").await?;
    assert_eq!(
        (status, &again["id"], &again["number"]),
        (200, &sj1["id"], &sj1["number"]),
        "printed again: the same document"
    );
    let (_, sj2) = document(&app, second, "surat-jalan").await?;
    assert_eq!(
        sj2["number"],
        format!("SJ/JKT01/{year}/000002"),
        "the next number, no gap"
    );
    let (status, ps1) = document(&app, first, "agreement").await?;
    assert_eq!(status, 201, "{ps1}");
    assert_eq!(
        ps1["number"],
        format!("PS/JKT01/{year}/000001"),
        "agreements count on their own"
    );
    let (status, unknown) = document(&app, first, "kwitansi").await?;
    assert_eq!(status, 404, "{unknown}");

    // The stored PDF: its hash as recorded, its text and its QR code.
    let pdf = app
        .request(
            reqwest::Method::GET,
            sj1["pdf_path"].as_str().unwrap_or_default(),
        )
        .send()
        .await?;
    assert_eq!(pdf.status().as_u16(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await?.to_vec();
    assert_eq!(
        super::support::sha256_hex(&bytes),
        sj1["sha256"].as_str().unwrap_or_default()
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("sj.pdf");
    std::fs::write(&path, &bytes)?;
    let (qr, text) = sentra_test_support::pdf::read_back_page(&path, 1);
    assert_eq!(
        qr,
        format!("https://sewa.example.id/v/{hash}"),
        "the QR opens the pickup record"
    );
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let customer: String = sqlx::query_scalar("SELECT full_name FROM customers WHERE id = $1")
        .bind(people[0])
        .fetch_one(&app.db)
        .await?;
    let plate: String = sqlx::query_scalar("SELECT plate_or_serial FROM assets WHERE id = $1")
        .bind(avanzas[0])
        .fetch_one(&app.db)
        .await?;
    for expected in [
        format!("Nomor: SJ/JKT01/{year}/000001"),
        customer,
        plate,
        "42.100 km".to_owned(),
        "6/8".to_owned(),
        "Waktu Indonesia Barat (WIB)".to_owned(),
        "12:00 WIB".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} missing: {text}");
    }
    // The document rows are append-only too.
    let id: Uuid = serde_json::from_value(sj1["id"].clone())?;
    let changed = sqlx::query("UPDATE documents SET number = 'SJ/X' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await;
    assert!(
        changed
            .expect_err("refused")
            .to_string()
            .contains("append-only")
    );
    Ok(())
}
