//! Manual review (staff look at the documents, every look is logged), the purge after the
//! retention period, and identity documents in real S3 (moto). Through the typed client; raw
//! HTTP where a header is the point (`Cache-Control: no-store`).

use sentra_api_client::ApiClient;
use sentra_domain::{
    ActorKind, CustomerKycStatus, DocumentAction, IdentityDocument, KycCaseStatus, KycRejectReason,
};
use sentra_protocol::{KycCase, KycDecisionRequest};
use uuid::Uuid;

use super::{
    fake_verihubs::photo,
    flow::{consent, new_customer, typed_submission},
};
use crate::{fixtures::seed, support::TestApp};

const NIK: &str = "3171015708450001";

/// A server with manual review and a customer whose KTP awaits it (the app acts as them).
pub(crate) async fn manual_app(
    storage: &[(&str, &str)],
) -> anyhow::Result<(TestApp, Uuid, KycCase)> {
    let mut vars = vec![("SENTRA_EXPIRY_SWEEP_MILLIS", "50")];
    vars.extend_from_slice(storage);
    let mut app = TestApp::spawn_with(&vars).await?;
    seed(&app.db).await?;
    let customer = new_customer(&mut app, "budi.review@example.com").await?;
    consent(&app).await?;
    let case = app
        .api()
        .submit_kyc(&typed_submission(
            NIK,
            &photo("ktp-budi"),
            &photo("selfie-budi"),
        ))
        .await?;
    anyhow::ensure!(
        case.status == KycCaseStatus::PendingReview,
        "manual review: {case:?}"
    );
    Ok((app, customer, case))
}

/// The KYC reviewer's client.
pub(crate) async fn reviewer(app: &TestApp) -> anyhow::Result<ApiClient> {
    let token = app
        .staff_token("verifikasi@demo.sentrarental.id", "demo-kyc-2026")
        .await?;
    Ok(app.api().with_token(&token))
}

/// A branch admin's client.
async fn branch_admin(app: &TestApp, email: &str, password: &str) -> anyhow::Result<ApiClient> {
    let token = app.staff_token(email, password).await?;
    Ok(app.api().with_token(&token))
}

fn decision(approve: bool, reason: Option<&str>) -> KycDecisionRequest {
    KycDecisionRequest {
        approve,
        reason: reason.map(str::to_owned),
    }
}

/// The customer's KYC status as stored (its spelling in the database).
async fn stored_kyc_status(app: &TestApp, customer: Uuid) -> anyhow::Result<String> {
    Ok(
        sqlx::query_scalar("SELECT kyc_status FROM customers WHERE id = $1")
            .bind(customer)
            .fetch_one(&app.db)
            .await?,
    )
}

pub(crate) async fn wait_for_purge(app: &TestApp, case: Uuid) -> anyhow::Result<()> {
    // Bounded wait for the background job (runs every 50 ms here), checked by its effect.
    for _ in 0..200 {
        let purged: bool =
            sqlx::query_scalar("SELECT images_purged_at IS NOT NULL FROM kyc_cases WHERE id = $1")
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
    let me = app.api();
    assert_eq!(
        me.my_profile().await?.kyc_status,
        CustomerKycStatus::Pending
    );
    assert_eq!(me.my_kyc().await?.status, KycCaseStatus::PendingReview);
    // Customers cannot open the review queue or anyone's documents.
    let err = me.kyc_reviews().await.expect_err("staff only");
    assert_eq!(err.status(), Some(403));

    let staff = reviewer(&app).await?;
    let queue = staff.kyc_reviews().await?.items;
    assert_eq!(queue[0].id, case.id);
    assert_eq!(queue[0].nik_masked, "************0001");
    app.token = Some(
        app.staff_token("verifikasi@demo.sentrarental.id", "demo-kyc-2026")
            .await?,
    );
    let response = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/kyc/cases/{}/documents/ktp", case.id),
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

    let err = staff
        .decide_kyc(case.id, &decision(false, None))
        .await
        .expect_err("a rejection needs a reason");
    let field = err
        .problem()
        .and_then(|p| p.errors.first())
        .map(|e| e.field.as_str());
    assert_eq!(
        (err.status(), field),
        (Some(422), Some("reason")),
        "a rejection needs a reason"
    );
    let decided = staff
        .decide_kyc(case.id, &decision(false, Some("Foto KTP terpotong")))
        .await?;
    assert_eq!(
        (
            decided.status,
            decided.reason_code.map(KycRejectReason::as_str)
        ),
        (KycCaseStatus::Rejected, Some("rejected_by_staff"))
    );
    assert_eq!(decided.reason.as_deref(), Some("Foto KTP terpotong"));
    let err = staff
        .decide_kyc(case.id, &decision(true, None))
        .await
        .expect_err("decided once");
    assert_eq!(err.status(), Some(409), "decided once");
    assert_eq!(stored_kyc_status(&app, customer).await?, "rejected");

    // The audit: two uploads by the customer, one view by the reviewer (HQ reads the log).
    app.as_hq().await?;
    let entries: Vec<_> = app
        .api()
        .kyc_access_log(case.id)
        .await?
        .items
        .into_iter()
        .map(|e| (e.document, e.action, e.actor_kind))
        .collect();
    assert_eq!(
        entries,
        [
            (
                IdentityDocument::Ktp,
                DocumentAction::Upload,
                ActorKind::Customer
            ),
            (
                IdentityDocument::Selfie,
                DocumentAction::Upload,
                ActorKind::Customer
            ),
            (
                IdentityDocument::Ktp,
                DocumentAction::View,
                ActorKind::Staff
            ),
        ]
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
    let (app, _, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    let staff = reviewer(&app).await?;
    staff.decide_kyc(case.id, &decision(true, None)).await?;
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
    sqlx::raw_sql(
        "UPDATE kyc_cases SET purge_after = now(); UPDATE jobs SET run_at = now() WHERE kind = 'kyc_purge'",
    )
    .execute(&app.db)
    .await?;
    wait_for_purge(&app, case.id).await?;
    let remaining = std::fs::read_dir(dir.path().join("kyc").join(case.id.to_string()))
        .map_or(0, Iterator::count);
    assert_eq!(remaining, 0, "the encrypted objects are gone");
    let err = staff
        .kyc_document(case.id, IdentityDocument::Selfie)
        .await
        .expect_err("purged");
    assert_eq!(err.status(), Some(404), "{err}");
    let kept = staff.kyc_case(case.id).await?;
    assert_eq!(
        (kept.status, kept.images_purged),
        (KycCaseStatus::Verified, true)
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
    let (app, _, case) = manual_app(&[
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
    let key = format!("kyc/{}/ktp", case.id);
    let stored = bucket
        .get(&key)
        .await?
        .expect("the KTP object is in the bucket");
    assert!(!stored.windows(8).any(|w| w == b"ktp-budi"));
    let staff = reviewer(&app).await?;
    let selfie = staff
        .kyc_document(case.id, IdentityDocument::Selfie)
        .await?;
    assert_eq!(selfie.bytes, photo("selfie-budi"));

    // The purge deletes from the bucket too.
    staff.decide_kyc(case.id, &decision(true, None)).await?;
    sqlx::raw_sql(
        "UPDATE kyc_cases SET purge_after = now(); UPDATE jobs SET run_at = now() WHERE kind = 'kyc_purge'",
    )
    .execute(&app.db)
    .await?;
    wait_for_purge(&app, case.id).await?;
    assert!(bucket.get(&key).await?.is_none(), "deleted from the bucket");
    Ok(())
}

#[tokio::test]
async fn withdrawing_consent_closes_reviews_and_deletes_the_photos_now() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (app, customer, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    let me = app.api();
    let withdrawal = me.withdraw_kyc_consent().await?;
    assert_eq!(
        (withdrawal.reviews_closed, withdrawal.photos_deleted),
        (1, 1)
    );
    wait_for_purge(&app, case.id).await?;
    let mine = me.my_kyc().await?;
    assert_eq!(
        (
            mine.status,
            mine.reason_code.map(KycRejectReason::as_str),
            mine.images_purged
        ),
        (KycCaseStatus::Rejected, Some("consent_withdrawn"), true)
    );
    assert_eq!(stored_kyc_status(&app, customer).await?, "unverified");
    // Nothing new is accepted until the customer consents again; withdrawing twice is a 404.
    let err = me
        .submit_kyc(&typed_submission(NIK, &photo("ktp-2"), &photo("selfie-2")))
        .await
        .expect_err("no consent");
    assert_eq!((err.status(), err.code()), (Some(409), "consent_required"));
    let err = me
        .withdraw_kyc_consent()
        .await
        .expect_err("withdrawn already");
    assert_eq!(err.status(), Some(404));
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
    let second = app
        .api()
        .submit_kyc(&typed_submission(
            NIK,
            &photo("ktp-budi"),
            &photo("selfie-lain"),
        ))
        .await?;
    assert_eq!(second.status, KycCaseStatus::PendingReview);
    let staff = reviewer(&app).await?;
    staff.decide_kyc(first.id, &decision(true, None)).await?;
    let err = staff
        .decide_kyc(second.id, &decision(true, None))
        .await
        .expect_err("one KTP, one account");
    assert_eq!((err.status(), err.code()), (Some(409), "conflict"), "{err}");
    let verified: i64 =
        sqlx::query_scalar("SELECT count(*) FROM kyc_cases WHERE status = 'verified'")
            .fetch_one(&app.db)
            .await?;
    assert_eq!(verified, 1);
    // Rejecting the duplicate still works.
    staff
        .decide_kyc(second.id, &decision(false, Some("KTP milik akun lain")))
        .await?;
    Ok(())
}

#[tokio::test]
async fn branch_admins_see_the_status_and_open_documents_only_of_their_recent_customers()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (app, customer, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    let jakarta = branch_admin(&app, "admin.jkt@demo.sentrarental.id", "demo-jkt-2026").await?;
    let bali = branch_admin(&app, "admin.dps@demo.sentrarental.id", "demo-dps-2026").await?;

    // Status and masked NIK: yes. The queue, decisions and documents: not without a booking.
    let seen = jakarta.kyc_case(case.id).await?;
    assert_eq!(
        (seen.status, seen.nik_masked.as_str()),
        (KycCaseStatus::PendingReview, "************0001")
    );
    let err = jakarta.kyc_reviews().await.expect_err("reviewers only");
    assert_eq!(err.status(), Some(403));
    let err = jakarta
        .decide_kyc(case.id, &decision(true, None))
        .await
        .expect_err("reviewers only");
    assert_eq!(err.status(), Some(403));
    let err = jakarta
        .kyc_document(case.id, IdentityDocument::Ktp)
        .await
        .expect_err("no booking at Jakarta");
    assert_eq!((err.status(), err.code()), (Some(403), "forbidden"));
    let hq = {
        let token = app
            .staff_token("hq@demo.sentrarental.id", "demo-hq-2026")
            .await?;
        app.api().with_token(&token)
    };
    let err = hq
        .kyc_document(case.id, IdentityDocument::Ktp)
        .await
        .expect_err("HQ audits, it does not look");
    assert_eq!(err.status(), Some(403));

    // A Jakarta booking in ten days: Jakarta's admin may open the photos, Bali's still not.
    let avanza = crate::fixtures::assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    hq.create_booking(
        "kyc-scope",
        &crate::fixtures::unit_booking(
            avanza,
            customer,
            crate::fixtures::day(10),
            crate::fixtures::day(12),
        ),
    )
    .await?;
    let ktp = jakarta.kyc_document(case.id, IdentityDocument::Ktp).await?;
    assert_eq!(ktp.bytes, photo("ktp-budi"));
    let err = bali
        .kyc_document(case.id, IdentityDocument::Ktp)
        .await
        .expect_err("no booking at Bali");
    assert_eq!(err.status(), Some(403));
    // A booking two months ahead does not open them.
    sqlx::query(
        "UPDATE bookings SET period = daterange(current_date + 60, current_date + 62) \
         WHERE customer_id = $1",
    )
    .bind(customer)
    .execute(&app.db)
    .await?;
    let err = jakarta
        .kyc_document(case.id, IdentityDocument::Selfie)
        .await
        .expect_err("the booking is 60 days away");
    assert_eq!(err.status(), Some(403));

    // Every view is in the access log, with who looked.
    let views: Vec<(String, Option<Uuid>)> = sqlx::query_as(
        "SELECT action, actor_id FROM pii_access_log WHERE case_id = $1 AND action = 'view'",
    )
    .bind(case.id)
    .fetch_all(&app.db)
    .await?;
    assert_eq!(views.len(), 1, "{views:?}");
    Ok(())
}

#[tokio::test]
async fn an_unreviewed_case_keeps_its_photos_for_the_review_window_only() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (app, customer, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    // Undecided, yet already due for deletion: at the end of the 14-day review window.
    let window_days: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM purge_after - created_at)::float8 / 86400 FROM kyc_cases WHERE id = $1",
    )
    .bind(case.id)
    .fetch_one(&app.db)
    .await?;
    assert!((window_days - 14.0).abs() < 0.01, "{window_days}");
    let staff = reviewer(&app).await?;
    staff.kyc_document(case.id, IdentityDocument::Ktp).await?;

    // The window ends, and the purge job is late: the photos are gone for viewers already.
    sqlx::query("UPDATE kyc_cases SET purge_after = now() - interval '1 second' WHERE id = $1")
        .bind(case.id)
        .execute(&app.db)
        .await?;
    let err = staff
        .kyc_document(case.id, IdentityDocument::Ktp)
        .await
        .expect_err("past its deletion time");
    assert_eq!(err.status(), Some(404));

    // The job runs: photos deleted, the case closed unreviewed, the customer may try again.
    sqlx::query("UPDATE jobs SET run_at = now() WHERE kind = 'kyc_purge'")
        .execute(&app.db)
        .await?;
    wait_for_purge(&app, case.id).await?;
    let closed = staff.kyc_case(case.id).await?;
    assert_eq!(
        (closed.status, closed.reason_code, closed.images_purged),
        (
            KycCaseStatus::Rejected,
            Some(KycRejectReason::ReviewWindowLapsed),
            true
        )
    );
    assert_eq!(stored_kyc_status(&app, customer).await?, "unverified");
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM kyc_documents WHERE wrapped_key IS NOT NULL")
            .fetch_one(&app.db)
            .await?;
    assert_eq!(left, 0);
    Ok(())
}

#[tokio::test]
async fn a_rotated_data_key_still_reads_every_document_and_a_swapped_row_does_not()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (mut app, _, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    let new_key = "bmV3LWRhdGEta2V5LWFmdGVyLXRoZS1sZWFrLTAxMjM=";
    let old_key = crate::support::TEST_DATA_KEY;
    // A new current key; the old one kept for reading.
    app.restart_with(&[
        ("SENTRA_DATA_KEY", new_key),
        ("SENTRA_DATA_KEY_ID", "k2"),
        ("SENTRA_DATA_KEYS_RETIRED", &format!("k1={old_key}")),
    ])
    .await?;
    let staff = reviewer(&app).await?;
    assert_eq!(
        staff
            .kyc_document(case.id, IdentityDocument::Ktp)
            .await?
            .bytes,
        photo("ktp-budi"),
        "the retired key still reads"
    );
    // The command an operator runs, on the same database and storage.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sentra-server"))
        .arg("rotate-data-key")
        .env_clear()
        .envs(app.env())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("re-wrapped 2, re-encrypted 0, changed meanwhile 0"),
        "{stdout}"
    );
    let key_ids: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT key_id FROM kyc_documents WHERE wrapped_key IS NOT NULL",
    )
    .fetch_all(&app.db)
    .await?;
    assert_eq!(key_ids, ["k2"]);
    // The old key is gone from the configuration: both documents still open.
    app.restart_with(&[("SENTRA_DATA_KEYS_RETIRED", "")])
        .await?;
    let staff = reviewer(&app).await?;
    for (kind, label) in [
        (IdentityDocument::Ktp, "ktp-budi"),
        (IdentityDocument::Selfie, "selfie-budi"),
    ] {
        assert_eq!(staff.kyc_document(case.id, kind).await?.bytes, photo(label));
    }
    // Rows whose wrapped keys were swapped (KTP and selfie) decrypt neither document.
    sqlx::raw_sql(
        "UPDATE kyc_documents d SET wrapped_key = o.wrapped_key \
         FROM kyc_documents o WHERE d.case_id = o.case_id AND d.kind <> o.kind",
    )
    .execute(&app.db)
    .await?;
    let err = staff
        .kyc_document(case.id, IdentityDocument::Ktp)
        .await
        .expect_err("a swapped row");
    assert_eq!(err.status(), Some(500));
    Ok(())
}
