//! Tracing set-up: pretty logs in development, JSON lines in production. Called once by `main`.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Installs the process-wide tracing subscriber. Fails when `filter` is not valid.
pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| anyhow::anyhow!("SENTRA_LOG is not a valid filter: {e}"))?;
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Pretty => registry.with(fmt::layer().with_target(false)).try_init()?,
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    // Every line carries its whole span chain (request id, principal, the
                    // handler, the service call with its booking or asset id), so one booking can
                    // be followed through the logs by its id.
                    .with_current_span(true)
                    .with_span_list(true),
            )
            .try_init()?,
    }
    Ok(())
}
