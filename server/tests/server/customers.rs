//! Customers register themselves, log in with their phone, keep their profile and see their
//! bookings — and only theirs.

use serde_json::json;

use crate::{
    fixtures::{assets, booking_body, day, seed},
    support::TestApp,
};

#[tokio::test]
async fn a_customer_registers_logs_in_books_and_sees_only_their_bookings() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let registration = json!({"full_name": "Dewi Lestari", "phone": "0813-1111-2222", "password": "sewa-mobil-lebaran"});
    let (status, profile) = app.post("/api/v1/customers", None, &registration).await?;
    assert_eq!(status, 201, "{profile}");
    assert_eq!(profile["phone"], "+6281311112222", "normalised");
    assert_eq!(
        (
            profile["membership_tier"].as_str(),
            profile["kyc_status"].as_str()
        ),
        (Some("regular"), Some("unverified"))
    );
    let (status, problem) = app.post("/api/v1/customers", None, &registration).await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("conflict")),
        "registered once"
    );

    let (status, tokens) = app
        .post(
            "/api/v1/auth/customer/login",
            None,
            &json!({"login": "+6281311112222", "password": "sewa-mobil-lebaran"}),
        )
        .await?;
    assert_eq!(status, 200, "{tokens}");
    app.token = tokens["access_token"].as_str().map(str::to_owned);
    let dewi = profile["id"].clone();

    let (status, updated) = app
        .request(reqwest::Method::PATCH, "/api/v1/customers/me")
        .json(&json!({"email": "Dewi.Lestari@Example.com"}))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map(|s| (s, ()))?;
    assert_eq!((status, updated), (200, ()));
    let (_, me) = app.get_json("/api/v1/customers/me").await?;
    assert_eq!(
        (me["email"].as_str(), me["full_name"].as_str()),
        (Some("dewi.lestari@example.com"), Some("Dewi Lestari"))
    );

    let scooter = assets(&app.db, "VARIO-125", "DPS01").await?[0];
    let someone_else = uuid::Uuid::now_v7();
    let (status, problem) = app
        .post(
            "/api/v1/bookings",
            Some("d-0"),
            &booking_body(scooter, someone_else, day(4), day(6)),
        )
        .await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("forbidden")),
        "customers book for themselves"
    );
    let dewi_id: uuid::Uuid = serde_json::from_value(dewi.clone())?;
    let (status, booking) = app
        .post(
            "/api/v1/bookings",
            Some("d-1"),
            &booking_body(scooter, dewi_id, day(4), day(6)),
        )
        .await?;
    assert_eq!(status, 201, "{booking}");

    // Somebody else's booking exists too; Dewi's list has only hers.
    app.as_hq().await?;
    let budi: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM customers WHERE email = 'budi.santoso@example.com'")
            .fetch_one(&app.db)
            .await?;
    app.post(
        "/api/v1/bookings",
        Some("b-1"),
        &booking_body(scooter, budi, day(8), day(9)),
    )
    .await?;
    app.token = tokens["access_token"].as_str().map(str::to_owned);
    let (status, mine) = app.get_json("/api/v1/customers/me/bookings").await?;
    assert_eq!(status, 200);
    let items = mine["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["customer_id"], dewi);
    Ok(())
}

#[tokio::test]
async fn registration_explains_every_bad_field() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (status, problem) = app
        .post("/api/v1/customers", None, &json!({"full_name": " ", "phone": "021-555", "email": "bukan-email", "password": "pendek"}))
        .await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "full_name", "password", "phone"]);
    let (status, problem) = app
        .post(
            "/api/v1/customers",
            None,
            &json!({"full_name": "Tanpa Kontak", "password": "cukup-panjang-123"}),
        )
        .await?;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("phone")),
        "a phone or an e-mail is needed"
    );
    Ok(())
}
