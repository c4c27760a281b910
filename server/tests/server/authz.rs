//! The authorization matrix, generated from the OpenAPI document: every documented endpoint must
//! have an access rule, and every protected one must refuse no token, an expired token and a
//! forged token (401), a caller of the wrong role (403), and a caller of the wrong branch or the
//! wrong customer (403/404) — without leaking the resource in the answer.

use sentra_server::{
    auth::{Role, SubjectKind, jwt, principal::Claims},
    http::policy::{self, Access},
};
use serde_json::{Value, json};

use crate::{
    fixtures::{assets, booking_body, customers, day, seed},
    support::{TEST_JWT_SECRET, TestApp},
};

struct Caller {
    name: &'static str,
    token: Option<String>,
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> anyhow::Result<(u16, String)> {
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())?;
    let mut request = app
        .client
        .request(method.clone(), format!("{}{path}", app.base_url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
        request = request
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(body);
    }
    let response = request.send().await?;
    Ok((response.status().as_u16(), response.text().await?))
}

#[tokio::test]
#[expect(clippy::too_many_lines, reason = "the matrix, endpoint by endpoint")]
async fn every_endpoint_refuses_the_wrong_callers() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let hq = app.token.clone();
    let people = customers(&app.db).await?;
    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    // A Jakarta booking of the first customer, and a waitlist entry of theirs.
    let (_, booking) = app
        .post(
            "/api/v1/bookings",
            Some("matrix"),
            &booking_body(avanza, people[0], day(3), day(5)),
        )
        .await?;
    let booking_id = booking["id"].as_str().expect("booking").to_owned();
    crate::fixtures::sell_out(&app.api(), &app.db, "AVANZA-13G-AT", None, day(3), day(5)).await?;
    let (_, entry) = app
        .post("/api/v1/waitlist", None, &json!({"customer_id": people[0], "sku": "AVANZA-13G-AT", "start": day(3), "end": day(5)}))
        .await?;
    let entry_id = entry["id"].as_str().expect("entry").to_owned();
    // A transfer note between Jakarta and a third branch (Bali staff must not see it).
    app.post(
        "/api/v1/branches",
        None,
        &json!({"code": "SUB01", "name": "Surabaya", "time_zone": "Asia/Jakarta"}),
    )
    .await?;
    let moved = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[1];
    let (_, note) = app
        .post(
            &format!("/api/v1/assets/{moved}/transfer"),
            None,
            &json!({"to_branch_code": "SUB01", "reason": "matrix"}),
        )
        .await?;
    let note_id = note["id"].as_str().expect("transfer note").to_owned();
    let asset_id = avanza.to_string();
    let owner_email: String = sqlx::query_scalar("SELECT email FROM customers WHERE id = $1")
        .bind(people[0])
        .fetch_one(&app.db)
        .await?;
    let other_email: String = sqlx::query_scalar("SELECT email FROM customers WHERE id = $1")
        .bind(people[1])
        .fetch_one(&app.db)
        .await?;
    let customer_token = |email: String| {
        let app = &app;
        async move {
            let (_, tokens) = app
                .post(
                    "/api/v1/auth/customer/login",
                    None,
                    &json!({"login": email, "password": "demo-pelanggan-2026"}),
                )
                .await?;
            anyhow::Ok(tokens["access_token"].as_str().map(str::to_owned))
        }
    };
    let other_customer = customer_token(other_email).await?;
    let owner = customer_token(owner_email).await?;
    // A verification of the owner, waiting for review.
    let hq_token = app.token.replace(owner.clone().expect("owner token"));
    crate::kyc::flow::consent(&app).await?;
    let (_, kyc_case) = app
        .post(
            "/api/v1/customers/me/kyc",
            None,
            &crate::kyc::flow::submission(
                "3171015708450001",
                &crate::kyc::fake_verihubs::photo("ktp"),
                &crate::kyc::fake_verihubs::photo("selfie"),
            ),
        )
        .await?;
    let kyc_id = kyc_case["id"].as_str().expect("kyc case").to_owned();
    app.token = hq_token;
    let bali_admin = Some(
        app.staff_token("admin.dps@demo.sentrarental.id", "demo-dps-2026")
            .await?,
    );
    let inspector = Some(
        app.staff_token("inspektur@demo.sentrarental.id", "demo-insp-2026")
            .await?,
    );
    let kyc_reviewer = Some(
        app.staff_token("verifikasi@demo.sentrarental.id", "demo-kyc-2026")
            .await?,
    );
    let now = chrono::Utc::now().timestamp();
    let expired = jwt::sign(
        TEST_JWT_SECRET.as_bytes(),
        &Claims {
            sub: uuid::Uuid::now_v7(),
            sid: uuid::Uuid::now_v7(),
            kind: SubjectKind::Staff,
            role: Role::HqAdmin,
            branches: vec![],
            iat: now - 1_000,
            exp: now - 1,
        },
    );
    let forged = jwt::sign(
        b"someone-elses-secret-0123456789abcdef",
        &Claims {
            sub: uuid::Uuid::now_v7(),
            sid: uuid::Uuid::now_v7(),
            kind: SubjectKind::Staff,
            role: Role::HqAdmin,
            branches: vec![],
            iat: now,
            exp: now + 600,
        },
    );

    let (_, doc) = app.get_json("/openapi.json").await?;
    let paths = doc["paths"].as_object().expect("paths");
    let mut checks = 0;
    let mut endpoints = 0;
    for (pattern, operations) in paths {
        for (method, _) in operations.as_object().expect("operations") {
            endpoints += 1;
            let http_method = axum::http::Method::from_bytes(method.to_uppercase().as_bytes())?;
            let access = policy::rule(&http_method, pattern).unwrap_or_else(|| {
                panic!("{method} {pattern} has no access rule in http::policy::RULES")
            });
            let id = if pattern.contains("waitlist") {
                &entry_id
            } else if pattern.contains("/assets/") {
                &asset_id
            } else if pattern.contains("/transfers/") {
                &note_id
            } else if pattern.contains("/kyc/cases/") {
                &kyc_id
            } else {
                &booking_id
            };
            let path = pattern
                .replace("{id}", id)
                .replace("{code}", "AVANZA-13G-AT")
                .replace("{line}", id);
            let path = if pattern == "/api/v1/bookings" && method == "get" {
                format!("{path}?branch=JKT01")
            } else {
                path
            };
            // Valid bodies, so a refusal comes from the access checks and not from validation.
            let body = if pattern.ends_with("/charges/confirm") {
                json!({"total": 0})
            } else if pattern.ends_with("/charges") {
                json!({"description": "matrix", "amount": 1, "reason": "matrix",
                    "inspection_id": booking_id})
            } else if pattern.ends_with("/payment") {
                json!({"method": "card", "card_token": "tok-matrix"})
            } else if pattern.ends_with("/counter-payment") {
                json!({"method": "cash"})
            } else if pattern.ends_with("/confirm") {
                json!({"hold_token": booking["hold_token"]})
            } else if pattern.ends_with("/transfer") {
                json!({"to_branch_code": "DPS01", "reason": "matrix"})
            } else if pattern == "/api/v1/assets/{id}" {
                json!({"status": "maintenance"})
            } else if pattern.ends_with("/decision") {
                json!({"approve": true})
            } else if pattern.ends_with("/work-orders") {
                json!({"start": "2030-01-01", "end": "2030-01-02", "reason": "matrix"})
            } else if pattern.ends_with("/close") {
                json!({"cost_idr": 1})
            } else if pattern.ends_with("/pickup") || pattern.ends_with("/return") {
                let kind = if pattern.ends_with("/pickup") {
                    "PICKUP"
                } else {
                    "RETURN"
                };
                json!({"inspection": {"id": booking_id, "kind": kind, "checklist": [],
                    "odometer_km": 1, "fuel_eighths": 1, "staff_signature": booking_id}})
            } else {
                json!({})
            };
            if access == Access::Public {
                let (status, _) = call(&app, method, &path, None, &body).await?;
                if pattern.starts_with("/api/v1/payments/webhooks/")
                    || (pattern.starts_with("/api/v1/notifications/webhooks/") && method == "post")
                {
                    // Providers prove who they are by a signature or token, not a login: an
                    // unsigned notification is refused.
                    assert_eq!(status, 401, "{method} {pattern} without a signature");
                } else if pattern.starts_with("/api/v1/notifications/webhooks/") {
                    // Meta's verification handshake without the verify token.
                    assert_eq!(status, 403, "{method} {pattern} without the verify token");
                } else {
                    assert_ne!(status, 401, "{method} {pattern} is public");
                }
                checks += 1;
                continue;
            }
            for caller in [
                Caller {
                    name: "no token",
                    token: None,
                },
                Caller {
                    name: "expired token",
                    token: Some(expired.clone()),
                },
                Caller {
                    name: "forged token",
                    token: Some(forged.clone()),
                },
            ] {
                let (status, text) =
                    call(&app, method, &path, caller.token.as_deref(), &body).await?;
                assert_eq!(
                    status, 401,
                    "{method} {pattern} with {}: {text}",
                    caller.name
                );
                assert!(
                    !text.contains(&booking_id)
                        && !text.contains(&entry_id)
                        && !text.contains(&kyc_id),
                    "{method} {pattern} leaked"
                );
                checks += 1;
            }
            if let Access::Roles(roles) = access {
                for (name, role, token) in [
                    ("customer", Role::Customer, &owner),
                    ("inspector", Role::Inspector, &inspector),
                    ("branch admin", Role::BranchAdmin, &bali_admin),
                    ("HQ admin", Role::HqAdmin, &hq),
                    ("KYC reviewer", Role::KycReviewer, &kyc_reviewer),
                ] {
                    if !roles.contains(&role) {
                        let (status, text) =
                            call(&app, method, &path, token.as_deref(), &body).await?;
                        assert_eq!(status, 403, "{method} {pattern} as {name}: {text}");
                        checks += 1;
                    }
                }
            }
            // The resource-scoped endpoints: other branches and other customers learn nothing.
            // (KYC review is a central task of every branch's admins, not scoped by branch.)
            let scoped = (pattern.contains("{id}") && !pattern.contains("/kyc/"))
                || (pattern == "/api/v1/bookings" && method == "get");
            if scoped {
                for (name, token) in [
                    ("the other branch's admin", &bali_admin),
                    ("another customer", &other_customer),
                ] {
                    let (status, text) = call(&app, method, &path, token.as_deref(), &body).await?;
                    assert!(
                        matches!(status, 403 | 404),
                        "{method} {pattern} as {name}: {status} {text}"
                    );
                    assert!(
                        !text.contains(&booking_id)
                            && !text.contains(&entry_id)
                            && !text.contains(&note_id),
                        "{method} {pattern} leaked to {name}: {text}"
                    );
                    assert!(
                        !text.contains(&people[0].to_string()),
                        "{method} {pattern} leaked the customer to {name}"
                    );
                    checks += 1;
                }
            }
        }
    }
    // The owner and HQ still see what is theirs (the refusals above are not blanket refusals).
    app.token = owner;
    assert_eq!(
        app.get_json(&format!("/api/v1/bookings/{booking_id}"))
            .await?
            .0,
        200
    );
    app.token = hq;
    assert_eq!(
        app.get_json(&format!("/api/v1/bookings/{booking_id}"))
            .await?
            .0,
        200
    );
    assert!(endpoints >= 35, "{endpoints} endpoints documented");
    println!("authorization matrix: {endpoints} endpoints, {checks} checks");
    Ok(())
}

#[test]
fn every_rule_names_a_documented_endpoint() {
    let documented = crate::support::documented_operations();
    for (method, route, _) in policy::RULES {
        let served_outside_openapi = route.starts_with("/docs") || *route == "/openapi.json";
        assert!(
            served_outside_openapi
                || documented.contains(&(method.to_lowercase(), (*route).to_owned())),
            "rule for {method} {route} has no documented endpoint"
        );
    }
}
