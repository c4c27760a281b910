//! `make bench`: the SentraRental booking path against two Postgres-only baselines, in one process
//! run, against the same Postgres and Redis:
//!
//! - **Postgres plain**: what most teams build. Read the asset, then one transaction (expire lapsed
//!   overlapping holds, insert); the exclusion constraint refuses overlaps (23P01, or 40P01 when
//!   two inserts wait on each other).
//! - **Postgres strong**: the best we could build without Redis. The same in-process asset cache
//!   as SentraRental, a read-only pre-check of the dates (one probe of the exclusion index), then
//!   the same transaction SentraRental runs (the asset's row lock, check, expire, insert).
//! - **SentraRental**: `BookingService::create` (calendar check in Redis, confirmed in Postgres
//!   when it says "taken"; Redlock; the same transaction; calendar write after commit).
//!
//! Workloads: (a) hot storm, 2,000 attempts on 50 asset-ranges from 64 clients; (b) success path,
//! 10,000 bookings over 10,000 assets; (c) availability search over those 10,000 assets, 7-day
//! ranges (plain: one anti-join probing the index per asset; strong: the cached fleet and one
//! range scan of the bookings; SentraRental: the Redis day bitmaps). Everything runs twice: with
//! Postgres as the test harness starts it (fsync and synchronous commit off) and with durable
//! commits. Prints a Markdown report. Loopback only; every loop is bounded by its attempt count.

#[path = "../common/mod.rs"]
mod common;
mod setup;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::NaiveDate;
use common::percentile;
use sentra_server::booking::{
    BookingError, CreateBooking,
    repo::{self, AssetContext, Attach, HoldOutcome},
};
use sentra_test_support::{PgOptions, PgServer, RedisServer, TestDatabase};
use tokio::sync::Semaphore;
use uuid::Uuid;

const ASSETS: usize = 10_000;
const CLIENTS: usize = 64;
/// Rounds of workloads (a) and (b); the paths alternate within a round so drift hits all alike.
const ROUNDS: usize = 3;
const SEARCHES: u64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    PgPlain,
    PgStrong,
    Sentra,
}

const PATHS: [Path; 3] = [Path::PgPlain, Path::PgStrong, Path::Sentra];

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::PgPlain => "Postgres plain",
            Path::PgStrong => "Postgres strong",
            Path::Sentra => "SentraRental",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Conflict,
    Error,
}

#[derive(Default)]
struct Run {
    winners: Vec<Duration>,
    losers: Vec<Duration>,
    errors: usize,
    wall: Duration,
}

/// p50, p99 of the measured sample, and attempts per second.
#[derive(Debug, Clone, Copy)]
struct Figures {
    p50: Duration,
    p99: Duration,
    rate: f64,
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

struct Bench {
    db: sqlx::PgPool,
    state: sentra_server::AppState,
    assets: Vec<Uuid>,
    customers: Vec<Uuid>,
    /// The strong baseline's asset cache (SentraRental keeps the same facts in process).
    contexts: HashMap<Uuid, AssetContext>,
    today: NaiveDate,
}

fn is_conflict(e: &sqlx::Error) -> bool {
    sentra_server::db::has_sqlstate(e, &["23P01", "40P01"])
}

impl Bench {
    async fn reset(&self) -> anyhow::Result<()> {
        sqlx::query("TRUNCATE bookings, jobs, idempotency_keys")
            .execute(&self.db)
            .await?;
        self.state.bookings.projection().rebuild_all().await?;
        Ok(())
    }

    fn hold(customer: Uuid, start: NaiveDate, end: NaiveDate) -> repo::NewHold {
        repo::NewHold {
            id: Uuid::now_v7(),
            customer_id: customer,
            start,
            end,
            total: sentra_domain::Money::ZERO,
            hold_token: Uuid::new_v4(),
            payment_window_secs: 600,
        }
    }

    async fn attempt(
        &self,
        path: Path,
        asset: Uuid,
        customer: Uuid,
        (start, end): (NaiveDate, NaiveDate),
    ) -> Outcome {
        match path {
            Path::Sentra => {
                let request = CreateBooking {
                    asset_id: asset,
                    customer_id: customer,
                    start,
                    end,
                };
                match self.state.bookings.create(&request).await {
                    Ok(_) => Outcome::Created,
                    Err(BookingError::Taken(_) | BookingError::Busy { .. }) => Outcome::Conflict,
                    Err(_) => Outcome::Error,
                }
            }
            Path::PgPlain => {
                let Ok(Some(context)) = repo::asset_context(&self.db, asset).await else {
                    return Outcome::Error;
                };
                match plain_insert(&self.db, &context, &Self::hold(customer, start, end)).await {
                    Ok(()) => Outcome::Created,
                    Err(e) if is_conflict(&e) => Outcome::Conflict,
                    Err(_) => Outcome::Error,
                }
            }
            Path::PgStrong => {
                let Some(context) = self.contexts.get(&asset) else {
                    return Outcome::Error;
                };
                match repo::conflict(&self.db, asset, start, end, customer).await {
                    Ok(Some(_)) => return Outcome::Conflict,
                    Ok(None) => {}
                    Err(_) => return Outcome::Error,
                }
                let hold = Self::hold(customer, start, end);
                match repo::create_hold(&self.db, context, &hold, &Attach::Nothing).await {
                    Ok(HoldOutcome::Created { .. }) => Outcome::Created,
                    Ok(HoldOutcome::Taken(_)) => Outcome::Conflict,
                    Err(e) if is_conflict(&e) => Outcome::Conflict,
                    Ok(_) | Err(_) => Outcome::Error,
                }
            }
        }
    }

    /// Runs `attempts` (asset, start, end) with `CLIENTS` in flight.
    async fn run(
        self: &Arc<Self>,
        path: Path,
        attempts: &[(Uuid, NaiveDate, NaiveDate)],
    ) -> anyhow::Result<Run> {
        let gate = Arc::new(Semaphore::new(CLIENTS));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, &(asset, start, end)) in attempts.iter().enumerate() {
            let permit = gate.clone().acquire_owned().await?;
            let bench = self.clone();
            let customer = self.customers[i % self.customers.len()];
            tasks.spawn(async move {
                let t = Instant::now();
                let outcome = bench.attempt(path, asset, customer, (start, end)).await;
                drop(permit);
                (outcome, t.elapsed())
            });
        }
        let mut run = Run::default();
        while let Some(done) = tasks.join_next().await {
            match done? {
                (Outcome::Created, d) => run.winners.push(d),
                (Outcome::Conflict, d) => run.losers.push(d),
                (Outcome::Error, _) => run.errors += 1,
            }
        }
        run.wall = started.elapsed();
        run.winners.sort();
        run.losers.sort();
        Ok(run)
    }

    async fn overlaps(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM bookings a JOIN bookings b ON a.asset_id = b.asset_id AND a.id < b.id \
             AND a.occupied && b.occupied WHERE a.status IN ('PENDING_PAYMENT','CONFIRMED','ACTIVE') \
             AND b.status IN ('PENDING_PAYMENT','CONFIRMED','ACTIVE')",
        )
        .fetch_one(&self.db)
        .await?)
    }
}

/// The plain baseline's transaction: expire lapsed overlapping holds, insert; no lock, no check.
async fn plain_insert(
    db: &sqlx::PgPool,
    asset: &AssetContext,
    hold: &repo::NewHold,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let occupied_end = hold.end + chrono::Days::new(u64::try_from(asset.buffer_days).unwrap_or(0));
    sqlx::query(
        "UPDATE bookings SET status = 'EXPIRED', updated_at = now() \
         WHERE branch_id = $1 AND asset_id = $2 AND status = 'PENDING_PAYMENT' AND expires_at <= now() \
           AND occupied && daterange($3, $4, '[)')",
    )
    .bind(asset.branch_id)
    .bind(asset.asset_id)
    .bind(hold.start)
    .bind(occupied_end)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, expires_at, \
                               hold_token, total_idr, buffer_days) \
         VALUES ($1, $2, $3, $4, daterange($5, $6, '[)'), 'PENDING_PAYMENT', \
                 now() + make_interval(secs => $7), $8, $9, $10)",
    )
    .bind(hold.id)
    .bind(asset.branch_id)
    .bind(asset.asset_id)
    .bind(hold.customer_id)
    .bind(hold.start)
    .bind(hold.end)
    .bind(hold.payment_window_secs)
    .bind(hold.hold_token)
    .bind(hold.total.rupiah())
    .bind(asset.buffer_days)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

fn median_and_spread(values: &mut [f64]) -> String {
    values.sort_by(f64::total_cmp);
    format!(
        "**{:.2}×** (rounds {:.2}–{:.2})",
        values[values.len() / 2],
        values[0],
        values[values.len() - 1]
    )
}

fn row(name: &str, run: &Run, use_losers: bool) -> Figures {
    let sample = if use_losers {
        &run.losers
    } else {
        &run.winners
    };
    let total = run.winners.len() + run.losers.len() + run.errors;
    #[expect(clippy::cast_precision_loss, reason = "counts for a rate")]
    let rate = total as f64 / run.wall.as_secs_f64();
    let figures = Figures {
        p50: percentile(sample, 0.5),
        p99: percentile(sample, 0.99),
        rate,
    };
    println!(
        "| {name} | {} | {} | {} | {} | {} | {:.0} |",
        run.winners.len(),
        run.losers.len(),
        run.errors,
        ms(figures.p50),
        ms(figures.p99),
        rate
    );
    figures
}

/// Runs one workload for `ROUNDS` rounds, every path once per round, each on an empty bookings
/// table; checks that no path double-booked. Returns the figures per path, per round.
async fn workload(
    bench: &Arc<Bench>,
    attempts: &[(Uuid, NaiveDate, NaiveDate)],
    measure_losers: bool,
) -> anyhow::Result<HashMap<&'static str, Vec<Figures>>> {
    let mut figures: HashMap<&'static str, Vec<Figures>> = HashMap::new();
    for round in 1..=ROUNDS {
        for path in PATHS {
            bench.reset().await?;
            let run = bench.run(path, attempts).await?;
            anyhow::ensure!(
                bench.overlaps().await? == 0,
                "{} double-booked!",
                path.name()
            );
            let name = format!("{} (round {round})", path.name());
            figures
                .entry(path.name())
                .or_default()
                .push(row(&name, &run, measure_losers));
        }
    }
    Ok(figures)
}

/// Per baseline: the round-by-round ratio `better(baseline, sentra)`, median and spread.
fn ratios(
    figures: &HashMap<&'static str, Vec<Figures>>,
    what: &str,
    better: impl Fn(&Figures, &Figures) -> f64,
) {
    let sentra = &figures[Path::Sentra.name()];
    for baseline in [Path::PgPlain, Path::PgStrong] {
        let mut values: Vec<f64> = figures[baseline.name()]
            .iter()
            .zip(sentra)
            .map(|(b, s)| better(b, s))
            .collect();
        println!(
            "- {what}, SentraRental vs {}: {}",
            baseline.name(),
            median_and_spread(&mut values)
        );
    }
}

async fn report(bench: &Arc<Bench>, durability: &str) -> anyhow::Result<()> {
    println!("## Postgres {durability}\n");
    // (a) Hot storm: 50 asset-ranges, 40 attempts each, shuffled deterministically.
    let storm: Vec<_> = (0..2_000usize)
        .map(|i| {
            let range = (i * 7919) % 50;
            let start = bench.today + chrono::Days::new(u64::try_from(range % 10).unwrap_or(0));
            (bench.assets[range], start, start + chrono::Days::new(3))
        })
        .collect();
    println!("### (a) Hot storm: 2,000 attempts on 50 asset-ranges ({ROUNDS} rounds)\n");
    println!(
        "| path | created | rejected | errors | rejected p50 ms | rejected p99 ms | attempts/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    let figures = workload(bench, &storm, true).await?;
    println!("\nOverlapping active bookings after every round: 0 (checked).\n");
    ratios(&figures, "rejected p50 (× faster)", |b, s| {
        b.p50.as_secs_f64() / s.p50.as_secs_f64().max(1e-9)
    });
    ratios(&figures, "attempts/s (× more)", |b, s| s.rate / b.rate);

    // (b) Success path: one booking per asset.
    let success: Vec<_> = bench
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let start = bench.today + chrono::Days::new(u64::try_from(i % 20).unwrap_or(0));
            (*a, start, start + chrono::Days::new(3))
        })
        .collect();
    println!("\n### (b) Success path: 10,000 bookings over 10,000 assets ({ROUNDS} rounds)\n");
    println!(
        "| path | created | rejected | errors | created p50 ms | created p99 ms | bookings/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    let figures = workload(bench, &success, false).await?;
    println!("\nOverlaps: 0 (checked).\n");
    ratios(&figures, "bookings/s (× as many)", |b, s| s.rate / b.rate);
    search(bench).await
}

/// (c) Search over the 10,000 bookings the last round of (b) left, 7-day windows.
async fn search(bench: &Arc<Bench>) -> anyhow::Result<()> {
    bench.state.bookings.projection().rebuild_all().await?;
    let availability = &bench.state.availability;
    let sku_id: Uuid = sqlx::query_scalar("SELECT id FROM skus")
        .fetch_one(&bench.db)
        .await?;
    let plain_plan = setup::plan_of_plain_search(bench, sku_id).await?;
    let mut times: [Vec<Duration>; 4] = Default::default();
    let mut mismatches = 0;
    for i in 0..SEARCHES {
        let start = bench.today + chrono::Days::new(i % 30);
        let end = start + chrono::Days::new(7);
        let t = Instant::now();
        let plain = availability
            .free_assets_postgres(sku_id, None, start, end)
            .await?;
        times[0].push(t.elapsed());
        let t = Instant::now();
        let strong = availability
            .free_assets_in_postgres("BENCH-CAR", None, start, end)
            .await?;
        times[1].push(t.elapsed());
        let t = Instant::now();
        let units = availability
            .free_assets("BENCH-CAR", None, start, end)
            .await?;
        times[2].push(t.elapsed());
        anyhow::ensure!(
            units.source == sentra_server::booking::availability::Source::Redis,
            "search fell back to Postgres"
        );
        let ids = |u: &sentra_server::booking::availability::FreeUnits| {
            u.assets().map(|a| a.id).collect::<Vec<_>>()
        };
        if ids(&units) != plain || ids(&strong) != plain {
            mismatches += 1;
        }
    }
    // The plain query again, with planner statistics that know the bookings table is full.
    sqlx::query("ANALYZE bookings").execute(&bench.db).await?;
    let analyzed_plan = setup::plan_of_plain_search(bench, sku_id).await?;
    for i in 0..SEARCHES {
        let start = bench.today + chrono::Days::new(i % 30);
        let t = Instant::now();
        availability
            .free_assets_postgres(sku_id, None, start, start + chrono::Days::new(7))
            .await?;
        times[3].push(t.elapsed());
    }
    for t in &mut times {
        t.sort();
    }
    println!(
        "\n### (c) Availability search: 10,000 assets, 7-day range, {SEARCHES} searches each\n"
    );
    println!("| path | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|");
    let names = [
        "Postgres plain (anti-join per asset)",
        "Postgres strong (cached fleet, one range scan)",
        "SentraRental (Redis day bitmaps)",
        "Postgres plain after ANALYZE bookings",
    ];
    for (name, t) in names.iter().zip(&times) {
        println!(
            "| {name} | {} | {} | {} |",
            ms(percentile(t, 0.5)),
            ms(percentile(t, 0.99)),
            ms(percentile(t, 1.0))
        );
    }
    let ratio = |i: usize, p: f64| {
        percentile(&times[i], p).as_secs_f64() / percentile(&times[2], p).as_secs_f64().max(1e-9)
    };
    println!(
        "\nSame answers: {mismatches} of {SEARCHES} searches differed. SentraRental vs plain: \
         **{:.1}×** faster at p50 ({:.1}× at p99); vs strong: **{:.1}×** at p50 ({:.1}× at p99).",
        ratio(0, 0.5),
        ratio(0, 0.99),
        ratio(1, 0.5),
        ratio(1, 0.99)
    );
    println!(
        "\nPlain search plan with the statistics of setup time: `{plain_plan}`; after `ANALYZE bookings`: `{analyzed_plan}`.\n"
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    println!("# Booking engine benchmark\n");
    println!(
        "{ASSETS} assets of one SKU, {CLIENTS} concurrent clients, one process; Postgres and Redis \
         on loopback. Ratios are SentraRental against each baseline, median of {ROUNDS} rounds \
         (lowest–highest round in brackets).\n"
    );
    let redis = RedisServer::shared()?;
    {
        let database = TestDatabase::create(&sentra_server::MIGRATOR).await?;
        let bench = setup::bench(database.url(), &redis.url()).await?;
        report(
            &bench,
            "with fsync and synchronous commit off (as in the tests)",
        )
        .await?;
    }
    let durable = tokio::task::spawn_blocking(|| {
        PgServer::start(&PgOptions {
            data_dir: None,
            port: None,
            fast_unsafe: false,
        })
    })
    .await??;
    let database = TestDatabase::create_on(&durable, &sentra_server::MIGRATOR).await?;
    let bench = setup::bench(database.url(), &redis.url()).await?;
    report(
        &bench,
        "with durable commits (fsync and synchronous commit on)",
    )
    .await?;
    drop(bench);
    drop(database);
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("sentra-bench-objects-{}", std::process::id())),
    );
    Ok(())
}
