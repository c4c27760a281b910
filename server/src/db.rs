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
