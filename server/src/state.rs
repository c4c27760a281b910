//! The state every handler can reach: database pool, Redis, metrics and configuration.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::{
    auth::AuthService,
    booking::{BookingService, availability::Availability},
    cache::Cache,
    config::Config,
    metrics::Metrics,
};

/// Shared application state (cheap to clone: everything is behind `Arc` or a pool handle).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The Postgres pool (the system of record).
    pub db: PgPool,
    /// Redis (derived, rebuildable data).
    pub cache: Arc<Cache>,
    /// Requests per client address and per caller.
    pub rate_limiter: crate::http::rate_limit::RateLimiter,
    /// Logins and tokens.
    pub auth: AuthService,
    /// Availability search.
    pub availability: Availability,
    /// The booking engine.
    pub bookings: BookingService,
    /// Customer accounts.
    pub customers: crate::customers::Customers,
    /// Desktop devices and the branch change feed.
    pub sync: crate::sync::Sync,
    /// KTP verification.
    pub kyc: crate::kyc::Kyc,
    /// Pickups, returns and their tamper-proof records.
    pub handovers: crate::handover::Handovers,
    /// Deposit holds, the bill at return, webhooks and reports.
    pub payments: crate::payments::Payments,
    /// WhatsApp and e-mail messages.
    pub notify: crate::notify::Notify,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The configuration read at start-up.
    pub config: Arc<Config>,
}

impl FromRef<AppState> for AuthService {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}
