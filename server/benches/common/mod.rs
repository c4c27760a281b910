//! What both benchmarks share: the server's configuration for a bench run on loopback, and
//! percentiles of latency samples.

use std::{collections::HashMap, time::Duration};

use sentra_test_support::unique_key_prefix;

/// The server configuration of a bench run: `database_url` and `redis_url` from the harness, a
/// key prefix of its own, no rate limit worth the name, errors-only logs, and an object-storage
/// directory named `storage` under the temp dir (removed by the bench).
pub(crate) fn server_env(
    database_url: &str,
    redis_url: &str,
    storage: &str,
) -> HashMap<&'static str, String> {
    HashMap::from([
        (
            "DATABASE_URL",
            // JIT off: it only adds compile time to queries on this data size.
            format!("{database_url}?options=-c%20jit%3Doff"),
        ),
        ("REDIS_URL", redis_url.to_owned()),
        ("SENTRA_REDIS_KEY_PREFIX", unique_key_prefix()),
        ("SENTRA_LISTEN_ADDR", "127.0.0.1:0".to_owned()),
        ("SENTRA_DB_MAX_CONNECTIONS", "32".to_owned()),
        ("SENTRA_LOG", "error".to_owned()),
        ("SENTRA_RATE_LIMIT_PER_SEC", "100000".to_owned()),
        ("SENTRA_RATE_LIMIT_BURST", "1000000".to_owned()),
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
        (
            "SENTRA_STORAGE_URL",
            std::env::temp_dir().join(storage).display().to_string(),
        ),
    ])
}

/// The `p` quantile (0 to 1) of `sorted` latencies; zero for no sample.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
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
