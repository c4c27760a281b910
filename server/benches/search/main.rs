//! `make bench`, second part: availability and booking over HTTP, the way customers and staff
//! call them, with 10,000 units of one SKU (7,000 in Jakarta, 3,000 in Bali) and 3,000 bookings.
//!
//! Side by side in one run, release build, loopback only:
//! - **search**: today's full-list answer (every free unit; mounted by the bench as it was, but
//!   outside the policy, rate-limit and metrics layers, which only favours it) against the
//!   customers' counts per branch with the price, and the staff's page of 50 units; one client
//!   and 16 concurrent clients;
//! - **search while the calendar reconciles every 5 s**: the old full comparison against the
//!   incremental reconcile, with a trickle of bookings so the incremental one has work;
//! - **a booking storm**: 16 clients booking by SKU against today's flow (fetch the full list,
//!   book a unit from it, fetch again after a 409) and against the same with a page of 50 units
//!   (the strongest flow a client could run itself).
//!
//! Every loop is bounded by its request count (and the reconcile runs by their duration).

#[path = "../common/mod.rs"]
mod common;
mod setup;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use common::percentile;
use sentra_server::booking::reconcile::{self, Reconciler};
use sentra_test_support::{RedisServer, TestDatabase};
use serde_json::json;
use setup::{SKU, World};
use uuid::Uuid;

const CLIENTS: usize = 16;
const ONE_CLIENT_SEARCHES: usize = 300;
const CONCURRENT_SEARCHES: usize = 3_200;
const RECONCILE_INTERVAL: Duration = Duration::from_secs(5);
const UNDER_RECONCILE: Duration = Duration::from_secs(16);
const UNDER_RECONCILE_MAX: usize = 200_000;
const STORM_ATTEMPTS: usize = 1_600;

/// Latencies of one measurement, its wall time and the largest answer.
#[derive(Default)]
struct Sample {
    times: Vec<Duration>,
    wall: Duration,
    bytes: usize,
    errors: usize,
}

impl Sample {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.times.clone();
        sorted.sort();
        percentile(&sorted, p)
    }

    #[expect(clippy::cast_precision_loss, reason = "a rate")]
    fn rate(&self) -> f64 {
        self.times.len() as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {} | {:.0} | {} | {} |",
            ms(self.percentile(0.5)),
            ms(self.percentile(0.99)),
            self.rate(),
            bytes(self.bytes),
            self.errors
        )
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// A count as a float (counts here are far below 2^32).
fn float(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

fn bytes(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{:.2} MB", float(n) / 1024.0 / 1024.0)
    } else if n >= 1024 {
        format!("{:.1} KB", float(n) / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// A 7-day search starting within the next 30 days, the `i`th of a run.
fn window(world: &World, i: usize) -> (chrono::NaiveDate, chrono::NaiveDate) {
    let start = world.today + chrono::Days::new(u64::try_from(i * 7919 % 30).unwrap_or(0));
    (start, start + chrono::Days::new(7))
}

#[derive(Clone, Copy)]
enum Answer {
    FullList,
    Counts,
    StaffPage,
}

impl Answer {
    fn name(self) -> &'static str {
        match self {
            Answer::FullList => "today's full list (every free unit)",
            Answer::Counts => "customers: counts per branch + price",
            Answer::StaffPage => "staff: one page of 50 units",
        }
    }

    fn url(self, world: &World, i: usize) -> String {
        let (start, end) = window(world, i);
        let base = &world.base;
        match self {
            Answer::FullList => format!("{base}/bench/full-list?sku={SKU}&start={start}&end={end}"),
            Answer::Counts => {
                format!("{base}/api/v1/availability?sku={SKU}&start={start}&end={end}")
            }
            Answer::StaffPage => format!(
                "{base}/api/v1/availability/units?sku={SKU}&start={start}&end={end}&limit=50"
            ),
        }
    }
}

/// `total` searches from `clients` concurrent clients (at most `deadline`, if given).
async fn searches(
    world: &Arc<World>,
    answer: Answer,
    clients: usize,
    total: usize,
    deadline: Option<Duration>,
) -> anyhow::Result<Sample> {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks = (0..clients).map(|_| {
        let (world, client, next) = (world.clone(), client.clone(), next.clone());
        tokio::spawn(async move {
            let mut sample = Sample::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || deadline.is_some_and(|d| started.elapsed() >= d) {
                    return Ok::<_, anyhow::Error>(sample);
                }
                let t = Instant::now();
                let response = client
                    .get(answer.url(&world, i))
                    .bearer_auth(&world.token)
                    .send()
                    .await?;
                let ok = response.status().is_success();
                let body = response.bytes().await?;
                sample.times.push(t.elapsed());
                sample.bytes = sample.bytes.max(body.len());
                if !ok {
                    sample.errors += 1;
                }
            }
        })
    });
    let mut all = Sample::default();
    for part in futures_util::future::join_all(tasks).await {
        let part = part??;
        all.times.extend(part.times);
        all.bytes = all.bytes.max(part.bytes);
        all.errors += part.errors;
    }
    all.wall = started.elapsed();
    Ok(all)
}

async fn search_section(world: &Arc<World>) -> anyhow::Result<()> {
    println!("## Availability search over HTTP: 10,000 units, 3,000 bookings, 7-day ranges\n");
    for (clients, total) in [(1, ONE_CLIENT_SEARCHES), (CLIENTS, CONCURRENT_SEARCHES)] {
        println!("### {clients} client(s), {total} searches per answer\n");
        println!("| answer | p50 ms | p99 ms | searches/s | response | errors |");
        println!("|---|---|---|---|---|---|");
        let mut samples = Vec::new();
        for answer in [Answer::FullList, Answer::Counts, Answer::StaffPage] {
            // A warm-up pass, not measured.
            searches(world, answer, clients, clients * 4, None).await?;
            let sample = searches(world, answer, clients, total, None).await?;
            println!("{}", sample.row(answer.name()));
            samples.push(sample);
        }
        println!(
            "\nCounts vs full list: **{:.1}×** the searches/s, p99 {:.1}× lower, answers {:.0}× smaller.\n",
            samples[1].rate() / samples[0].rate(),
            samples[0].percentile(0.99).as_secs_f64() / samples[1].percentile(0.99).as_secs_f64(),
            float(samples[0].bytes) / float(samples[1].bytes.max(1))
        );
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reconcile {
    None,
    Full,
    Incremental,
}

/// Bookings by SKU at about 5 per second until `stop`, far from the searched days.
async fn trickle(world: Arc<World>, stop: Arc<AtomicBool>) -> anyhow::Result<usize> {
    let client = reqwest::Client::new();
    let mut made = 0;
    for i in 0..10_000usize {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let start = world.today + chrono::Days::new(40 + u64::try_from(i % 30).unwrap_or(0));
        let status = client
            .post(format!("{}/api/v1/bookings", world.base))
            .bearer_auth(&world.token)
            .header("Idempotency-Key", Uuid::now_v7().to_string())
            .json(
                &json!({"sku": SKU, "branch": "JKT01", "customer_id": world.customer,
                          "start": start, "end": start + chrono::Days::new(2)}),
            )
            .send()
            .await?
            .status();
        if status.as_u16() == 201 {
            made += 1;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(made)
}

/// Reconciles every [`RECONCILE_INTERVAL`] until `stop`; returns each run's duration.
async fn reconciling(
    world: Arc<World>,
    mode: Reconcile,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Vec<Duration>> {
    let state = &world.state;
    let window = state.bookings.settings().calendar_window();
    let mut reconciler = Reconciler::new(state.db.clone(), state.cache.clone(), window);
    reconciler.tick().await?; // the first tick of a server is always full
    let mut took = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        match mode {
            Reconcile::None => {}
            Reconcile::Full => {
                reconcile::rebuild(&state.db, &state.cache, window, None).await?;
            }
            Reconcile::Incremental => {
                reconciler.tick().await?;
            }
        }
        took.push(t.elapsed());
        let pause = RECONCILE_INTERVAL.saturating_sub(t.elapsed());
        let until = Instant::now() + pause;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(took)
}

async fn reconcile_section(world: &Arc<World>) -> anyhow::Result<()> {
    println!(
        "## Customer search at {CLIENTS} clients while the calendar reconciles every {} s\n",
        RECONCILE_INTERVAL.as_secs()
    );
    println!(
        "Each row: {} s of searches (at most {UNDER_RECONCILE_MAX}) with bookings trickling in at ~5/s.\n",
        UNDER_RECONCILE.as_secs()
    );
    println!("| reconcile | p50 ms | p99 ms | searches/s | reconciles | mean reconcile ms |");
    println!("|---|---|---|---|---|---|");
    for (mode, name) in [
        (Reconcile::None, "none"),
        (Reconcile::Full, "full comparison (before)"),
        (Reconcile::Incremental, "incremental (now)"),
    ] {
        let stop = Arc::new(AtomicBool::new(false));
        let booker = tokio::spawn(trickle(world.clone(), stop.clone()));
        let reconciler = tokio::spawn(reconciling(world.clone(), mode, stop.clone()));
        let sample = searches(
            world,
            Answer::Counts,
            CLIENTS,
            UNDER_RECONCILE_MAX,
            Some(UNDER_RECONCILE),
        )
        .await?;
        stop.store(true, Ordering::Relaxed);
        booker.await??;
        let runs = reconciler.await??;
        let mean = if mode == Reconcile::None || runs.is_empty() {
            "–".to_owned()
        } else {
            ms(runs.iter().sum::<Duration>() / u32::try_from(runs.len()).unwrap_or(1))
        };
        let count = if mode == Reconcile::None {
            0
        } else {
            runs.len()
        };
        println!(
            "| {name} | {} | {} | {:.0} | {count} | {mean} |",
            ms(sample.percentile(0.5)),
            ms(sample.percentile(0.99)),
            sample.rate()
        );
    }
    println!();
    Ok(())
}

/// One customer's booking attempt in a storm, and what it cost.
struct Attempt {
    took: Duration,
    created: bool,
    /// Requests beyond the first (today's flow: re-fetch and retry after a 409).
    extra_requests: usize,
}

/// How a customer's booking is made in the storm.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Today: fetch the full list, book a unit picked from it, fetch again after a 409.
    FullList,
    /// The strongest client-side choice: the same with a page of 50 units.
    Page,
    /// Book the SKU; the server assigns the unit.
    BySku,
}

/// Books one customer's rental the `flow` way (three tries for the client-side flows).
async fn book_once(
    client: &reqwest::Client,
    world: &World,
    flow: Flow,
    i: usize,
) -> anyhow::Result<Attempt> {
    let by_sku = flow == Flow::BySku;
    let first_day = match flow {
        Flow::BySku => 60,
        Flow::FullList => 100,
        Flow::Page => 140,
    };
    let start =
        world.today + chrono::Days::new(first_day + u64::try_from(i * 31 % 20).unwrap_or(0));
    let end = start + chrono::Days::new(1 + u64::try_from(i % 3).unwrap_or(0));
    let t = Instant::now();
    let post = |body: serde_json::Value| {
        client
            .post(format!("{}/api/v1/bookings", world.base))
            .bearer_auth(&world.token)
            .header("Idempotency-Key", Uuid::now_v7().to_string())
            .json(&body)
            .send()
    };
    if by_sku {
        let status = post(
            json!({"sku": SKU, "branch": "JKT01", "customer_id": world.customer,
                                 "start": start, "end": end}),
        )
        .await?
        .status();
        return Ok(Attempt {
            took: t.elapsed(),
            created: status.as_u16() == 201,
            extra_requests: 0,
        });
    }
    let mut extra_requests = 0;
    for attempt in 0..3usize {
        if attempt > 0 {
            extra_requests += 2;
        }
        let (path, field) = if flow == Flow::Page {
            ("api/v1/availability/units", "items")
        } else {
            ("bench/full-list", "free")
        };
        let list: serde_json::Value = client
            .get(format!(
                "{}/{path}?sku={SKU}&branch=JKT01&start={start}&end={end}&limit=50",
                world.base
            ))
            .bearer_auth(&world.token)
            .send()
            .await?
            .json()
            .await?;
        let free = list[field].as_array().cloned().unwrap_or_default();
        if free.is_empty() {
            break;
        }
        // A customer (or the web page for them) picks a unit from the list.
        let unit = &free[(i * 7 + attempt * 13) % free.len()];
        let status = post(
            json!({"asset_id": unit["asset_id"], "customer_id": world.customer,
                                 "start": start, "end": end}),
        )
        .await?
        .status();
        if status.as_u16() == 201 {
            return Ok(Attempt {
                took: t.elapsed(),
                created: true,
                extra_requests,
            });
        }
    }
    Ok(Attempt {
        took: t.elapsed(),
        created: false,
        extra_requests,
    })
}

async fn storm(world: &Arc<World>, flow: Flow) -> anyhow::Result<(Sample, usize, usize)> {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks = (0..CLIENTS).map(|_| {
        let (world, client, next) = (world.clone(), client.clone(), next.clone());
        tokio::spawn(async move {
            let mut attempts = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= STORM_ATTEMPTS {
                    return Ok::<_, anyhow::Error>(attempts);
                }
                attempts.push(book_once(&client, &world, flow, i).await?);
            }
        })
    });
    let mut sample = Sample::default();
    let (mut created, mut extra) = (0, 0);
    for part in futures_util::future::join_all(tasks).await {
        for attempt in part?? {
            sample.times.push(attempt.took);
            created += usize::from(attempt.created);
            extra += attempt.extra_requests;
        }
    }
    sample.wall = started.elapsed();
    Ok((sample, created, extra))
}

async fn storm_section(world: &Arc<World>) -> anyhow::Result<()> {
    println!(
        "## Booking storm over HTTP: {CLIENTS} clients, {STORM_ATTEMPTS} customers, 1–3 nights in a 20-day window of Jakarta's 7,000 units\n"
    );
    println!("| flow | p50 ms per customer | p99 ms | bookings/s | booked | extra requests |");
    println!("|---|---|---|---|---|---|");
    let mut rates = Vec::new();
    for (flow, name) in [
        (
            Flow::FullList,
            "today: full list, book a unit, re-fetch after 409",
        ),
        (
            Flow::Page,
            "a page of 50 units, book one, re-fetch after 409 (strongest client-side)",
        ),
        (Flow::BySku, "book by SKU (server assigns, best fit)"),
    ] {
        let (sample, created, extra) = storm(world, flow).await?;
        #[expect(clippy::cast_precision_loss, reason = "a rate")]
        let rate = created as f64 / sample.wall.as_secs_f64();
        println!(
            "| {name} | {} | {} | {rate:.0} | {created} of {STORM_ATTEMPTS} | {extra} |",
            ms(sample.percentile(0.5)),
            ms(sample.percentile(0.99)),
        );
        rates.push(rate);
    }
    let overlaps = setup::overlaps(world).await?;
    anyhow::ensure!(overlaps == 0, "{overlaps} overlapping bookings");
    println!(
        "\nBy SKU: **{:.1}×** the bookings/s of today's flow, **{:.2}×** those of the page flow. \
         Overlapping bookings afterwards: 0 (checked).\n",
        rates[2] / rates[0],
        rates[2] / rates[1]
    );
    Ok(())
}

async fn reconcile_cost(world: &Arc<World>) -> anyhow::Result<()> {
    let state = &world.state;
    let window = state.bookings.settings().calendar_window();
    let mut reconciler = Reconciler::new(state.db.clone(), state.cache.clone(), window);
    reconciler.tick().await?;
    let (mut full, mut incremental) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = Instant::now();
        reconcile::rebuild(&state.db, &state.cache, window, None).await?;
        full.push(t.elapsed());
        // Ten units changed since the last tick.
        sqlx::query(
            "UPDATE assets SET calendar_version = calendar_version + 1 \
             WHERE id IN (SELECT id FROM assets ORDER BY random() LIMIT 10)",
        )
        .execute(&state.db)
        .await?;
        let t = Instant::now();
        reconciler.tick().await?;
        incremental.push(t.elapsed());
    }
    full.sort();
    incremental.sort();
    println!("## One reconcile of the whole calendar (10,024 units), idle server, median of 5\n");
    println!("| kind | ms |");
    println!("|---|---|");
    println!("| full comparison | {} |", ms(full[2]));
    println!("| incremental, 10 units moved | {} |", ms(incremental[2]));
    println!(
        "\nIncremental: **{:.0}×** cheaper.\n",
        full[2].as_secs_f64() / incremental[2].as_secs_f64()
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    println!("# Availability and booking by SKU over HTTP\n");
    let redis = RedisServer::shared()?;
    let database = TestDatabase::create(&sentra_server::MIGRATOR).await?;
    let world = Arc::new(setup::world(database.url(), &redis.url()).await?);
    println!(
        "Server in process (release build), clients on loopback in the same process, 2 worker \
         threads on a 2-core machine; Postgres with fsync off as in the tests.\n"
    );
    search_section(&world).await?;
    reconcile_cost(&world).await?;
    reconcile_section(&world).await?;
    storm_section(&world).await?;
    drop(world);
    drop(database);
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("sentra-bench-search-{}", std::process::id())),
    );
    Ok(())
}
