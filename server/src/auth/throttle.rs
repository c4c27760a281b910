//! Login throttling against password guessing: after too many failed logins within `WINDOW` for
//! one key — an account, however it was named (`ACCOUNT_LIMIT`), or a client address (`ADDRESS_LIMIT`, higher, since a
//! branch counter's staff share one address) — that key is locked for `LOCKOUT`.
//! Counters live in Postgres, so every server instance sees the same ones.

use std::time::Duration;

use sqlx::PgPool;

/// Failures allowed per account and window.
pub const ACCOUNT_LIMIT: i32 = 5;
/// Failures allowed per client address and window.
pub const ADDRESS_LIMIT: i32 = 20;
/// Length of the counting window.
pub const WINDOW: Duration = Duration::from_mins(15);
/// How long a key stays locked.
pub const LOCKOUT: Duration = Duration::from_mins(15);

/// The counter of an existing account, whichever login string (e-mail or phone) named it.
pub fn account_key(kind: super::SubjectKind, id: uuid::Uuid) -> String {
    format!("account:{}:{id}", kind.as_str())
}

/// The longest remaining lock among `keys`, if any is locked.
pub async fn locked_for(db: &PgPool, keys: &[String]) -> sqlx::Result<Option<Duration>> {
    let seconds: Option<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(locked_until) - now())::float8 FROM login_failures \
         WHERE key = ANY($1) AND locked_until > now()",
    )
    .bind(keys)
    .fetch_one(db)
    .await?;
    Ok(seconds.map(|s| Duration::from_secs_f64(s.max(1.0))))
}

/// Counts a failure against every key; each key comes with its limit.
pub async fn record_failure(db: &PgPool, keys: &[(String, i32)]) -> sqlx::Result<()> {
    let (names, limits): (Vec<&str>, Vec<i32>) = keys.iter().map(|(k, l)| (k.as_str(), *l)).unzip();
    sqlx::query(
        "INSERT INTO login_failures AS f (key, failures, window_started) \
         SELECT k, 1, now() FROM unnest($1::text[]) AS k \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN f.window_started < now() - make_interval(secs => $2) THEN 1 ELSE f.failures + 1 END, \
           window_started = CASE WHEN f.window_started < now() - make_interval(secs => $2) THEN now() ELSE f.window_started END, \
           locked_until = CASE WHEN f.window_started >= now() - make_interval(secs => $2) \
                                    AND f.failures + 1 >= (SELECT l FROM unnest($1::text[], $3::int4[]) AS x(k, l) WHERE k = f.key) \
                               THEN now() + make_interval(secs => $4) ELSE f.locked_until END",
    )
    .bind(&names)
    .bind(WINDOW.as_secs_f64())
    .bind(&limits)
    .bind(LOCKOUT.as_secs_f64())
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets the failures of `key` (after a successful login of that account).
pub async fn clear(db: &PgPool, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}
