//! Server configuration, read once from the environment in `main` and passed down.
//!
//! Every variable is checked before the first error is returned, so an operator fixes a bad
//! deployment in one go. Secrets (database and Redis URLs carry passwords) are
//! `SecretString`s: `Debug` prints them redacted.

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
    /// `REDIS_URL`: the Redis node for the calendar, waitlist and (first) lock node.
    pub redis_url: SecretString,
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
];

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut reader = Reader {
            lookup: &lookup,
            problems: Vec::new(),
        };
        let listen_addr = reader.parsed("SENTRA_LISTEN_ADDR", "127.0.0.1:8080", |v| {
            v.parse::<SocketAddr>()
                .map_err(|_| "expected host:port such as 127.0.0.1:8080".to_owned())
        });
        let database_url = reader.required_secret("DATABASE_URL", &["postgres", "postgresql"]);
        let db_max_connections = reader.parsed("SENTRA_DB_MAX_CONNECTIONS", "20", |v| {
            match v.parse::<u32>() {
                Ok(n) if (1..=500).contains(&n) => Ok(n),
                _ => Err("expected a whole number from 1 to 500".to_owned()),
            }
        });
        let redis_url =
            reader.secret_url("REDIS_URL", "redis://127.0.0.1:6379", &["redis", "rediss"]);
        let redis_key_prefix = reader.parsed("SENTRA_REDIS_KEY_PREFIX", "", |v| {
            if v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c))
            {
                Ok(v.to_owned())
            } else {
                Err("only letters, digits and - _ : . are allowed".to_owned())
            }
        });
        let auto_migrate = reader.parsed("SENTRA_AUTO_MIGRATE", "true", parse_bool);
        let log_format = reader.parsed("SENTRA_LOG_FORMAT", "pretty", |v| match v {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected pretty or json".to_owned()),
        });
        let log_filter = reader.parsed("SENTRA_LOG", "info,sqlx=warn", |v| Ok(v.to_owned()));
        let request_timeout = reader.parsed("SENTRA_REQUEST_TIMEOUT_SECS", "30", |v| {
            match v.parse::<u64>() {
                Ok(n) if (1..=600).contains(&n) => Ok(Duration::from_secs(n)),
                _ => Err("expected a whole number of seconds from 1 to 600".to_owned()),
            }
        });

        match (
            listen_addr,
            database_url,
            db_max_connections,
            redis_url,
            redis_key_prefix,
            auto_migrate,
            log_format,
            log_filter,
            request_timeout,
        ) {
            (
                Some(listen_addr),
                Some(database_url),
                Some(db_max_connections),
                Some(redis_url),
                Some(redis_key_prefix),
                Some(auto_migrate),
                Some(log_format),
                Some(log_filter),
                Some(request_timeout),
            ) => Ok(Self {
                listen_addr,
                database_url,
                db_max_connections,
                redis_url,
                redis_key_prefix,
                auto_migrate,
                log_format,
                log_filter,
                request_timeout,
            }),
            _ => Err(ConfigError {
                problems: reader.problems,
            }),
        }
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

/// Collects problems while reading variables.
struct Reader<'a, F: Fn(&str) -> Option<String>> {
    lookup: &'a F,
    problems: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Reader<'_, F> {
    fn parsed<T>(
        &mut self,
        name: &str,
        default: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let raw = (self.lookup)(name);
        let value = raw.as_deref().map_or(default, str::trim);
        match parse(value) {
            Ok(v) => Some(v),
            Err(why) => {
                // Never echo a value back: it may be a secret pasted in the wrong variable.
                self.problems.push(format!("{name}: {why}"));
                None
            }
        }
    }

    fn required_secret(&mut self, name: &str, schemes: &[&str]) -> Option<SecretString> {
        match (self.lookup)(name).filter(|v| !v.trim().is_empty()) {
            None => {
                self.problems
                    .push(format!("{name}: is required but not set"));
                None
            }
            Some(v) => self.check_url(name, v.trim(), schemes),
        }
    }

    fn secret_url(&mut self, name: &str, default: &str, schemes: &[&str]) -> Option<SecretString> {
        let value = (self.lookup)(name).filter(|v| !v.trim().is_empty());
        self.check_url(name, value.as_deref().map_or(default, str::trim), schemes)
    }

    fn check_url(&mut self, name: &str, value: &str, schemes: &[&str]) -> Option<SecretString> {
        let scheme = value.split_once("://").map(|(s, _)| s);
        if scheme.is_some_and(|s| schemes.contains(&s)) {
            Some(SecretString::from(value.to_owned()))
        } else {
            self.problems.push(format!(
                "{name}: expected a URL starting with {}",
                schemes
                    .iter()
                    .map(|s| format!("{s}://"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
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
        ])
        .expect_err("five bad variables and one missing");
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
                "SENTRA_LOG_FORMAT"
            ]
        );
        let text = err.to_string();
        assert!(
            text.starts_with("invalid configuration (6 problems):"),
            "{text}"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_or_errors() {
        let c = config(&[("DATABASE_URL", "postgres://u:hunter2@127.0.0.1/db")]).expect("valid");
        assert!(!format!("{c:?}").contains("hunter2"));
        let err = config(&[("DATABASE_URL", "mysql://u:hunter2@h/db")]).expect_err("wrong scheme");
        assert!(!err.to_string().contains("hunter2"), "{err}");
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
