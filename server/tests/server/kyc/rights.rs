//! The data subject's rights under UU PDP, as a customer uses them: a copy of everything held
//! about them, and erasure that leaves nothing naming them (bookings stay under a pseudonym).

use sentra_domain::{ActorKind, DocumentAction, IdentityDocument};
use sentra_protocol::{EraseAccountRequest, ExportQuery};

use super::{
    fake_verihubs::photo,
    review::{manual_app, reviewer, wait_for_purge},
};
use crate::support::TestApp;

const NIK: &str = "3171015708450001";

async fn hq(app: &TestApp) -> anyhow::Result<sentra_api_client::ApiClient> {
    let token = app
        .staff_token("hq@demo.sentrarental.id", "demo-hq-2026")
        .await?;
    Ok(app.api().with_token(&token))
}

#[tokio::test]
async fn a_customer_gets_everything_held_about_them() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (app, customer, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    let me = app.api();
    // A booking of theirs, and a reviewer's look at their KTP.
    let hq = hq(&app).await?;
    let avanza = crate::fixtures::assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    hq.create_booking(
        "export-1",
        &crate::fixtures::unit_booking(
            avanza,
            customer,
            crate::fixtures::day(5),
            crate::fixtures::day(7),
        ),
    )
    .await?;
    reviewer(&app)
        .await?
        .kyc_document(case.id, IdentityDocument::Ktp)
        .await?;

    let export = me.my_data_export(&ExportQuery::default()).await?;
    assert_eq!(export.profile.id, customer);
    assert_eq!(export.bookings.len(), 1);
    assert_eq!(export.consents.len(), 1);
    assert!(
        export.consents[0]
            .text_id
            .as_deref()
            .is_some_and(|t| t.contains("KTP")),
        "the words consented to"
    );
    assert_eq!(export.verifications.len(), 1);
    assert_eq!(export.verifications[0].nik_masked, "************0001");
    let access: Vec<_> = export
        .document_access
        .iter()
        .map(|a| (a.document, a.action, a.actor_kind))
        .collect();
    assert_eq!(
        access,
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
    assert!(export.documents.is_empty(), "photos only when asked for");
    let text = serde_json::to_string(&export)?;
    assert!(!text.contains(NIK), "never the NIK in full");

    // With their photos: both, and each handed over is logged.
    let with_photos = me
        .my_data_export(&ExportQuery {
            documents: Some(true),
        })
        .await?;
    let photos: Vec<_> = with_photos
        .documents
        .iter()
        .map(|d| {
            (
                d.kind,
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &d.data_base64)
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        photos,
        [
            (IdentityDocument::Ktp, photo("ktp-budi")),
            (IdentityDocument::Selfie, photo("selfie-budi"))
        ]
    );
    let views_by_customer: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pii_access_log WHERE action = 'view' AND actor_kind = 'customer'",
    )
    .fetch_one(&app.db)
    .await?;
    assert_eq!(views_by_customer, 2);
    Ok(())
}

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one erasure, followed into every table"
)]
async fn an_erased_customer_leaves_nothing_that_names_them() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (app, customer, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    let me = app.api();
    let hq = hq(&app).await?;
    reviewer(&app)
        .await?
        .decide_kyc(
            case.id,
            &sentra_protocol::KycDecisionRequest {
                approve: true,
                reason: None,
            },
        )
        .await?;
    let avanza = crate::fixtures::assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let booking = hq
        .create_booking(
            "erase-1",
            &crate::fixtures::unit_booking(
                avanza,
                customer,
                crate::fixtures::day(5),
                crate::fixtures::day(7),
            ),
        )
        .await?;
    let nik_hash_before: Vec<u8> =
        sqlx::query_scalar("SELECT nik_hash FROM kyc_cases WHERE id = $1")
            .bind(case.id)
            .fetch_one(&app.db)
            .await?;

    // The password confirms it; an open rental stops it.
    let erase = |password: &str| EraseAccountRequest {
        current_password: password.to_owned(),
    };
    let err = me
        .erase_my_account(&erase("tebakan"))
        .await
        .expect_err("wrong password");
    assert_eq!(err.status(), Some(422));
    let err = me
        .erase_my_account(&erase("rahasia-sekali-2026"))
        .await
        .expect_err("a booking is open");
    assert_eq!((err.status(), err.code()), (Some(409), "conflict"));
    hq.cancel_booking(booking.id).await?;
    let erased = me.erase_my_account(&erase("rahasia-sekali-2026")).await?;
    assert_eq!((erased.bookings_kept, erased.photos_deleted), (1, 2));

    // Logged out everywhere.
    let err = me.my_profile().await.expect_err("the session ended");
    assert_eq!(err.status(), Some(401));

    // The photos go with the purge job; the bucket keeps nothing of them.
    wait_for_purge(&app, case.id).await?;
    let left = std::fs::read_dir(dir.path().join("kyc")).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| std::fs::read_dir(e.path()).map_or(0, Iterator::count))
            .sum::<usize>()
    });
    assert_eq!(left, 0, "no object of theirs is stored");

    // Every table, every row, as text: nothing names them.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&app.db)
    .await?;
    assert!(tables.len() > 30, "{tables:?}");
    for needle in [
        "budi.review@example.com",
        "Siti Rahayu",
        NIK,
        "************0001",
    ] {
        for table in &tables {
            let found: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {table} t WHERE row_to_json(t)::text ILIKE '%' || $1 || '%'"
            )))
            .bind(needle)
            .fetch_one(&app.db)
            .await?;
            assert_eq!(found, 0, "{needle} remains in {table}");
        }
    }
    let (hash_after, name, checks): (Vec<u8>, String, serde_json::Value) =
        sqlx::query_as("SELECT nik_hash, full_name, checks FROM kyc_cases WHERE id = $1")
            .bind(case.id)
            .fetch_one(&app.db)
            .await?;
    assert_ne!(
        hash_after, nik_hash_before,
        "the NIK hash no longer links them"
    );
    assert_eq!((name.as_str(), checks), ("", serde_json::json!({})));
    // What the law keeps: the booking, under the pseudonym, and the consent's proof of words.
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE customer_id = $1")
        .bind(customer)
        .fetch_one(&app.db)
        .await?;
    assert_eq!(kept, 1);
    let (ip, withdrawn): (String, bool) = sqlx::query_as(
        "SELECT client_ip, withdrawn_at IS NOT NULL FROM consents WHERE customer_id = $1",
    )
    .bind(customer)
    .fetch_one(&app.db)
    .await?;
    assert_eq!((ip.as_str(), withdrawn), ("", true));
    let customer_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pii_access_log WHERE actor_kind = 'customer' AND actor_id IS NOT NULL \
         AND case_id = $1",
    )
    .bind(case.id)
    .fetch_one(&app.db)
    .await?;
    assert_eq!(customer_rows, 0, "their own log rows are pseudonymised");
    // The login is gone (this try is counted against the typed login, like any failed login).
    let err = app
        .api()
        .anonymous()
        .customer_login(&sentra_protocol::CustomerLoginRequest {
            login: "budi.review@example.com".to_owned(),
            password: "rahasia-sekali-2026".to_owned(),
        })
        .await
        .expect_err("no such login");
    assert_eq!(err.status(), Some(401));
    Ok(())
}

#[tokio::test]
async fn personal_data_past_its_retention_period_is_removed_daily() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (app, customer, case) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    reviewer(&app)
        .await?
        .decide_kyc(
            case.id,
            &sentra_protocol::KycDecisionRequest {
                approve: false,
                reason: Some("Foto KTP buram, Siti".to_owned()),
            },
        )
        .await?;
    let scheduled: i64 =
        sqlx::query_scalar("SELECT count(*) FROM jobs WHERE kind = 'data_retention'")
            .fetch_one(&app.db)
            .await?;
    assert_eq!(scheduled, 1, "the daily pass is scheduled at start-up");
    // Years pass for some rows (a consent, a log row, a decision, a counter); others are recent.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "UPDATE kyc_cases SET decided_at = now() - interval '6 years' WHERE id = '{case}'; \
         INSERT INTO consents (id, customer_id, purpose, text_version, text_sha256, accepted_at, client_ip, user_agent) \
           SELECT gen_random_uuid(), customer_id, purpose, text_version, text_sha256, now() - interval '3 years', \
                  '10.1.2.3', 'Browser Lama' FROM consents WHERE customer_id = '{customer}'; \
         INSERT INTO pii_access_log (case_id, kind, action, actor_kind, client_ip, at) \
           VALUES ('{case}', 'ktp', 'view', 'staff', '10.9.9.9', now() - interval '2 years'); \
         INSERT INTO login_failures (key, failures, window_started) \
           VALUES ('login:customer:lama@example.com', 3, now() - interval '3 days'), \
                  ('login:customer:baru@example.com', 1, now())",
        case = case.id
    )))
    .execute(&app.db)
    .await?;

    let removed = app.state.kyc.apply_retention(false).await?;
    assert_eq!(
        (
            removed.case_results,
            removed.consent_addresses,
            removed.access_log_addresses,
            removed.login_failures
        ),
        (1, 1, 1, 1)
    );
    let (name, masked, reason): (String, String, Option<String>) =
        sqlx::query_as("SELECT full_name, nik_masked, reason FROM kyc_cases WHERE id = $1")
            .bind(case.id)
            .fetch_one(&app.db)
            .await?;
    assert_eq!(
        (name.as_str(), masked.as_str(), reason),
        ("", "****************", None)
    );
    let addresses: Vec<String> = sqlx::query_scalar(
        "SELECT client_ip FROM consents WHERE customer_id = $1 ORDER BY accepted_at",
    )
    .bind(customer)
    .fetch_all(&app.db)
    .await?;
    assert_eq!(
        addresses,
        ["", "127.0.0.1"],
        "only the old consent's address goes"
    );
    let old_ips: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pii_access_log WHERE client_ip = '10.9.9.9'")
            .fetch_one(&app.db)
            .await?;
    assert_eq!(old_ips, 0);
    let counters: Vec<String> = sqlx::query_scalar(
        "SELECT key FROM login_failures WHERE key LIKE 'login:customer:%' ORDER BY key",
    )
    .fetch_all(&app.db)
    .await?;
    assert_eq!(counters, ["login:customer:baru@example.com"]);
    Ok(())
}

#[tokio::test]
async fn hq_erases_a_customer_on_request() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = dir.path().display().to_string();
    let (app, customer, _) = manual_app(&[("SENTRA_STORAGE_URL", &storage)]).await?;
    let hq = hq(&app).await?;
    let erased = hq.erase_customer(customer).await?;
    assert_eq!((erased.bookings_kept, erased.photos_deleted), (0, 2));
    let (name, email): (String, Option<String>) =
        sqlx::query_as("SELECT full_name, email FROM customers WHERE id = $1")
            .bind(customer)
            .fetch_one(&app.db)
            .await?;
    assert_eq!((name.as_str(), email), ("Pelanggan terhapus", None));
    hq.erase_customer(customer)
        .await
        .map_err(|e| anyhow::anyhow!("erasing twice is harmless: {e}"))?;
    let err = hq
        .erase_customer(uuid::Uuid::now_v7())
        .await
        .expect_err("no such customer");
    assert_eq!(err.status(), Some(404));
    let err = app
        .api()
        .erase_customer(customer)
        .await
        .expect_err("customers erase only themselves");
    assert_eq!(
        err.status(),
        Some(401),
        "the customer's session ended with the erasure"
    );
    Ok(())
}
