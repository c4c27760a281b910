//! A serial scanner on a pseudo-terminal pair (`socat`): the app reads `<dir>/scanner` as its
//! port, the test writes codes into the other end as a scanner would.

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use sentra_test_support::{KillOnDrop, spawn_tied};

pub(crate) struct PtyScanner {
    device: std::fs::File,
    _socat: KillOnDrop,
}

impl PtyScanner {
    /// Links `<dir>/scanner` (the app's port) to `<dir>/device` (this end).
    pub(crate) fn start(dir: &Path) -> anyhow::Result<Self> {
        let (app, device) = (dir.join("scanner"), dir.join("device"));
        let mut command = Command::new("socat");
        command
            .arg(format!("pty,raw,echo=0,link={}", app.display()))
            .arg(format!("pty,raw,echo=0,link={}", device.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let socat = KillOnDrop(spawn_tied(command)?);
        let started = Instant::now();
        while !(app.exists() && device.exists()) {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(10),
                "socat made no ptys"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let device = std::fs::OpenOptions::new().write(true).open(&device)?;
        Ok(Self {
            device,
            _socat: socat,
        })
    }

    /// What a scanner sends for one code: the code in two pieces, then CR LF.
    pub(crate) fn scan(&mut self, code: &str) -> anyhow::Result<()> {
        let (a, b) = code.split_at(code.len() / 2);
        self.device.write_all(a.as_bytes())?;
        self.device.flush()?;
        self.device.write_all(format!("{b}\r\n").as_bytes())?;
        self.device.flush()?;
        Ok(())
    }
}
