//! `make bench`: the SentraRental booking path against a Postgres-only baseline (same schema, same
//! EXCLUDE constraint, same transaction; no Redis, no locks), in one process run, against the same
//! Postgres and Redis, on three workloads:
//!
//! - (a) hot storm: 2,000 attempts on 50 asset-ranges from 64 concurrent clients;
//! - (b) success path: 10,000 bookings over 10,000 assets, 64 concurrent clients;
//! - (c) availability search: 10,000 assets of one SKU, 7-day ranges.
//!
//! Prints a Markdown report (latency p50/p99, throughput, errors, overlaps, ratios). Loopback
//! only; every loop is bounded by its attempt count.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::NaiveDate;
use sentra_server::{
    Config,
    booking::{BookingError, CreateBooking, reconcile, repo},
};
use sentra_test_support::{RedisServer, TestDatabase, unique_key_prefix};
use tokio::sync::Semaphore;
use uuid::Uuid;

const ASSETS: usize = 10_000;
const CLIENTS: usize = 64;

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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "index of a percentile"
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

struct Bench {
    db: sqlx::PgPool,
    state: sentra_server::AppState,
    assets: Vec<Uuid>,
    customers: Vec<Uuid>,
    today: NaiveDate,
}

impl Bench {
    async fn reset(&self) -> anyhow::Result<()> {
        sqlx::query("TRUNCATE bookings, jobs, idempotency_keys")
            .execute(&self.db)
            .await?;
        reconcile::rebuild_all(&self.db, &self.state.cache).await?;
        Ok(())
    }

    async fn attempt(
        &self,
        sentra: bool,
        asset: Uuid,
        customer: Uuid,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Outcome {
        if sentra {
            let request = CreateBooking {
                asset_id: asset,
                customer_id: customer,
                start,
                end,
            };
            match self.state.bookings.create(&request).await {
                Ok(_) => Outcome::Created,
                Err(BookingError::Taken | BookingError::Busy { .. }) => Outcome::Conflict,
                Err(_) => Outcome::Error,
            }
        } else {
            // What most teams build: the same transaction, Postgres alone.
            let Ok(Some(context)) = repo::asset_context(&self.db, asset).await else {
                return Outcome::Error;
            };
            let hold = repo::NewHold {
                id: Uuid::now_v7(),
                customer_id: customer,
                start,
                end,
                total_idr: 0,
                hold_token: Uuid::new_v4(),
                payment_window_secs: 600,
            };
            match repo::create_hold(&self.db, &context, &hold).await {
                Ok(Some(_)) => Outcome::Created,
                Err(e)
                    if e.as_database_error()
                        .and_then(sqlx::error::DatabaseError::code)
                        .is_some_and(|c| c == "23P01" || c == "40P01") =>
                {
                    Outcome::Conflict
                }
                // The asset changed under us (never in this benchmark), or a database error.
                Ok(None) | Err(_) => Outcome::Error,
            }
        }
    }

    /// Runs `attempts` (asset, start, end) with `CLIENTS` in flight.
    async fn run(
        self: &Arc<Self>,
        sentra: bool,
        attempts: Vec<(Uuid, NaiveDate, NaiveDate)>,
    ) -> anyhow::Result<Run> {
        let gate = Arc::new(Semaphore::new(CLIENTS));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (asset, start, end)) in attempts.into_iter().enumerate() {
            let permit = gate.clone().acquire_owned().await?;
            let bench = self.clone();
            let customer = self.customers[i % self.customers.len()];
            tasks.spawn(async move {
                let t = Instant::now();
                let outcome = bench.attempt(sentra, asset, customer, start, end).await;
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

async fn setup() -> anyhow::Result<(Arc<Bench>, TestDatabase)> {
    let database = TestDatabase::create(&sentra_server::MIGRATOR).await?;
    let redis = RedisServer::shared()?;
    // JIT off: it only adds compile time to the baseline's search query on this data size.
    let env = HashMap::from([
        (
            "DATABASE_URL",
            format!("{}?options=-c%20jit%3Doff", database.url()),
        ),
        ("REDIS_URL", redis.url()),
        ("SENTRA_REDIS_KEY_PREFIX", unique_key_prefix()),
        ("SENTRA_LISTEN_ADDR", "127.0.0.1:0".to_owned()),
        ("SENTRA_DB_MAX_CONNECTIONS", "32".to_owned()),
        ("SENTRA_LOG", "error".to_owned()),
        (
            "SENTRA_JWT_SECRET",
            "bench-secret-0123456789-abcdefghijklmn".to_owned(),
        ),
        (
            "SENTRA_LABEL_SECRET",
            "bench-label-secret-0123456789-abcdefghij".to_owned(),
        ),
        (
            "SENTRA_DATA_KEY",
            "YmVuY2gtZGF0YS1rZXktMDEyMzQ1Njc4OWFiY2RlZjA=".to_owned(),
        ),
        // The benchmark stores no documents; a directory that is gone after the run.
        (
            "SENTRA_STORAGE_URL",
            std::env::temp_dir()
                .join(format!("sentra-bench-objects-{}", std::process::id()))
                .display()
                .to_string(),
        ),
    ]);
    let config = Config::from_lookup(|name| env.get(name).cloned())?;
    let server = sentra_server::start(config).await?;
    let db = server.state().db.clone();
    sqlx::query("INSERT INTO branches (id, code, name, time_zone) VALUES ($1, 'BENCH', 'Bench', 'Asia/Jakarta')")
        .bind(Uuid::now_v7())
        .execute(&db)
        .await?;
    sqlx::query("INSERT INTO skus (id, code, name, category, daily_rate_idr) VALUES ($1, 'BENCH-CAR', 'Toyota Avanza 1.3 G AT', 'car', 450000)")
        .bind(Uuid::now_v7())
        .execute(&db)
        .await?;
    sqlx::query(
        "INSERT INTO assets (id, sku_id, home_branch_id, plate_or_serial) \
         SELECT gen_random_uuid(), (SELECT id FROM skus), (SELECT id FROM branches), 'B ' || n || ' BNC' \
         FROM generate_series(1, $1) n",
    )
    .bind(i32::try_from(ASSETS)?)
    .execute(&db)
    .await?;
    sqlx::query(
        "INSERT INTO customers (id, full_name, email) SELECT gen_random_uuid(), 'Customer ' || n, 'c' || n || '@bench.test' \
         FROM generate_series(1, 100) n",
    )
    .execute(&db)
    .await?;
    sqlx::query("ANALYZE").execute(&db).await?;
    let assets: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM assets ORDER BY sku_ordinal")
        .fetch_all(&db)
        .await?;
    let customers: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM customers")
        .fetch_all(&db)
        .await?;
    let state = server.state().clone();
    let today = chrono::Utc::now().date_naive() + chrono::Days::new(2);
    Ok((
        Arc::new(Bench {
            db,
            state,
            assets,
            customers,
            today,
        }),
        database,
    ))
}

/// Rounds of workloads (a) and (b); the paths alternate so drift hits both alike.
const ROUNDS: usize = 3;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One round of a workload on both paths (baseline first), each on an empty bookings table.
/// Returns (p50, p99, rate) for the baseline and for SentraRental, and checks no overlap.
async fn compare(
    bench: &Arc<Bench>,
    attempts: &[(Uuid, NaiveDate, NaiveDate)],
    round: usize,
    losers: bool,
) -> anyhow::Result<((Duration, Duration, f64), (Duration, Duration, f64))> {
    let mut results = Vec::new();
    for (sentra, name) in [(false, "Postgres only"), (true, "SentraRental")] {
        bench.reset().await?;
        let run = bench.run(sentra, attempts.to_vec()).await?;
        anyhow::ensure!(bench.overlaps().await? == 0, "{name} double-booked!");
        results.push(row(&format!("{name} (round {round})"), &run, losers));
    }
    Ok((results[0], results[1]))
}

fn row(name: &str, run: &Run, use_losers: bool) -> (Duration, Duration, f64) {
    let sample = if use_losers {
        &run.losers
    } else {
        &run.winners
    };
    let total = run.winners.len() + run.losers.len() + run.errors;
    #[expect(clippy::cast_precision_loss, reason = "counts for a rate")]
    let rate = total as f64 / run.wall.as_secs_f64();
    println!(
        "| {name} | {} | {} | {} | {} | {} | {:.0} |",
        run.winners.len(),
        run.losers.len(),
        run.errors,
        ms(percentile(sample, 0.5)),
        ms(percentile(sample, 0.99)),
        rate
    );
    (percentile(sample, 0.5), percentile(sample, 0.99), rate)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::too_many_lines, reason = "the three workloads in report order")]
async fn main() -> anyhow::Result<()> {
    let (bench, _database) = setup().await?;
    println!("## Booking engine benchmark\n");
    println!(
        "{ASSETS} assets of one SKU, {CLIENTS} concurrent clients, one process; Postgres and Redis on loopback.\n"
    );

    // (a) Hot storm: 50 asset-ranges, 40 attempts each, shuffled deterministically.
    let mut storm = Vec::new();
    for i in 0..2_000usize {
        let range = (i * 7919) % 50;
        let start = bench.today + chrono::Days::new(u64::try_from(range % 10)?);
        storm.push((bench.assets[range], start, start + chrono::Days::new(3)));
    }
    println!(
        "### (a) Hot storm: 2,000 attempts on 50 asset-ranges ({ROUNDS} rounds, alternating)\n"
    );
    println!(
        "| path | created | rejected | errors | rejected p50 ms | rejected p99 ms | attempts/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut ratios = Vec::new();
    for round in 1..=ROUNDS {
        let (base, sentra) = compare(&bench, &storm, round, true).await?;
        ratios.push(base.0.as_secs_f64() / sentra.0.as_secs_f64().max(1e-9));
    }
    println!(
        "\nOverlapping active bookings after every round: 0 (checked). Losers rejected {:.1}× faster \
         at p50, median of the rounds (target ≥ 20×).\n",
        median(&mut ratios)
    );

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
    println!(
        "### (b) Success path: 10,000 bookings over 10,000 assets ({ROUNDS} rounds, alternating)\n"
    );
    println!(
        "| path | created | rejected | errors | created p50 ms | created p99 ms | bookings/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut ratios = Vec::new();
    for round in 1..=ROUNDS {
        let (base, sentra) = compare(&bench, &success, round, false).await?;
        ratios.push(sentra.2 / base.2);
    }
    println!(
        "\nOverlaps: 0 (checked). Throughput SentraRental / Postgres only = {:.2}×, median of the \
         rounds (target ≥ 0.8×).\n",
        median(&mut ratios)
    );

    // (c) Search over the 10,000 bookings just made, 7-day windows.
    reconcile::rebuild_all(&bench.db, &bench.state.cache).await?;
    let sku_id: Uuid = sqlx::query_scalar("SELECT id FROM skus")
        .fetch_one(&bench.db)
        .await?;
    let searches = 300u64;
    let mut pg_times = Vec::new();
    let mut redis_times = Vec::new();
    let mut mismatches = 0;
    for i in 0..searches {
        let start = bench.today + chrono::Days::new(i % 30);
        let end = start + chrono::Days::new(7);
        let t = Instant::now();
        let pg = bench
            .state
            .availability
            .free_assets_postgres(sku_id, None, start, end)
            .await?;
        pg_times.push(t.elapsed());
        let t = Instant::now();
        let units = bench
            .state
            .availability
            .free_assets("BENCH-CAR", None, start, end)
            .await?;
        redis_times.push(t.elapsed());
        anyhow::ensure!(
            units.source == sentra_server::booking::availability::Source::Redis,
            "search fell back to Postgres"
        );
        if units.assets().map(|a| a.id).collect::<Vec<_>>() != pg {
            mismatches += 1;
        }
    }
    pg_times.sort();
    redis_times.sort();
    println!("### (c) Availability search: 10,000 assets, 7-day range, {searches} searches each\n");
    println!("| path | p50 ms | p99 ms | searches/s |");
    println!("|---|---|---|---|");
    let rate = |times: &[Duration]| {
        #[expect(clippy::cast_precision_loss, reason = "a rate")]
        let r = times.len() as f64 / times.iter().sum::<Duration>().as_secs_f64();
        r
    };
    println!(
        "| Postgres (GiST anti-join) | {} | {} | {:.0} |",
        ms(percentile(&pg_times, 0.5)),
        ms(percentile(&pg_times, 0.99)),
        rate(&pg_times)
    );
    println!(
        "| SentraRental (Redis day bitmaps) | {} | {} | {:.0} |",
        ms(percentile(&redis_times, 0.5)),
        ms(percentile(&redis_times, 0.99)),
        rate(&redis_times)
    );
    println!(
        "\nSame answers: {} of {searches} searches differed. Search {:.1}× faster at p50 (target ≥ 10×).",
        mismatches,
        percentile(&pg_times, 0.5).as_secs_f64()
            / percentile(&redis_times, 0.5).as_secs_f64().max(1e-9)
    );
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("sentra-bench-objects-{}", std::process::id())),
    );
    Ok(())
}
