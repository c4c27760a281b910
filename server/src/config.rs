//! Server configuration, read once from the environment in `main` and passed down.
//!
//! Every variable is checked before the first error is returned, so an operator fixes a bad
//! deployment in one go. Secrets (database and Redis URLs carry passwords) are
//! `SecretString`s: `Debug` prints them redacted, and no message ever echoes a value.

use std::{fmt, net::SocketAddr, time::Duration};

use secrecy::SecretString;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal (development).
    Pretty,
    /// One JSON object per line (production log shipping).
    Json,
}

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `SENTRA_LISTEN_ADDR`: where the HTTP server listens.
    pub listen_addr: SocketAddr,
    /// `DATABASE_URL`: Postgres connection URL (required).
    pub database_url: SecretString,
    /// `SENTRA_DB_MAX_CONNECTIONS`: size of the Postgres pool.
    pub db_max_connections: u32,
    /// `REDIS_URL`: the Redis node for the calendar and waitlist (unless a cluster is given).
    pub redis_url: SecretString,
    /// `REDIS_CLUSTER_URLS`: comma-separated nodes of a Redis Cluster; replaces `REDIS_URL`.
    pub redis_cluster_urls: Vec<SecretString>,
    /// `SENTRA_REDLOCK_URLS`: comma-separated independent Redis nodes for the asset locks;
    /// empty means the main Redis deployment is the single lock node.
    pub redlock_urls: Vec<SecretString>,
    /// `SENTRA_REDIS_KEY_PREFIX`: prepended to every Redis key (isolates tenants and tests).
    pub redis_key_prefix: String,
    /// `SENTRA_AUTO_MIGRATE`: apply pending migrations at start-up.
    pub auto_migrate: bool,
    /// `SENTRA_LOG_FORMAT`: `pretty` or `json`.
    pub log_format: LogFormat,
    /// `SENTRA_LOG`: tracing filter directives, e.g. `info,sentra_server=debug`.
    pub log_filter: String,
    /// `SENTRA_REQUEST_TIMEOUT_SECS`: upper bound of one request's handling time.
    pub request_timeout: Duration,
    /// `SENTRA_PAYMENT_WINDOW_SECS`: how long a new booking waits for payment.
    pub payment_window: Duration,
    /// `SENTRA_LOCK_TTL_SECS`: upper bound of a per-asset lock (released right after commit).
    pub lock_ttl: Duration,
    /// `SENTRA_WAITLIST_OFFER_SECS`: how long a waitlist offer is held for payment.
    pub waitlist_offer_window: Duration,
    /// `SENTRA_MAX_RENTAL_DAYS`: the longest rental.
    pub max_rental_days: u32,
    /// `SENTRA_BOOKING_HORIZON_DAYS`: how far ahead a rental may start.
    pub booking_horizon_days: u32,
    /// `SENTRA_EXPIRY_SWEEP_MILLIS`: how often lapsed payment windows are expired.
    pub expiry_sweep_interval: Duration,
    /// `SENTRA_RECONCILE_INTERVAL_SECS`: how often the Redis calendar is checked against Postgres.
    pub reconcile_interval: Duration,
    /// `SENTRA_JWT_SECRET`: signs access tokens (at least 32 characters; required).
    pub jwt_secret: SecretString,
    /// `SENTRA_ACCESS_TOKEN_SECS`: access token lifetime.
    pub access_token_ttl: Duration,
    /// `SENTRA_REFRESH_TOKEN_DAYS`: refresh token lifetime.
    pub refresh_token_ttl: Duration,
    /// `SENTRA_RATE_LIMIT_PER_SEC`: sustained requests per second per client address and caller.
    pub rate_limit_per_second: u32,
    /// `SENTRA_RATE_LIMIT_BURST`: requests allowed at once per client address and caller.
    pub rate_limit_burst: u32,
    /// `SENTRA_TRUST_FORWARDED_FOR`: take the client address from `X-Forwarded-For` (behind Kong).
    pub trust_forwarded_for: bool,
}

/// Every problem found in the environment, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// One line per missing or invalid variable.
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invalid configuration ({} problem{}):",
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

/// Table of variables for docs and `--help`: name, default, meaning.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "DATABASE_URL",
        "(required)",
        "Postgres URL, e.g. postgres://sentra@127.0.0.1:5432/sentra",
    ),
    ("REDIS_URL", "redis://127.0.0.1:6379", "Redis node URL"),
    (
        "REDIS_CLUSTER_URLS",
        "(empty)",
        "comma-separated Redis Cluster nodes; replaces REDIS_URL",
    ),
    (
        "SENTRA_REDLOCK_URLS",
        "(empty: the main Redis)",
        "comma-separated independent lock nodes",
    ),
    (
        "SENTRA_LISTEN_ADDR",
        "127.0.0.1:8080",
        "HTTP listen address",
    ),
    (
        "SENTRA_DB_MAX_CONNECTIONS",
        "20",
        "Postgres pool size (1-500)",
    ),
    (
        "SENTRA_REDIS_KEY_PREFIX",
        "(empty)",
        "prefix of every Redis key",
    ),
    (
        "SENTRA_AUTO_MIGRATE",
        "true",
        "apply migrations at start-up (true/false)",
    ),
    ("SENTRA_LOG_FORMAT", "pretty", "pretty or json"),
    ("SENTRA_LOG", "info,sqlx=warn", "tracing filter directives"),
    (
        "SENTRA_REQUEST_TIMEOUT_SECS",
        "30",
        "per-request time limit in seconds (1-600)",
    ),
    (
        "SENTRA_PAYMENT_WINDOW_SECS",
        "600",
        "payment window of a new booking (1-86400 s)",
    ),
    (
        "SENTRA_LOCK_TTL_SECS",
        "600",
        "upper bound of a per-asset lock (1-3600 s)",
    ),
    (
        "SENTRA_MAX_RENTAL_DAYS",
        "60",
        "longest rental in days (1-365)",
    ),
    (
        "SENTRA_BOOKING_HORIZON_DAYS",
        "365",
        "how far ahead a rental may start (1-365 days)",
    ),
    (
        "SENTRA_EXPIRY_SWEEP_MILLIS",
        "1000",
        "how often lapsed holds are expired (50-60000 ms)",
    ),
    (
        "SENTRA_RECONCILE_INTERVAL_SECS",
        "300",
        "calendar check against Postgres (1-86400 s)",
    ),
    (
        "SENTRA_JWT_SECRET",
        "(required)",
        "secret that signs access tokens, 32+ characters",
    ),
    (
        "SENTRA_ACCESS_TOKEN_SECS",
        "900",
        "access token lifetime (60-3600 s)",
    ),
    (
        "SENTRA_REFRESH_TOKEN_DAYS",
        "30",
        "refresh token lifetime (1-365 days)",
    ),
    (
        "SENTRA_RATE_LIMIT_PER_SEC",
        "20",
        "sustained requests/s per client address and per caller (1-100000)",
    ),
    (
        "SENTRA_RATE_LIMIT_BURST",
        "200",
        "requests at once per client address and per caller (1-1000000)",
    ),
    (
        "SENTRA_TRUST_FORWARDED_FOR",
        "false",
        "take the client address from X-Forwarded-For (behind a proxy)",
    ),
];

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut r = Reader {
            lookup: &lookup,
            problems: Vec::new(),
        };
        let config = Self {
            listen_addr: r.parsed("SENTRA_LISTEN_ADDR", "127.0.0.1:8080", |v| {
                v.parse::<SocketAddr>()
                    .map_err(|_| Invalid::from("expected host:port such as 127.0.0.1:8080"))
            }),
            database_url: r.required_url("DATABASE_URL", &["postgres", "postgresql"]),
            db_max_connections: r.number("SENTRA_DB_MAX_CONNECTIONS", "20", 1, 500),
            redis_url: r.url("REDIS_URL", "redis://127.0.0.1:6379", &["redis", "rediss"]),
            redis_cluster_urls: r.url_list("REDIS_CLUSTER_URLS", &["redis", "rediss"]),
            redlock_urls: r.url_list("SENTRA_REDLOCK_URLS", &["redis", "rediss"]),
            redis_key_prefix: r.parsed("SENTRA_REDIS_KEY_PREFIX", "", |v| {
                if v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c))
                {
                    Ok(v.to_owned())
                } else {
                    Err("only letters, digits and - _ : . are allowed".into())
                }
            }),
            auto_migrate: r.parsed("SENTRA_AUTO_MIGRATE", "true", parse_bool),
            log_format: r.parsed("SENTRA_LOG_FORMAT", "pretty", |v| match v {
                "pretty" => Ok(LogFormat::Pretty),
                "json" => Ok(LogFormat::Json),
                _ => Err("expected pretty or json".into()),
            }),
            log_filter: r.parsed("SENTRA_LOG", "info,sqlx=warn", |v| {
                Ok::<_, Invalid>(v.to_owned())
            }),
            request_timeout: r.seconds("SENTRA_REQUEST_TIMEOUT_SECS", "30", 1, 600),
            payment_window: r.seconds("SENTRA_PAYMENT_WINDOW_SECS", "600", 1, 86_400),
            lock_ttl: r.seconds("SENTRA_LOCK_TTL_SECS", "600", 1, 3_600),
            waitlist_offer_window: r.seconds("SENTRA_WAITLIST_OFFER_SECS", "1800", 1, 86_400),
            max_rental_days: r.number("SENTRA_MAX_RENTAL_DAYS", "60", 1, 365),
            booking_horizon_days: r.number("SENTRA_BOOKING_HORIZON_DAYS", "365", 1, 365),
            expiry_sweep_interval: Duration::from_millis(u64::from(r.number(
                "SENTRA_EXPIRY_SWEEP_MILLIS",
                "1000",
                50,
                60_000,
            ))),
            reconcile_interval: r.seconds("SENTRA_RECONCILE_INTERVAL_SECS", "300", 1, 86_400),
            jwt_secret: r.secret("SENTRA_JWT_SECRET", 32),
            access_token_ttl: r.seconds("SENTRA_ACCESS_TOKEN_SECS", "900", 60, 3_600),
            refresh_token_ttl: r.seconds("SENTRA_REFRESH_TOKEN_DAYS", "30", 1, 365) * 86_400,
            rate_limit_per_second: r.number("SENTRA_RATE_LIMIT_PER_SEC", "20", 1, 100_000),
            rate_limit_burst: r.number("SENTRA_RATE_LIMIT_BURST", "200", 1, 1_000_000),
            trust_forwarded_for: r.parsed("SENTRA_TRUST_FORWARDED_FOR", "false", parse_bool),
        };
        if r.problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError {
                problems: r.problems,
            })
        }
    }
}

/// Why a value was refused: a short explanation that never repeats the value.
#[derive(Debug)]
struct Invalid(String);

impl From<&str> for Invalid {
    fn from(why: &str) -> Self {
        Invalid(why.to_owned())
    }
}

fn parse_bool(v: &str) -> Result<bool, Invalid> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

/// Collects problems while reading variables. A bad value is recorded and replaced by the
/// default, so reading goes on and every problem is found in one pass.
struct Reader<'a, F: Fn(&str) -> Option<String>> {
    lookup: &'a F,
    problems: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Reader<'_, F> {
    fn parsed<T>(
        &mut self,
        name: &str,
        default: &str,
        parse: impl Fn(&str) -> Result<T, Invalid>,
    ) -> T {
        let raw = (self.lookup)(name);
        let value = raw.as_deref().map_or(default, str::trim);
        parse(value).unwrap_or_else(|why| {
            self.problems.push(format!("{name}: {}", why.0));
            parse(default).unwrap_or_else(|_| unreachable!("the default of {name} is valid"))
        })
    }

    fn number(&mut self, name: &str, default: &str, min: u32, max: u32) -> u32 {
        self.parsed(name, default, |v| match v.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(Invalid(format!(
                "expected a whole number from {min} to {max}"
            ))),
        })
    }

    fn seconds(&mut self, name: &str, default: &str, min: u32, max: u32) -> Duration {
        Duration::from_secs(u64::from(self.number(name, default, min, max)))
    }

    fn secret(&mut self, name: &str, min_chars: usize) -> SecretString {
        let value = (self.lookup)(name).unwrap_or_default();
        if value.trim().is_empty() {
            self.problems
                .push(format!("{name}: is required but not set"));
        } else if value.chars().count() < min_chars {
            self.problems
                .push(format!("{name}: must have at least {min_chars} characters"));
        }
        SecretString::from(value)
    }

    fn required_url(&mut self, name: &str, schemes: &[&str]) -> SecretString {
        if (self.lookup)(name).is_none_or(|v| v.trim().is_empty()) {
            self.problems
                .push(format!("{name}: is required but not set"));
            return SecretString::from(String::new());
        }
        self.url(name, "", schemes)
    }

    fn url(&mut self, name: &str, default: &str, schemes: &[&str]) -> SecretString {
        let value = (self.lookup)(name).filter(|v| !v.trim().is_empty());
        let value = value.as_deref().map_or(default, str::trim);
        if !has_scheme(value, schemes) {
            self.problems.push(wrong_scheme(name, schemes));
        }
        SecretString::from(value.to_owned())
    }

    fn url_list(&mut self, name: &str, schemes: &[&str]) -> Vec<SecretString> {
        let raw = (self.lookup)(name).unwrap_or_default();
        let urls: Vec<&str> = raw
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        if urls.iter().any(|u| !has_scheme(u, schemes)) {
            self.problems.push(wrong_scheme(name, schemes));
        }
        urls.into_iter()
            .map(|u| SecretString::from(u.to_owned()))
            .collect()
    }
}

fn has_scheme(value: &str, schemes: &[&str]) -> bool {
    value
        .split_once("://")
        .is_some_and(|(scheme, rest)| schemes.contains(&scheme) && !rest.is_empty())
}

fn wrong_scheme(name: &str, schemes: &[&str]) -> String {
    let schemes: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
    format!(
        "{name}: expected URLs starting with {}",
        schemes.join(" or ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    const SECRET: &str = "a-test-secret-of-at-least-32-characters";

    /// Reads `vars` plus a valid token secret (unless `vars` sets one).
    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> =
            HashMap::from([("SENTRA_JWT_SECRET".to_owned(), SECRET.to_owned())]);
        map.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Config::from_lookup(|name| map.get(name).cloned().filter(|v| !v.is_empty()))
    }

    #[test]
    fn defaults_apply_when_only_the_database_is_given() {
        let c = config(&[("DATABASE_URL", "postgres://u:pw@127.0.0.1/db")]).expect("valid");
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.redis_url.expose_secret(), "redis://127.0.0.1:6379");
        assert_eq!(c.db_max_connections, 20);
        assert!(c.auto_migrate);
        assert_eq!(c.log_format, LogFormat::Pretty);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = config(&[
            ("SENTRA_LISTEN_ADDR", "nonsense"),
            ("SENTRA_DB_MAX_CONNECTIONS", "0"),
            ("REDIS_URL", "http://wrong"),
            ("SENTRA_LOG_FORMAT", "xml"),
            ("SENTRA_AUTO_MIGRATE", "maybe"),
            ("SENTRA_JWT_SECRET", "too-short"),
        ])
        .expect_err("six bad variables and one missing");
        let names: Vec<&str> = err
            .problems
            .iter()
            .map(|p| p.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            [
                "SENTRA_LISTEN_ADDR",
                "DATABASE_URL",
                "SENTRA_DB_MAX_CONNECTIONS",
                "REDIS_URL",
                "SENTRA_AUTO_MIGRATE",
                "SENTRA_LOG_FORMAT",
                "SENTRA_JWT_SECRET"
            ]
        );
        let text = err.to_string();
        assert!(
            text.starts_with("invalid configuration (7 problems):"),
            "{text}"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_or_errors() {
        let c = config(&[("DATABASE_URL", "postgres://u:hunter2@127.0.0.1/db")]).expect("valid");
        assert!(!format!("{c:?}").contains("hunter2"));
        let err = config(&[("DATABASE_URL", "mysql://u:hunter2@h/db")]).expect_err("wrong scheme");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(
            !format!("{c:?}").contains(SECRET),
            "the token secret is redacted too"
        );
        let missing = config(&[
            ("DATABASE_URL", "postgres://h/db"),
            ("SENTRA_JWT_SECRET", ""),
        ])
        .expect_err("no secret");
        assert_eq!(
            missing.problems,
            ["SENTRA_JWT_SECRET: is required but not set"]
        );
    }

    #[test]
    fn every_variable_read_is_documented() {
        let source = include_str!("config.rs");
        for (name, _, _) in VARIABLES {
            assert!(source.contains(&format!("\"{name}\"")), "{name}");
        }
        let readme = include_str!("../../README.md");
        for (name, _, _) in VARIABLES {
            assert!(readme.contains(name), "README.md does not document {name}");
        }
    }
}
