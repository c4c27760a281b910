//! A real PostgreSQL server for tests (throw-away, durability off) and for `make run` (kept under
//! `.dev/`, durable), plus per-test databases cloned from a migrated template.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Mutex, OnceLock, atomic::AtomicU32, atomic::Ordering},
    time::Duration,
};

use anyhow::{Context, bail};
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, migrate::Migrator};

use crate::process::{
    ServiceUser, at_exit, chown, find_program, free_port, log_tail, service_tempdir, spawn_tied,
    stop_child, stop_slot, unprivileged_user, wait_until,
};

/// How to run a server.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Data directory to use (and keep); `None` for a temporary one deleted on stop.
    pub data_dir: Option<PathBuf>,
    /// Port; `None` picks a free one.
    pub port: Option<u16>,
    /// Turn off fsync and synchronous commit: fast, and fine for data nobody keeps.
    pub fast_unsafe: bool,
}

impl PgOptions {
    /// A throw-away, fast server on a free port.
    pub fn ephemeral() -> Self {
        Self {
            data_dir: None,
            port: None,
            fast_unsafe: true,
        }
    }
}

/// A running PostgreSQL server. Stopped (and its temporary data deleted) on drop.
#[derive(Debug)]
pub struct PgServer {
    port: u16,
    child: Mutex<Option<Child>>,
    // Held for its Drop: deletes the data of an ephemeral server.
    temp: Mutex<Option<tempfile::TempDir>>,
    log: PathBuf,
    /// What a crash restart needs to start the same cluster again.
    data: PathBuf,
    fast_unsafe: bool,
}

/// The superuser every harness-made cluster has (trust authentication on loopback).
pub const SUPERUSER: &str = "postgres";

impl PgServer {
    /// Starts a server (running `initdb` first when the data directory is new).
    pub fn start(options: &PgOptions) -> anyhow::Result<Self> {
        let bin_dirs = debian_bin_dirs();
        let initdb = find_program("initdb", &bin_dirs)?;
        let postgres = find_program("postgres", &bin_dirs)?;
        let user = unprivileged_user()?;
        let temp = match &options.data_dir {
            Some(_) => None,
            None => Some(service_tempdir("sentra-test-pg-")?),
        };
        let root = temp.as_ref().map_or_else(
            || options.data_dir.clone().unwrap_or_default(),
            |t| t.path().to_path_buf(),
        );
        let data = if temp.is_some() {
            root.join("data")
        } else {
            root.clone()
        };
        if !data.join("PG_VERSION").exists() {
            init_cluster(&initdb, &data, user)?;
        }
        let log = data.join("server.log");

        let mut last_error = None;
        for _attempt in 0..5 {
            let port = match options.port {
                Some(p) => p,
                None => free_port()?,
            };
            match start_postmaster(&postgres, &data, &log, port, options.fast_unsafe, user) {
                Ok(child) => {
                    return Ok(Self {
                        port,
                        child: Mutex::new(Some(child)),
                        temp: Mutex::new(temp),
                        log,
                        data,
                        fast_unsafe: options.fast_unsafe,
                    });
                }
                // Someone took the port between our probe and the server's bind: try another.
                Err(e) if options.port.is_none() && e.to_string().contains("already in use") => {
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("postgres did not start")))
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for `database` as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// The server's log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Crashes the server and starts it again on the same port and data, like
    /// `pg_ctl restart -m immediate`: SIGQUIT ends every backend at once without a checkpoint
    /// (open connections see their sockets reset), and the new postmaster runs crash recovery
    /// before it accepts connections. Returns once it answers again.
    pub fn crash_restart(&self) -> anyhow::Result<()> {
        stop_slot(&self.child, libc::SIGQUIT, Duration::from_secs(10));
        let postgres = find_program("postgres", &debian_bin_dirs())?;
        let log = self.data.join("server-restarted.log");
        let child = start_postmaster(
            &postgres,
            &self.data,
            &log,
            self.port,
            self.fast_unsafe,
            unprivileged_user()?,
        )?;
        *self
            .child
            .lock()
            .map_err(|_| anyhow::anyhow!("postgres child lock poisoned"))? = Some(child);
        Ok(())
    }

    /// Stops the server (fast shutdown) and deletes temporary data. Idempotent.
    pub fn stop(&self) {
        stop_slot(&self.child, libc::SIGINT, Duration::from_secs(10));
        if let Ok(mut temp) = self.temp.lock() {
            temp.take();
        }
    }

    /// The test binary's shared server, started on first use and stopped at process exit.
    pub fn shared() -> anyhow::Result<&'static PgServer> {
        static SHARED: OnceLock<anyhow::Result<PgServer>> = OnceLock::new();
        extern "C" fn stop_shared() {
            if let Some(Ok(server)) = SHARED.get() {
                server.stop();
            }
        }
        SHARED
            .get_or_init(|| {
                let server = PgServer::start(&PgOptions::ephemeral());
                if server.is_ok() {
                    at_exit(stop_shared);
                }
                server
            })
            .as_ref()
            .map_err(|e| anyhow::anyhow!("starting the shared Postgres failed: {e:#}"))
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `/usr/lib/postgresql/<newest>/bin`, where Debian keeps the server programs off PATH.
fn debian_bin_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    dirs.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    dirs.into_iter().map(|(_, dir)| dir).collect()
}

fn as_user(command: &mut Command, user: Option<ServiceUser>) {
    use std::os::unix::process::CommandExt;
    if let Some(user) = user {
        command.uid(user.uid).gid(user.gid);
    }
}

fn init_cluster(initdb: &Path, data: &Path, user: Option<ServiceUser>) -> anyhow::Result<()> {
    fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    if let Some(user) = user {
        chown(data, user)?;
    }
    let mut command = Command::new(initdb);
    command
        .arg("-D")
        .arg(data)
        .args([
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .stdin(Stdio::null());
    as_user(&mut command, user);
    let output = command.output().context("running initdb")?;
    if !output.status.success() {
        bail!(
            "initdb failed for {}: {}{}",
            data.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn start_postmaster(
    postgres: &Path,
    data: &Path,
    log: &Path,
    port: u16,
    fast_unsafe: bool,
    user: Option<ServiceUser>,
) -> anyhow::Result<Child> {
    let log_file = fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    if let Some(user) = user {
        chown(log, user)?;
    }
    let mut command = Command::new(postgres);
    command
        .arg("-D")
        .arg(data)
        .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-k", ""])
        .args(["-c", "max_connections=300", "-c", "shared_buffers=128MB"])
        .args([
            "-c",
            "log_min_messages=warning",
            "-c",
            "log_min_error_statement=panic",
        ])
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file);
    if fast_unsafe {
        command.args([
            "-F",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]);
    }
    as_user(&mut command, user);
    let mut child = spawn_tied(command).context("starting postgres")?;
    let pg_isready = find_program("pg_isready", &debian_bin_dirs())?;
    let ready = wait_until("postgres", &mut child, log, Duration::from_mins(1), || {
        Command::new(&pg_isready)
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                SUPERUSER,
                "-t",
                "1",
            ])
            .status()
            .is_ok_and(|s| s.success())
    });
    if let Err(e) = ready {
        stop_child(&mut child, libc::SIGKILL, Duration::from_secs(5));
        let tail = log_tail(log);
        if tail.contains("already in use") {
            bail!("port {port} already in use");
        }
        return Err(e);
    }
    Ok(child)
}

/// Name of the migrated template database in the shared server.
const TEMPLATE: &str = "sentra_template";

/// A database of its own for one test, cloned from the migrated template; dropped on drop.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDatabase {
    /// Creates a fresh, migrated database in the shared server.
    ///
    /// The template is migrated once per test binary with `migrator` (the server's own).
    pub async fn create(migrator: &'static Migrator) -> anyhow::Result<Self> {
        static TEMPLATE_READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let server = PgServer::shared()?;
        let admin_url = server.url("postgres");
        TEMPLATE_READY
            .get_or_try_init(|| async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                admin
                    .execute(sqlx::raw_sql(AssertSqlSafe(format!(
                        "CREATE DATABASE {TEMPLATE}"
                    ))))
                    .await?;
                admin.close().await?;
                let mut template = PgConnection::connect(&server.url(TEMPLATE)).await?;
                migrator
                    .run(&mut template)
                    .await
                    .context("migrating the template database")?;
                template.close().await?;
                anyhow::Ok(())
            })
            .await?;
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(&admin_url).await?;
        admin
            .execute(sqlx::raw_sql(AssertSqlSafe(format!(
                "CREATE DATABASE {name} TEMPLATE {TEMPLATE}"
            ))))
            .await
            .with_context(|| format!("creating test database {name}"))?;
        admin.close().await?;
        Ok(Self {
            url: server.url(&name),
            name,
            admin_url,
        })
    }

    /// Creates a fresh database in `server` (one the test started for itself, e.g. to crash it)
    /// and applies `migrator` to it.
    pub async fn create_on(server: &PgServer, migrator: &'static Migrator) -> anyhow::Result<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "own_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin_url = server.url("postgres");
        let mut admin = PgConnection::connect(&admin_url).await?;
        admin
            .execute(sqlx::raw_sql(AssertSqlSafe(format!(
                "CREATE DATABASE {name}"
            ))))
            .await
            .with_context(|| format!("creating test database {name}"))?;
        admin.close().await?;
        let url = server.url(&name);
        let mut conn = PgConnection::connect(&url).await?;
        migrator
            .run(&mut conn)
            .await
            .context("migrating the test database")?;
        conn.close().await?;
        Ok(Self {
            name,
            url,
            admin_url,
        })
    }

    /// Connection URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection pool to this database.
    pub async fn pool(&self) -> anyhow::Result<sqlx::PgPool> {
        Ok(sqlx::postgres::PgPoolOptions::new()
            .max_connections(20)
            .connect(&self.url)
            .await?)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop may run inside an async test; use a private runtime on a plain thread.
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                admin.execute(sqlx::raw_sql(AssertSqlSafe(sql))).await?;
                admin.close().await?;
                anyhow::Ok(())
            })
        });
        if let Ok(Err(e)) = handle.join() {
            eprintln!("test-support: dropping a test database failed: {e:#}");
        }
    }
}
