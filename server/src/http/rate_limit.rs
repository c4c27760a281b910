//! Rate limiting per client address and per authenticated caller: a token bucket per key
//! (`burst` requests at once, refilled at `per_second`), answered with 429 `rate_limited` and
//! `Retry-After` when empty. The buckets live in this process: with several server instances,
//! put the limits in front of them (see `deploy/kong.yaml`).

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sentra_protocol::{ErrorCode, Problem};

use crate::{auth::Principal, error::AppError};

/// Buckets not touched for this long are forgotten.
const IDLE: Duration = Duration::from_mins(10);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The limiter (cheap to clone).
#[derive(Debug, Clone)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    trusted_proxy_hops: u8,
    buckets: Arc<Mutex<HashMap<String, Bucket>>>,
}

impl RateLimiter {
    /// `per_second` sustained, `burst` at once; `trusted_proxy_hops` proxies in front append to
    /// `X-Forwarded-For` (0: the header is ignored).
    pub fn new(per_second: u32, burst: u32, trusted_proxy_hops: u8) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            trusted_proxy_hops,
            buckets: Arc::default(),
        }
    }

    /// Takes one token from `key`'s bucket, or says how long until one is there.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| now.duration_since(b.updated) < IDLE);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }

    fn client_address(&self, request: &Request) -> Option<IpAddr> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        forwarded_client(&forwarded, self.trusted_proxy_hops).or(peer)
    }
}

/// The client's address in `X-Forwarded-For` behind `hops` trusted proxies: each appends the
/// address it took the connection from, so the entry `hops` from the right is the one the
/// outermost trusted proxy wrote. Entries further left were written by the client and prove
/// nothing. `None` without trusted proxies, or when the header is shorter (the request did not
/// pass them all) or that entry is not an address.
fn forwarded_client(header: &str, hops: u8) -> Option<IpAddr> {
    let hops = usize::from(hops);
    if hops == 0 {
        return None;
    }
    let entries: Vec<&str> = header
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let at = entries.len().checked_sub(hops)?;
    entries[at].parse().ok()
}

/// The client's address as the limiter saw it (from `X-Forwarded-For` behind a trusted proxy),
/// for handlers that must record it (consent proofs, the personal-data access log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The middleware: one token per request from the address's bucket and, for logged-in callers,
/// from the caller's own bucket.
pub async fn limit(
    State(limiter): State<RateLimiter>,
    mut request: Request,
    next: Next,
) -> Response {
    let now = Instant::now();
    let mut keys = Vec::with_capacity(2);
    if let Some(ip) = limiter.client_address(&request) {
        keys.push(format!("ip:{ip}"));
        request.extensions_mut().insert(ClientAddress(ip));
    }
    if let Some(principal) = request.extensions().get::<Principal>() {
        keys.push(format!("sub:{}", principal.id));
    }
    for key in &keys {
        if let Err(wait) = limiter.take(key, now) {
            let mut problem = Problem::new(ErrorCode::RateLimited)
                .with_detail("Too many requests; slow down and retry after the indicated time");
            problem.retry_after_seconds = Some(wait.as_secs().max(1));
            return AppError::Client(Box::new(problem)).into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_applies() {
        let limiter = RateLimiter::new(2, 3, 0);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take("ip:1", start), Ok(()));
        }
        let wait = limiter.take("ip:1", start).expect_err("burst used up");
        assert!(
            wait > Duration::from_millis(400) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        assert_eq!(limiter.take("ip:2", start), Ok(()), "keys are independent");
        assert_eq!(
            limiter.take("ip:1", start + Duration::from_millis(500)),
            Ok(()),
            "refilled"
        );
    }

    #[test]
    fn the_client_is_the_address_the_outermost_trusted_proxy_appended() {
        let forged = "6.6.6.6, 203.0.113.7";
        assert_eq!(
            forwarded_client(forged, 1),
            Some("203.0.113.7".parse().expect("address")),
            "behind Kong alone, the entry Kong appended; the client's own claim is ignored"
        );
        assert_eq!(
            forwarded_client("6.6.6.6, 203.0.113.7, 10.0.0.5", 2),
            Some("203.0.113.7".parse().expect("address")),
            "behind a load balancer and Kong"
        );
        assert_eq!(forwarded_client(forged, 0), None, "no trusted proxy");
        assert_eq!(
            forwarded_client("203.0.113.7", 2),
            None,
            "the request did not pass every proxy: the peer address counts"
        );
        assert_eq!(forwarded_client("6.6.6.6, not-an-address", 1), None);
    }
}
