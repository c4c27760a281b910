//! Issue 14, sessions and accounts: an access token stops working the moment its session ends
//! (logout, password change, a reused refresh token), role and branch changes apply to the next
//! request, lockout counts per account whichever login named it, and changing the login e-mail
//! or phone needs the current password and tells the old address.

use sentra_api_client::{ApiClient, ApiError};
use sentra_protocol::{
    ChangePasswordRequest, CustomerLoginRequest, RefreshRequest, StaffLoginRequest, TokenResponse,
    UpdateProfileRequest,
};
use serde_json::Value;

use crate::{fixtures::seed, support::TestApp};

const HQ: (&str, &str) = ("hq@demo.sentrarental.id", "demo-hq-2026");
const JKT_ADMIN: (&str, &str) = ("admin.jkt@demo.sentrarental.id", "demo-jkt-2026");
const BUDI: (&str, &str, &str) = (
    "budi.santoso@example.com",
    "+6281234567001",
    "demo-pelanggan-2026",
);

async fn staff(api: &ApiClient, who: (&str, &str)) -> Result<TokenResponse, ApiError> {
    api.staff_login(&StaffLoginRequest {
        email: who.0.to_owned(),
        password: who.1.to_owned(),
    })
    .await
}

async fn customer(api: &ApiClient, login: &str, password: &str) -> Result<TokenResponse, ApiError> {
    api.customer_login(&CustomerLoginRequest {
        login: login.to_owned(),
        password: password.to_owned(),
    })
    .await
}

/// The status `GET path` answers with `token`.
async fn status_of(app: &TestApp, path: &str, token: &str) -> anyhow::Result<u16> {
    Ok(app
        .client
        .get(format!("{}{path}", app.base_url))
        .bearer_auth(token)
        .send()
        .await?
        .status()
        .as_u16())
}

#[tokio::test]
async fn an_access_token_ends_with_its_session() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let api = app.api().anonymous();
    let me = "/api/v1/auth/me";

    // Logout: that session's access token is refused at once; another session goes on.
    let laptop = staff(&api, HQ).await?;
    let counter = staff(&api, HQ).await?;
    assert_eq!(status_of(&app, me, &laptop.access_token).await?, 200);
    api.logout(&RefreshRequest {
        refresh_token: laptop.refresh_token.clone(),
    })
    .await?;
    assert_eq!(
        status_of(&app, me, &laptop.access_token).await?,
        401,
        "logged out"
    );
    assert_eq!(
        status_of(&app, me, &counter.access_token).await?,
        200,
        "the other session goes on"
    );

    // A reused refresh token: every access token of that session is refused, the newest too.
    let first = staff(&api, HQ).await?;
    let second = api
        .refresh(&RefreshRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await?;
    assert_eq!(status_of(&app, me, &second.access_token).await?, 200);
    api.refresh(&RefreshRequest {
        refresh_token: first.refresh_token.clone(),
    })
    .await
    .expect_err("a refresh token used twice");
    for token in [&first.access_token, &second.access_token] {
        assert_eq!(
            status_of(&app, me, token).await?,
            401,
            "the stolen session ended"
        );
    }
    assert_eq!(status_of(&app, me, &counter.access_token).await?, 200);

    // A password change ends every session of the account, the caller's own included.
    api.with_token(&counter.access_token)
        .change_password(&ChangePasswordRequest {
            current_password: HQ.1.to_owned(),
            new_password: "kata-sandi-baru-2026".to_owned(),
        })
        .await?;
    assert_eq!(
        status_of(&app, me, &counter.access_token).await?,
        401,
        "password changed"
    );
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT revoked_because FROM auth_sessions WHERE revoked_at IS NOT NULL ORDER BY 1",
    )
    .fetch_all(&app.db)
    .await?;
    assert_eq!(
        reasons,
        ["logout", "password_changed", "refresh_token_reused"]
    );
    Ok(())
}

#[tokio::test]
async fn role_branch_and_account_changes_apply_to_the_next_request() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let tokens = staff(&app.api().anonymous(), JKT_ADMIN).await?;
    let token = tokens.access_token.as_str();
    let devices = "/api/v1/sync/devices";
    let jakarta_bookings = "/api/v1/bookings?branch=JKT01";
    assert_eq!(status_of(&app, devices, token).await?, 200);
    assert_eq!(status_of(&app, jakarta_bookings, token).await?, 200);

    // HQ makes the branch admin an inspector: admin-only endpoints refuse the same token now.
    sqlx::query("UPDATE users SET role = 'inspector' WHERE id = $1")
        .bind(tokens.me.id)
        .execute(&app.db)
        .await?;
    assert_eq!(status_of(&app, devices, token).await?, 403, "demoted");
    let (_, who): (u16, Value) = {
        let response = app
            .client
            .get(format!("{}/api/v1/auth/me", app.base_url))
            .bearer_auth(token)
            .send()
            .await?;
        (response.status().as_u16(), response.json().await?)
    };
    assert_eq!(who["role"], "inspector");

    // Moved out of Jakarta: Jakarta's bookings are closed to them at once.
    sqlx::query("DELETE FROM user_branches WHERE user_id = $1")
        .bind(tokens.me.id)
        .execute(&app.db)
        .await?;
    let status = status_of(&app, jakarta_bookings, token).await?;
    assert!(matches!(status, 403 | 404), "moved out: {status}");

    // Disabled: nothing answers.
    sqlx::query("UPDATE users SET disabled_at = now() WHERE id = $1")
        .bind(tokens.me.id)
        .execute(&app.db)
        .await?;
    assert_eq!(
        status_of(&app, "/api/v1/auth/me", token).await?,
        401,
        "disabled"
    );
    Ok(())
}

#[tokio::test]
async fn lockout_counts_per_account_whichever_login_names_it() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let api = app.api().anonymous();
    let (email, phone, password) = BUDI;
    for (i, login) in [email, phone, "0812-3456-7001", email, phone]
        .into_iter()
        .enumerate()
    {
        let err = customer(&api, login, &format!("tebakan-{i}"))
            .await
            .expect_err("a wrong password");
        assert_eq!(err.status(), Some(401), "{login}");
    }
    // Five failures by e-mail and phone together: the account is locked, by either login.
    for login in [phone, email] {
        let err = customer(&api, login, password)
            .await
            .expect_err("the account is locked");
        assert_eq!(
            (err.status(), err.code()),
            (Some(429), "rate_limited"),
            "{login}"
        );
    }
    // Another customer on the same address is not locked out by Budi's account.
    customer(&api, "+6281234567002", password).await?;

    // Unknown logins keep a counter of their own and answer exactly like a wrong password.
    for i in 0..5 {
        let err = customer(&api, "siapa@example.com", &format!("tebakan-{i}"))
            .await
            .expect_err("no such account");
        assert_eq!(err.status(), Some(401));
    }
    let err = customer(&api, "siapa@example.com", "tebakan-6")
        .await
        .expect_err("locked");
    assert_eq!(err.status(), Some(429));
    Ok(())
}

#[tokio::test]
async fn changing_the_login_needs_the_password_and_tells_the_old_address() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let api = app.api().anonymous();
    let (email, phone, password) = BUDI;
    let tokens = customer(&api, email, password).await?;
    let budi = api.with_token(&tokens.access_token);
    let change = |current: Option<&str>| UpdateProfileRequest {
        email: Some("budi.baru@example.com".to_owned()),
        current_password: current.map(str::to_owned),
        ..UpdateProfileRequest::default()
    };
    for (what, current) in [("no password", None), ("wrong password", Some("tebakan"))] {
        let err = budi
            .update_my_profile(&change(current))
            .await
            .expect_err(what);
        let problem = err.problem().expect("a problem");
        assert_eq!(
            (err.status(), problem.errors[0].field.as_str()),
            (Some(422), "current_password"),
            "{what}"
        );
    }
    assert_eq!(budi.my_profile().await?.email.as_deref(), Some(email));

    // A new name alone needs no password; the login does.
    budi.update_my_profile(&UpdateProfileRequest {
        full_name: Some("Budi Santoso Wijaya".to_owned()),
        ..UpdateProfileRequest::default()
    })
    .await?;
    let updated = budi.update_my_profile(&change(Some(password))).await?;
    assert_eq!(updated.email.as_deref(), Some("budi.baru@example.com"));
    customer(&api, "budi.baru@example.com", password).await?;
    customer(&api, email, password)
        .await
        .expect_err("the old e-mail is not a login any more");

    // Both old addresses are told, once each, that the e-mail changed.
    let told: Vec<(String, String, Value)> = sqlx::query_as(
        "SELECT channel, recipient, params FROM notification_outbox \
         WHERE template = 'login_changed' ORDER BY channel",
    )
    .fetch_all(&app.db)
    .await?;
    assert_eq!(
        told,
        [
            (
                "email".to_owned(),
                email.to_owned(),
                serde_json::json!({"changed": "email"})
            ),
            (
                "whatsapp".to_owned(),
                phone.to_owned(),
                serde_json::json!({"changed": "email"})
            ),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_stolen_access_token_cannot_guess_the_password() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let api = app.api().anonymous();
    let tokens = staff(&api, JKT_ADMIN).await?;
    let stolen = api.with_token(&tokens.access_token);
    let change = |current: &str| ChangePasswordRequest {
        current_password: current.to_owned(),
        new_password: "punya-penyerang-2026".to_owned(),
    };
    for i in 0..5 {
        let err = stolen
            .change_password(&change(&format!("tebakan-{i}")))
            .await
            .expect_err("a wrong guess");
        assert_eq!(err.status(), Some(401));
    }
    // The account is locked: even the right password is refused now, and logins too.
    let err = stolen
        .change_password(&change(JKT_ADMIN.1))
        .await
        .expect_err("locked");
    assert_eq!((err.status(), err.code()), (Some(429), "rate_limited"));
    let err = staff(&api, JKT_ADMIN).await.expect_err("locked");
    assert_eq!(err.status(), Some(429));
    Ok(())
}
