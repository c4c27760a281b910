//! An erasure owes the KYC processor a deletion request (UU PDP art. 43, the processing
//! agreement): it goes by e-mail to Verihubs' privacy contact, names only the provider's
//! reference, and the request is marked sent. The identity decision itself was told to the
//! customer.

use sentra_protocol::EraseAccountRequest;

use super::support::{Channels, eventually_in};
use crate::kyc::{
    fake_verihubs::{API_KEY, APP_ID, Face, FakeVerihubs, photo},
    flow::{SITI, consent, new_customer, submit},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_sends_the_processor_its_deletion_request() -> anyhow::Result<()> {
    let channels = Channels::start().await?;
    let verihubs = FakeVerihubs::start(100).await?;
    let storage = tempfile::tempdir()?;
    let storage_url = storage.path().display().to_string();
    let mut app = channels
        .app(&[
            ("SENTRA_EXPIRY_SWEEP_MILLIS", "100"),
            ("SENTRA_KYC_PROVIDER", "verihubs"),
            ("SENTRA_VERIHUBS_URL", &verihubs.url),
            ("SENTRA_VERIHUBS_APP_ID", APP_ID),
            ("SENTRA_VERIHUBS_API_KEY", API_KEY),
            ("SENTRA_VERIHUBS_PRIVACY_EMAIL", "privacy@verihubs.test"),
            ("SENTRA_STORAGE_URL", &storage_url),
        ])
        .await?;
    crate::fixtures::seed(&app.db).await?;
    new_customer(&mut app, "siti.hapus@example.com").await?;
    consent(&app).await?;
    let (ktp, selfie) = (photo("ktp-siti"), photo("selfie-siti"));
    verihubs.card(&ktp, SITI, true);
    verihubs.face(&ktp, &selfie, Face::Same);
    submit(&app, SITI.nik, &ktp, &selfie).await?;
    eventually_in(
        &app,
        "the customer was told they are verified",
        async || {
            Ok(channels
                .mails("siti.hapus@example.com", "terverifikasi")?
                .len()
                == 1)
        },
    )
    .await?;

    app.api()
        .erase_my_account(&EraseAccountRequest {
            current_password: "rahasia-sekali-2026".to_owned(),
        })
        .await?;
    let reference: String = sqlx::query_scalar("SELECT reference FROM processor_requests")
        .fetch_one(&app.db)
        .await?;
    eventually_in(
        &app,
        "Verihubs' privacy contact got the request",
        async || Ok(channels.mails("privacy@verihubs.test", &reference)?.len() == 1),
    )
    .await?;
    let request = &channels.mails("privacy@verihubs.test", &reference)?[0];
    let text = request.text();
    assert!(text.contains("Pasal 43"), "{text}");
    for personal in ["Siti", SITI.nik, "siti.hapus"] {
        assert!(
            !text.contains(personal),
            "the request names only the reference: {personal}"
        );
    }
    eventually_in(&app, "the request is marked sent", async || {
        let sent: Option<chrono::DateTime<chrono::Utc>> =
            sqlx::query_scalar("SELECT sent_at FROM processor_requests")
                .fetch_one(&app.db)
                .await?;
        Ok(sent.is_some())
    })
    .await?;
    Ok(())
}
