//! `TestApp`: the real server on a free port, with its own database and Redis key prefix.

use std::collections::HashMap;

use sentra_server::Config;
use sentra_test_support::{RedisServer, TestDatabase, unique_key_prefix};
use tokio::sync::oneshot;

/// The access-token secret of test servers.
pub(crate) const TEST_JWT_SECRET: &str = "test-secret-0123456789-abcdefghij-klmnop";
/// The label-signing secret of test servers.
pub(crate) const TEST_LABEL_SECRET: &str = "test-label-secret-0123456789-abcdefghij";
/// The key-wrapping key of test servers (32 bytes, base64).
pub(crate) const TEST_DATA_KEY: &str = "dGVzdC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE=";
/// The NIK hash's own secret in tests (base64 of 32 bytes).
pub(crate) const TEST_NIK_HASH_KEY: &str = "dGVzdC1uaWstaGFzaC1rZXktMDEyMzQ1Njc4OWFiY2Q=";

/// A running server for one test. Shuts down on drop.
pub(crate) struct TestApp {
    pub(crate) base_url: String,
    pub(crate) db: sqlx::PgPool,
    /// The running server's state (its services, for tests that drive them directly).
    pub(crate) state: sentra_server::AppState,
    pub(crate) client: reqwest::Client,
    pub(crate) key_prefix: String,
    /// Sent as `Authorization: Bearer …` by [`TestApp::get`], [`TestApp::post`] and friends.
    pub(crate) token: Option<String>,
    env: HashMap<String, String>,
    // Declared before the database so the server stops before its database is dropped.
    shutdown: Option<oneshot::Sender<()>>,
    _database: TestDatabase,
    storage: tempfile::TempDir,
}

impl TestApp {
    /// Starts a server with a fresh database and the shared Redis.
    pub(crate) async fn spawn() -> anyhow::Result<Self> {
        Self::spawn_with(&[]).await
    }

    /// Starts a server pointed at `redis_url` (a closed port simulates Redis being down).
    pub(crate) async fn spawn_with_redis(redis_url: &str) -> anyhow::Result<Self> {
        Self::spawn_with(&[("REDIS_URL", redis_url)]).await
    }

    /// Starts a server with extra environment variables (they override the defaults).
    pub(crate) async fn spawn_with(vars: &[(&str, &str)]) -> anyhow::Result<Self> {
        let database = TestDatabase::create(&sentra_server::MIGRATOR).await?;
        Self::spawn_on(database, vars).await
    }

    /// Starts a server on `database` (e.g. one in a Postgres server the test crashes).
    pub(crate) async fn spawn_on(
        database: TestDatabase,
        vars: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let key_prefix = unique_key_prefix();
        let storage = tempfile::tempdir()?;
        let mut env: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".to_owned(), database.url().to_owned()),
            ("REDIS_URL".to_owned(), RedisServer::shared()?.url()),
            ("SENTRA_REDIS_KEY_PREFIX".to_owned(), key_prefix.clone()),
            ("SENTRA_LISTEN_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
            ("SENTRA_DB_MAX_CONNECTIONS".to_owned(), "10".to_owned()),
            ("SENTRA_JWT_SECRET".to_owned(), TEST_JWT_SECRET.to_owned()),
            (
                "SENTRA_LABEL_SECRET".to_owned(),
                TEST_LABEL_SECRET.to_owned(),
            ),
            ("SENTRA_DATA_KEY".to_owned(), TEST_DATA_KEY.to_owned()),
            (
                "SENTRA_NIK_HASH_KEY".to_owned(),
                TEST_NIK_HASH_KEY.to_owned(),
            ),
            (
                "SENTRA_STORAGE_URL".to_owned(),
                storage.path().display().to_string(),
            ),
            // Storms come from one address; the limiter has its own test.
            ("SENTRA_RATE_LIMIT_PER_SEC".to_owned(), "100000".to_owned()),
            ("SENTRA_RATE_LIMIT_BURST".to_owned(), "1000000".to_owned()),
        ]);
        for (name, value) in vars {
            env.insert((*name).to_owned(), (*value).to_owned());
        }
        let (base_url, state, shutdown) = serve(&env).await?;
        Ok(Self {
            base_url,
            db: state.db.clone(),
            state,
            client: reqwest::Client::new(),
            key_prefix,
            token: None,
            env,
            _database: database,
            storage,
            shutdown: Some(shutdown),
        })
    }

    /// Stops the server and starts a new one on the same database and Redis prefix, like a
    /// deployment restart.
    pub(crate) async fn restart(&mut self) -> anyhow::Result<()> {
        self.shutdown.take();
        let (base_url, state, shutdown) = serve(&self.env).await?;
        self.base_url = base_url;
        self.db = state.db.clone();
        self.state = state;
        self.shutdown = Some(shutdown);
        Ok(())
    }

    /// [`Self::restart`] with changed environment variables (e.g. a rotated key).
    pub(crate) async fn restart_with(&mut self, vars: &[(&str, &str)]) -> anyhow::Result<()> {
        for (name, value) in vars {
            self.env.insert((*name).to_owned(), (*value).to_owned());
        }
        self.restart().await
    }

    /// The environment the server runs with (for running the binary's commands on it).
    pub(crate) fn env(&self) -> &HashMap<String, String> {
        &self.env
    }

    /// The directory the server stores its objects in (photos, documents).
    pub(crate) fn storage_dir(&self) -> &std::path::Path {
        self.storage.path()
    }

    /// Stops the server (as a pulled network cable looks to a client).
    pub(crate) fn stop(&mut self) {
        self.shutdown.take();
    }

    /// Starts a second server on the same database and Redis prefix (two instances behind a
    /// load balancer). It stops when the returned sender is dropped.
    pub(crate) async fn second_server(&self) -> anyhow::Result<(String, oneshot::Sender<()>)> {
        let (base_url, _, shutdown) = serve(&self.env).await?;
        Ok((base_url, shutdown))
    }

    /// Runs the due background jobs now (waitlist offers) with this server's services.
    pub(crate) async fn run_jobs(&self) -> anyhow::Result<usize> {
        let workers = sentra_server::jobs::Workers {
            bookings: self.state.bookings.clone(),
            kyc: self.state.kyc.clone(),
            payments: self.state.payments.clone(),
            notify: self.state.notify.clone(),
            metrics: Some(self.state.metrics.clone()),
        };
        sentra_server::jobs::run_due(&workers, &self.db).await
    }

    /// A request to `path` carrying the current token, if any.
    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// The typed API client, acting with the current token (if any).
    pub(crate) fn api(&self) -> sentra_api_client::ApiClient {
        let client = sentra_api_client::ApiClient::new(&self.base_url)
            .expect("a test server's URL is a valid base URL");
        match &self.token {
            Some(token) => client.with_token(token),
            None => client,
        }
    }

    /// Logs in as staff and returns the access token.
    pub(crate) async fn staff_token(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let tokens = self
            .api()
            .anonymous()
            .staff_login(&sentra_protocol::StaffLoginRequest {
                email: email.to_owned(),
                password: password.to_owned(),
            })
            .await?;
        Ok(tokens.access_token)
    }

    /// From now on, acts as the demo HQ admin (needs the demo data).
    pub(crate) async fn as_hq(&mut self) -> anyhow::Result<()> {
        self.token = Some(
            self.staff_token("hq@demo.sentrarental.id", "demo-hq-2026")
                .await?,
        );
        Ok(())
    }

    /// GET `path` as JSON.
    pub(crate) async fn get_json(&self, path: &str) -> anyhow::Result<(u16, serde_json::Value)> {
        let response = self.request(reqwest::Method::GET, path).send().await?;
        let status = response.status().as_u16();
        Ok((
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        ))
    }

    /// GET `path`, returning status, content type and body text.
    pub(crate) async fn get(&self, path: &str) -> anyhow::Result<(u16, String, String)> {
        let response = self.request(reqwest::Method::GET, path).send().await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((status, content_type, response.text().await?))
    }

    /// POST JSON to `path` with optional Idempotency-Key; returns status and JSON body.
    pub(crate) async fn post(
        &self,
        path: &str,
        key: Option<&str>,
        body: &serde_json::Value,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let mut request = self.request(reqwest::Method::POST, path).json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let json = response.json().await.unwrap_or(serde_json::Value::Null);
        Ok((status, json))
    }
}

async fn serve(
    env: &HashMap<String, String>,
) -> anyhow::Result<(String, sentra_server::AppState, oneshot::Sender<()>)> {
    let config = Config::from_lookup(|name| env.get(name).cloned())?;
    let server = sentra_server::start(config).await?;
    let base_url = format!("http://{}", server.local_addr()?);
    let state = server.state().clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    Ok((base_url, state, shutdown))
}

/// `(method, path)` of every operation in the server's OpenAPI document, the method in lower
/// case as OpenAPI writes it (`get`, `post`, …).
pub(crate) fn documented_operations() -> std::collections::BTreeSet<(String, String)> {
    use utoipa::OpenApi;
    let doc = sentra_server::http::openapi::ApiDoc::openapi();
    doc.paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let json = serde_json::to_value(item).unwrap_or_default();
            json.as_object()
                .map(|ops| {
                    ops.keys()
                        .filter(|key| {
                            [
                                "get", "post", "put", "patch", "delete", "head", "options", "trace",
                            ]
                            .contains(&key.as_str())
                        })
                        .map(|method| (method.clone(), path.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect()
}
