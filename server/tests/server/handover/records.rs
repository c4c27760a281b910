//! Inspection records as evidence: append-only in Postgres, and verification that names exactly
//! what was changed (a photo's byte, a field of the stored JSON, a record removed from the
//! chain); the public verify page; uploads' limits, types and encryption.

use chrono::Days;
use serde_json::{Value, json};
use uuid::Uuid;

use super::support::{
    app, assert_refused, confirmed, files, inspection, move_period, png, today_wib, upload,
    upload_raw,
};
use crate::{fixtures::day, support::TestApp};

/// A picked-up and returned rental of `asset`: its two records (ids, hashes).
async fn two_records(
    app: &TestApp,
    asset: Uuid,
    customer: Uuid,
    salt: u8,
) -> anyhow::Result<Vec<(String, String)>> {
    let today = today_wib();
    let booking = confirmed(app, asset, customer, day(1), day(3)).await?;
    move_period(app, booking, today, today + Days::new(2)).await?;
    let mut records = Vec::new();
    for (kind, path, salt) in [
        ("PICKUP", "pickup", salt),
        ("RETURN", "return", salt.wrapping_add(50)),
    ] {
        let files = files(app, salt).await?;
        let (status, done) = app
            .post(
                &format!("/api/v1/bookings/{booking}/{path}"),
                None,
                &json!({"inspection": inspection(kind, booking, &files, 7_000)}),
            )
            .await?;
        anyhow::ensure!(status == 200, "{kind}: {status} {done}");
        let inspection = &done["inspection"];
        records.push((
            inspection["id"].as_str().unwrap_or_default().to_owned(),
            inspection["tamper_proof_hash"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ));
    }
    Ok(records)
}

/// Runs `sql` on record `id` as someone with database access who switches the append-only
/// guard off (and on again) would.
async fn bypassing_append_only(app: &TestApp, sql: &'static str, id: Uuid) -> anyhow::Result<()> {
    let mut tx = app.db.begin().await?;
    sqlx::query("ALTER TABLE inspections DISABLE TRIGGER inspections_append_only")
        .execute(&mut *tx)
        .await?;
    sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    sqlx::query("ALTER TABLE inspections ENABLE TRIGGER inspections_append_only")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn verify(app: &TestApp, id: &str) -> anyhow::Result<Value> {
    let (status, verification) = app
        .get_json(&format!("/api/v1/inspections/{id}/verify"))
        .await?;
    anyhow::ensure!(status == 200, "verify: {status} {verification}");
    Ok(verification)
}

fn codes(verification: &Value) -> Vec<(String, String)> {
    verification["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| {
                    (
                        f["code"].as_str().unwrap_or_default().to_owned(),
                        f["subject"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn records_are_append_only_in_postgres() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let records = two_records(&app, avanzas[0], people[0], 10).await?;
    let id: Uuid = records[0].0.parse()?;
    let update = sqlx::query("UPDATE inspections SET odometer_km = 1 WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await;
    let delete = sqlx::query("DELETE FROM inspections WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await;
    let truncate = sqlx::query("TRUNCATE inspections CASCADE")
        .execute(&app.db)
        .await;
    for result in [update.map(|_| ()), delete.map(|_| ()), truncate.map(|_| ())] {
        let err = result.expect_err("refused by the table itself");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert_eq!(verify(&app, &records[1].0).await?["verified"], true);
    Ok(())
}

#[tokio::test]
async fn one_changed_photo_byte_is_named() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let records = two_records(&app, avanzas[0], people[0], 20).await?;
    let (status, record) = app
        .get_json(&format!("/api/v1/inspections/{}", records[0].0))
        .await?;
    assert_eq!(status, 200);
    let key = record["photos"][1]["object_key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let path = app.storage_dir().join(&key);
    let mut bytes = std::fs::read(&path)?;
    bytes[1000] ^= 0x01;
    std::fs::write(&path, &bytes)?;

    let verification = verify(&app, &records[0].0).await?;
    assert_eq!(verification["verified"], false);
    assert_eq!(
        codes(&verification),
        [("photo_altered".to_owned(), "photos[1]".to_owned())]
    );
    assert_eq!(
        verification["recomputed_hash"], verification["tamper_proof_hash"],
        "the JSON itself is intact"
    );
    // The public page says so too.
    let (status, content_type, html) = app.get(&format!("/v/{}", records[0].1)).await?;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(
        html.contains("TIDAK COCOK") && html.contains("photos[1]"),
        "{html}"
    );
    // The other record of the chain still verifies on its own files.
    let later = verify(&app, &records[1].0).await?;
    assert_eq!(later["verified"], true, "{later}");
    Ok(())
}

#[tokio::test]
async fn one_changed_field_of_the_stored_json_is_named() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let records = two_records(&app, avanzas[1], people[0], 30).await?;
    // Someone with database access bypasses the append-only guard and lowers the odometer.
    bypassing_append_only(
        &app,
        "UPDATE inspections SET payload = jsonb_set(payload, '{odometer_km}', '6500') WHERE id = $1",
        records[1].0.parse()?,
    )
    .await?;

    let verification = verify(&app, &records[1].0).await?;
    assert_eq!(verification["verified"], false);
    assert_ne!(
        verification["recomputed_hash"],
        verification["tamper_proof_hash"]
    );
    let found = codes(&verification);
    assert!(
        found.contains(&("payload_altered".to_owned(), "odometer_km".to_owned())),
        "{found:?}"
    );
    assert!(
        found.contains(&("column_differs".to_owned(), "odometer_km".to_owned())),
        "{found:?}"
    );
    assert_eq!(found.len(), 2, "nothing else is blamed: {found:?}");
    let (_, _, html) = app.get(&format!("/v/{}", records[1].1)).await?;
    assert!(html.contains("odometer_km"), "{html}");
    Ok(())
}

#[tokio::test]
async fn a_record_deleted_from_the_chain_is_named() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let mut records = two_records(&app, avanzas[2], people[0], 40).await?;
    records.extend(two_records(&app, avanzas[2], people[1], 60).await?);
    bypassing_append_only(
        &app,
        "DELETE FROM inspections WHERE id = $1",
        records[1].0.parse()?,
    )
    .await?;

    // Any record of the asset names the missing place in its chain.
    for (id, _) in [&records[0], &records[3]] {
        let verification = verify(&app, id).await?;
        assert_eq!(verification["verified"], false);
        assert_eq!(
            codes(&verification),
            [("record_missing".to_owned(), "seq 2".to_owned())],
            "{verification}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_verify_page_shows_what_was_recorded_and_no_personal_data() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let records = two_records(&app, avanzas[0], people[0], 70).await?;
    let anonymous = |path: String| {
        let request = app.client.get(format!("{}{path}", app.base_url));
        async move {
            let response = request.send().await?;
            anyhow::Ok((response.status().as_u16(), response.text().await?))
        }
    };
    let (status, html) = anonymous(format!("/v/{}", records[0].1)).await?;
    assert_eq!(status, 200);
    assert!(html.contains("Terverifikasi"), "{html}");
    assert!(
        html.contains("7000 km")
            && html.contains("ban kiri depan aus")
            && html.contains("bemper belakang"),
        "{html}"
    );
    let plate: String = sqlx::query_scalar("SELECT plate_or_serial FROM assets WHERE id = $1")
        .bind(avanzas[0])
        .fetch_one(&app.db)
        .await?;
    assert!(html.contains(&plate));
    let name: String = sqlx::query_scalar("SELECT full_name FROM customers WHERE id = $1")
        .bind(people[0])
        .fetch_one(&app.db)
        .await?;
    assert!(
        !html.contains(&name),
        "the customer's name is not shown to whoever scans"
    );
    let (status, html) = anonymous(format!("/v/{}", "0".repeat(64))).await?;
    assert_eq!(status, 404);
    assert!(html.contains("Tidak ditemukan"));
    Ok(())
}

#[tokio::test]
async fn uploads_are_checked_and_signatures_encrypted_at_rest() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let (status, refused) = upload_raw(&app, "PHOTO", b"%PDF-1.7 not an image at all").await?;
    assert_refused(status, &refused, 415, "unsupported_media_type");
    let (status, refused) =
        upload_raw(&app, "SIGNATURE", &super::support::jpeg(1, 600 * 1024)).await?;
    assert_refused(status, &refused, 413, "payload_too_large");
    let (status, refused) = upload_raw(
        &app,
        "PHOTO",
        &super::support::jpeg(1, 10 * 1024 * 1024 + 1),
    )
    .await?;
    assert_eq!(status, 413, "{refused}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM uploads")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(rows, 0, "nothing refused is recorded");
    let leftovers = walk(app.storage_dir());
    assert!(
        leftovers.iter().all(|p| !p.contains("handover/")),
        "no half-written object: {leftovers:?}"
    );

    let signature = png(9);
    let id = upload(&app, "SIGNATURE", &signature).await?;
    let key: String = sqlx::query_scalar("SELECT object_key FROM uploads WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await?;
    let stored = std::fs::read(app.storage_dir().join(&key))?;
    assert!(
        !stored.windows(4).any(|w| w == b"IHDR"),
        "the signature image is not stored in the clear"
    );

    // A record may only refer to complete files of its branch.
    let today = today_wib();
    let booking = confirmed(&app, avanzas[4], people[0], day(1), day(3)).await?;
    move_period(&app, booking, today, today + Days::new(2)).await?;
    let mut refs = files(&app, 80).await?;
    refs.photos[0].0 = Uuid::new_v4();
    let (status, refused) = app
        .post(
            &format!("/api/v1/bookings/{booking}/pickup"),
            None,
            &json!({"inspection": inspection("PICKUP", booking, &refs, 1)}),
        )
        .await?;
    assert_refused(status, &refused, 409, "upload_incomplete");
    let (_, still) = app.get_json(&format!("/api/v1/bookings/{booking}")).await?;
    assert_eq!(still["status"], "CONFIRMED", "nothing changed");
    Ok(())
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test]
async fn a_changed_byte_of_an_encrypted_signature_is_named() -> anyhow::Result<()> {
    let (app, avanzas, people) = app().await?;
    let records = two_records(&app, avanzas[3], people[0], 90).await?;
    let payload: serde_json::Value =
        sqlx::query_scalar("SELECT payload FROM inspections WHERE id = $1")
            .bind(records[0].0.parse::<Uuid>()?)
            .fetch_one(&app.db)
            .await?;
    let key = payload["signatures"]["customer"]["object_key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let path = app.storage_dir().join(&key);
    let mut bytes = std::fs::read(&path)?;
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes)?;
    let verification = verify(&app, &records[0].0).await?;
    assert_eq!(
        codes(&verification),
        [(
            "signature_altered".to_owned(),
            "signatures.customer".to_owned()
        )]
    );
    Ok(())
}
