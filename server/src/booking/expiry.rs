//! The sweeper: expires PENDING_PAYMENT holds whose payment window lapsed, writes the freed days
//! to the calendar, and (through the `unit_freed` job enqueued in the same transaction) hands
//! them to the waitlist. The jobs themselves run in `crate::jobs::runner`.
//!
//! The state it acts on is durable (rows with `expires_at`), so a restart loses nothing: the next
//! sweep picks up whatever lapsed meanwhile. Several servers may sweep at once; each locks the
//! assets it works on (`SKIP LOCKED`), so no hold is expired twice.

use std::time::Duration;

use super::{BookingService, repo};

/// Runs one sweep; returns how many assets had lapsed holds expired.
#[tracing::instrument(name = "booking.expire_lapsed", skip_all)]
pub async fn sweep_once(service: &BookingService, db: &sqlx::PgPool) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let (changes, expired) = repo::expire_all_lapsed(db).await?;
        if changes.is_empty() {
            return Ok(total);
        }
        total += changes.len();
        service.projection().publish(&changes).await;
        for booking in &expired {
            tracing::info!(%booking, "booking expired: the payment window lapsed");
        }
        tracing::info!(assets = changes.len(), "expired lapsed payment holds");
    }
}

/// Sweeps every `interval` until the process ends.
pub async fn run(service: BookingService, db: sqlx::PgPool, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = sweep_once(&service, &db).await {
            tracing::warn!(error = %e, "expiry sweep failed; retrying next tick");
        }
    }
}
