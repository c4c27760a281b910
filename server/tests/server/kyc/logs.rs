//! The NIK and the identity photos never reach the logs: the real server binary runs with debug
//! logging while a customer verifies (including a refused submission) and staff review the
//! documents, and its whole output is searched afterwards.

use serde_json::{Value, json};

use super::{fake_verihubs::photo, flow::submission};
use crate::logged::LoggedServer;

const NIK: &str = "3171015708450001";

#[tokio::test]
async fn identity_data_never_appears_in_the_logs() -> anyhow::Result<()> {
    let server = LoggedServer::start(&[]).await?;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let send_json = |path: &str, token: Option<&str>, body: Value| {
        let mut request = client.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
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
    send_json("/api/v1/customers", None, json!({"full_name": "Siti", "email": "siti.log@example.com", "password": "rahasia-sekali-2026"})).await?;
    let (_, tokens) = send_json(
        "/api/v1/auth/customer/login",
        None,
        json!({"login": "siti.log@example.com", "password": "rahasia-sekali-2026"}),
    )
    .await?;
    let customer = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let text: Value = client
        .get(format!("{base}/api/v1/kyc/consent"))
        .send()
        .await?
        .json()
        .await?;
    send_json(
        "/api/v1/customers/me/consents",
        Some(&customer),
        json!({"version": text["version"], "sha256": text["sha256"], "accepted": true}),
    )
    .await?;
    // A NIK with a typo (refused locally), then the real one (manual review).
    let (status, _) = send_json(
        "/api/v1/customers/me/kyc",
        Some(&customer),
        submission("3171015708450000", &photo("ktp"), &photo("selfie")),
    )
    .await?;
    assert_eq!(status, 422);
    let (status, case) = send_json(
        "/api/v1/customers/me/kyc",
        Some(&customer),
        submission(NIK, &photo("ktp"), &photo("selfie")),
    )
    .await?;
    assert_eq!(status, 201, "{case}");
    let (_, staff) = send_json(
        "/api/v1/auth/staff/login",
        None,
        json!({"email": "verifikasi@demo.sentrarental.id", "password": "demo-kyc-2026"}),
    )
    .await?;
    let staff = staff["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let case_id = case["id"].as_str().unwrap_or_default();
    let document = client
        .get(format!("{base}/api/v1/kyc/cases/{case_id}/documents/ktp"))
        .bearer_auth(&staff)
        .send()
        .await?;
    assert_eq!(document.status(), 200);
    send_json(
        &format!("/api/v1/kyc/cases/{case_id}/decision"),
        Some(&staff),
        json!({"approve": true}),
    )
    .await?;

    let logs = server.stop_and_read_logs()?;
    assert!(logs.contains("KYC case created"), "the logs were captured");
    for secret in [NIK, "3171015708450000", "ktp", "selfie"].map(str::to_owned) {
        let needle = if secret.len() == 16 {
            secret.clone()
        } else {
            b64_fragment(&photo(&secret))
        };
        assert!(!logs.contains(&needle), "the logs contain {secret}");
    }
    Ok(())
}

/// A stretch of the photo's base64 (as it would appear if a body were logged).
fn b64_fragment(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)[..24].to_owned()
}
