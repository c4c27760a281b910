//! Findings of the security probe (issue 14), each with the answer a client sees: token answers
//! are never cached, a client's request id is kept only when it is a plain token, and the
//! waitlist follows the booking's date rules, and bad query strings, multipart and array bodies
//! are answered as problem documents.

use serde_json::json;

use crate::{fixtures::seed, support::TestApp};

fn cache_control(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn logins_refreshes_and_sessions_are_never_cached() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let url = |path: &str| format!("{}{path}", app.base_url);
    let login = app
        .client
        .post(url("/api/v1/auth/staff/login"))
        .json(&json!({"email": "hq@demo.sentrarental.id", "password": "demo-hq-2026"}))
        .send()
        .await?;
    assert_eq!(login.status(), 200);
    assert_eq!(cache_control(&login).as_deref(), Some("no-store"));
    let tokens: serde_json::Value = login.json().await?;
    let wrong = app
        .client
        .post(url("/api/v1/auth/staff/login"))
        .json(&json!({"email": "hq@demo.sentrarental.id", "password": "not-the-password"}))
        .send()
        .await?;
    assert_eq!(wrong.status(), 401);
    assert_eq!(cache_control(&wrong).as_deref(), Some("no-store"));
    let refreshed = app
        .client
        .post(url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await?;
    assert_eq!(refreshed.status(), 200);
    assert_eq!(cache_control(&refreshed).as_deref(), Some("no-store"));
    let fresh: serde_json::Value = refreshed.json().await?;
    let me = app
        .client
        .get(url("/api/v1/auth/me"))
        .bearer_auth(fresh["access_token"].as_str().unwrap_or_default())
        .send()
        .await?;
    assert_eq!(me.status(), 200);
    assert_eq!(cache_control(&me).as_deref(), Some("no-store"));
    Ok(())
}

#[tokio::test]
async fn a_client_request_id_is_echoed_only_when_it_is_a_plain_token() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let echo = |id: String| {
        let request = app
            .client
            .get(format!("{}/healthz", app.base_url))
            .header("x-request-id", id);
        async move {
            let response = request.send().await?;
            anyhow::Ok(
                response
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
    };
    assert_eq!(echo("kong-4f1c.2_a".to_owned()).await?, "kong-4f1c.2_a");
    for forged in [
        "<script>alert(1)</script>".to_owned(),
        "abc def".to_owned(),
        "x".repeat(65),
        "id\"},\"level\":\"ERROR".to_owned(),
    ] {
        let answered = echo(forged.clone()).await?;
        assert_ne!(answered, forged, "{forged} was echoed");
        assert!(
            uuid::Uuid::parse_str(&answered).is_ok(),
            "a fresh id replaces {forged}: {answered}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_waitlist_follows_the_booking_date_rules() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let customer: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM customers ORDER BY email LIMIT 1")
            .fetch_one(&app.db)
            .await?;
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let join = |start: chrono::NaiveDate, end: chrono::NaiveDate| {
        let body = json!({"sku": "AVANZA-13G-AT", "branch": "JKT01", "customer_id": customer,
                          "start": start, "end": end});
        let app = &app;
        async move { app.post("/api/v1/waitlist", None, &body).await }
    };
    let day = |n: i64| today + chrono::Duration::days(n);
    for (start, end, field) in [
        (day(-3), day(-1), "start"),
        (day(2), day(2 + 61), "end"),
        (day(400), day(402), "start"),
        (day(3), day(2), "end"),
    ] {
        let (status, refused) = join(start, end).await?;
        assert_eq!(
            (status, refused["code"].as_str()),
            (422, Some("validation_failed")),
            "{start}..{end}: {refused}"
        );
        assert_eq!(refused["errors"][0]["field"], field, "{refused}");
    }
    let entries: i64 = sqlx::query_scalar("SELECT count(*) FROM waitlist")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(entries, 0, "nobody was queued");
    Ok(())
}

#[tokio::test]
async fn printed_text_refuses_direction_overrides_and_invisible_characters() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    // A customer named with letters of any script is welcome, stored composed (NFC).
    let (status, created) = app
        .post(
            "/api/v1/customers",
            None,
            &json!({"full_name": "Nguye\u{0302}\u{0303}n Van An", "email": "an.nguyen@example.com",
                    "password": "rahasia-sekali-2026"}),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["full_name"], "Nguy\u{1EC5}n Van An");
    for (name, code) in [
        ("Budi \u{202E}otnasaS", "U+202E"),
        ("Budi\u{200B}Santoso", "U+200B"),
        ("Budi\u{7}", "U+0007"),
    ] {
        let (status, refused) = app
            .post(
                "/api/v1/customers",
                None,
                &json!({"full_name": name, "email": "budi.x@example.com",
                        "password": "rahasia-sekali-2026"}),
            )
            .await?;
        assert_eq!(status, 422, "{name:?}: {refused}");
        assert_eq!(refused["errors"][0]["field"], "full_name");
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(code),
            "{refused}"
        );
    }
    // A plate that would print reversed, and a branch address with a hidden character.
    app.as_hq().await?;
    let (status, refused) = app
        .post(
            "/api/v1/assets",
            None,
            &json!({"sku_code": "AVANZA-13G-AT", "branch_code": "JKT01",
                    "plate_or_serial": "B 1234 \u{202E}ZYX"}),
        )
        .await?;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("plate_or_serial"), "{refused}");
    let (status, refused) = app
        .post(
            "/api/v1/branches",
            None,
            &json!({"code": "SUB01", "name": "Surabaya", "time_zone": "Asia/Jakarta",
                    "address": "Jl. Pemuda\u{2066} 1"}),
        )
        .await?;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "address");
    Ok(())
}

#[tokio::test]
async fn bad_query_strings_multipart_and_array_bodies_are_answered_as_problems()
-> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let problem = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        anyhow::Ok((
            status,
            content_type,
            body["code"].as_str().map(str::to_owned),
        ))
    };
    let bad_query = app
        .request(
            reqwest::Method::GET,
            "/api/v1/bookings?branch=JKT01&limit=banyak",
        )
        .send()
        .await?;
    assert_eq!(
        problem(bad_query).await?,
        (
            422,
            "application/problem+json".to_owned(),
            Some("validation_failed".to_owned())
        )
    );
    let no_boundary = app
        .request(reqwest::Method::POST, "/api/v1/uploads?branch=JKT01")
        .header("content-type", "multipart/form-data")
        .body("not multipart")
        .send()
        .await?;
    assert_eq!(
        problem(no_boundary).await?,
        (
            400,
            "application/problem+json".to_owned(),
            Some("bad_request".to_owned())
        )
    );
    // serde would read a struct from an array of its fields: `[null, null]` changed nothing
    // and answered 200.
    let (_, tokens) = app
        .post(
            "/api/v1/auth/customer/login",
            None,
            &json!({"login": "budi.santoso@example.com", "password": "demo-pelanggan-2026"}),
        )
        .await?;
    let array = app
        .client
        .patch(format!("{}/api/v1/customers/me", app.base_url))
        .bearer_auth(tokens["access_token"].as_str().unwrap_or_default())
        .json(&json!([null, null]))
        .send()
        .await?;
    assert_eq!(
        problem(array).await?,
        (
            422,
            "application/problem+json".to_owned(),
            Some("validation_failed".to_owned())
        )
    );
    Ok(())
}
