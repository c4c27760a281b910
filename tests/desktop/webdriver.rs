//! Just enough of a W3C WebDriver client, plus Xvfb and WebKitWebDriver start-up, to drive the
//! real desktop window.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use sentra_test_support::{KillOnDrop, free_port, spawn_tied};
use serde_json::{Value, json};

/// A virtual X display; the server stops on drop.
pub(crate) struct Display {
    pub(crate) number: u32,
    _xvfb: KillOnDrop,
}

impl Display {
    /// Starts Xvfb on a free display number; `-displayfd` reports the number once it accepts clients.
    pub(crate) fn start() -> anyhow::Result<Self> {
        let mut command = Command::new("Xvfb");
        command
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = spawn_tied(command).context("starting Xvfb (run scripts/setup.sh)")?;
        let stdout = child.stdout.take().context("Xvfb stdout")?;
        let guard = KillOnDrop(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let number = line
            .trim()
            .parse()
            .with_context(|| format!("Xvfb said {line:?}"))?;
        Ok(Self {
            number,
            _xvfb: guard,
        })
    }

    /// `:N`.
    pub(crate) fn name(&self) -> String {
        format!(":{}", self.number)
    }
}

/// A WebKitWebDriver process and a session on it.
pub(crate) struct Driver {
    base: String,
    http: reqwest::Client,
    session: Option<String>,
    _process: KillOnDrop,
}

impl Driver {
    /// Starts WebKitWebDriver for `display` and waits until `/status` reports ready.
    pub(crate) async fn start(display: &Display) -> anyhow::Result<Self> {
        Self::start_with_env(display, &[]).await
    }

    /// As [`Driver::start`], with extra environment for the app it launches (a D-Bus bus).
    pub(crate) async fn start_with_env(
        display: &Display,
        envs: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut command = Command::new("WebKitWebDriver");
        command
            .envs(envs.iter().copied())
            .arg(format!("--port={port}"))
            .env("DISPLAY", display.name())
            // Lets a Tauri app accept automation (see reference/desktop-hw.md §1.7).
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            // Software rendering under Xvfb: without this the X display shows an unpainted window.
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // The app's own messages (it inherits this stream) are kept for failure reports.
            .stderr(std::fs::File::create(
                std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("desktop-app.log"),
            )?);
        let process = KillOnDrop(
            spawn_tied(command).context("starting WebKitWebDriver (run scripts/setup.sh)")?,
        );
        let driver = Self {
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            session: None,
            _process: process,
        };
        let started = Instant::now();
        loop {
            if let Ok(response) = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await
            {
                let status: Value = response.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    return Ok(driver);
                }
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("WebKitWebDriver did not become ready");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Launches `binary` with `args` as a new session.
    pub(crate) async fn open_app(&mut self, binary: &str, args: &[&str]) -> anyhow::Result<()> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "webkitgtk:browserOptions": {"binary": binary, "args": args}
        }}});
        let reply = self
            .call(reqwest::Method::POST, "/session", Some(capabilities))
            .await?;
        let id = reply["sessionId"]
            .as_str()
            .context("no sessionId")?
            .to_owned();
        self.session = Some(id);
        Ok(())
    }

    /// Closes the app (ends the session).
    pub(crate) async fn close_app(&mut self) -> anyhow::Result<()> {
        if let Some(id) = self.session.take() {
            self.call(reqwest::Method::DELETE, &format!("/session/{id}"), None)
                .await?;
        }
        Ok(())
    }

    /// Waits until the element matching `css` exists and its text satisfies `accept`; returns it.
    pub(crate) async fn wait_for_text(
        &self,
        css: &str,
        accept: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        let session = self.session.as_deref().context("no session")?;
        let started = Instant::now();
        let mut last = String::from("(element not found)");
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(id) = self.find_now(css).await? {
                let text = self
                    .call(
                        reqwest::Method::GET,
                        &format!("/session/{session}/element/{id}/text"),
                        None,
                    )
                    .await?;
                text.as_str().unwrap_or_default().clone_into(&mut last);
                if accept(&last) {
                    return Ok(last);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{css}: text never matched; last seen {last:?}")
    }

    /// Waits until an element matches `css`; returns its WebDriver id.
    async fn find(&self, css: &str) -> anyhow::Result<String> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(id) = self.find_now(css).await? {
                return Ok(id);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{css}: no such element")
    }

    /// The WebDriver id of the element matching `css` now, if there is one.
    async fn find_now(&self, css: &str) -> anyhow::Result<Option<String>> {
        let session = self.session.as_deref().context("no session")?;
        let found = self
            .call(
                reqwest::Method::POST,
                &format!("/session/{session}/element"),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await
            .unwrap_or_default();
        Ok(found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    /// Runs `script` in the page and returns its value.
    pub(crate) async fn execute(&self, script: &str) -> anyhow::Result<Value> {
        let session = self.session.as_deref().context("no session")?;
        self.call(
            reqwest::Method::POST,
            &format!("/session/{session}/execute/sync"),
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Clicks the element matching `css`.
    pub(crate) async fn click(&self, css: &str) -> anyhow::Result<()> {
        let session = self.session.as_deref().context("no session")?;
        let id = self.find(css).await?;
        self.call(
            reqwest::Method::POST,
            &format!("/session/{session}/element/{id}/click"),
            Some(json!({})),
        )
        .await?;
        Ok(())
    }

    /// Types `text` into the element matching `css`, as a person would.
    pub(crate) async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let session = self.session.as_deref().context("no session")?;
        let id = self.find(css).await?;
        self.call(
            reqwest::Method::POST,
            &format!("/session/{session}/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await?;
        Ok(())
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let json: Value = response.json().await?;
        if !status.is_success() {
            bail!("WebDriver {path}: HTTP {status}: {}", json["value"]);
        }
        Ok(json["value"].clone())
    }
}
