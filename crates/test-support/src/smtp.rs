//! A real SMTP server for the e-mail tests: `aiosmtpd` (`PyPI`, installed into `.tools/py` by
//! `scripts/setup.sh`) on a free loopback port, with STARTTLS (a self-signed certificate the
//! client is told to trust) and AUTH required, delivering into a Maildir the test reads back.
//! It can be stopped and started again on the same port, to play an outage.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::Duration,
};

use anyhow::Context;

use crate::{
    process::{free_port, service_tempdir, spawn_tied, stop_slot, wait_until},
    s3::tools_bin_dir,
};

const SCRIPT: &str = include_str!("smtp_server.py");

/// One SMTP server. Stopped on drop.
#[derive(Debug)]
pub struct SmtpServer {
    port: u16,
    child: Mutex<Option<Child>>,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// The AUTH user it accepts.
    pub const USER: &'static str = "sentra-mailer";
    /// The AUTH password it accepts.
    pub const PASSWORD: &'static str = "smtp-test-password";

    /// Starts the server and waits until it accepts connections.
    pub fn start() -> anyhow::Result<Self> {
        let dir = service_tempdir("sentra-test-smtp-")?;
        std::fs::write(dir.path().join("smtp_server.py"), SCRIPT)?;
        let server = Self {
            port: free_port()?,
            child: Mutex::new(None),
            dir,
        };
        server.resume()?;
        Ok(server)
    }

    /// Starts it again on the same port (after [`Self::stop`]), with the same certificate and
    /// mailbox.
    pub fn resume(&self) -> anyhow::Result<()> {
        // The virtualenv's Python (it has aiosmtpd), not the system one on PATH.
        let python = tools_bin_dir().join("python3");
        anyhow::ensure!(
            python.is_file(),
            "{} is missing; run `make setup` (scripts/setup.sh) to install the Python test tools",
            python.display()
        );
        let log = self.dir.path().join("smtp.log");
        let mut command = Command::new(python);
        command
            .arg(self.dir.path().join("smtp_server.py"))
            .args(["--port", &self.port.to_string()])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--user", Self::USER, "--password", Self::PASSWORD])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(self.dir.path().join("smtp.err"))?);
        let mut child = spawn_tied(command).context("starting the SMTP server (aiosmtpd)")?;
        let err_log = self.dir.path().join("smtp.err");
        wait_until(
            "aiosmtpd",
            &mut child,
            &err_log,
            Duration::from_mins(1),
            || std::fs::read_to_string(&log).is_ok_and(|text| text.contains("READY")),
        )?;
        *self
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(child);
        Ok(())
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's certificate (PEM), to be trusted by the client.
    pub fn certificate_path(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// Every message delivered so far, raw (headers and body), oldest first.
    pub fn delivered(&self) -> anyhow::Result<Vec<String>> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            let path = self.dir.path().join("maildir").join(sub);
            if let Ok(entries) = std::fs::read_dir(&path) {
                for entry in entries {
                    let entry = entry?;
                    files.push((entry.metadata()?.modified()?, entry.path()));
                }
            }
        }
        files.sort();
        files.into_iter().map(|(_, path)| read(&path)).collect()
    }

    /// Stops the server (connections are refused until [`Self::resume`]). Idempotent.
    pub fn stop(&self) {
        stop_slot(&self.child, libc::SIGTERM, Duration::from_secs(5));
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    Ok(String::from_utf8_lossy(&std::fs::read(path)?).into_owned())
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
