//! The payment secrets never reach the logs: the real server binary runs with debug logging
//! while a customer pays at Midtrans' contract server and webhooks (a forged one too) arrive,
//! and its whole output is searched for the server key, its Basic credentials, the Xendit
//! keys and the customer's card token.

use base64::Engine as _;
use serde_json::{Value, json};

use super::{
    fake_midtrans::{self, FakeMidtrans},
    fake_xendit,
};
use crate::logged::LoggedServer;

const CARD_TOKEN: &str = "tok-481111-1114-0a1b2c3d4e5f-secret";

#[tokio::test]
async fn payment_secrets_never_appear_in_the_logs() -> anyhow::Result<()> {
    let midtrans = FakeMidtrans::start().await?;
    let server = LoggedServer::start(&[
        ("SENTRA_PAYMENT_PROVIDERS", "JKT01=midtrans,DPS01=xendit"),
        ("SENTRA_MIDTRANS_URL", &midtrans.url),
        ("SENTRA_MIDTRANS_SERVER_KEY", fake_midtrans::SERVER_KEY),
        ("SENTRA_XENDIT_URL", "http://127.0.0.1:9"),
        ("SENTRA_XENDIT_SECRET_KEY", fake_xendit::SECRET_KEY),
        ("SENTRA_XENDIT_CALLBACK_TOKEN", fake_xendit::CALLBACK_TOKEN),
    ])
    .await?;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let order = book_and_pay(&client, &base).await?;
    let url = format!("{base}/api/v1/payments/webhooks/midtrans");
    let note = midtrans.notification(&order);
    assert_eq!(
        FakeMidtrans::deliver(&url, &FakeMidtrans::forge(&note)).await?,
        401
    );
    assert_eq!(FakeMidtrans::deliver(&url, &note).await?, 200);
    let xendit = format!("{base}/api/v1/payments/webhooks/xendit");
    let forged = client
        .post(&xendit)
        .header("x-callback-token", "a-guess")
        .json(&json!({"event": "payment.capture", "data": {}}))
        .send()
        .await?;
    assert_eq!(forged.status(), 401);

    let logs = server.stop_and_read_logs()?;
    assert!(logs.contains("hold recorded"), "the logs were captured");
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", fake_midtrans::SERVER_KEY));
    for secret in [
        fake_midtrans::SERVER_KEY,
        basic.as_str(),
        fake_xendit::SECRET_KEY,
        fake_xendit::CALLBACK_TOKEN,
        CARD_TOKEN,
        note["signature_key"].as_str().unwrap_or("no signature"),
    ] {
        assert!(!logs.contains(secret), "the logs contain {secret}");
    }
    Ok(())
}

/// A demo customer books an Avanza at JKT01 and pays it by card; returns the Midtrans order id.
async fn book_and_pay(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let call = |method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>| {
        let mut request = client
            .request(method, format!("{base}{path}"))
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await?;
            let status = response.status().as_u16();
            anyhow::Ok((
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            ))
        }
    };
    let (_, staff) = call(
        reqwest::Method::POST,
        "/api/v1/auth/staff/login",
        None,
        Some(json!({"email": "admin.jkt@demo.sentrarental.id", "password": "demo-jkt-2026"})),
    )
    .await?;
    assert!(staff["access_token"].is_string(), "{staff}");
    let (_, customer) = call(
        reqwest::Method::POST,
        "/api/v1/auth/customer/login",
        None,
        Some(json!({"login": "budi.santoso@example.com", "password": "demo-pelanggan-2026"})),
    )
    .await?;
    let customer = customer["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, me) = call(
        reqwest::Method::GET,
        "/api/v1/customers/me",
        Some(&customer),
        None,
    )
    .await?;
    let start = (chrono::Utc::now() + chrono::Duration::days(5)).date_naive();
    let (status, booking) = call(
        reqwest::Method::POST,
        "/api/v1/bookings",
        Some(&customer),
        Some(json!({"sku": "AVANZA-13G-AT", "branch": "JKT01", "customer_id": me["id"], "start": start,
                    "end": start + chrono::Days::new(2)})),
    )
    .await?;
    assert_eq!(status, 201, "{booking}");
    let id = booking["id"].as_str().unwrap_or_default();
    let (status, paid) = call(
        reqwest::Method::POST,
        &format!("/api/v1/bookings/{id}/payment"),
        Some(&customer),
        Some(json!({"method": "card", "card_token": CARD_TOKEN})),
    )
    .await?;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["holds"][0]["status"], "AUTHORISED");
    let order = paid["holds"][0]["reference"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(order)
}
