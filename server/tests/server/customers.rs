//! Customers register themselves, log in with their phone, keep their profile and see their
//! bookings — and only theirs. Through the typed client, as the web front end would.

use sentra_api_client::ApiClient;
use sentra_domain::{CustomerKycStatus, MembershipTier};
use sentra_protocol::{
    CreateBookingRequest, CustomerLoginRequest, RegisterCustomerRequest, UpdateProfileRequest,
};
use uuid::Uuid;

use crate::{
    fixtures::{assets, day, seed},
    support::TestApp,
};

/// A booking of one unit.
fn unit(asset: Uuid, customer: Uuid, days: (u64, u64)) -> CreateBookingRequest {
    CreateBookingRequest {
        sku: None,
        branch: None,
        near: None,
        asset_id: Some(asset),
        customer_id: customer,
        start: day(days.0),
        end: day(days.1),
    }
}

fn registration(
    full_name: &str,
    phone: Option<&str>,
    email: Option<&str>,
    password: &str,
) -> RegisterCustomerRequest {
    RegisterCustomerRequest {
        full_name: full_name.to_owned(),
        phone: phone.map(str::to_owned),
        email: email.map(str::to_owned),
        password: password.to_owned(),
    }
}

#[tokio::test]
async fn a_customer_registers_logs_in_books_and_sees_only_their_bookings() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let public = app.api();
    let dewi = registration(
        "Dewi Lestari",
        Some("0813-1111-2222"),
        None,
        "sewa-mobil-lebaran",
    );
    let profile = public.register_customer(&dewi).await?;
    assert_eq!(
        profile.phone.as_deref(),
        Some("+6281311112222"),
        "normalised"
    );
    assert_eq!(
        (profile.membership_tier, profile.kyc_status),
        (MembershipTier::Regular, CustomerKycStatus::Unverified)
    );
    let err = public
        .register_customer(&dewi)
        .await
        .expect_err("registered once");
    assert_eq!((err.status(), err.code()), (Some(409), "conflict"));

    let tokens = public
        .customer_login(&CustomerLoginRequest {
            login: "+6281311112222".to_owned(),
            password: "sewa-mobil-lebaran".to_owned(),
        })
        .await?;
    let customer: ApiClient = public.with_token(&tokens.access_token);
    customer
        .update_my_profile(&UpdateProfileRequest {
            email: Some("Dewi.Lestari@Example.com".to_owned()),
            current_password: Some("sewa-mobil-lebaran".to_owned()),
            ..UpdateProfileRequest::default()
        })
        .await?;
    let me = customer.my_profile().await?;
    assert_eq!(
        (me.email.as_deref(), me.full_name.as_str()),
        (Some("dewi.lestari@example.com"), "Dewi Lestari")
    );

    let scooter = assets(&app.db, "VARIO-125", "DPS01").await?[0];
    let err = customer
        .create_booking("d-0", &unit(scooter, Uuid::now_v7(), (4, 6)))
        .await
        .expect_err("customers book for themselves");
    assert_eq!((err.status(), err.code()), (Some(403), "forbidden"));
    customer
        .create_booking("d-1", &unit(scooter, profile.id, (4, 6)))
        .await?;

    // Somebody else's booking exists too; Dewi's list has only hers.
    app.as_hq().await?;
    let budi: Uuid =
        sqlx::query_scalar("SELECT id FROM customers WHERE email = 'budi.santoso@example.com'")
            .fetch_one(&app.db)
            .await?;
    app.api()
        .create_booking("b-1", &unit(scooter, budi, (8, 9)))
        .await?;
    let mine = customer.my_bookings().await?.items;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].customer_id, Some(profile.id));
    Ok(())
}

#[tokio::test]
async fn registration_explains_every_bad_field() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let api = app.api();
    let err = api
        .register_customer(&registration(
            " ",
            Some("021-555"),
            Some("bukan-email"),
            "pendek",
        ))
        .await
        .expect_err("every field is wrong");
    assert_eq!((err.status(), err.code()), (Some(422), "validation_failed"));
    let mut fields: Vec<&str> = err
        .problem()
        .map(|p| p.errors.iter().map(|e| e.field.as_str()).collect())
        .unwrap_or_default();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "full_name", "password", "phone"]);
    let err = api
        .register_customer(&registration(
            "Tanpa Kontak",
            None,
            None,
            "cukup-panjang-123",
        ))
        .await
        .expect_err("no contact");
    let first_field = err
        .problem()
        .and_then(|p| p.errors.first())
        .map(|e| e.field.as_str());
    assert_eq!(
        (err.status(), first_field),
        (Some(422), Some("phone")),
        "a phone or an e-mail is needed"
    );
    Ok(())
}
