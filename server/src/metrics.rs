//! Prometheus metrics: the registry lives in the app state (no global recorder) and `/metrics`
//! renders it in the OpenMetrics text format. Routes are labelled by their matched pattern, so
//! ids in paths never explode the label set.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

/// Labels of the HTTP metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Labels of the calendar reconcile metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconcileLabels {
    /// `full`, `incremental`, or `failed` (a tick that ended in an error).
    kind: &'static str,
}

/// Labels of the job queue metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    /// The job kind's stored name, or `unknown`.
    kind: &'static str,
    /// `done` or `failed` (retried later).
    outcome: &'static str,
}

/// Labels of the notification metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotificationLabels {
    /// `whatsapp` or `email`.
    channel: &'static str,
    /// `sent`, `retry` (will be tried again) or `failed` (refused, listed for HQ).
    outcome: &'static str,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
    reconcile: Family<ReconcileLabels, Histogram>,
    reconcile_repaired: Counter,
    jobs: Family<JobLabels, Histogram>,
    notifications: Family<NotificationLabels, Counter>,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sentra");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests handled", requests.clone());
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to produce an HTTP response",
            latency.clone(),
        );
        let reconcile = Family::<ReconcileLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
        });
        registry.register(
            "calendar_reconcile_duration_seconds",
            "Time one reconcile of the Redis calendar against Postgres took, by kind",
            reconcile.clone(),
        );
        let reconcile_repaired = Counter::default();
        registry.register(
            "calendar_reconcile_repaired",
            "Calendar keys and day bits the reconcile found wrong and rewrote",
            reconcile_repaired.clone(),
        );
        let jobs = Family::<JobLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.001, 0.01, 0.1, 0.5, 1.0, 5.0, 30.0])
        });
        registry.register(
            "job_duration_seconds",
            "Background jobs run, by kind and outcome, and how long each took",
            jobs.clone(),
        );
        let notifications = Family::<NotificationLabels, Counter>::default();
        registry.register(
            "notifications",
            "Notification send attempts, by channel and outcome",
            notifications.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            reconcile,
            reconcile_repaired,
            jobs,
            notifications,
        }
    }

    /// Records one job run.
    pub fn job_done(&self, kind: &'static str, ok: bool, took: std::time::Duration) {
        let labels = JobLabels {
            kind,
            outcome: if ok { "done" } else { "failed" },
        };
        self.jobs.get_or_create(&labels).observe(took.as_secs_f64());
    }

    /// Records one notification send attempt.
    pub fn notification(&self, channel: &'static str, outcome: &'static str) {
        self.notifications
            .get_or_create(&NotificationLabels { channel, outcome })
            .inc();
    }

    /// Records one reconcile tick.
    pub fn reconcile_done(&self, kind: &'static str, took: std::time::Duration, repaired: usize) {
        self.reconcile
            .get_or_create(&ReconcileLabels { kind })
            .observe(took.as_secs_f64());
        self.reconcile_repaired
            .inc_by(u64::try_from(repaired).unwrap_or(u64::MAX));
    }

    /// The registry in OpenMetrics text form.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Middleware recording the count and latency of every request.
pub async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    metrics.requests.get_or_create(&labels).inc();
    metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}
