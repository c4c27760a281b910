//! A real S3-compatible server for tests: the `moto` server (`PyPI` package `moto[server]`, installed into
//! `.tools/py` by `scripts/setup.sh`) on a free loopback port, with one bucket created.
//!
//! moto implements the S3 REST protocol (SigV4-signed requests, multipart uploads, listing), so
//! the server's real `object_store` S3 client talks to it exactly as it would to AWS or `MinIO`.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::Duration,
};

use anyhow::{Context, bail};

use crate::process::{find_program, free_port, service_tempdir, spawn_tied, stop_slot, wait_until};

/// One running S3-compatible server. Stopped on drop.
#[derive(Debug)]
pub struct S3Server {
    port: u16,
    bucket: String,
    child: Mutex<Option<Child>>,
    _dir: tempfile::TempDir,
}

/// Where `scripts/setup.sh` installs the Python test tools.
pub fn tools_bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/py/bin")
}

impl S3Server {
    /// Starts `moto_server` and creates `bucket`.
    pub fn start(bucket: &str) -> anyhow::Result<Self> {
        let program = find_program("moto_server", &[tools_bin_dir()])?;
        let dir = service_tempdir("sentra-test-s3-")?;
        let log = dir.path().join("moto.log");
        let port = free_port()?;
        let mut command = Command::new(program);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(dir.path().join("moto.err"))?);
        let mut child = spawn_tied(command).context("starting moto_server")?;
        wait_until(
            "moto_server",
            &mut child,
            &log,
            Duration::from_mins(1),
            || http(port, "GET", "/").is_ok_and(|status| status == 200),
        )?;
        let status = http(port, "PUT", &format!("/{bucket}"))?;
        if status != 200 {
            bail!("creating bucket {bucket} answered HTTP {status}");
        }
        Ok(Self {
            port,
            bucket: bucket.to_owned(),
            child: Mutex::new(Some(child)),
            _dir: dir,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The bucket created at start.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Access key id the server accepts (moto accepts any; these look like real ones).
    pub fn access_key_id(&self) -> &'static str {
        "AKIASENTRATEST000001"
    }

    /// Secret key matching [`Self::access_key_id`].
    pub fn secret_access_key(&self) -> &'static str {
        "sentra-test-secret-key-0000000000000000"
    }

    /// Stops the server. Idempotent.
    pub fn stop(&self) {
        stop_slot(&self.child, libc::SIGTERM, Duration::from_secs(5));
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A bare HTTP/1.1 request without a body; returns the status code.
fn http(port: u16, method: &str, path: &str) -> anyhow::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let status = std::str::from_utf8(&head[9..12])?.parse()?;
    Ok(status)
}
