//! Handover photos in S3 (a real S3-compatible server): streamed through the server in parts,
//! or put straight into the bucket through a presigned URL and accepted only when the bytes
//! match the declared SHA-256.

use chrono::Days;
use serde_json::json;
use uuid::Uuid;

use super::support::{
    app, app_with, assert_refused, confirmed, files, inspection, jpeg, move_period, sha256_hex,
    today_wib, upload,
};
use crate::fixtures::day;

#[tokio::test]
async fn photos_go_to_s3_streamed_or_presigned_and_are_checked_on_completion() -> anyhow::Result<()>
{
    let s3 = sentra_test_support::S3Server::start("sentra-handover")?;
    let url = format!("s3://{}/bukti", s3.bucket());
    let endpoint = s3.endpoint();
    let (app, avanzas, people) = app_with(&[
        ("SENTRA_STORAGE_URL", &url),
        ("SENTRA_S3_ENDPOINT", &endpoint),
        ("SENTRA_S3_REGION", "ap-southeast-3"),
        ("SENTRA_S3_ACCESS_KEY_ID", s3.access_key_id()),
        ("SENTRA_S3_SECRET_ACCESS_KEY", s3.secret_access_key()),
    ])
    .await?;

    // Through the server: a 7 MiB photo goes to the bucket in parts.
    let big = jpeg(3, 7 * 1024 * 1024);
    let streamed = upload(&app, "PHOTO", &big).await?;
    let sha: String = sqlx::query_scalar("SELECT sha256 FROM uploads WHERE id = $1")
        .bind(streamed)
        .fetch_one(&app.db)
        .await?;
    assert_eq!(sha, sha256_hex(&big));

    // Presigned: declare, put, complete.
    let photo = jpeg(9, 40_000);
    let (status, presigned) = app
        .post(
            "/api/v1/uploads/presign?branch=JKT01",
            None,
            &json!({"content_type": "image/jpeg", "size_bytes": photo.len(), "sha256": sha256_hex(&photo)}),
        )
        .await?;
    assert_eq!(status, 201, "{presigned}");
    let id: Uuid = serde_json::from_value(presigned["upload"]["id"].clone())?;
    let put_url = presigned["url"].as_str().unwrap_or_default().to_owned();
    assert!(put_url.starts_with(&endpoint), "{put_url}");

    an_abandoned_presigned_upload_is_removed(&app, &photo).await?;

    // Nothing put yet: not complete, and a record cannot use it.
    let (status, refused) = app
        .post(&format!("/api/v1/uploads/{id}/complete"), None, &json!({}))
        .await?;
    assert_refused(status, &refused, 409, "upload_incomplete");
    // Other bytes than declared: refused, removed, still pending.
    let mut wrong = photo.clone();
    wrong[30_000] ^= 0xFF;
    let put = reqwest::Client::new()
        .put(&put_url)
        .body(wrong)
        .send()
        .await?;
    assert!(put.status().is_success(), "{}", put.status());
    let (status, refused) = app
        .post(&format!("/api/v1/uploads/{id}/complete"), None, &json!({}))
        .await?;
    assert_refused(status, &refused, 422, "checksum_mismatch");
    let today = today_wib();
    let booking = confirmed(&app, avanzas[0], people[0], day(1), day(3)).await?;
    move_period(&app, booking, today, today + Days::new(2)).await?;
    let mut refs = files(&app, 11).await?;
    refs.photos[0].0 = id;
    let body = json!({"inspection": inspection("PICKUP", booking, &refs, 100)});
    let (status, refused) = app
        .post(&format!("/api/v1/bookings/{booking}/pickup"), None, &body)
        .await?;
    assert_refused(status, &refused, 409, "upload_incomplete");
    // The right bytes: complete, usable, and verified by reading them back from the bucket.
    let put = reqwest::Client::new()
        .put(&put_url)
        .body(photo.clone())
        .send()
        .await?;
    assert!(put.status().is_success(), "{}", put.status());
    let (status, done) = app
        .post(&format!("/api/v1/uploads/{id}/complete"), None, &json!({}))
        .await?;
    assert_eq!(
        (status, done["status"].as_str()),
        (200, Some("COMPLETE")),
        "{done}"
    );
    assert_eq!(done["sha256"], sha256_hex(&photo));
    refs.photos[1].0 = streamed;
    let body = json!({"inspection": inspection("PICKUP", booking, &refs, 100)});
    let (status, out) = app
        .post(&format!("/api/v1/bookings/{booking}/pickup"), None, &body)
        .await?;
    assert_eq!(status, 200, "{out}");
    let record = out["inspection"]["id"].as_str().unwrap_or_default();
    let (_, verification) = app
        .get_json(&format!("/api/v1/inspections/{record}/verify"))
        .await?;
    assert_eq!(verification["verified"], true, "{verification}");
    assert_eq!(verification["files_checked"], 5);
    // The URL is still valid for a while, but what it writes is not the checked photo.
    let later = reqwest::Client::new()
        .put(&put_url)
        .body(jpeg(42, 40_000))
        .send()
        .await?;
    assert!(later.status().is_success(), "{}", later.status());
    let (_, verification) = app
        .get_json(&format!("/api/v1/inspections/{record}/verify"))
        .await?;
    assert_eq!(
        verification["verified"], true,
        "the evidence cannot be replaced: {verification}"
    );
    Ok(())
}

/// A presigned upload never completed is removed after an hour, bytes and all.
async fn an_abandoned_presigned_upload_is_removed(
    app: &crate::support::TestApp,
    photo: &[u8],
) -> anyhow::Result<()> {
    let (status, abandoned) = app
        .post(
            "/api/v1/uploads/presign?branch=JKT01",
            None,
            &json!({"content_type": "image/jpeg", "size_bytes": photo.len(), "sha256": sha256_hex(photo)}),
        )
        .await?;
    assert_eq!(status, 201, "{abandoned}");
    let put = reqwest::Client::new()
        .put(abandoned["url"].as_str().unwrap_or_default())
        .body(photo.to_vec())
        .send()
        .await?;
    assert!(put.status().is_success());
    let abandoned_id: Uuid = serde_json::from_value(abandoned["upload"]["id"].clone())?;
    sqlx::query("UPDATE uploads SET created_at = now() - interval '2 hours' WHERE id = $1")
        .bind(abandoned_id)
        .execute(&app.db)
        .await?;
    assert_eq!(app.state.handovers.sweep_pending_uploads().await?, 1);
    let (status, gone) = app
        .post(
            &format!("/api/v1/uploads/{abandoned_id}/complete"),
            None,
            &json!({}),
        )
        .await?;
    assert_refused(status, &gone, 404, "not_found");

    Ok(())
}

#[tokio::test]
async fn a_server_storing_files_itself_offers_no_presigned_urls() -> anyhow::Result<()> {
    let (app, _, _) = app().await?;
    let photo = jpeg(1, 100);
    let (status, refused) = app
        .post(
            "/api/v1/uploads/presign?branch=JKT01",
            None,
            &json!({"content_type": "image/jpeg", "size_bytes": photo.len(), "sha256": sha256_hex(&photo)}),
        )
        .await?;
    assert_refused(status, &refused, 409, "conflict");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("POST /api/v1/uploads")
    );
    Ok(())
}
