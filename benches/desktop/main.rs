//! The desktop app measured (`make bench-desktop`, release build): the real app under Xvfb, the
//! real server with the demo branch and 2,000 bookings for Jakarta, a real Secret Service, a
//! serial scanner on a pseudo-terminal. Each figure is compared side by side in the same run:
//!
//! - cold start to interactive: the counter's day from a copy of 2,000 bookings, against the same
//!   binary showing its login screen (no copy, no session): the app's floor;
//! - memory: PSS of the app and its `WebKit` processes, idle, with that copy open;
//! - scan line → booking on screen: from the offline copy, against the same scan answered by the
//!   server (`POST /api/v1/scans`) for bookings the copy does not have yet;
//! - label render: rendering an asset label in the app, against fetching the server's PDF.
//!
//! Prints Markdown for BENCHMARKS.md.

#[path = "../../tests/desktop/pty.rs"]
mod pty;
#[path = "../../tests/desktop/server.rs"]
#[allow(dead_code, reason = "shared with the tests: the bench uses part of it")]
mod server;
#[path = "../../tests/desktop/webdriver.rs"]
#[allow(dead_code, reason = "shared with the tests: the bench uses part of it")]
mod webdriver;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use pty::PtyScanner;
use sentra_client_core::store::Store;
use sentra_domain::label::{self, LabelKind};
use sentra_protocol::SyncEntity;
use sentra_test_support::SecretService;
use uuid::Uuid;
use webdriver::{Display, Driver};

const APP: &str = env!("CARGO_BIN_EXE_sentra-desktop");
const LABEL_SECRET: &[u8] = b"desktop-label-secret-0123456789-abcdef";
const BOOKINGS: i64 = 2_000;
const STARTS: usize = 5;
const SCANS: usize = 20;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let server = server::start_with_demo().await?;
    let db = server.database.pool().await?;
    let cached = seed_bookings(&db).await?;
    let secrets = tokio::task::spawn_blocking(SecretService::start).await??;
    let dir = tempfile::tempdir()?;
    let mut scanner = PtyScanner::start(dir.path())?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    std::fs::write(
        data.join("preferences.json"),
        serde_json::json!({"scanner": {"port": dir.path().join("scanner"), "baud_rate": 9600,
                                       "line_ending": "auto"}})
        .to_string(),
    )?;
    let display = Display::start()?;
    let mut driver = Driver::start_with_env(
        &display,
        &[("DBUS_SESSION_BUS_ADDRESS", secrets.bus_address())],
    )
    .await?;
    let data_arg = data.to_string_lossy().into_owned();
    let signed_in = [
        "--server-url",
        server.url.as_str(),
        "--data-dir",
        data_arg.as_str(),
    ];

    // The first login fills the copy (and keeps the session in the keychain).
    driver.open_app(APP, &signed_in).await?;
    driver
        .type_into(
            "[data-testid=login-email]",
            "admin.jkt@demo.sentrarental.id",
        )
        .await?;
    driver
        .type_into("[data-testid=login-password]", "demo-jkt-2026")
        .await?;
    let first = Instant::now();
    driver.click("[data-testid=login-submit]").await?;
    let copy = wait_for_copy(&data, usize::try_from(BOOKINGS)?).await?;
    let first_sync = first.elapsed();
    driver.close_app().await?;

    let (counter, login) = cold_starts(&mut driver, &signed_in).await?;

    // Memory, idle, with the cached branch open.
    driver.open_app(APP, &signed_in).await?;
    driver
        .wait_for_text("[data-testid=pickups]", |t| t.contains("XYZ"))
        .await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let memory = memory_of_app()?;

    let (from_copy, from_server) = scans(&driver, &mut scanner, &db, &cached).await?;
    driver.close_app().await?;

    let (render, fetch) = label_times(&server).await?;

    println!("# Desktop app benchmark\n");
    println!(
        "Branch copy: {copy} bookings (first sync after login: {} ms)\n",
        first_sync.as_millis()
    );
    println!("| Measure | Runs | Median | Min | Max |\n|---|---|---|---|---|");
    row(
        "Cold start → page loaded, signed in with 2,000 cached bookings (ms)",
        &counter.loaded,
    );
    row(
        "Cold start → counter's day on screen from those bookings (ms)",
        &counter.interactive,
    );
    row(
        "Cold start → page loaded, nothing cached (ms, baseline)",
        &login.loaded,
    );
    row(
        "Cold start → login screen on screen, nothing cached (ms, baseline)",
        &login.interactive,
    );
    row(
        "Scan line → booking on screen, from the copy (ms)",
        &from_copy,
    );
    row(
        "Scan line → booking on screen, from the server (ms, baseline)",
        &from_server,
    );
    row("Label render with the app's code, in-process (µs)", &render);
    row(
        "Label PDF fetched from the server over HTTP (µs, baseline)",
        &fetch,
    );
    println!(
        "\nMemory, idle 5 s after start with the copy open: PSS {} MB (app {} MB, WebKit web {} MB, \
         WebKit network {} MB); RSS sum {} MB.",
        memory.pss_total / 1024,
        memory.pss_app / 1024,
        memory.pss_web / 1024,
        memory.pss_network / 1024,
        memory.rss_total / 1024,
    );
    Ok(())
}

/// Cold starts, alternating: the counter from the cached branch, and the login screen with
/// nothing cached (milliseconds each).
async fn cold_starts(driver: &mut Driver, signed_in: &[&str]) -> anyhow::Result<(Starts, Starts)> {
    let empty = tempfile::tempdir()?;
    let empty_arg = empty.path().to_string_lossy().into_owned();
    let closed = server::closed_url()?;
    let login_screen = [
        "--server-url",
        closed.as_str(),
        "--data-dir",
        empty_arg.as_str(),
    ];
    let (mut counter, mut login) = (Starts::default(), Starts::default());
    for _ in 0..STARTS {
        counter.add(time_start(driver, signed_in, "[data-testid=pickups-row]").await?);
        driver.close_app().await?;
        login.add(time_start(driver, &login_screen, "[data-testid=login-email]").await?);
        driver.close_app().await?;
    }
    Ok((counter, login))
}

/// Scan → booking on screen: from the copy, and (bookings made just now) from the server.
async fn scans(
    driver: &Driver,
    scanner: &mut PtyScanner,
    db: &sqlx::PgPool,
    cached: &[Uuid],
) -> anyhow::Result<(Vec<u128>, Vec<u128>)> {
    driver
        .wait_for_text("[data-testid=scanner-state]", |t| t.contains("tersambung"))
        .await?;
    driver.execute(OBSERVER).await?;
    let mut from_copy = Vec::new();
    for id in cached.iter().take(SCANS) {
        from_copy.push(time_scan(driver, scanner, *id, "Dari salinan").await?);
    }
    let fresh = seed_fresh(db, SCANS).await?;
    let mut from_server = Vec::new();
    for id in &fresh {
        from_server.push(time_scan(driver, scanner, *id, "Dicek oleh server").await?);
    }
    Ok((from_copy, from_server))
}

/// Start times: page loaded, and interactive (ms).
#[derive(Default)]
struct Starts {
    loaded: Vec<u128>,
    interactive: Vec<u128>,
}

impl Starts {
    fn add(&mut self, (loaded, interactive): (u128, u128)) {
        self.loaded.push(loaded);
        self.interactive.push(interactive);
    }
}

fn row(what: &str, samples: &[u128]) {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    println!(
        "| {what} | {} | {} | {} | {} |",
        sorted.len(),
        sorted[sorted.len() / 2],
        sorted[0],
        sorted[sorted.len() - 1]
    );
}

/// 2,000 one-day confirmed rentals on the Jakarta fleet from today; returns their ids.
async fn seed_bookings(db: &sqlx::PgPool) -> anyhow::Result<Vec<Uuid>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "WITH fleet AS (SELECT a.id, a.home_branch_id, row_number() OVER (ORDER BY a.id) - 1 AS n \
                        FROM assets a JOIN branches b ON b.id = a.home_branch_id \
                        WHERE b.code = 'JKT01'), \
              size AS (SELECT count(*) AS n FROM fleet) \
         INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, total_idr) \
         SELECT gen_random_uuid(), f.home_branch_id, f.id, \
                (SELECT id FROM customers ORDER BY id LIMIT 1), \
                daterange((now() AT TIME ZONE 'Asia/Jakarta')::date + (k / s.n)::int, \
                          (now() AT TIME ZONE 'Asia/Jakarta')::date + (k / s.n)::int + 1), \
                'CONFIRMED', 450000 \
         FROM generate_series(0, $1 - 1) AS k, size s, fleet f WHERE f.n = k % s.n \
         RETURNING id",
    )
    .bind(BOOKINGS)
    .fetch_all(db)
    .await?;
    Ok(ids)
}

/// `n` bookings far in the future that the app's copy does not hold yet.
async fn seed_fresh(db: &sqlx::PgPool, n: usize) -> anyhow::Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, total_idr) \
         SELECT gen_random_uuid(), a.home_branch_id, a.id, (SELECT id FROM customers ORDER BY id LIMIT 1), \
                daterange(current_date + 400 + k::int, current_date + 401 + k::int), 'CONFIRMED', 450000 \
         FROM generate_series(0, $1 - 1) AS k, \
              (SELECT a.* FROM assets a WHERE a.plate_or_serial = 'B 1234 XYZ') a \
         RETURNING id",
    )
    .bind(i64::try_from(n)?)
    .fetch_all(db)
    .await?)
}

/// Waits until the app's copy holds `want` bookings; returns how many it has.
async fn wait_for_copy(data: &Path, want: usize) -> anyhow::Result<usize> {
    let started = Instant::now();
    loop {
        let count = copy_file(data)
            .and_then(|path| Store::open(&path).ok())
            .and_then(|store| store.count(SyncEntity::Booking).ok())
            .unwrap_or(0);
        if count >= want {
            return Ok(count);
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_mins(2),
            "the copy has {count}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn copy_file(data: &Path) -> Option<PathBuf> {
    std::fs::read_dir(data.join("branches"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "sqlite3"))
}

/// Launches the app; milliseconds until its page has loaded (the WebDriver session is ready)
/// and until `ready` is on screen (looked for every 5 ms, in the page).
async fn time_start(
    driver: &mut Driver,
    args: &[&str],
    ready: &str,
) -> anyhow::Result<(u128, u128)> {
    let started = Instant::now();
    driver.open_app(APP, args).await?;
    let loaded = started.elapsed().as_millis();
    let script = format!("return !!document.querySelector('{ready}')");
    while driver.execute(&script).await?.as_bool() != Some(true) {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "{ready} never shown"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok((loaded, started.elapsed().as_millis()))
}

/// Records, in the page, when each booking id appears on screen.
const OBSERVER: &str = "window.__opened = {};
new MutationObserver(() => {
  const id = document.querySelector('[data-testid=booking-id]');
  const from = document.querySelector('[data-testid=booking-source]');
  if (id && from && !window.__opened[id.textContent])
    window.__opened[id.textContent] = {at: Date.now(), from: from.textContent};
}).observe(document.body, {subtree: true, childList: true, characterData: true});";

/// Writes the booking's code on the scanner line; milliseconds until the page showed it.
async fn time_scan(
    driver: &Driver,
    scanner: &mut PtyScanner,
    booking: Uuid,
    source: &str,
) -> anyhow::Result<u128> {
    let code = label::sign(LABEL_SECRET, LabelKind::Booking, booking, 0);
    let shown = booking.to_string()[28..].to_owned();
    let sent = now_ms();
    scanner.scan(&code)?;
    let started = Instant::now();
    loop {
        let seen = driver
            .execute(&format!("return window.__opened['{shown}'] || null"))
            .await?;
        if let Some(at) = seen["at"].as_u64() {
            // What the first screen of this scan said it came from.
            let from = seen["from"].as_str().unwrap_or_default();
            anyhow::ensure!(
                from.starts_with(source),
                "{booking}: {from:?}, expected {source:?}"
            );
            return Ok(u128::from(at).saturating_sub(sent));
        }
        // Looking again at once would keep the page's thread busy answering.
        tokio::time::sleep(Duration::from_millis(2)).await;
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "scan never shown"
        );
    }
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Label render in-process and the server's label PDF over HTTP, microseconds each.
async fn label_times(server: &server::RunningServer) -> anyhow::Result<(Vec<u128>, Vec<u128>)> {
    use sentra_printing::label::{AssetLabel, LabelTemplate, render_asset_label};
    let api = sentra_api_client::ApiClient::new(&server.url)?;
    let token = api
        .staff_login(&sentra_protocol::StaffLoginRequest {
            email: "admin.jkt@demo.sentrarental.id".into(),
            password: "demo-jkt-2026".into(),
        })
        .await?
        .access_token;
    let api = api.with_token(&token);
    let assets = api
        .assets(&sentra_protocol::AssetQuery::default())
        .await?
        .items;
    let asset = assets.first().ok_or_else(|| anyhow::anyhow!("no assets"))?;
    let payload = api.label(asset.id).await?;
    let template = LabelTemplate::shipped()?;
    let (mut render, mut fetch) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        let started = Instant::now();
        let pdf = render_asset_label(
            &template,
            &AssetLabel {
                payload: payload.payload.clone(),
                plate: asset.plate_or_serial.clone(),
                sku_name: asset.sku_name.clone(),
                branch_code: asset.home_branch_code.clone(),
                label_version: u32::try_from(payload.label_version)?,
            },
        )?;
        render.push(started.elapsed().as_micros());
        std::hint::black_box(pdf);
        let started = Instant::now();
        std::hint::black_box(api.label_pdf(asset.id).await?);
        fetch.push(started.elapsed().as_micros());
    }
    Ok((render, fetch))
}

/// Memory of the app and its `WebKit` helper processes (kB).
struct Memory {
    pss_total: u64,
    pss_app: u64,
    pss_web: u64,
    pss_network: u64,
    rss_total: u64,
}

fn memory_of_app() -> anyhow::Result<Memory> {
    let app = std::fs::canonicalize(APP)?;
    let pids: Vec<u32> = std::fs::read_dir("/proc")?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    let root = pids
        .iter()
        .copied()
        .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app))
        .ok_or_else(|| anyhow::anyhow!("the app is not running"))?;
    let parent = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(") ")?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let mut memory = Memory {
        pss_total: 0,
        pss_app: 0,
        pss_web: 0,
        pss_network: 0,
        rss_total: 0,
    };
    for pid in pids {
        let mut up = Some(pid);
        while let Some(p) = up.filter(|p| *p != root && *p > 1) {
            up = parent(p);
        }
        if up != Some(root) {
            continue;
        }
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let field = |name: &str| -> u64 {
            rollup
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0)
        };
        let (pss, rss) = (field("Pss:"), field("Rss:"));
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        memory.pss_total += pss;
        memory.rss_total += rss;
        if pid == root {
            memory.pss_app += pss;
        } else if name.contains("WebKitWebProces") {
            memory.pss_web += pss;
        } else if name.contains("WebKitNetworkPr") {
            memory.pss_network += pss;
        }
    }
    Ok(memory)
}
