//! Liveness, readiness, metrics, OpenAPI/docs and the problem+json fallbacks.

use sentra_api_client::ApiClient;
use serde_json::Value;

use crate::support::TestApp;

#[tokio::test]
async fn health_version_and_readiness_through_the_typed_client() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let client = ApiClient::new(&app.base_url)?;
    let health = client.health().await?;
    assert_eq!(health.status, "ok");
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
    let version = client.version().await?;
    assert_eq!(version.api_version, sentra_protocol::API_VERSION);
    let ready = client.readiness().await?;
    assert!(ready.ready, "{ready:?}");
    let names: Vec<&str> = ready.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["postgres", "redis", "object_storage"]);
    Ok(())
}

#[tokio::test]
async fn readiness_reports_redis_down_with_503_and_no_internal_detail() -> anyhow::Result<()> {
    let closed = sentra_test_support::free_port()?;
    let app = TestApp::spawn_with_redis(&format!("redis://127.0.0.1:{closed}")).await?;
    let (status, _, body) = app.get("/readyz").await?;
    assert_eq!(status, 503);
    let json: Value = serde_json::from_str(&body)?;
    assert_eq!(json["ready"], false);
    assert_eq!(
        json["checks"][0],
        serde_json::json!({"name": "postgres", "ok": true})
    );
    assert_eq!(
        json["checks"][1],
        serde_json::json!({"name": "redis", "ok": false})
    );
    assert!(
        !body.contains(&closed.to_string()),
        "no addresses or errors leak: {body}"
    );
    // Liveness does not depend on Redis.
    assert_eq!(app.get("/healthz").await?.0, 200);
    Ok(())
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_problem_json() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (status, content_type, body) = app.get("/api/v1/nothing-here").await?;
    assert_eq!(status, 404);
    assert_eq!(content_type, "application/problem+json");
    let problem: sentra_protocol::Problem = serde_json::from_str(&body)?;
    assert_eq!(problem.code, sentra_protocol::ErrorCode::NotFound);
    assert_eq!(problem.instance.as_deref(), Some("/api/v1/nothing-here"));

    let response = app
        .client
        .post(format!("{}/healthz", app.base_url))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 405);
    let problem: sentra_protocol::Problem = response.json().await?;
    assert_eq!(problem.code.as_str(), "method_not_allowed");
    Ok(())
}

#[tokio::test]
async fn every_response_carries_a_request_id() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let response = app
        .client
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await?;
    let id = response
        .headers()
        .get("x-request-id")
        .expect("request id header");
    assert_eq!(id.to_str()?.len(), 36, "a UUID");
    let response = app
        .client
        .get(format!("{}/healthz", app.base_url))
        .header("x-request-id", "counter-7-abc")
        .send()
        .await?;
    assert_eq!(
        response.headers()["x-request-id"],
        "counter-7-abc",
        "a caller's id is kept"
    );
    Ok(())
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    for _ in 0..3 {
        app.get("/healthz").await?;
    }
    let (status, content_type, body) = app.get("/metrics").await?;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let line = body
        .lines()
        .find(|l| l.starts_with("sentra_http_requests_total{") && l.contains("route=\"/healthz\""))
        .unwrap_or_else(|| panic!("no healthz counter in:\n{body}"));
    assert!(line.ends_with(" 3"), "{line}");
    Ok(())
}

#[tokio::test]
async fn openapi_lists_every_route_and_the_docs_work_offline() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (status, _, body) = app.get("/openapi.json").await?;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body)?;
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.")
    );
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/version"] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
        assert_eq!(
            app.get(path).await?.0 / 100 * 100,
            200,
            "{path} documented but not served"
        );
    }
    assert!(doc["components"]["schemas"].get("Problem").is_some());

    let (status, content_type, html) = app.get("/docs/").await?;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"));
    assert!(
        !html.contains("cdn") && !html.contains("unpkg"),
        "assets must be served locally"
    );
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        assert_eq!(app.get(asset).await?.0, 200, "{asset}");
    }
    Ok(())
}

#[tokio::test]
async fn too_many_requests_get_429_with_retry_after() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(&[
        ("SENTRA_RATE_LIMIT_PER_SEC", "1"),
        ("SENTRA_RATE_LIMIT_BURST", "3"),
    ])
    .await?;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/version").await?.0, 200);
    }
    let response = app
        .client
        .get(format!("{}/api/v1/version", app.base_url))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let problem: serde_json::Value = response.json().await?;
    assert_eq!(problem["code"], "rate_limited");
    Ok(())
}
