//! `sentra-dev`: the development stack behind `make run`.
//!
//! Starts a project-local Postgres and Redis under `.dev/` (created on first run, reused after),
//! loads the demo data, runs the server, and opens the desktop app when a display is available,
//! with a virtual scanner and a PDF printer for the counter demo (`counter_demo`). Ctrl-C stops
//! everything in reverse order.

mod counter_demo;

use std::{
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use sentra_test_support::{KillOnDrop, PgOptions, PgServer};
use sqlx::{Connection, Executor, PgConnection};

struct Settings {
    root: PathBuf,
    pg_port: u16,
    redis_port: u16,
    server_port: u16,
    bin_dir: PathBuf,
}

fn env_port(name: &str, default: u16) -> anyhow::Result<u16> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{name} must be a port number, got {v:?}")),
        Err(_) => Ok(default),
    }
}

fn main() -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let settings = Settings {
        root: std::env::current_dir()?.join(".dev"),
        pg_port: env_port("SENTRA_DEV_PG_PORT", 55432)?,
        redis_port: env_port("SENTRA_DEV_REDIS_PORT", 56379)?,
        server_port: env_port("SENTRA_DEV_SERVER_PORT", 8080)?,
        bin_dir: exe.parent().context("binary directory")?.to_path_buf(),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(&settings))
}

/// Opens the desktop app on the counter demo's data when there is a display; else says how.
fn open_desktop(
    s: &Settings,
    server_url: &str,
    demo: &counter_demo::CounterDemo,
) -> anyhow::Result<Option<Child>> {
    let data_dir = demo.data_dir.display().to_string();
    let mut desktop = None;
    let desktop_bin = s.bin_dir.join("sentra-desktop");
    if std::env::var_os("DISPLAY").is_some() && desktop_bin.exists() {
        println!("▶ Desktop app (window opening)");
        desktop = Some(
            Command::new(&desktop_bin)
                .args(["--server-url", server_url, "--data-dir", &data_dir])
                .spawn()?,
        );
        demo.print();
    } else if desktop_bin.exists() {
        println!(
            "  No display: open the desktop app on a machine with one:\n    {} --server-url {server_url} --data-dir {data_dir}",
            desktop_bin.display()
        );
        demo.print();
    } else {
        println!(
            "  No display, so the desktop app was not built. With a display: DISPLAY=:0 make run"
        );
    }
    Ok(desktop)
}

async fn run(s: &Settings) -> anyhow::Result<()> {
    // A port taken by something else would pass the readiness checks below (they connect): say
    // so now, by name, instead.
    for (port, variable) in [
        (s.redis_port, "SENTRA_DEV_REDIS_PORT"),
        (s.server_port, "SENTRA_DEV_SERVER_PORT"),
    ] {
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            bail!(
                "127.0.0.1:{port} is in use (another `make run`?); stop it, or choose another port \
                 with {variable}=…"
            );
        }
    }
    std::fs::create_dir_all(&s.root)?;
    let pg_dir = postgres_dir(&s.root)?;
    println!(
        "▶ Postgres on 127.0.0.1:{} (data in {})",
        s.pg_port,
        pg_dir.display()
    );
    let pg = PgServer::start(&PgOptions {
        data_dir: Some(pg_dir),
        port: Some(s.pg_port),
        fast_unsafe: false,
    })?;
    let mut admin = PgConnection::connect(&pg.url("postgres")).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'sentra')")
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        admin.execute("CREATE DATABASE sentra").await?;
    }
    admin.close().await?;

    // Every process started from here on is a guard: a failure half-way (the demo data, the
    // server's start) stops what already runs instead of leaving it behind. Postgres's handle
    // stops its server when dropped too.
    println!("▶ Redis on 127.0.0.1:{}", s.redis_port);
    let redis = KillOnDrop(start_redis(&s.root.join("redis"), s.redis_port)?);

    let server_url = format!("http://127.0.0.1:{}", s.server_port);
    let server_bin = s.bin_dir.join("sentra-server");
    let envs = [
        ("DATABASE_URL", pg.url("sentra")),
        ("REDIS_URL", format!("redis://127.0.0.1:{}", s.redis_port)),
        ("SENTRA_LISTEN_ADDR", format!("127.0.0.1:{}", s.server_port)),
        (
            "SENTRA_JWT_SECRET",
            dev_secret(&s.root, "jwt-secret", Encoding::Hex)?,
        ),
        (
            "SENTRA_LABEL_SECRET",
            dev_secret(&s.root, "label-secret", Encoding::Hex)?,
        ),
        (
            "SENTRA_DATA_KEY",
            dev_secret(&s.root, "data-key", Encoding::Base64)?,
        ),
        (
            "SENTRA_NIK_HASH_KEY",
            dev_secret(&s.root, "nik-hash-key", Encoding::Base64)?,
        ),
        (
            "SENTRA_STORAGE_URL",
            s.root.join("objects").display().to_string(),
        ),
    ];
    let status = Command::new(&server_bin)
        .arg("seed-demo")
        .envs(envs.clone())
        .status()
        .with_context(|| format!("running {}", server_bin.display()))?;
    if !status.success() {
        bail!("loading the demo data failed");
    }
    println!("▶ Server on {server_url}");
    let mut server = KillOnDrop(Command::new(&server_bin).arg("serve").envs(envs).spawn()?);
    wait_ready(&server_url, &mut server.0).await?;

    let demo = counter_demo::prepare(
        &s.root,
        &pg.url("sentra"),
        &dev_secret(&s.root, "label-secret", Encoding::Hex)?,
    )
    .await?;
    let desktop = open_desktop(s, &server_url, &demo)?.map(KillOnDrop);
    println!(
        "\n✔ SentraRental is running.\n  API docs:  {server_url}/docs\n  Readiness: {server_url}/readyz\n  Press Ctrl-C to stop everything.\n"
    );

    tokio::select! {
        _ = tokio::signal::ctrl_c() => println!("\nstopping…"),
        () = watch_exit(&mut server.0) => println!("the server stopped; stopping the rest…"),
    }
    // In this order: the app, the scanner and printer, the server, Redis, Postgres.
    drop(desktop);
    drop(demo);
    drop(server);
    drop(redis);
    pg.stop();
    println!(
        "stopped. Data kept in {} (delete it to start afresh).",
        s.root.display()
    );
    Ok(())
}

/// `.dev/postgres`, or — when running as root in a directory the postgres account cannot reach
/// (for example under /root) — a directory under /var/tmp, linked from `.dev/postgres`.
fn postgres_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = root.join("postgres");
    if dir.exists() {
        return Ok(dir.canonicalize()?);
    }
    #[expect(unsafe_code, reason = "geteuid(2) has no preconditions")]
    let is_root = unsafe { libc::geteuid() } == 0;
    let reachable = !is_root
        || Command::new("runuser")
            .args(["-u", "postgres", "--", "test", "-x"])
            .arg(root)
            .status()
            .is_ok_and(|s| s.success());
    if reachable {
        return Ok(dir);
    }
    let target = PathBuf::from("/var/tmp").join(format!("sentra-dev-{}", std::process::id()));
    std::os::unix::fs::symlink(&target, &dir)?;
    Ok(target)
}

/// The development token secret: random, made once and kept in `.dev/jwt-secret` so that logins
/// survive a restart of `make run`.
/// How a generated secret is written.
#[derive(Clone, Copy)]
enum Encoding {
    Hex,
    Base64,
}

/// A secret kept in `.dev/<name>`, made from 32 random bytes on first use so restarts keep
/// sessions, printed labels and stored documents valid.
fn dev_secret(root: &Path, name: &str, encoding: Encoding) -> anyhow::Result<String> {
    let path = root.join(name);
    if let Ok(secret) = std::fs::read_to_string(&path) {
        return Ok(secret.trim().to_owned());
    }
    let mut random = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut random)?;
    let secret = match encoding {
        Encoding::Hex => random.iter().fold(String::with_capacity(64), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        }),
        Encoding::Base64 => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(random)
        }
    };
    std::fs::write(&path, &secret)?;
    Ok(secret)
}

fn start_redis(dir: &Path, port: u16) -> anyhow::Result<Child> {
    std::fs::create_dir_all(dir)?;
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--appendonly",
            "yes",
        ])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(dir.join("redis.log"))
        .process_group(0)
        .stdin(Stdio::null())
        .spawn()
        .context("starting redis-server (is it installed? run scripts/setup.sh)")?;
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if child.try_wait()?.is_some() || started.elapsed() > Duration::from_secs(20) {
            bail!(
                "redis-server did not start; see {}",
                dir.join("redis.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(child)
}

async fn wait_ready(url: &str, server: &mut Child) -> anyhow::Result<()> {
    let started = Instant::now();
    let address = url.trim_start_matches("http://");
    loop {
        if let Some(status) = server.try_wait()? {
            bail!("the server exited ({status}) during start-up");
        }
        if tokio::net::TcpStream::connect(address).await.is_ok() {
            return Ok(());
        }
        if started.elapsed() > Duration::from_mins(1) {
            bail!("the server did not listen on {url} within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn watch_exit(child: &mut Child) {
    while matches!(child.try_wait(), Ok(None)) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
