//! Server configuration, read once from the environment in `main` and passed down.
//!
//! Every variable is checked before the first error is returned, so an operator fixes a bad
//! deployment in one go. Secrets (database and Redis URLs carry passwords) are
//! `SecretString`s: `Debug` prints them redacted, and no message ever echoes a value.

use std::{fmt, net::SocketAddr, time::Duration};

use secrecy::SecretString;

pub use notify::{ChannelProvider, NotifyConfig};
pub use payments::{LongRentalPolicy, PaymentsConfig};

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
    /// `SENTRA_EXPIRY_SWEEP_MILLIS`: how often lapsed payment windows are expired and due jobs
    /// run (two separate loops).
    pub expiry_sweep_interval: Duration,
    /// `SENTRA_BACKGROUND_JOBS`: whether this server runs the job queue (notifications,
    /// waitlist offers, payment follow-ups). Off on API-only replicas; at least one server
    /// must run it.
    pub background_jobs: bool,
    /// `SENTRA_RECONCILE_INTERVAL_SECS`: how often the Redis calendar is reconciled (incrementally;
    /// everything is compared every `booking::reconcile::FULL_EVERY`th time).
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
    /// `SENTRA_TRUSTED_PROXY_HOPS`: how many proxies in front of the server append to
    /// `X-Forwarded-For` (0: the header is ignored).
    pub trusted_proxy_hops: u8,
    /// `SENTRA_PUBLIC_URL`: where the public verify page is reached (printed in document QR codes).
    pub public_url: String,
    /// `SENTRA_LABEL_SECRET`: signs asset labels and booking QR codes (32+ characters;
    /// required). Printed labels stay valid only as long as this secret does.
    pub label_secret: SecretString,
    /// `SENTRA_DATA_KEY`: wraps the per-object keys of identity documents (base64 of 32 bytes;
    /// required). Losing it makes stored KTP images and selfies unreadable.
    pub data_key: SecretString,
    /// `SENTRA_DATA_KEY_ID`: the id stored with every key `SENTRA_DATA_KEY` wraps (default `k1`).
    pub data_key_id: String,
    /// `SENTRA_DATA_KEYS_RETIRED`: earlier data keys, `id=base64,…`, kept for reading until
    /// `sentra-server rotate-data-key` has re-wrapped everything under the current one.
    pub retired_data_keys: Vec<(String, SecretString)>,
    /// `SENTRA_NIK_HASH_KEY`: the NIK lookup hash's own secret (base64 of 32 bytes). Unset, the
    /// hash key is derived from `SENTRA_DATA_KEY` as before (existing hashes keep matching).
    pub nik_hash_key: Option<SecretString>,
    /// Where objects (identity documents, photos) are stored.
    pub storage: StorageConfig,
    /// How identity documents are verified.
    pub kyc: KycConfig,
    /// Deposit holds: providers per branch and their keys.
    pub payments: PaymentsConfig,
    /// WhatsApp and e-mail notifications.
    pub notify: NotifyConfig,
}

/// `SENTRA_STORAGE_URL` and the S3 settings.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// `file:///absolute/dir`, a plain directory path, or `s3://bucket[/prefix]`.
    pub url: String,
    /// `SENTRA_S3_ENDPOINT`: an S3-compatible endpoint (empty: AWS).
    pub s3_endpoint: String,
    /// `SENTRA_S3_REGION`.
    pub s3_region: String,
    /// `SENTRA_S3_ACCESS_KEY_ID`.
    pub s3_access_key_id: String,
    /// `SENTRA_S3_SECRET_ACCESS_KEY`.
    pub s3_secret_access_key: SecretString,
}

/// Which KYC provider runs, and its credentials.
#[derive(Debug, Clone)]
pub struct KycConfig {
    /// `SENTRA_KYC_PROVIDER`: `manual` (staff review) or `verihubs`.
    pub provider: KycProviderKind,
    /// `SENTRA_VERIHUBS_URL`.
    pub verihubs_url: String,
    /// `SENTRA_VERIHUBS_APP_ID`.
    pub verihubs_app_id: String,
    /// `SENTRA_VERIHUBS_API_KEY`.
    pub verihubs_api_key: SecretString,
    /// `SENTRA_KYC_RETENTION_DAYS`: days after the decision until raw images are purged.
    pub retention_days: u32,
    /// `SENTRA_KYC_REVIEW_DAYS`: days an undecided case keeps its images before they are purged
    /// unreviewed.
    pub review_days: u32,
    /// `SENTRA_KYC_RESULT_RETENTION_DAYS`: days after the decision a result keeps its details.
    pub result_retention_days: u32,
    /// `SENTRA_CONSENT_ADDRESS_RETENTION_DAYS`: days a consent keeps its address and user agent.
    pub consent_address_retention_days: u32,
    /// `SENTRA_ACCESS_LOG_ADDRESS_RETENTION_DAYS`: days the document access log keeps addresses.
    pub access_log_address_retention_days: u32,
    /// `SENTRA_LOGIN_FAILURE_RETENTION_DAYS`: days a login-failure counter is kept.
    pub login_failure_retention_days: u32,
}

/// The KYC provider in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KycProviderKind {
    /// Staff look at the KTP and the selfie and decide.
    Manual,
    /// Verihubs OCR, government-data check and face compare.
    Verihubs,
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

mod notify;
mod payments;
mod reader;
mod variables;

pub use variables::VARIABLES;

use reader::{Invalid, Reader, key_id, parse_bool, retired_keys};

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
            background_jobs: r.parsed("SENTRA_BACKGROUND_JOBS", "true", parse_bool),
            reconcile_interval: r.seconds("SENTRA_RECONCILE_INTERVAL_SECS", "30", 1, 86_400),
            jwt_secret: r.secret("SENTRA_JWT_SECRET", 32),
            access_token_ttl: r.seconds("SENTRA_ACCESS_TOKEN_SECS", "900", 60, 3_600),
            refresh_token_ttl: r.seconds("SENTRA_REFRESH_TOKEN_DAYS", "30", 1, 365) * 86_400,
            rate_limit_per_second: r.number("SENTRA_RATE_LIMIT_PER_SEC", "20", 1, 100_000),
            rate_limit_burst: r.number("SENTRA_RATE_LIMIT_BURST", "200", 1, 1_000_000),
            trusted_proxy_hops: u8::try_from(r.number("SENTRA_TRUSTED_PROXY_HOPS", "0", 0, 5))
                .unwrap_or(0),
            public_url: r.parsed("SENTRA_PUBLIC_URL", "http://127.0.0.1:8080", |v| {
                if (v.starts_with("http://") || v.starts_with("https://"))
                    && !v.contains(char::is_whitespace)
                {
                    Ok(v.trim_end_matches('/').to_owned())
                } else {
                    Err(Invalid::from("expected an http:// or https:// address"))
                }
            }),
            label_secret: r.secret("SENTRA_LABEL_SECRET", 32),
            data_key: r.data_key("SENTRA_DATA_KEY"),
            data_key_id: r.parsed("SENTRA_DATA_KEY_ID", "k1", key_id),
            retired_data_keys: r.parsed("SENTRA_DATA_KEYS_RETIRED", "", retired_keys),
            nik_hash_key: (r.lookup)("SENTRA_NIK_HASH_KEY")
                .filter(|v| !v.trim().is_empty())
                .map(|_| r.data_key("SENTRA_NIK_HASH_KEY")),
            storage: read_storage(&mut r),
            kyc: read_kyc(&mut r),
            payments: payments::read(&mut r),
            notify: notify::read(&mut r),
        };
        if config.kyc.provider == KycProviderKind::Verihubs
            && (config.kyc.verihubs_app_id.is_empty()
                || secrecy::ExposeSecret::expose_secret(&config.kyc.verihubs_api_key).is_empty())
        {
            r.problems.push(
                "SENTRA_VERIHUBS_APP_ID and SENTRA_VERIHUBS_API_KEY: required when SENTRA_KYC_PROVIDER=verihubs"
                    .to_owned(),
            );
        }
        if config.storage.url.starts_with("s3://")
            && (config.storage.s3_access_key_id.is_empty()
                || secrecy::ExposeSecret::expose_secret(&config.storage.s3_secret_access_key)
                    .is_empty())
        {
            r.problems.push(
                "SENTRA_S3_ACCESS_KEY_ID and SENTRA_S3_SECRET_ACCESS_KEY: required when SENTRA_STORAGE_URL is s3://"
                    .to_owned(),
            );
        }
        if r.problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError {
                problems: r.problems,
            })
        }
    }
}

fn read_storage<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> StorageConfig {
    StorageConfig {
        url: r.parsed("SENTRA_STORAGE_URL", "data/objects", |v| {
            if v.starts_with("s3://") && v.len() > 5
                || v.starts_with("file:///")
                || !v.contains("://")
            {
                Ok(v.to_owned())
            } else {
                Err("expected file:///dir, a directory path, or s3://bucket/prefix".into())
            }
        }),
        s3_endpoint: r.parsed("SENTRA_S3_ENDPOINT", "", |v| Ok::<_, Invalid>(v.to_owned())),
        s3_region: r.parsed("SENTRA_S3_REGION", "ap-southeast-3", |v| {
            Ok::<_, Invalid>(v.to_owned())
        }),
        s3_access_key_id: r.parsed("SENTRA_S3_ACCESS_KEY_ID", "", |v| {
            Ok::<_, Invalid>(v.to_owned())
        }),
        s3_secret_access_key: SecretString::from(
            (r.lookup)("SENTRA_S3_SECRET_ACCESS_KEY").unwrap_or_default(),
        ),
    }
}

fn read_kyc<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> KycConfig {
    KycConfig {
        provider: r.parsed("SENTRA_KYC_PROVIDER", "manual", |v| match v {
            "manual" => Ok(KycProviderKind::Manual),
            "verihubs" => Ok(KycProviderKind::Verihubs),
            _ => Err("expected manual or verihubs".into()),
        }),
        verihubs_url: r.parsed(
            "SENTRA_VERIHUBS_URL",
            "https://api.verihubs.com",
            reader::provider_url,
        ),
        verihubs_app_id: r.parsed("SENTRA_VERIHUBS_APP_ID", "", |v| {
            Ok::<_, Invalid>(v.to_owned())
        }),
        verihubs_api_key: SecretString::from(
            (r.lookup)("SENTRA_VERIHUBS_API_KEY").unwrap_or_default(),
        ),
        retention_days: r.number("SENTRA_KYC_RETENTION_DAYS", "30", 1, 3650),
        review_days: r.number("SENTRA_KYC_REVIEW_DAYS", "14", 1, 90),
        result_retention_days: r.number("SENTRA_KYC_RESULT_RETENTION_DAYS", "1825", 30, 3650),
        consent_address_retention_days: r.number(
            "SENTRA_CONSENT_ADDRESS_RETENTION_DAYS",
            "730",
            30,
            3650,
        ),
        access_log_address_retention_days: r.number(
            "SENTRA_ACCESS_LOG_ADDRESS_RETENTION_DAYS",
            "365",
            30,
            3650,
        ),
        login_failure_retention_days: r.number("SENTRA_LOGIN_FAILURE_RETENTION_DAYS", "1", 1, 30),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    const SECRET: &str = "a-test-secret-of-at-least-32-characters";
    const DATA_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    /// Reads `vars` plus a valid token secret (unless `vars` sets one).
    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = HashMap::from([
            ("SENTRA_JWT_SECRET".to_owned(), SECRET.to_owned()),
            ("SENTRA_LABEL_SECRET".to_owned(), SECRET.to_owned()),
            ("SENTRA_DATA_KEY".to_owned(), DATA_KEY.to_owned()),
        ]);
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
        let source = [
            include_str!("mod.rs"),
            include_str!("payments.rs"),
            include_str!("notify.rs"),
        ]
        .concat();
        for (name, _, _) in VARIABLES {
            assert!(source.contains(&format!("\"{name}\"")), "{name}");
        }
        let readme = include_str!("../../../README.md");
        for (name, _, _) in VARIABLES {
            assert!(readme.contains(name), "README.md does not document {name}");
        }
    }
}
