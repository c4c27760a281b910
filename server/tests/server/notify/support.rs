//! The notification tests' world: the WhatsApp contract server and a real SMTP server, the
//! server's environment for both, and reading back what each delivered.

use std::time::{Duration, Instant};

use sentra_test_support::SmtpServer;
use uuid::Uuid;

use super::fake_whatsapp::FakeWhatsapp;
use crate::support::TestApp;

/// Both channels' providers, running.
pub(crate) struct Channels {
    pub(crate) whatsapp: FakeWhatsapp,
    pub(crate) smtp: SmtpServer,
}

/// One delivered e-mail, its headers unfolded and its body soft line breaks removed.
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    pub(crate) raw: String,
}

impl Mail {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        let unfolded = self
            .raw
            .replace("\r\n", "\n")
            .replace("\n ", " ")
            .replace("\n\t", " ");
        let head = unfolded.split("\n\n").next().unwrap_or_default().to_owned();
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// The text, quoted-printable soft breaks removed.
    pub(crate) fn text(&self) -> String {
        self.raw
            .replace("=\r\n", "")
            .replace("=\n", "")
            .replace("=3D", "=")
    }
}

impl Channels {
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let smtp = tokio::task::spawn_blocking(SmtpServer::start).await??;
        Ok(Self {
            whatsapp: FakeWhatsapp::start().await?,
            smtp,
        })
    }

    /// The server's environment: WhatsApp Cloud API and SMTP with STARTTLS and AUTH.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        let mut env = self.whatsapp.env();
        let port = self.smtp.port().to_string();
        let ca = self.smtp.certificate_path().display().to_string();
        for (k, v) in [
            ("SENTRA_EMAIL", "smtp"),
            ("SENTRA_SMTP_HOST", "127.0.0.1"),
            ("SENTRA_SMTP_PORT", port.as_str()),
            ("SENTRA_SMTP_SECURITY", "starttls"),
            ("SENTRA_SMTP_USERNAME", SmtpServer::USER),
            ("SENTRA_SMTP_PASSWORD", SmtpServer::PASSWORD),
            (
                "SENTRA_SMTP_FROM",
                "SentraRental <noreply@sentrarental.test>",
            ),
            ("SENTRA_SMTP_CA_FILE", ca.as_str()),
            ("SENTRA_CUSTOMER_URL", "https://app.sentrarental.test"),
        ] {
            env.push((k.to_owned(), v.to_owned()));
        }
        env
    }

    /// A server using both channels, with `extra` variables.
    pub(crate) async fn app(&self, extra: &[(&str, &str)]) -> anyhow::Result<TestApp> {
        let mut env = self.env();
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        TestApp::spawn_with(&vars).await
    }

    /// E-mails delivered to `to` whose subject contains `subject`.
    pub(crate) fn mails(&self, to: &str, subject: &str) -> anyhow::Result<Vec<Mail>> {
        Ok(self
            .smtp
            .delivered()?
            .into_iter()
            .map(|raw| Mail { raw })
            .filter(|m| {
                m.header("To").is_some_and(|t| t.contains(to))
                    && m.header("Subject").is_some_and(|s| s.contains(subject))
            })
            .collect())
    }
}

/// A customer's id, phone and e-mail.
pub(crate) async fn contact(app: &TestApp, tier: &str) -> anyhow::Result<(Uuid, String, String)> {
    Ok(sqlx::query_as(
        "SELECT id, phone, email FROM customers WHERE membership_tier = $1 ORDER BY full_name LIMIT 1",
    )
    .bind(tier)
    .fetch_one(&app.db)
    .await?)
}

/// Polls `check` until it holds (bounded by 30 s; the job queue runs every 100 ms).
pub(crate) async fn eventually(
    what: &str,
    mut check: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if check().await? {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the outbox and the notification jobs hold, for a failing test's message.
pub(crate) async fn state_of(app: &TestApp) -> String {
    let rows: Vec<(String, String, String, i32, Option<String>)> = sqlx::query_as(
        "SELECT template, channel, status, attempts, last_error FROM notification_outbox ORDER BY created_at",
    )
    .fetch_all(&app.db)
    .await
    .unwrap_or_default();
    let jobs: Vec<(String, i32, Option<String>)> = sqlx::query_as(
        "SELECT kind, attempts, last_error FROM jobs WHERE kind LIKE 'notification%' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap_or_default();
    format!("outbox: {rows:#?}\njobs: {jobs:#?}")
}

/// Like [`eventually`], with the outbox's state in the error.
pub(crate) async fn eventually_in(
    app: &TestApp,
    what: &str,
    check: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    match eventually(what, check).await {
        Ok(()) => Ok(()),
        Err(e) => Err(e.context(state_of(app).await)),
    }
}

/// Outbox rows of `template` for `customer`: (channel, status).
pub(crate) async fn outbox(
    app: &TestApp,
    customer: Uuid,
    template: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT channel, status FROM notification_outbox WHERE customer_id = $1 AND template = $2 ORDER BY channel",
    )
    .bind(customer)
    .bind(template)
    .fetch_all(&app.db)
    .await?)
}

/// Waits until no notification job is due (everything owed now has been tried).
pub(crate) async fn drained(app: &TestApp) -> anyhow::Result<()> {
    eventually("the notification jobs drained", async || {
        let due: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE kind LIKE 'notification%' AND run_at <= now()",
        )
        .fetch_one(&app.db)
        .await?;
        Ok(due == 0)
    })
    .await
}
