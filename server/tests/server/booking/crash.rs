//! Crashes: the server process killed mid-request (SIGKILL) and Postgres crash-restarted mid-storm.
//! A client retrying with the same Idempotency-Key always ends with the booking that was made or
//! a fresh decision; no key is left "in progress", no request answers 500.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use sentra_test_support::{KillOnDrop, PgOptions, PgServer, RedisServer, TestDatabase};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    fixtures::{assets, booking_body, customers, day, hold_asset_row, overlapping_pairs, seed},
    support::{TEST_DATA_KEY, TEST_JWT_SECRET, TEST_LABEL_SECRET, TestApp},
};

/// The real server binary on a fixed port, so it can be killed and started again.
struct ServerProcess {
    child: Option<KillOnDrop>,
    port: u16,
    env: Vec<(&'static str, String)>,
    _storage: tempfile::TempDir,
}

impl ServerProcess {
    async fn start(database_url: &str, redis_url: &str) -> anyhow::Result<Self> {
        let storage = tempfile::tempdir()?;
        let env = vec![
            ("DATABASE_URL", database_url.to_owned()),
            ("REDIS_URL", redis_url.to_owned()),
            (
                "SENTRA_REDIS_KEY_PREFIX",
                sentra_test_support::unique_key_prefix(),
            ),
            ("SENTRA_JWT_SECRET", TEST_JWT_SECRET.to_owned()),
            ("SENTRA_LABEL_SECRET", TEST_LABEL_SECRET.to_owned()),
            ("SENTRA_DATA_KEY", TEST_DATA_KEY.to_owned()),
            ("SENTRA_STORAGE_URL", storage.path().display().to_string()),
            ("SENTRA_RATE_LIMIT_PER_SEC", "100000".to_owned()),
            ("SENTRA_RATE_LIMIT_BURST", "1000000".to_owned()),
            ("SENTRA_LOG", "warn".to_owned()),
        ];
        let mut server = Self {
            child: None,
            port: sentra_test_support::free_port()?,
            env,
            _storage: storage,
        };
        server.launch().await?;
        Ok(server)
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sentra-server"));
        command
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("SENTRA_LISTEN_ADDR", format!("127.0.0.1:{}", self.port))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(KillOnDrop(sentra_test_support::spawn_tied(command)?));
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            let ready = client.get(format!("{}/readyz", self.base())).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the server did not become ready")
    }

    /// SIGKILL: no destructor, no graceful shutdown, like a power cut.
    fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.0.kill()?;
            child.0.wait()?;
        }
        Ok(())
    }
}

async fn hq_token(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let body: Value = client
        .post(format!("{base}/api/v1/auth/staff/login"))
        .json(&serde_json::json!({"email": "hq@demo.sentrarental.id", "password": "demo-hq-2026"}))
        .send()
        .await?
        .json()
        .await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("login failed: {body}"))
}

/// Posts the booking with `key` until it is decided, following `Retry-After` on the transient
/// answers (bounded). Returns the final status and body.
async fn book_until_decided(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> anyhow::Result<(u16, Value, bool)> {
    for _ in 0..30 {
        let response = client
            .post(format!("{base}/api/v1/bookings"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let json: Value = response.json().await.unwrap_or(Value::Null);
        let transient = status == StatusCode::SERVICE_UNAVAILABLE
            || ["asset_being_booked", "request_in_progress"]
                .contains(&json["code"].as_str().unwrap_or(""));
        if !transient {
            return Ok((status.as_u16(), json, replayed));
        }
        anyhow::ensure!(
            retry_after.is_some(),
            "a transient answer without Retry-After: {json}"
        );
        tokio::time::sleep(Duration::from_secs(retry_after.unwrap_or(1))).await;
    }
    anyhow::bail!("key {key} was never decided")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_request_leaves_a_key_that_its_retry_can_use() -> anyhow::Result<()> {
    let database = TestDatabase::create(&sentra_server::MIGRATOR).await?;
    let db = database.pool().await?;
    seed(&db).await?;
    let redis = tokio::task::spawn_blocking(RedisServer::start).await??;
    let mut server = ServerProcess::start(database.url(), &redis.url()).await?;
    let client = reqwest::Client::new();
    let token = hq_token(&client, &server.base()).await?;
    let fleet = assets(&db, "AVANZA-13G-AT", "JKT01").await?;
    let people = customers(&db).await?;

    // 1. Killed before the booking committed: the retry gets a fresh decision.
    let first = booking_body(fleet[0], people[0], day(3), day(5));
    let row = hold_asset_row(&db, fleet[0]).await?;
    let request = client
        .post(format!("{}/api/v1/bookings", server.base()))
        .bearer_auth(&token)
        .header("Idempotency-Key", "killed-before")
        .json(&first);
    let lost = tokio::spawn(request.send());
    row.wait_for_waiters(&db, 1).await?;
    server.kill()?;
    assert!(lost.await?.is_err(), "the client lost its connection");
    row.rollback().await?;
    server.launch().await?;
    let (status, booking, _) =
        book_until_decided(&client, &server.base(), &token, "killed-before", &first).await?;
    assert_eq!(status, 201, "{booking}");

    // 2. Killed after the booking committed, before the response went out (Redis stalls the
    //    steps after commit): the retry gets the booking that was made.
    let second = booking_body(fleet[1], people[1], day(3), day(5));
    let row = hold_asset_row(&db, fleet[1]).await?;
    let request = client
        .post(format!("{}/api/v1/bookings", server.base()))
        .bearer_auth(&token)
        .header("Idempotency-Key", "killed-after")
        .json(&second);
    let lost = tokio::spawn(request.send());
    row.wait_for_waiters(&db, 1).await?;
    redis.pause();
    row.rollback().await?;
    let started = Instant::now();
    let made: Uuid = loop {
        let made: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM bookings WHERE asset_id = $1 AND status = 'PENDING_PAYMENT'",
        )
        .bind(fleet[1])
        .fetch_optional(&db)
        .await?;
        if let Some(id) = made {
            break id;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "never committed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    server.kill()?;
    redis.resume();
    assert!(lost.await?.is_err(), "the client never got its answer");
    server.launch().await?;
    let (status, booking, replayed) =
        book_until_decided(&client, &server.base(), &token, "killed-after", &second).await?;
    assert_eq!((status, replayed), (201, true), "{booking}");
    assert_eq!(booking["id"].as_str(), Some(made.to_string().as_str()));
    let holds: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE asset_id = $1")
        .bind(fleet[1])
        .fetch_one(&db)
        .await?;
    assert_eq!(holds, 1, "the retry made no second booking");
    Ok(())
}

/// A storm client that retries (bounded) while the answers are transient.
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    /// Told of every answer (or lost connection), to time the crash.
    answered: tokio::sync::mpsc::UnboundedSender<()>,
}

/// Every answer a client got, and its decision (none when it never got one).
type Answers = (Vec<(u16, Value)>, Option<(u16, Value)>);

impl Client {
    async fn retry_until_decided(&self, key: &str, body: &Value) -> Answers {
        let mut answers = Vec::new();
        for _ in 0..40 {
            let response = self
                .http
                .post(format!("{}/api/v1/bookings", self.base))
                .bearer_auth(&self.token)
                .header("Idempotency-Key", key)
                .json(body)
                .send()
                .await;
            let _ = self.answered.send(());
            let Ok(response) = response else {
                answers.push((0, Value::Null));
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            let status = response.status().as_u16();
            let retry_after = response.headers().contains_key("retry-after");
            let json: Value = response.json().await.unwrap_or(Value::Null);
            answers.push((status, json.clone()));
            let transient = status == 503 || json["code"] == "asset_being_booked";
            if !transient {
                return (answers, Some((status, json)));
            }
            if !retry_after {
                return (answers, None);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        (answers, None)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_crash_mid_storm_answers_retryable_503s_and_leaves_no_stuck_key()
-> anyhow::Result<()> {
    // Durable commits: a crash must not lose a booking that was answered 201.
    let postgres = std::sync::Arc::new(
        tokio::task::spawn_blocking(|| {
            PgServer::start(&PgOptions {
                fast_unsafe: false,
                ..PgOptions::ephemeral()
            })
        })
        .await??,
    );
    let database = TestDatabase::create_on(&postgres, &sentra_server::MIGRATOR).await?;
    let mut app = TestApp::spawn_on(database, &[]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let fleet = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;
    let people = customers(&app.db).await?;
    let token = app.token.clone().unwrap_or_default();

    let attempts = 300;
    let mut tasks = tokio::task::JoinSet::new();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..attempts {
        let asset = fleet[i % fleet.len()];
        let start = u64::try_from(i % 12)?;
        let body = booking_body(asset, people[i % people.len()], day(start), day(start + 2));
        let client = Client {
            http: app.client.clone(),
            base: app.base_url.clone(),
            token: token.clone(),
            answered: done_tx.clone(),
        };
        tasks.spawn(async move { client.retry_until_decided(&format!("pg-{i}"), &body).await });
    }
    drop(done_tx);
    // Crash Postgres once a third of the first answers are in.
    for _ in 0..attempts / 3 {
        done_rx.recv().await;
    }
    let crashed = postgres.clone();
    tokio::task::spawn_blocking(move || crashed.crash_restart()).await??;

    let (mut created, mut refused, mut unavailable) = (0, 0, 0);
    let mut wrong = Vec::new();
    while let Some(result) = tasks.join_next().await {
        let (answers, decision) = result?;
        unavailable += answers.iter().filter(|(s, _)| *s == 503).count();
        for (status, body) in &answers {
            if *status >= 500 && *status != 503 {
                wrong.push(format!("{status}: {body}"));
            }
        }
        match decision {
            Some((201, _)) => created += 1,
            Some((409, body))
                if ["asset_held", "booking_conflict"]
                    .contains(&body["code"].as_str().unwrap_or("")) =>
            {
                refused += 1;
            }
            other => wrong.push(format!(
                "undecided or unexpected: {other:?} after {answers:?}"
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers: {wrong:#?}",
        wrong.len()
    );
    assert_eq!(created + refused, attempts);
    assert!(
        created > 0 && refused > 0,
        "{created} created, {refused} refused"
    );
    eprintln!(
        "postgres crash storm: {created} created, {refused} refused, {unavailable} answers 503"
    );
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM bookings WHERE status = 'PENDING_PAYMENT'")
            .fetch_one(&app.db)
            .await?;
    assert_eq!(
        usize::try_from(stored)?,
        created,
        "every 201 is a stored hold, and only those"
    );
    assert_eq!(overlapping_pairs(&app.db).await?, 0);
    Ok(())
}
