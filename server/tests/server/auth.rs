//! Logins, tokens and sessions as a client sees them, through the typed client. The bearer
//! challenge header is read over raw HTTP.

use std::time::Duration;

use sentra_api_client::{ApiClient, ApiError};
use sentra_protocol::{
    ChangePasswordRequest, CustomerLoginRequest, RefreshRequest, StaffLoginRequest, TokenResponse,
};
use sentra_server::auth::{Role, SubjectKind, jwt, principal::Claims};
use serde_json::Value;

use crate::{
    fixtures::seed,
    support::{TEST_JWT_SECRET, TestApp},
};

const HQ: (&str, &str) = ("hq@demo.sentrarental.id", "demo-hq-2026");

async fn staff_login(
    api: &ApiClient,
    email: &str,
    password: &str,
) -> Result<TokenResponse, ApiError> {
    api.staff_login(&StaffLoginRequest {
        email: email.to_owned(),
        password: password.to_owned(),
    })
    .await
}

async fn refresh(api: &ApiClient, tokens: &TokenResponse) -> Result<TokenResponse, ApiError> {
    api.refresh(&RefreshRequest {
        refresh_token: tokens.refresh_token.clone(),
    })
    .await
}

/// `GET /auth/me` over raw HTTP: status, body and the `WWW-Authenticate` challenge.
async fn me_raw(app: &TestApp, token: &str) -> anyhow::Result<(u16, Value, Option<String>)> {
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

fn refusal(err: &ApiError) -> (Option<u16>, &str) {
    (err.status(), err.code())
}

#[tokio::test]
async fn staff_log_in_and_the_token_says_who_they_are() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let api = app.api();
    let tokens = staff_login(&api, "Admin.JKT@demo.sentrarental.id", "demo-jkt-2026").await?;
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 900);
    assert_eq!(tokens.me.role, Role::BranchAdmin);
    assert_eq!(tokens.me.branches.len(), 1);
    let who = api.with_token(&tokens.access_token).me().await?;
    assert_eq!(who.kind, SubjectKind::Staff);
    assert_eq!(who.id, tokens.me.id);

    // Customers log in with their phone or e-mail.
    let customer = api
        .customer_login(&CustomerLoginRequest {
            login: "+6281234567004".to_owned(),
            password: "demo-pelanggan-2026".to_owned(),
        })
        .await?;
    assert_eq!(customer.me.role, Role::Customer);
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

    seed(&app.db).await?;
    let hq = staff_login(&app.api(), HQ.0, HQ.1).await?;
    let session: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM auth_sessions WHERE subject_id = $1 AND revoked_at IS NULL",
    )
    .bind(hq.me.id)
    .fetch_one(&app.db)
    .await?;
    let now = chrono::Utc::now().timestamp();
    let claims = |sid, exp| Claims {
        sub: hq.me.id,
        sid,
        kind: SubjectKind::Staff,
        role: Role::HqAdmin,
        branches: vec![],
        iat: now - 10,
        exp,
    };
    let expired = jwt::sign(TEST_JWT_SECRET.as_bytes(), &claims(session, now - 1));
    let forged = jwt::sign(
        b"not-the-server-secret-0123456789abcdef",
        &claims(session, now + 600),
    );
    // Properly signed, but naming a session that never existed.
    let no_session = jwt::sign(
        TEST_JWT_SECRET.as_bytes(),
        &claims(uuid::Uuid::now_v7(), now + 600),
    );
    let valid = jwt::sign(TEST_JWT_SECRET.as_bytes(), &claims(session, now + 600));
    for (what, token) in [
        ("expired", expired.as_str()),
        ("forged", forged.as_str()),
        ("no such session", no_session.as_str()),
        ("garbage", "abc.def.ghi"),
    ] {
        let (status, problem, challenge) = me_raw(&app, token).await?;
        assert_eq!(
            (status, problem["code"].as_str()),
            (401, Some("unauthorized")),
            "{what}"
        );
        assert_eq!(challenge.as_deref(), Some("Bearer"), "{what}");
    }
    let me = app.api().with_token(&valid).me().await?;
    assert_eq!(
        me.role,
        Role::HqAdmin,
        "the same claims of a live session, properly signed, pass"
    );
    Ok(())
}

#[tokio::test]
async fn wrong_passwords_are_refused_alike_and_then_throttled() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let api = app.api();
    let wrong_password = staff_login(&api, HQ.0, "tebakan-1")
        .await
        .expect_err("wrong password");
    let no_account = staff_login(&api, "nobody@demo.sentrarental.id", "tebakan-1")
        .await
        .expect_err("no account");
    assert_eq!(
        (wrong_password.status(), no_account.status()),
        (Some(401), Some(401))
    );
    assert_eq!(
        wrong_password.problem().and_then(|p| p.detail.clone()),
        no_account.problem().and_then(|p| p.detail.clone()),
        "no hint which logins exist"
    );
    for i in 2..=5 {
        let err = staff_login(&api, HQ.0, &format!("tebakan-{i}"))
            .await
            .expect_err("wrong password");
        assert_eq!(err.status(), Some(401));
    }
    // Locked now, even with the right password.
    let err = staff_login(&api, HQ.0, HQ.1).await.expect_err("locked");
    assert_eq!(refusal(&err), (Some(429), "rate_limited"));
    let ApiError::Server { retry_after, .. } = err else {
        panic!("a server refusal: {err}");
    };
    let retry_after = retry_after.expect("Retry-After");
    assert!(
        (Duration::from_mins(1)..=Duration::from_mins(15)).contains(&retry_after),
        "{retry_after:?}"
    );
    Ok(())
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_session() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let api = app.api();
    let first = staff_login(&api, HQ.0, HQ.1).await?;
    let second = refresh(&api, &first).await?;
    assert_ne!(second.refresh_token, first.refresh_token);
    api.with_token(&second.access_token).me().await?;

    // The first refresh token comes back (stolen copy): refused, and the whole session ends.
    let err = refresh(&api, &first).await.expect_err("reused");
    assert_eq!(refusal(&err), (Some(401), "unauthorized"));
    let err = refresh(&api, &second).await.expect_err("the session ended");
    assert_eq!(err.status(), Some(401));

    // Logout (204) ends a session too.
    let third = staff_login(&api, HQ.0, HQ.1).await?;
    api.logout(&RefreshRequest {
        refresh_token: third.refresh_token.clone(),
    })
    .await?;
    let err = refresh(&api, &third).await.expect_err("logged out");
    assert_eq!(err.status(), Some(401));
    Ok(())
}

#[tokio::test]
async fn changing_the_password_ends_every_session() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let api = app.api();
    let laptop = staff_login(&api, HQ.0, HQ.1).await?;
    let counter = staff_login(&api, HQ.0, HQ.1).await?;
    let change = |current: &str, new: &str| ChangePasswordRequest {
        current_password: current.to_owned(),
        new_password: new.to_owned(),
    };
    let on_laptop = api.with_token(&laptop.access_token);
    let err = on_laptop
        .change_password(&change(HQ.1, "pendek"))
        .await
        .expect_err("too short");
    assert_eq!(err.status(), Some(422), "too short");
    let err = on_laptop
        .change_password(&change("salah-sekali-123", "kata-sandi-baru-2026"))
        .await
        .expect_err("wrong current password");
    assert_eq!(err.status(), Some(401));
    on_laptop
        .change_password(&change(HQ.1, "kata-sandi-baru-2026"))
        .await?;
    for session in [&laptop, &counter] {
        let err = refresh(&api, session)
            .await
            .expect_err("every session ends");
        assert_eq!(err.status(), Some(401), "every session ends");
    }
    let err = staff_login(&api, HQ.0, HQ.1)
        .await
        .expect_err("old password");
    assert_eq!(err.status(), Some(401));
    staff_login(&api, HQ.0, "kata-sandi-baru-2026").await?;
    Ok(())
}

#[tokio::test]
async fn one_address_guessing_across_many_accounts_is_throttled_too() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let api = app.api();
    for i in 0..20 {
        let err = staff_login(
            &api,
            &format!("tebak{i}@demo.sentrarental.id"),
            "kata-sandi",
        )
        .await
        .expect_err("no such account");
        assert_eq!(err.status(), Some(401));
    }
    let err = staff_login(&api, HQ.0, HQ.1)
        .await
        .expect_err("the address is throttled");
    assert_eq!(refusal(&err), (Some(429), "rate_limited"), "{err}");
    Ok(())
}
