//! KTP verification end to end through the real Verihubs client against the local fake, and the
//! manual review; consent first, encrypted documents, the access log, and the purge.

use base64::Engine as _;
use sentra_protocol::{
    CustomerLoginRequest, GiveConsentRequest, RegisterCustomerRequest, SubmitKycRequest,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::fake_verihubs::{API_KEY, APP_ID, Card, Face, FakeVerihubs, photo};
use crate::{fixtures::seed, support::TestApp};

/// A woman born 17 Aug 1945 in Jakarta (the stdnum example); on her card too.
const SITI: Card = Card {
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
            accepted: true,
        })
        .await?;
    Ok(())
}

/// Submits a KTP photo and selfie as the current customer.
async fn submit(
    app: &TestApp,
    nik: &str,
    ktp: &[u8],
    selfie: &[u8],
) -> anyhow::Result<(u16, Value)> {
    app.post(
        "/api/v1/customers/me/kyc",
        None,
        &submission(nik, ktp, selfie),
    )
    .await
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

fn stored_files(dir: &std::path::Path) -> Vec<Vec<u8>> {
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

    let (status, case) = submit(&app, SITI.nik, &ktp, &selfie).await?;
    assert_eq!(status, 201, "{case}");
    assert_eq!(
        (case["status"].as_str(), case["provider"].as_str()),
        (Some("verified"), Some("verihubs"))
    );
    assert_eq!(case["nik_masked"], "3171********0001");
    assert_eq!(case["checks"]["face_match"], true);
    assert!(
        case["purge_after"].is_string(),
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
    let (_, me) = app.get_json("/api/v1/customers/me").await?;
    assert_eq!(me["kyc_status"], "verified");

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
    .bind(case["id"].as_str())
    .fetch_one(&app.db)
    .await?;
    assert_eq!(purge_jobs, 1, "the purge is scheduled durably");

    // The same KTP cannot verify a second account.
    let mut app = app;
    new_customer(&mut app, "siti.kedua@example.com").await?;
    consent(&app).await?;
    let (status, body) = submit(&app, SITI.nik, &ktp, &selfie).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    assert!(
        !body.to_string().contains(&customer.to_string()),
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
    let (status, body) = submit(&app, SITI.nik, &ktp, &selfie).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("consent_required"))
    );
    assert!(stored_files(dir.path()).is_empty());
    assert!(fake.calls().is_empty());

    let (_, text) = app.get_json("/api/v1/kyc/consent").await?;
    assert!(
        text["text_id"]
            .as_str()
            .unwrap_or_default()
            .contains("30 hari"),
        "the retention period is stated"
    );
    let (status, _) = app
        .post(
            "/api/v1/customers/me/consents",
            None,
            &json!({"version": "kyc-2020-01-v0", "accepted": true}),
        )
        .await?;
    assert_eq!(status, 422, "an outdated text is not consent");
    let (status, _) = app
        .post(
            "/api/v1/customers/me/consents",
            None,
            &json!({"version": text["version"], "accepted": false}),
        )
        .await?;
    assert_eq!(status, 422, "an unticked box is not consent");
    let (status, consent) = app
        .post(
            "/api/v1/customers/me/consents",
            None,
            &json!({"version": text["version"], "accepted": true}),
        )
        .await?;
    assert_eq!(status, 201);
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
        (text["sha256"].as_str().unwrap_or_default(), "127.0.0.1")
    );
    assert_eq!(consent["sha256"], text["sha256"]);
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
    let (status, body) = submit(&app, "9971015708450001", &ktp, &selfie).await?;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("nik"))
    );
    assert!(fake.calls().is_empty());
    // Not an image.
    let mut bad = submission(SITI.nik, &ktp, &selfie);
    bad["selfie_image"] = json!(b64(b"%PDF-1.4 not a photo"));
    let (status, body) = app.post("/api/v1/customers/me/kyc", None, &bad).await?;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("selfie_image"))
    );
    // A blurry KTP photo: retake it.
    let blurry = photo("BLURRY-ktp");
    let (status, body) = submit(&app, SITI.nik, &blurry, &selfie).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("image_quality")),
        "{body}"
    );
    // A typo in the NIK: the card says otherwise.
    let (status, body) = submit(&app, "3171015708450002", &ktp, &selfie).await?;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("nik")),
        "{body}"
    );
    // Two faces in the selfie.
    fake.face(&ktp, &selfie, Face::TwoFaces);
    let (status, body) = submit(&app, SITI.nik, &ktp, &selfie).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("image_quality")),
        "{body}"
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
        let (status, case) = submit(&app, SITI.nik, &ktp, &selfie).await?;
        assert_eq!(status, 201, "{label}: {case}");
        assert_eq!(
            (case["status"].as_str(), case["reason_code"].as_str()),
            (Some("rejected"), Some(reason)),
            "{label}"
        );
        let (_, me) = app.get_json("/api/v1/customers/me").await?;
        assert_eq!(me["kyc_status"], "rejected", "{label}");
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
    let (status, body) = submit(&app, SITI.nik, &ktp, &selfie).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("service_unavailable")),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("nothing was stored")
    );
    assert!(stored_files(dir.path()).is_empty());
    let (_, me) = app.get_json("/api/v1/customers/me").await?;
    assert_eq!(me["kyc_status"], "unverified");
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
    let (status, _) = submit(&wrong, SITI.nik, &ktp, &selfie).await?;
    assert_eq!(status, 503);
    Ok(())
}

#[tokio::test]
async fn a_customer_gets_five_paid_attempts_a_day() -> anyhow::Result<()> {
    let fake = FakeVerihubs::start(100).await?;
    let dir = tempfile::tempdir()?;
    let (app, _) = verihubs_app(&fake, dir.path()).await?;
    let (blurry, selfie) = (photo("BLURRY-again"), photo("selfie"));
    for attempt in 1..=5 {
        let (status, body) = submit(&app, SITI.nik, &blurry, &selfie).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("image_quality")),
            "attempt {attempt}"
        );
    }
    let response = app
        .request(reqwest::Method::POST, "/api/v1/customers/me/kyc")
        .json(&submission(SITI.nik, &blurry, &selfie))
        .send()
        .await?;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str()?.parse()?;
    assert!((86_000..=86_400).contains(&retry_after), "{retry_after}");
    assert_eq!(
        fake.calls().len(),
        5,
        "the sixth attempt never reached the paid provider"
    );
    Ok(())
}
