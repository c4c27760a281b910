//! A private CUPS scheduler for printing tests: `cupsd` with its own configuration, spool and
//! logs in a temporary directory, listening on a free loopback port, with a CUPS-PDF queue (the
//! `printer-driver-cups-pdf` package) that turns every job into a PDF file the test can read.
//!
//! CUPS-PDF runs as root and writes anonymous jobs (a requesting user with no local account) to
//! its spool directory, `AnonDirName` in `/etc/cups/cups-pdf.conf`; tests name their jobs
//! uniquely and remove the files they find.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};

use crate::process::{
    KillOnDrop, find_program, free_port, service_tempdir, spawn_tied, wait_until,
};

/// A running scheduler. Stopped on drop.
#[derive(Debug)]
pub struct CupsServer {
    port: u16,
    // Declared first: the scheduler stops before its directory is removed.
    _child: KillOnDrop,
    dir: tempfile::TempDir,
}

impl CupsServer {
    /// Starts `cupsd` and waits until it answers.
    pub fn start() -> anyhow::Result<Self> {
        #[expect(unsafe_code, reason = "geteuid(2) is always safe to call")]
        if unsafe { libc::geteuid() } != 0 {
            bail!("the printing tests start their own CUPS scheduler, which needs root");
        }
        let cupsd = find_program("cupsd", &[PathBuf::from("/usr/sbin")])?;
        let dir = service_tempdir("sentra-test-cups-")?;
        let root = dir.path();
        for sub in ["etc", "spool", "cache", "state", "log", "tmp"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        // Filters run as `lp` and need a writable temporary directory.
        std::fs::set_permissions(
            root.join("tmp"),
            std::os::unix::fs::PermissionsExt::from_mode(0o1777),
        )?;
        let port = free_port()?;
        std::fs::write(root.join("etc/cupsd.conf"), cupsd_conf(port))?;
        std::fs::write(root.join("etc/cups-files.conf"), files_conf(root))?;
        let log = root.join("log/cupsd.out");
        let mut command = Command::new(cupsd);
        command
            .arg("-f")
            .arg("-c")
            .arg(root.join("etc/cupsd.conf"))
            .arg("-s")
            .arg(root.join("etc/cups-files.conf"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(root.join("log/cupsd.err"))?);
        // Guarded before the wait: a scheduler that never gets ready is stopped too.
        let mut child = KillOnDrop(spawn_tied(command).context("starting cupsd")?);
        let host = format!("127.0.0.1:{port}");
        wait_until(
            "cupsd",
            &mut child.0,
            &root.join("log/error_log"),
            Duration::from_secs(30),
            || {
                Command::new("lpstat")
                    .args(["-h", &host, "-r"])
                    .stderr(Stdio::null())
                    .output()
                    .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("is running"))
            },
        )?;
        Ok(Self {
            port,
            _child: child,
            dir,
        })
    }

    /// `http://127.0.0.1:<port>`: the server's IPP address.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Adds an enabled CUPS-PDF queue called `name`.
    pub fn add_pdf_printer(&self, name: &str) -> anyhow::Result<()> {
        let out = Command::new("lpadmin")
            .args(["-h", &format!("127.0.0.1:{}", self.port), "-p", name, "-E"])
            .args([
                "-v",
                "cups-pdf:/",
                "-P",
                "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd",
            ])
            .output()
            .context("running lpadmin (package cups-client)")?;
        if !out.status.success() {
            bail!("lpadmin failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// Where CUPS-PDF writes jobs of users with no local account.
    pub fn anonymous_output_dir() -> PathBuf {
        let conf = std::fs::read_to_string("/etc/cups/cups-pdf.conf").unwrap_or_default();
        conf.lines()
            .filter_map(|line| line.trim().strip_prefix("AnonDirName"))
            .map(|value| PathBuf::from(value.trim()))
            .next_back()
            .unwrap_or_else(|| PathBuf::from("/var/spool/cups-pdf/ANONYMOUS"))
    }

    /// Removes files CUPS-PDF wrote for jobs titled `title` (left by an interrupted run).
    pub fn forget_printed(title: &str) -> std::io::Result<()> {
        let prefix = file_prefix(title);
        let Ok(entries) = std::fs::read_dir(Self::anonymous_output_dir()) else {
            return Ok(());
        };
        for entry in entries.filter_map(Result::ok) {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }

    /// The text on the pages CUPS-PDF printed for the job titled `title`, read as a person reads
    /// paper: each page rasterised at 400 dpi (`pdftoppm`) and read by OCR (`tesseract`), upright
    /// and turned a quarter either way (CUPS turns a landscape label to fit the sheet). CUPS
    /// turns a job into PostScript on the way, which keeps every glyph but not the map from
    /// glyphs back to text, so extracting the text would read nothing. Waits up to 30 s for the
    /// file; it is removed after reading.
    pub fn take_printed(title: &str) -> anyhow::Result<String> {
        let prefix = file_prefix(title);
        let dir = Self::anonymous_output_dir();
        let started = std::time::Instant::now();
        loop {
            let found = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
                });
            if let Some(file) = found {
                let text = read_pages(&file);
                std::fs::remove_file(&file)?;
                return text;
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("no {prefix}* printed in {}", dir.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The scheduler's error log, for failure messages.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log/error_log")
    }
}

/// The text of a printed PDF's pages by OCR.
fn read_pages(pdf: &Path) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let raster = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-q", "-r", "400", "-gray", "-png"])
        .arg(pdf)
        .arg(&raster)
        .status()
        .context("pdftoppm (poppler-utils)")?;
    anyhow::ensure!(status.success(), "pdftoppm failed on {}", pdf.display());
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir.path())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pages.sort();
    let mut text = String::new();
    for page in pages {
        for degrees in ["0", "90", "270"] {
            let turned = page.with_extension(format!("{degrees}.png"));
            let status = Command::new("convert")
                .arg(&page)
                .args([
                    "-rotate",
                    degrees,
                    "-trim",
                    "+repage",
                    "-bordercolor",
                    "white",
                ])
                .args(["-border", "40"])
                .arg(&turned)
                .status()
                .context("convert (imagemagick)")?;
            anyhow::ensure!(status.success(), "convert failed on {}", page.display());
            let out = Command::new("tesseract")
                .arg(&turned)
                .args(["stdout", "--psm", "11", "-l", "eng"])
                .output()
                .context("tesseract (tesseract-ocr)")?;
            text.push_str(&String::from_utf8_lossy(&out.stdout));
            text.push('\n');
        }
    }
    Ok(text)
}

/// The start of the file name CUPS-PDF gives a job titled `title`.
fn file_prefix(title: &str) -> String {
    title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn cupsd_conf(port: u16) -> String {
    format!(
        "Listen 127.0.0.1:{port}\n\
         LogLevel info\n\
         WebInterface No\n\
         Browsing No\n\
         DefaultShared No\n\
         <Location />\n  Order allow,deny\n  Allow all\n</Location>\n\
         <Policy default>\n  JobPrivateAccess all\n  JobPrivateValues none\n  \
         SubscriptionPrivateAccess all\n  SubscriptionPrivateValues none\n  \
         <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
    )
}

fn files_conf(root: &Path) -> String {
    let at = |sub: &str| root.join(sub).display().to_string();
    format!(
        "ServerRoot {}\nRequestRoot {}\nCacheDir {}\nStateDir {}\nTempDir {}\n\
         ErrorLog {}\nAccessLog {}\nPageLog {}\nSandboxing Relaxed\n",
        at("etc"),
        at("spool"),
        at("cache"),
        at("state"),
        at("tmp"),
        at("log/error_log"),
        at("log/access_log"),
        at("log/page_log"),
    )
}
