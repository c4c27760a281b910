//! Postgres access: the connection pool and the embedded migrations (shared with the tests, which
//! build their template database from this same migrator).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgPool, migrate::Migrator, postgres::PgPoolOptions};

/// The migrations in `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Whether `err` is a Postgres error with one of these SQLSTATE codes (`23505` unique violation,
/// `23P01` exclusion violation, `23503` foreign key violation, …).
pub fn has_sqlstate(err: &sqlx::Error, codes: &[&str]) -> bool {
    err.as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .is_some_and(|code| codes.contains(&code.as_ref()))
}

/// Whether `err` means "the database could not answer right now" rather than "the database
/// refused this": a lost or refused connection (a restart, a crash, a network blip), a full pool,
/// a server shutting down or starting up, too many connections, a deadlock or a serialization
/// failure. Nothing was decided, so the caller may retry (503 with `Retry-After`).
pub fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08xxx connection exceptions; 57P01-57P03 shutdown/crash/starting up; 53300 too
            // many connections; 40001 serialization failure; 40P01 deadlock.
            code.starts_with("08")
                || ["57P01", "57P02", "57P03", "53300", "40001", "40P01"].contains(&code.as_ref())
        }),
        _ => false,
    }
}

/// Opens the pool and checks one connection works, so a wrong URL fails at start-up.
pub async fn connect(url: &SecretString, max_connections: u32) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url.expose_secret())
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to Postgres (DATABASE_URL): {e}"))?;
    Ok(pool)
}

/// Whether Postgres answers a trivial query (readiness).
pub async fn ping(db: &PgPool) -> sqlx::Result<()> {
    sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(db)
        .await?;
    Ok(())
}
