//! Verifications that a NIK guess cannot probe, a provider cannot redirect, and a person looks at
//! again: after a name change, or when the customer contests an automated rejection.

use sentra_api_client::ApiError;
use sentra_domain::{CustomerKycStatus, KycCaseStatus};
use sentra_protocol::KycCase;
use serde_json::json;

use super::{
    fake_verihubs::{API_KEY, APP_ID, Face, FakeVerihubs, photo},
    flow::{SITI, consent, new_customer, stored_files, submit, verihubs_app},
};
use crate::{fixtures::seed, support::TestApp};

#[tokio::test]
async fn a_taken_nik_and_a_free_one_get_the_same_answer() -> anyhow::Result<()> {
    let fake = FakeVerihubs::start(100).await?;
    let dir = tempfile::tempdir()?;
    let (mut app, _) = verihubs_app(&fake, dir.path()).await?;
    let (ktp, selfie) = (photo("ktp-siti"), photo("selfie-siti"));
    fake.card(&ktp, SITI, true);
    fake.face(&ktp, &selfie, Face::Same);
    assert_eq!(
        submit(&app, SITI.nik, &ktp, &selfie).await?.status,
        KycCaseStatus::Verified
    );

    // Somebody who knows Siti's birth date and region tries NIKs with made-up photos: her NIK
    // (taken) and its neighbour (free) must look alike, and each try counts.
    let guesser = new_customer(&mut app, "penebak@example.com").await?;
    consent(&app).await?;
    let (fake_ktp, fake_selfie) = (photo("ktp-palsu"), photo("selfie-palsu"));
    let answer = |result: Result<KycCase, ApiError>| match result {
        Ok(case) => format!("{:?} {:?}", case.status, case.reason_code),
        Err(err) => format!("{:?} {}", err.status(), err.code()),
    };
    let taken = answer(submit(&app, SITI.nik, &fake_ktp, &fake_selfie).await);
    let free = answer(submit(&app, "3171015708450002", &fake_ktp, &fake_selfie).await);
    assert_eq!(taken, free, "a taken NIK answers like a free one");
    assert!(!taken.contains("409"), "{taken}");
    let attempts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM kyc_attempts WHERE customer_id = $1")
            .bind(guesser)
            .fetch_one(&app.db)
            .await?;
    assert_eq!(attempts, 2, "both guesses counted against the daily limit");

    // Siti's genuine card on a second account of hers: not verified twice, but sent to a
    // reviewer, who is told why; the customer's own view does not say.
    new_customer(&mut app, "siti.kedua@example.com").await?;
    consent(&app).await?;
    let second = submit(&app, SITI.nik, &ktp, &selfie).await?;
    assert_eq!(second.status, KycCaseStatus::PendingReview);
    assert!(
        second
            .checks
            .get("nik_verified_on_another_account")
            .is_none()
    );
    let for_reviewer: serde_json::Value =
        sqlx::query_scalar("SELECT checks FROM kyc_cases WHERE id = $1")
            .bind(second.id)
            .fetch_one(&app.db)
            .await?;
    assert_eq!(for_reviewer["nik_verified_on_another_account"], true);
    Ok(())
}

#[tokio::test]
async fn a_redirect_from_verihubs_is_not_followed_with_the_photos_and_the_key() -> anyhow::Result<()>
{
    let fake = FakeVerihubs::start(100).await?;
    // A "Verihubs" that redirects every call elsewhere (here: to the real fake).
    let target = fake.url.clone();
    let redirector = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let location = format!("{target}{uri}");
        async move {
            (
                axum::http::StatusCode::TEMPORARY_REDIRECT,
                [(axum::http::header::LOCATION, location)],
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let redirector_url = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, redirector).await;
    });
    let dir = tempfile::tempdir()?;
    let mut app = TestApp::spawn_with(&[
        ("SENTRA_KYC_PROVIDER", "verihubs"),
        ("SENTRA_VERIHUBS_URL", &redirector_url),
        ("SENTRA_VERIHUBS_APP_ID", APP_ID),
        ("SENTRA_VERIHUBS_API_KEY", API_KEY),
        ("SENTRA_STORAGE_URL", &dir.path().display().to_string()),
    ])
    .await?;
    seed(&app.db).await?;
    new_customer(&mut app, "siti@example.com").await?;
    consent(&app).await?;
    let (ktp, selfie) = (photo("ktp-siti"), photo("selfie-siti"));
    let err = submit(&app, SITI.nik, &ktp, &selfie)
        .await
        .expect_err("a redirect is not an answer");
    task.abort();
    assert_eq!(
        (err.status(), err.code()),
        (Some(503), "service_unavailable")
    );
    assert!(
        fake.calls().is_empty(),
        "nothing reached the redirect's target: {:?}",
        fake.calls()
    );
    assert!(stored_files(dir.path()).is_empty());
    Ok(())
}

#[tokio::test]
async fn a_changed_name_is_reviewed_again_and_an_automated_rejection_can_be_contested()
-> anyhow::Result<()> {
    let fake = FakeVerihubs::start(100).await?;
    let dir = tempfile::tempdir()?;
    let (mut app, _) = verihubs_app(&fake, dir.path()).await?;
    let reviewer = {
        let token = app
            .staff_token("verifikasi@demo.sentrarental.id", "demo-kyc-2026")
            .await?;
        app.api().with_token(&token)
    };
    let (ktp, selfie) = (photo("ktp-siti"), photo("selfie-siti"));
    fake.card(&ktp, SITI, true);
    fake.face(&ktp, &selfie, Face::Same);
    let verified = submit(&app, SITI.nik, &ktp, &selfie).await?;
    assert_eq!(verified.status, KycCaseStatus::Verified);

    // A new name no longer matches the KTP: a person checks it again.
    app.api()
        .update_my_profile(&sentra_protocol::UpdateProfileRequest {
            full_name: Some("Siti Rahayu Putri".to_owned()),
            ..sentra_protocol::UpdateProfileRequest::default()
        })
        .await?;
    assert_eq!(
        app.api().my_profile().await?.kyc_status,
        CustomerKycStatus::Pending
    );
    let queue = reviewer.kyc_reviews().await?.items;
    assert_eq!(queue.len(), 1);
    assert_eq!(
        (queue[0].id, &queue[0].checks["review_because"]),
        (verified.id, &json!("profile_changed"))
    );
    reviewer
        .decide_kyc(
            verified.id,
            &sentra_protocol::KycDecisionRequest {
                approve: true,
                reason: None,
            },
        )
        .await?;
    assert_eq!(
        app.api().my_profile().await?.kyc_status,
        CustomerKycStatus::Verified
    );

    // Rejected by the automated face match: the customer asks for a person, once.
    new_customer(&mut app, "wajah.lain@example.com").await?;
    consent(&app).await?;
    let other_selfie = photo("selfie-lain");
    fake.face(&ktp, &other_selfie, Face::Different);
    let rejected = submit(&app, SITI.nik, &ktp, &other_selfie).await?;
    assert_eq!(rejected.status, KycCaseStatus::Rejected);
    let asked = app
        .api()
        .ask_for_kyc_review(&sentra_protocol::HumanReviewRequest {
            note: Some("Saya memakai kacamata di foto KTP".to_owned()),
        })
        .await?;
    assert_eq!(
        (asked.id, asked.status),
        (rejected.id, KycCaseStatus::PendingReview)
    );
    let err = app
        .api()
        .ask_for_kyc_review(&sentra_protocol::HumanReviewRequest::default())
        .await
        .expect_err("already with a person");
    assert_eq!(err.status(), Some(409));
    let queued = reviewer.kyc_reviews().await?.items;
    assert!(queued.iter().any(|c| c.id == rejected.id
        && c.checks["customer_note"] == json!("Saya memakai kacamata di foto KTP")));

    // A person's rejection is final: nothing to contest here.
    reviewer
        .decide_kyc(
            rejected.id,
            &sentra_protocol::KycDecisionRequest {
                approve: false,
                reason: Some("Wajah berbeda".to_owned()),
            },
        )
        .await?;
    let err = app
        .api()
        .ask_for_kyc_review(&sentra_protocol::HumanReviewRequest::default())
        .await
        .expect_err("decided by a person");
    assert_eq!(err.status(), Some(409));
    Ok(())
}
