//! Manual review (staff look at the documents, every look is logged), the purge after the
//! retention period, and identity documents in real S3 (moto).

use serde_json::json;
use uuid::Uuid;

use super::{
    fake_verihubs::photo,
    flow::{consent, new_customer, submission},
};
use crate::{fixtures::seed, support::TestApp};

const NIK: &str = "3171015708450001";

async fn manual_app(storage: &[(&str, &str)]) -> anyhow::Result<(TestApp, Uuid, String)> {
    let mut vars = vec![("SENTRA_EXPIRY_SWEEP_MILLIS", "50")];
    vars.extend_from_slice(storage);
    let mut app = TestApp::spawn_with(&vars).await?;
    seed(&app.db).await?;
    let customer = new_customer(&mut app, "budi.review@example.com").await?;
    consent(&app).await?;
    let (status, case) = app
        .post(
            "/api/v1/customers/me/kyc",
            None,
            &submission(NIK, &photo("ktp-budi"), &photo("selfie-budi")),
        )
        .await?;
    anyhow::ensure!(status == 201, "submit: {case}");
    anyhow::ensure!(case["status"] == "pending_review", "manual review: {case}");
    Ok((app, customer, case["id"].as_str().expect("id").to_owned()))
}

async fn wait_for_purge(app: &TestApp, case: &str) -> anyhow::Result<()> {
    // Bounded wait for the background job (runs every 50 ms here), checked by its effect.
    for _ in 0..200 {
        let purged: bool = sqlx::query_scalar(
            "SELECT images_purged_at IS NOT NULL FROM kyc_cases WHERE id = $1::uuid",
        )
        .bind(case)
        .fetch_one(&app.db)
        .await?;
        if purged {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("the purge job did not run within 10 s")
}

#[tokio::test]
async fn staff_review_the_documents_and_every_access_is_logged() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (mut app, customer, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    let (_, me) = app.get_json("/api/v1/customers/me").await?;
    assert_eq!(me["kyc_status"], "pending");
    let (status, mine) = app.get_json("/api/v1/customers/me/kyc").await?;
    assert_eq!(
        (status, mine["status"].as_str()),
        (200, Some("pending_review"))
    );
    // Customers cannot open the review queue or anyone's documents.
    assert_eq!(app.get_json("/api/v1/kyc/reviews").await?.0, 403);

    app.token = Some(
        app.staff_token("admin.jkt@demo.sentrarental.id", "demo-jkt-2026")
            .await?,
    );
    let (_, queue) = app.get_json("/api/v1/kyc/reviews").await?;
    assert_eq!(queue["items"][0]["id"], json!(case));
    assert_eq!(queue["items"][0]["nik_masked"], "3171********0001");
    let response = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/kyc/cases/{case}/documents/ktp"),
        )
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(
        response.bytes().await?.to_vec(),
        photo("ktp-budi"),
        "the reviewer sees the original photo"
    );

    let (status, body) = app
        .post(
            &format!("/api/v1/kyc/cases/{case}/decision"),
            None,
            &json!({"approve": false}),
        )
        .await?;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("reason")),
        "a rejection needs a reason"
    );
    let (status, decided) = app
        .post(
            &format!("/api/v1/kyc/cases/{case}/decision"),
            None,
            &json!({"approve": false, "reason": "Foto KTP terpotong"}),
        )
        .await?;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(
        (decided["status"].as_str(), decided["reason_code"].as_str()),
        (Some("rejected"), Some("rejected_by_staff"))
    );
    assert_eq!(decided["reason"], "Foto KTP terpotong");
    let (status, _) = app
        .post(
            &format!("/api/v1/kyc/cases/{case}/decision"),
            None,
            &json!({"approve": true}),
        )
        .await?;
    assert_eq!(status, 409, "decided once");
    let kyc_status: String = sqlx::query_scalar("SELECT kyc_status FROM customers WHERE id = $1")
        .bind(customer)
        .fetch_one(&app.db)
        .await?;
    assert_eq!(kyc_status, "rejected");

    // The audit: two uploads by the customer, one view by the admin (HQ reads the log).
    app.as_hq().await?;
    let (_, log) = app
        .get_json(&format!("/api/v1/kyc/cases/{case}/access-log"))
        .await?;
    let entries: Vec<(String, String, String)> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["document"].as_str().unwrap_or_default().to_owned(),
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["actor_kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("ktp", "upload", "customer"),
        ("selfie", "upload", "customer"),
        ("ktp", "view", "staff"),
    ];
    assert_eq!(
        entries,
        expected.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    let tampered = sqlx::query("DELETE FROM pii_access_log")
        .execute(&app.db)
        .await;
    assert!(tampered.is_err(), "the access log is append-only");
    Ok(())
}

#[tokio::test]
async fn raw_images_are_purged_after_retention_and_the_result_stays() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (mut app, _, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    app.token = Some(
        app.staff_token("admin.jkt@demo.sentrarental.id", "demo-jkt-2026")
            .await?,
    );
    let (status, _) = app
        .post(
            &format!("/api/v1/kyc/cases/{case}/decision"),
            None,
            &json!({"approve": true}),
        )
        .await?;
    assert_eq!(status, 200);
    let run_at_days: f64 = sqlx::query_scalar(
        "SELECT (extract(epoch FROM run_at - now()) / 86400)::float8 FROM jobs WHERE kind = 'kyc_purge'",
    )
    .fetch_one(&app.db)
    .await?;
    assert!(
        (29.9..=30.0).contains(&run_at_days),
        "purge due in 30 days by default: {run_at_days}"
    );

    // Thirty days pass.
    sqlx::query("UPDATE jobs SET run_at = now() WHERE kind = 'kyc_purge'")
        .execute(&app.db)
        .await?;
    wait_for_purge(&app, &case).await?;
    let remaining =
        std::fs::read_dir(dir.path().join("kyc").join(&case)).map_or(0, Iterator::count);
    assert_eq!(remaining, 0, "the encrypted objects are gone");
    let (status, body) = app
        .get_json(&format!("/api/v1/kyc/cases/{case}/documents/selfie"))
        .await?;
    assert_eq!(status, 404, "{body}");
    let (status, kept) = app.get_json(&format!("/api/v1/kyc/cases/{case}")).await?;
    assert_eq!(
        (
            status,
            kept["status"].as_str(),
            kept["images_purged"].as_bool()
        ),
        (200, Some("verified"), Some(true))
    );
    let keys: i64 =
        sqlx::query_scalar("SELECT count(*) FROM kyc_documents WHERE wrapped_key IS NOT NULL")
            .fetch_one(&app.db)
            .await?;
    assert_eq!(keys, 0, "the data keys are destroyed too");
    let purges: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pii_access_log WHERE action = 'purge' AND actor_kind = 'system'",
    )
    .fetch_one(&app.db)
    .await?;
    assert_eq!(purges, 2);
    Ok(())
}

#[tokio::test]
async fn identity_documents_live_encrypted_in_s3() -> anyhow::Result<()> {
    let s3 = sentra_test_support::S3Server::start("sentra-kyc")?;
    let url = format!("s3://{}/dokumen", s3.bucket());
    let endpoint = s3.endpoint();
    let (mut app, _, case) = manual_app(&[
        ("SENTRA_STORAGE_URL", &url),
        ("SENTRA_S3_ENDPOINT", &endpoint),
        ("SENTRA_S3_REGION", "ap-southeast-3"),
        ("SENTRA_S3_ACCESS_KEY_ID", s3.access_key_id()),
        ("SENTRA_S3_SECRET_ACCESS_KEY", s3.secret_access_key()),
    ])
    .await?;
    // The object is in the bucket under the prefix, and it is ciphertext (read with a signed
    // client of our own, as moto refuses anonymous reads).
    let bucket = sentra_server::storage::Storage::open(&sentra_server::config::StorageConfig {
        url: url.clone(),
        s3_endpoint: endpoint.clone(),
        s3_region: "ap-southeast-3".to_owned(),
        s3_access_key_id: s3.access_key_id().to_owned(),
        s3_secret_access_key: s3.secret_access_key().to_owned().into(),
    })?;
    let key = format!("kyc/{case}/ktp");
    let stored = bucket
        .get(&key)
        .await?
        .expect("the KTP object is in the bucket");
    assert!(!stored.windows(8).any(|w| w == b"ktp-budi"));
    app.token = Some(
        app.staff_token("admin.jkt@demo.sentrarental.id", "demo-jkt-2026")
            .await?,
    );
    let response = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/kyc/cases/{case}/documents/selfie"),
        )
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await?.to_vec(), photo("selfie-budi"));

    // The purge deletes from the bucket too.
    app.post(
        &format!("/api/v1/kyc/cases/{case}/decision"),
        None,
        &json!({"approve": true}),
    )
    .await?;
    sqlx::query("UPDATE jobs SET run_at = now() WHERE kind = 'kyc_purge'")
        .execute(&app.db)
        .await?;
    wait_for_purge(&app, &case).await?;
    assert!(bucket.get(&key).await?.is_none(), "deleted from the bucket");
    Ok(())
}

#[tokio::test]
async fn withdrawing_consent_closes_reviews_and_deletes_the_photos_now() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (app, customer, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    let response = app
        .request(reqwest::Method::DELETE, "/api/v1/customers/me/consents/kyc")
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let withdrawal: serde_json::Value = response.json().await?;
    assert_eq!(
        (
            withdrawal["reviews_closed"].as_u64(),
            withdrawal["photos_deleted"].as_u64()
        ),
        (Some(1), Some(1))
    );
    wait_for_purge(&app, &case).await?;
    let (_, mine) = app.get_json("/api/v1/customers/me/kyc").await?;
    assert_eq!(
        (
            mine["status"].as_str(),
            mine["reason_code"].as_str(),
            mine["images_purged"].as_bool()
        ),
        (Some("rejected"), Some("consent_withdrawn"), Some(true))
    );
    let kyc_status: String = sqlx::query_scalar("SELECT kyc_status FROM customers WHERE id = $1")
        .bind(customer)
        .fetch_one(&app.db)
        .await?;
    assert_eq!(kyc_status, "unverified");
    // Nothing new is accepted until the customer consents again; withdrawing twice is a 404.
    let (status, body) = app
        .post(
            "/api/v1/customers/me/kyc",
            None,
            &submission(NIK, &photo("ktp-2"), &photo("selfie-2")),
        )
        .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("consent_required"))
    );
    let again = app
        .request(reqwest::Method::DELETE, "/api/v1/customers/me/consents/kyc")
        .send()
        .await?;
    assert_eq!(again.status(), 404);
    Ok(())
}

#[tokio::test]
async fn reviewers_cannot_verify_one_ktp_for_two_accounts() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (mut app, _, first) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    // A second account submits the same KTP before anyone has decided on the first.
    new_customer(&mut app, "budi.kembar@example.com").await?;
    consent(&app).await?;
    let (status, second) = app
        .post(
            "/api/v1/customers/me/kyc",
            None,
            &submission(NIK, &photo("ktp-budi"), &photo("selfie-lain")),
        )
        .await?;
    assert_eq!(
        (status, second["status"].as_str()),
        (201, Some("pending_review"))
    );
    app.token = Some(
        app.staff_token("admin.jkt@demo.sentrarental.id", "demo-jkt-2026")
            .await?,
    );
    let (status, _) = app
        .post(
            &format!("/api/v1/kyc/cases/{first}/decision"),
            None,
            &json!({"approve": true}),
        )
        .await?;
    assert_eq!(status, 200);
    let second = second["id"].as_str().expect("id");
    let (status, body) = app
        .post(
            &format!("/api/v1/kyc/cases/{second}/decision"),
            None,
            &json!({"approve": true}),
        )
        .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let verified: i64 =
        sqlx::query_scalar("SELECT count(*) FROM kyc_cases WHERE status = 'verified'")
            .fetch_one(&app.db)
            .await?;
    assert_eq!(verified, 1);
    // Rejecting the duplicate still works.
    let (status, _) = app
        .post(
            &format!("/api/v1/kyc/cases/{second}/decision"),
            None,
            &json!({"approve": false, "reason": "KTP milik akun lain"}),
        )
        .await?;
    assert_eq!(status, 200);
    Ok(())
}
