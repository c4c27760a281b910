//! Logins, tokens and sessions as a client sees them.

use sentra_server::auth::{Role, SubjectKind, jwt, principal::Claims};
use serde_json::{Value, json};

use crate::{
    fixtures::seed,
    support::{TEST_JWT_SECRET, TestApp},
};

const HQ: (&str, &str) = ("hq@demo.sentrarental.id", "demo-hq-2026");

async fn staff_login(app: &TestApp, email: &str, password: &str) -> anyhow::Result<(u16, Value)> {
    app.post(
        "/api/v1/auth/staff/login",
        None,
        &json!({"email": email, "password": password}),
    )
    .await
}

async fn me(app: &TestApp, token: &str) -> anyhow::Result<(u16, Value, Option<String>)> {
    let response = app
        .client
        .get(format!("{}/api/v1/auth/me", app.base_url))
        .bearer_auth(token)
        .send()
        .await?;
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((
        status,
        response.json().await.unwrap_or(Value::Null),
        challenge,
    ))
}

#[tokio::test]
async fn staff_log_in_and_the_token_says_who_they_are() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let (status, tokens) =
        staff_login(&app, "Admin.JKT@demo.sentrarental.id", "demo-jkt-2026").await?;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert_eq!(tokens["me"]["role"], "branch_admin");
    assert_eq!(tokens["me"]["branches"].as_array().map(Vec::len), Some(1));
    let (status, who, _) = me(&app, tokens["access_token"].as_str().expect("token")).await?;
    assert_eq!((status, who["kind"].as_str()), (200, Some("staff")));
    assert_eq!(who["id"], tokens["me"]["id"]);

    // Customers log in with their phone or e-mail.
    let (status, customer) = app
        .post(
            "/api/v1/auth/customer/login",
            None,
            &json!({"login": "+6281234567004", "password": "demo-pelanggan-2026"}),
        )
        .await?;
    assert_eq!(
        (status, customer["me"]["role"].as_str()),
        (200, Some("customer")),
        "{customer}"
    );
    Ok(())
}

#[tokio::test]
async fn missing_forged_and_expired_tokens_get_401_with_a_bearer_challenge() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let response = app
        .client
        .get(format!("{}/api/v1/auth/me", app.base_url))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let problem: Value = response.json().await?;
    assert_eq!(problem["code"], "unauthorized");

    let now = chrono::Utc::now().timestamp();
    let claims = |exp| Claims {
        sub: uuid::Uuid::now_v7(),
        kind: SubjectKind::Staff,
        role: Role::HqAdmin,
        branches: vec![],
        iat: now - 10,
        exp,
    };
    let expired = jwt::sign(TEST_JWT_SECRET.as_bytes(), &claims(now - 1));
    let forged = jwt::sign(
        b"not-the-server-secret-0123456789abcdef",
        &claims(now + 600),
    );
    let valid = jwt::sign(TEST_JWT_SECRET.as_bytes(), &claims(now + 600));
    for (what, token) in [
        ("expired", expired.as_str()),
        ("forged", forged.as_str()),
        ("garbage", "abc.def.ghi"),
    ] {
        let (status, problem, challenge) = me(&app, token).await?;
        assert_eq!(
            (status, problem["code"].as_str()),
            (401, Some("unauthorized")),
            "{what}"
        );
        assert_eq!(challenge.as_deref(), Some("Bearer"), "{what}");
    }
    assert_eq!(
        me(&app, &valid).await?.0,
        200,
        "the same claims, properly signed, pass"
    );
    Ok(())
}

#[tokio::test]
async fn wrong_passwords_are_refused_alike_and_then_throttled() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let (status, wrong_password) = staff_login(&app, HQ.0, "tebakan-1").await?;
    let (status2, no_account) =
        staff_login(&app, "nobody@demo.sentrarental.id", "tebakan-1").await?;
    assert_eq!((status, status2), (401, 401));
    assert_eq!(
        wrong_password["detail"], no_account["detail"],
        "no hint which logins exist"
    );
    for i in 2..=5 {
        assert_eq!(
            staff_login(&app, HQ.0, &format!("tebakan-{i}")).await?.0,
            401
        );
    }
    // Locked now, even with the right password.
    let response = app
        .client
        .post(format!("{}/api/v1/auth/staff/login", app.base_url))
        .json(&json!({"email": HQ.0, "password": HQ.1}))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str()?.parse()?;
    assert!((60..=900).contains(&retry_after), "{retry_after}");
    let problem: Value = response.json().await?;
    assert_eq!(problem["code"], "rate_limited");
    Ok(())
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_session() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let (_, first) = staff_login(&app, HQ.0, HQ.1).await?;
    let refresh = |token: &Value| json!({"refresh_token": token["refresh_token"]});
    let (status, second) = app
        .post("/api/v1/auth/refresh", None, &refresh(&first))
        .await?;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(
        me(&app, second["access_token"].as_str().expect("token"))
            .await?
            .0,
        200
    );

    // The first refresh token comes back (stolen copy): refused, and the whole session ends.
    let (status, problem) = app
        .post("/api/v1/auth/refresh", None, &refresh(&first))
        .await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("unauthorized"))
    );
    assert_eq!(
        app.post("/api/v1/auth/refresh", None, &refresh(&second))
            .await?
            .0,
        401
    );

    // Logout ends a session too.
    let (_, third) = staff_login(&app, HQ.0, HQ.1).await?;
    let response = app
        .client
        .post(format!("{}/api/v1/auth/logout", app.base_url))
        .json(&refresh(&third))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(
        app.post("/api/v1/auth/refresh", None, &refresh(&third))
            .await?
            .0,
        401
    );
    Ok(())
}

#[tokio::test]
async fn changing_the_password_ends_every_session() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let (_, laptop) = staff_login(&app, HQ.0, HQ.1).await?;
    let (_, counter) = staff_login(&app, HQ.0, HQ.1).await?;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let send = |body: Value| {
        app.client
            .post(format!("{}/api/v1/auth/password", app.base_url))
            .bearer_auth(laptop["access_token"].as_str().unwrap_or_default())
            .json(&body)
            .send()
    };
    assert_eq!(
        send(change(HQ.1, "pendek")).await?.status().as_u16(),
        422,
        "too short"
    );
    assert_eq!(
        send(change("salah-sekali-123", "kata-sandi-baru-2026"))
            .await?
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        send(change(HQ.1, "kata-sandi-baru-2026"))
            .await?
            .status()
            .as_u16(),
        204
    );
    for session in [&laptop, &counter] {
        let (status, _) = app
            .post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": session["refresh_token"]}),
            )
            .await?;
        assert_eq!(status, 401, "every session ends");
    }
    assert_eq!(staff_login(&app, HQ.0, HQ.1).await?.0, 401);
    assert_eq!(
        staff_login(&app, HQ.0, "kata-sandi-baru-2026").await?.0,
        200
    );
    Ok(())
}

#[tokio::test]
async fn one_address_guessing_across_many_accounts_is_throttled_too() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    for i in 0..20 {
        let (status, _) = staff_login(
            &app,
            &format!("tebak{i}@demo.sentrarental.id"),
            "kata-sandi",
        )
        .await?;
        assert_eq!(status, 401);
    }
    let (status, problem) = staff_login(&app, HQ.0, HQ.1).await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (429, Some("rate_limited")),
        "{problem}"
    );
    Ok(())
}
