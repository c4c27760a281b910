//! KTP verification end to end through the real Verihubs client against the local fake, and the
//! manual review; consent first, encrypted documents, the access log, and the purge.

use base64::Engine as _;
use sentra_api_client::ApiError;
use sentra_domain::{CustomerKycStatus, KycCaseStatus, KycProvider, KycRejectReason};
use sentra_protocol::{
    CustomerLoginRequest, GiveConsentRequest, KycCase, RegisterCustomerRequest, SubmitKycRequest,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::fake_verihubs::{API_KEY, APP_ID, Card, Face, FakeVerihubs, photo};
use crate::{fixtures::seed, support::TestApp};

/// A woman born 17 Aug 1945 in Jakarta (the stdnum example); on her card too.
pub(crate) const SITI: Card = Card {
    nik: "3171015708450001",
    name: "Siti Rahayu",
    birth_date: "17-08-1945",
    gender: "PEREMPUAN",
};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A server using the fake Verihubs, with the demo data, logged in as a fresh customer who
/// consented. Returns the app, the storage directory and the customer id.
pub(crate) async fn verihubs_app(
    fake: &FakeVerihubs,
    storage: &std::path::Path,
) -> anyhow::Result<(TestApp, Uuid)> {
    let storage = storage.display().to_string();
    let mut app = TestApp::spawn_with(&[
        ("SENTRA_KYC_PROVIDER", "verihubs"),
        ("SENTRA_VERIHUBS_URL", &fake.url),
        ("SENTRA_VERIHUBS_APP_ID", APP_ID),
        ("SENTRA_VERIHUBS_API_KEY", API_KEY),
        ("SENTRA_STORAGE_URL", &storage),
    ])
    .await?;
    seed(&app.db).await?;
    let customer = new_customer(&mut app, "siti@example.com").await?;
    consent(&app).await?;
    Ok((app, customer))
}

/// Registers and logs in a customer; the app then acts as them.
pub(crate) async fn new_customer(app: &mut TestApp, email: &str) -> anyhow::Result<Uuid> {
    app.token = None;
    let profile = app
        .api()
        .register_customer(&RegisterCustomerRequest {
            full_name: "Siti Rahayu".to_owned(),
            phone: None,
            email: Some(email.to_owned()),
            password: "rahasia-sekali-2026".to_owned(),
        })
        .await?;
    let tokens = app
        .api()
        .customer_login(&CustomerLoginRequest {
            login: email.to_owned(),
            password: "rahasia-sekali-2026".to_owned(),
        })
        .await?;
    app.token = Some(tokens.access_token);
    Ok(profile.id)
}

/// Accepts the current consent text.
pub(crate) async fn consent(app: &TestApp) -> anyhow::Result<()> {
    let text = app.api().kyc_consent_text().await?;
    app.api()
        .give_consent(&GiveConsentRequest {
            version: text.version,
            sha256: text.sha256,
            accepted: true,
        })
        .await?;
    Ok(())
}

/// Submits a KTP photo and selfie as the current customer.
pub(crate) async fn submit(
    app: &TestApp,
    nik: &str,
    ktp: &[u8],
    selfie: &[u8],
) -> Result<KycCase, ApiError> {
    app.api()
        .submit_kyc(&typed_submission(nik, ktp, selfie))
        .await
}

/// A refusal's status, code and first named field.
fn refusal(err: &ApiError) -> (Option<u16>, &str, Option<&str>) {
    let field = err
        .problem()
        .and_then(|p| p.errors.first())
        .map(|e| e.field.as_str());
    (err.status(), err.code(), field)
}

/// The same submission, typed for the client.
pub(crate) fn typed_submission(nik: &str, ktp: &[u8], selfie: &[u8]) -> SubmitKycRequest {
    SubmitKycRequest {
        nik: nik.to_owned(),
        full_name: "Siti Rahayu".to_owned(),
        ktp_image: b64(ktp),
        selfie_image: b64(selfie),
    }
}

pub(crate) fn submission(nik: &str, ktp: &[u8], selfie: &[u8]) -> Value {
    json!({"nik": nik, "full_name": "Siti Rahayu", "ktp_image": b64(ktp), "selfie_image": b64(selfie)})
}

pub(crate) fn stored_files(dir: &std::path::Path) -> Vec<Vec<u8>> {
    fn walk(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push(bytes);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

#[tokio::test]
async fn a_genuine_ktp_and_live_selfie_verify_and_are_stored_encrypted() -> anyhow::Result<()> {
    let fake = FakeVerihubs::start(100).await?;
    let dir = tempfile::tempdir()?;
    let (app, customer) = verihubs_app(&fake, dir.path()).await?;
    let (ktp, selfie) = (photo("ktp-siti"), photo("selfie-siti"));
    fake.card(&ktp, SITI, true);
    fake.face(&ktp, &selfie, Face::Same);

    let case = submit(&app, SITI.nik, &ktp, &selfie).await?;
    assert_eq!(
        (case.status, case.provider),
        (KycCaseStatus::Verified, KycProvider::Verihubs)
    );
    assert_eq!(case.nik_masked, "************0001");
    assert_eq!(case.checks["face_match"], true);
    assert!(
        case.purge_after.is_some(),
        "the images have a deletion date"
    );
    assert_eq!(
        fake.calls(),
        [
            "/v2/ktp/extract",
            "/data-verification/id-verification/verify",
            "/v1/face/compare"
        ]
    );
    assert_eq!(
        app.api().my_profile().await?.kyc_status,
        CustomerKycStatus::Verified
    );

    // Both images are in storage, and neither file contains the photo or the NIK in clear.
    let files = stored_files(dir.path());
    assert_eq!(files.len(), 2);
    for file in &files {
        assert!(
            !file
                .windows(8)
                .any(|w| w == b"ktp-siti" || w == b"selfie-s")
        );
        assert!(!file.windows(16).any(|w| w == SITI.nik.as_bytes()));
    }
    // Postgres has neither the NIK nor the images: only the keyed hash and the masked form.
    let leaked: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM kyc_cases WHERE row_to_json(kyc_cases)::text LIKE '%' || $1 || '%') \
              + (SELECT count(*) FROM jobs WHERE payload::text LIKE '%' || $1 || '%') \
              + (SELECT count(*) FROM customers WHERE row_to_json(customers)::text LIKE '%' || $1 || '%')",
    )
    .bind(SITI.nik)
    .fetch_one(&app.db)
    .await?;
    assert_eq!(leaked, 0);
    let purge_jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE kind = 'kyc_purge' AND payload->>'case_id' = $1",
    )
    .bind(case.id.to_string())
    .fetch_one(&app.db)
    .await?;
    assert_eq!(purge_jobs, 1, "the purge is scheduled durably");

    // The same KTP does not verify a second account: a reviewer decides, and the answer
    // reveals nothing about the other account.
    let mut app = app;
    new_customer(&mut app, "siti.kedua@example.com").await?;
    consent(&app).await?;
    let second = submit(&app, SITI.nik, &ktp, &selfie).await?;
    assert_eq!(second.status, KycCaseStatus::PendingReview);
    assert!(
        !serde_json::to_string(&second)?.contains(&customer.to_string()),
        "the other account is not revealed"
    );
    Ok(())
}

#[tokio::test]
async fn nothing_is_uploaded_without_consent_to_the_current_text() -> anyhow::Result<()> {
    let fake = FakeVerihubs::start(100).await?;
    let dir = tempfile::tempdir()?;
    let mut app =
        TestApp::spawn_with(&[("SENTRA_STORAGE_URL", &dir.path().display().to_string())]).await?;
    seed(&app.db).await?;
    let customer = new_customer(&mut app, "tanpa.izin@example.com").await?;
    let (ktp, selfie) = (photo("ktp"), photo("selfie"));
    let err = submit(&app, SITI.nik, &ktp, &selfie)
        .await
        .expect_err("no consent");
    assert_eq!((err.status(), err.code()), (Some(409), "consent_required"));
    assert!(stored_files(dir.path()).is_empty());
    assert!(fake.calls().is_empty());

    let api = app.api();
    let text = api.kyc_consent_text().await?;
    assert!(
        text.text_id.contains("30 hari"),
        "the retention period is stated"
    );
    let give = |version: &str, sha256: &str, accepted| GiveConsentRequest {
        version: version.to_owned(),
        sha256: sha256.to_owned(),
        accepted,
    };
    let err = api
        .give_consent(&give("kyc-2020-01-v0", &text.sha256, true))
        .await
        .expect_err("outdated");
    assert_eq!(err.status(), Some(422), "an outdated text is not consent");
    // The current version, but other words (an older retention period, say): not consent.
    let other_words = format!("{:064x}", 1);
    let err = api
        .give_consent(&give(&text.version, &other_words, true))
        .await
        .expect_err("other words");
    let field = err
        .problem()
        .and_then(|p| p.errors.first())
        .map(|e| e.field.clone());
    assert_eq!(
        (err.status(), field.as_deref()),
        (Some(422), Some("sha256")),
        "consent is to the words shown"
    );
    let err = api
        .give_consent(&give(&text.version, &text.sha256, false))
        .await
        .expect_err("unticked");
    assert_eq!(err.status(), Some(422), "an unticked box is not consent");
    let consent = api
        .give_consent(&give(&text.version, &text.sha256, true))
        .await?;
    let (hash, ip): (Vec<u8>, String) =
        sqlx::query_as("SELECT text_sha256, client_ip FROM consents WHERE customer_id = $1")
            .bind(customer)
            .fetch_one(&app.db)
            .await?;
    let hex = hash.iter().fold(String::new(), |mut hex, b| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    assert_eq!(
        (hex.as_str(), ip.as_str()),
        (text.sha256.as_str(), "127.0.0.1")
    );
    assert_eq!(consent.sha256, text.sha256);

    // The words consented to are kept, and neither they nor the proof can be changed.
    let kept: String = sqlx::query_scalar(
        "SELECT t.text_id FROM consent_texts t JOIN consents c ON c.text_sha256 = t.sha256 \
         WHERE c.customer_id = $1",
    )
    .bind(customer)
    .fetch_one(&app.db)
    .await?;
    assert_eq!(kept, text.text_id);
    for tampering in [
        "UPDATE consent_texts SET text_id = 'kata-kata lain'",
        "DELETE FROM consent_texts",
        "UPDATE consents SET accepted_at = now() - interval '1 year'",
        "UPDATE consents SET client_ip = '10.0.0.1', withdrawn_at = now()",
        "DELETE FROM consents",
    ] {
        assert!(
            sqlx::query(tampering).execute(&app.db).await.is_err(),
            "{tampering}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn bad_photos_and_local_nik_rules_are_answered_before_anything_is_stored()
-> anyhow::Result<()> {
    let fake = FakeVerihubs::start(100).await?;
    let dir = tempfile::tempdir()?;
    let (app, _) = verihubs_app(&fake, dir.path()).await?;
    let (ktp, selfie) = (photo("ktp-siti"), photo("selfie-siti"));
    fake.card(&ktp, SITI, true);

    // Not a NIK at all (province 99): refused locally, the provider is not even asked.
    let err = submit(&app, "9971015708450001", &ktp, &selfie)
        .await
        .expect_err("province 99");
    assert_eq!((refusal(&err).0, refusal(&err).2), (Some(422), Some("nik")));
    assert!(fake.calls().is_empty());
    // Not an image.
    let bad = SubmitKycRequest {
        selfie_image: b64(b"%PDF-1.4 not a photo"),
        ..typed_submission(SITI.nik, &ktp, &selfie)
    };
    let err = app.api().submit_kyc(&bad).await.expect_err("a PDF");
    assert_eq!(
        (refusal(&err).0, refusal(&err).2),
        (Some(422), Some("selfie_image"))
    );
    // A blurry KTP photo: retake it.
    let blurry = photo("BLURRY-ktp");
    let err = submit(&app, SITI.nik, &blurry, &selfie)
        .await
        .expect_err("blurry");
    assert_eq!(
        (err.status(), err.code()),
        (Some(422), "image_quality"),
        "{err}"
    );
    // A typo in the NIK: the card says otherwise.
    let err = submit(&app, "3171015708450002", &ktp, &selfie)
        .await
        .expect_err("a typo");
    assert_eq!(
        (refusal(&err).0, refusal(&err).2),
        (Some(422), Some("nik")),
        "{err}"
    );
    // Two faces in the selfie.
    fake.face(&ktp, &selfie, Face::TwoFaces);
    let err = submit(&app, SITI.nik, &ktp, &selfie)
        .await
        .expect_err("two faces");
    assert_eq!(
        (err.status(), err.code()),
        (Some(422), "image_quality"),
        "{err}"
    );

    assert!(
        stored_files(dir.path()).is_empty(),
        "nothing stored for refused submissions"
    );
    let cases: i64 = sqlx::query_scalar("SELECT count(*) FROM kyc_cases")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(cases, 0);
    Ok(())
}

#[tokio::test]
async fn altered_cards_unknown_people_other_faces_and_spoofs_are_rejected() -> anyhow::Result<()> {
    let fake = FakeVerihubs::start(100).await?;
    let dir = tempfile::tempdir()?;
    let (mut app, _) = verihubs_app(&fake, dir.path()).await?;
    let cases = [
        // Before anyone registers her: the population records do not know her.
        ("unknown", SITI, false, Face::Same, "identity_not_confirmed"),
        // The card's printed gender contradicts the NIK (a man's card with a woman's NIK).
        (
            "altered",
            Card {
                gender: "LAKI-LAKI",
                ..SITI
            },
            true,
            Face::Same,
            "ktp_inconsistent_with_nik",
        ),
        ("other-face", SITI, true, Face::Different, "face_mismatch"),
        ("spoof", SITI, true, Face::NotLive, "liveness_failed"),
    ];
    for (index, (label, card, registered, face, reason)) in cases.into_iter().enumerate() {
        new_customer(&mut app, &format!("case{index}@example.com")).await?;
        consent(&app).await?;
        let (ktp, selfie) = (
            photo(&format!("ktp-{label}")),
            photo(&format!("selfie-{label}")),
        );
        fake.card(&ktp, card, registered);
        fake.face(&ktp, &selfie, face);
        let case = submit(&app, SITI.nik, &ktp, &selfie).await?;
        assert_eq!(
            (case.status, case.reason_code.map(KycRejectReason::as_str)),
            (KycCaseStatus::Rejected, Some(reason)),
            "{label}"
        );
        assert_eq!(
            app.api().my_profile().await?.kyc_status,
            CustomerKycStatus::Rejected,
            "{label}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn an_exhausted_quota_stores_nothing_and_says_try_later() -> anyhow::Result<()> {
    let fake = FakeVerihubs::start(1).await?;
    let dir = tempfile::tempdir()?;
    let (app, _) = verihubs_app(&fake, dir.path()).await?;
    let (ktp, selfie) = (photo("ktp-siti"), photo("selfie-siti"));
    fake.card(&ktp, SITI, true);
    fake.face(&ktp, &selfie, Face::Same);
    let err = submit(&app, SITI.nik, &ktp, &selfie)
        .await
        .expect_err("no quota");
    assert_eq!(
        (err.status(), err.code()),
        (Some(503), "service_unavailable"),
        "{err}"
    );
    assert!(
        err.problem()
            .and_then(|p| p.detail.as_deref())
            .unwrap_or_default()
            .contains("nothing was stored")
    );
    assert!(stored_files(dir.path()).is_empty());
    assert_eq!(
        app.api().my_profile().await?.kyc_status,
        CustomerKycStatus::Unverified
    );
    let attempts: i64 = sqlx::query_scalar("SELECT count(*) FROM kyc_attempts")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(
        attempts, 0,
        "our outage does not use up the customer's attempts"
    );

    // Wrong credentials are the operator's problem, reported the same way to the customer.
    let wrong = TestApp::spawn_with(&[
        ("SENTRA_KYC_PROVIDER", "verihubs"),
        ("SENTRA_VERIHUBS_URL", &fake.url),
        ("SENTRA_VERIHUBS_APP_ID", APP_ID),
        ("SENTRA_VERIHUBS_API_KEY", "not-the-key"),
        ("SENTRA_STORAGE_URL", &dir.path().display().to_string()),
    ])
    .await?;
    let mut wrong = wrong;
    seed(&wrong.db).await?;
    new_customer(&mut wrong, "kunci.salah@example.com").await?;
    consent(&wrong).await?;
    fake.world.lock().expect("world").quota = 10;
    let err = submit(&wrong, SITI.nik, &ktp, &selfie)
        .await
        .expect_err("wrong credentials");
    assert_eq!(err.status(), Some(503));
    Ok(())
}

#[tokio::test]
async fn a_customer_gets_five_paid_attempts_a_day() -> anyhow::Result<()> {
    let fake = FakeVerihubs::start(100).await?;
    let dir = tempfile::tempdir()?;
    let (app, _) = verihubs_app(&fake, dir.path()).await?;
    let (blurry, selfie) = (photo("BLURRY-again"), photo("selfie"));
    for attempt in 1..=5 {
        let err = submit(&app, SITI.nik, &blurry, &selfie)
            .await
            .expect_err("blurry");
        assert_eq!(
            (err.status(), err.code()),
            (Some(422), "image_quality"),
            "attempt {attempt}"
        );
    }
    let err = submit(&app, SITI.nik, &blurry, &selfie)
        .await
        .expect_err("a sixth attempt");
    assert_eq!(err.status(), Some(429));
    let ApiError::Server { retry_after, .. } = err else {
        panic!("a server refusal: {err}");
    };
    let retry_after = retry_after.expect("Retry-After").as_secs();
    assert!((86_000..=86_400).contains(&retry_after), "{retry_after}");
    assert_eq!(
        fake.calls().len(),
        5,
        "the sixth attempt never reached the paid provider"
    );
    Ok(())
}
