//! A local HTTP server implementing the documented Xendit Payments API v3 contract for card
//! authorisation holds with manual capture (shared/reference payments-kyc.md §2): Basic auth with
//! [`SECRET_KEY`] and a required `api-version` header ([`API_VERSION`]);
//! `POST /v3/payment_requests` (`PAY`, `ID`, `IDR`, `CARDS`, `MANUAL`), where the payment token
//! decides: `tok-decline…` fails with `CARD_DECLINED`, `tok-3ds…` requires a `REDIRECT_CUSTOMER`
//! action, any other is `AUTHORIZED`; `GET /v3/payments/{id}`; `POST /v3/payments/{id}/capture`
//! (one capture, at most the uncaptured amount; the rest is released);
//! `POST /v3/payments/{id}/cancel` (only while `AUTHORIZED`); `POST /v3/refunds` (of a
//! `SUCCEEDED` payment, idempotent by `reference_id`); `idempotency-key` replay of
//! successful answers; v3 webhooks carrying `x-callback-token`.
//!
//! Failure modes ([`FakeXendit::fail_next`]): an error status without doing the work
//! ([`Fault::Http`]), a hang past the client's timeout ([`Fault::Timeout`]), a lost response after
//! the work ([`Fault::AfterWork`]). Provider-side events: [`FakeXendit::lapse`] and
//! [`FakeXendit::complete_3ds`]. Webhooks: out-of-order ones ([`FakeXendit::webhook_as`]) and any
//! token ([`FakeXendit::deliver`]). Requests that fail authentication or lack `api-version` are
//! not recorded in `calls`.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header::AUTHORIZATION},
    routing::{get, post},
};
use base64::Engine as _;
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

mod work;

use work::{capture_work, create_work, refund_work};

pub(crate) const SECRET_KEY: &str = "xnd_development_sentra_test_0123456789";
pub(crate) const CALLBACK_TOKEN: &str = "sentra-xendit-callback-token-test";
pub(crate) const BUSINESS_ID: &str = "66c1f0a2b3d4e5f60718293a";
/// The `api-version` the v3 Payments API documents (the only value in its `OpenAPI` enum).
pub(crate) const API_VERSION: &str = "2024-11-11";
const HANG: Duration = Duration::from_secs(40);

/// A failure the next matching call suffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer with this HTTP status and a Xendit-shaped error, without doing the work.
    Http(u16),
    /// Sleep 40 s (longer than the client's timeout) before answering, without doing the work.
    Timeout,
    /// Do the work (and remember it for the `idempotency-key`), then answer with this HTTP
    /// status: the response is lost on the way back.
    AfterWork(u16),
}

#[derive(Debug, Clone)]
#[allow(clippy::struct_field_names)] // Xendit's names.
pub(crate) struct Capture {
    /// `cap-<uuid>`.
    pub(crate) capture_id: String,
    pub(crate) capture_amount: i64,
    pub(crate) capture_timestamp: String,
}

/// One payment, keyed by `payment_id` in [`XenditWorld::payments`].
#[derive(Debug, Clone)]
#[allow(clippy::struct_field_names)] // Xendit's names.
pub(crate) struct Payment {
    /// `py-<uuid>`.
    pub(crate) payment_id: String,
    /// `pr-<uuid>`.
    pub(crate) payment_request_id: String,
    pub(crate) reference_id: String,
    /// `AUTHORIZED`, `CANCELED`, `SUCCEEDED`, `FAILED`, `EXPIRED`, `PENDING` or `REQUIRES_ACTION`.
    pub(crate) status: String,
    /// The authorised amount in IDR.
    pub(crate) request_amount: i64,
    pub(crate) captured: i64,
    pub(crate) captures: Vec<Capture>,
    /// Refunded after the capture.
    pub(crate) refunded: i64,
    pub(crate) failure_code: Option<String>,
    /// Every status the payment has had, in order.
    pub(crate) history: Vec<String>,
    pub(crate) description: Value,
    pub(crate) metadata: Value,
    /// ISO 8601 UTC with milliseconds.
    pub(crate) created: String,
    pub(crate) updated: String,
}

#[derive(Debug, Default)]
pub(crate) struct XenditWorld {
    pub(crate) payments: HashMap<String, Payment>,
    /// Accepted calls in order, e.g. `POST /v3/payment_requests` or
    /// `POST /v3/payments/{payment_id}/capture`.
    pub(crate) calls: Vec<String>,
    /// Queued faults: each hits the next call whose `calls` string starts with the prefix.
    pub(crate) faults: Vec<(String, Fault)>,
    /// Successful answers (status, body) by `idempotency-key`, across endpoints.
    pub(crate) idempotent: HashMap<String, (u16, Value)>,
    /// Refunds made, as answered.
    pub(crate) refunds: Vec<Value>,
}

/// The running fake. Stops when dropped.
#[derive(Debug)]
pub(crate) struct FakeXendit {
    pub(crate) url: String,
    pub(crate) world: Arc<Mutex<XenditWorld>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeXendit {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Clone)]
struct Ctx {
    world: Arc<Mutex<XenditWorld>>,
    url: String,
}

type Reply = (u16, Value);
type Answer = (StatusCode, Json<Value>);

/// The `Authorization` header value Xendit expects.
pub(crate) fn basic_auth() -> String {
    let credentials = format!("{SECRET_KEY}:");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn error(code: u16, error_code: &str, message: &str) -> Reply {
    (code, json!({"error_code": error_code, "message": message}))
}

fn invalid(message: &str) -> Reply {
    error(400, "API_VALIDATION_ERROR", message)
}

fn not_found() -> Reply {
    error(404, "DATA_NOT_FOUND", "Payment not found")
}

fn ineligible(status: &str) -> Reply {
    let message = format!("The payment is {status}, which does not allow this action");
    error(409, "INELIGIBLE_TRANSACTION_STATUS", &message)
}

/// The error an injected [`Fault::Http`] (or a hang) answers with.
fn fault_reply(code: u16) -> Reply {
    let (error_code, message) = match code {
        400 => ("API_VALIDATION_ERROR", "Invalid request"),
        401 => ("INVALID_API_KEY", "API key is invalid"),
        403 => (
            "INVALID_MERCHANT_SETTINGS",
            "Merchant settings do not allow this request",
        ),
        404 => ("DATA_NOT_FOUND", "Payment not found"),
        409 => (
            "INELIGIBLE_TRANSACTION_STATUS",
            "The payment status does not allow this",
        ),
        429 => (
            "RATE_LIMIT_EXCEEDED",
            "Too many requests, please retry later",
        ),
        502..=504 => (
            "CHANNEL_UNAVAILABLE",
            "The payment channel is temporarily unavailable",
        ),
        _ => ("SERVER_ERROR", "An unexpected error occurred, please retry"),
    };
    error(code, error_code, message)
}

/// An IDR amount sent as a JSON number or a numeric string (`"250000"`, `"250000.00"`).
fn idr(value: &Value) -> Option<i64> {
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        _ => return None,
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text.as_str(), ""));
    if !fraction.chars().all(|c| c == '0') {
        return None;
    }
    whole.parse::<i64>().ok().filter(|amount| *amount > 0)
}

/// The Payment object, claiming `status`. Captures show only on a `SUCCEEDED` payment.
fn payment_json(payment: &Payment, status: &str) -> Value {
    let captures: Vec<Value> = if status == "SUCCEEDED" {
        payment
            .captures
            .iter()
            .map(|capture| {
                json!({
                    "capture_id": capture.capture_id,
                    "capture_amount": capture.capture_amount,
                    "capture_timestamp": capture.capture_timestamp,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut body = json!({
        "payment_id": payment.payment_id,
        "payment_request_id": payment.payment_request_id,
        "reference_id": payment.reference_id,
        "business_id": BUSINESS_ID,
        "type": "PAY",
        "country": "ID",
        "currency": "IDR",
        "request_amount": payment.request_amount,
        "capture_method": "MANUAL",
        "channel_code": "CARDS",
        "status": status,
        "captures": captures,
        "description": payment.description,
        "metadata": payment.metadata,
        "created": payment.created,
        "updated": payment.updated,
    });
    if status == "FAILED" {
        body["failure_code"] = json!(payment.failure_code.as_deref().unwrap_or("CARD_DECLINED"));
    }
    body
}

/// One API call.
enum Op {
    Create(Bytes),
    Get(String),
    Capture(String, Bytes),
    Cancel(String),
    Refund(Bytes),
}

impl Op {
    /// The call as [`XenditWorld::calls`] records it.
    fn call(&self) -> String {
        match self {
            Op::Create(_) => "POST /v3/payment_requests".to_owned(),
            Op::Get(id) => format!("GET /v3/payments/{id}"),
            Op::Capture(id, _) => format!("POST /v3/payments/{id}/capture"),
            Op::Cancel(id) => format!("POST /v3/payments/{id}/cancel"),
            Op::Refund(_) => "POST /v3/refunds".to_owned(),
        }
    }

    fn work(&self, world: &mut XenditWorld, base_url: &str) -> Reply {
        match self {
            Op::Create(raw) => create_work(world, base_url, raw),
            Op::Get(id) => match world.payments.get(id) {
                Some(payment) => (200, payment_json(payment, &payment.status)),
                None => not_found(),
            },
            Op::Capture(id, raw) => capture_work(world, id, raw),
            Op::Refund(raw) => refund_work(world, raw),
            Op::Cancel(id) => {
                let Some(payment) = world.payments.get_mut(id) else {
                    return not_found();
                };
                if payment.status != "AUTHORIZED" {
                    return ineligible(&payment.status);
                }
                moved(payment, "CANCELED");
                (200, payment_json(payment, "CANCELED"))
            }
        }
    }
}

fn moved(payment: &mut Payment, to: &str) {
    to.clone_into(&mut payment.status);
    payment.history.push(to.to_owned());
    payment.updated = now();
}

/// Authentication, `api-version`, the call log, faults and idempotency around the work.
/// `None`: hang.
fn run(ctx: &Ctx, headers: &HeaderMap, op: &Op) -> Option<Reply> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header(AUTHORIZATION.as_str()) != Some(basic_auth().as_str()) {
        return Some(error(
            401,
            "INVALID_API_KEY",
            "API key is invalid or missing",
        ));
    }
    match header("api-version") {
        None | Some("") => return Some(invalid("api-version header is required")),
        Some(API_VERSION) => {}
        Some(_) => return Some(invalid("api-version must be 2024-11-11")),
    }
    let mut world = ctx.world.lock().expect("world");
    let call = op.call();
    world.calls.push(call.clone());
    let fault = world
        .faults
        .iter()
        .position(|(prefix, _)| call.starts_with(prefix.as_str()));
    let lost = match fault.map(|index| world.faults.remove(index).1) {
        Some(Fault::Http(code)) => return Some(fault_reply(code)),
        Some(Fault::Timeout) => return None,
        Some(Fault::AfterWork(code)) => Some(code),
        None => None,
    };
    let key = header("idempotency-key")
        .filter(|key| !key.is_empty() && !matches!(op, Op::Get(_)))
        .map(str::to_owned);
    let cached = key.as_ref().and_then(|key| world.idempotent.get(key));
    let reply = if let Some(cached) = cached.cloned() {
        cached
    } else {
        let reply = op.work(&mut world, &ctx.url);
        if let Some(key) = key
            && (200..300).contains(&reply.0)
        {
            world.idempotent.insert(key, reply.clone());
        }
        reply
    };
    Some(lost.map_or(reply, fault_reply))
}

async fn serve(ctx: State<Ctx>, headers: HeaderMap, op: Op) -> Answer {
    let (code, body) = if let Some(reply) = run(&ctx, &headers, &op) {
        reply
    } else {
        tokio::time::sleep(HANG).await;
        fault_reply(504)
    };
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body))
}

impl FakeXendit {
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let world = Arc::new(Mutex::new(XenditWorld::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let app = Router::new()
            .route("/v3/payment_requests", post(create))
            .route("/v3/payments/{payment_id}", get(fetch))
            .route("/v3/payments/{payment_id}/capture", post(capture))
            .route("/v3/payments/{payment_id}/cancel", post(cancel))
            .route("/v3/refunds", post(refund))
            .with_state(Ctx {
                world: world.clone(),
                url: url.clone(),
            });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, world, task })
    }

    /// The next call whose `calls` string starts with `call_prefix` (e.g.
    /// `POST /v3/payments/py-…/capture`, or just `POST /v3/payments/`) suffers `fault`.
    pub(crate) fn fail_next(&self, call_prefix: &str, fault: Fault) {
        self.world
            .lock()
            .expect("world")
            .faults
            .push((call_prefix.to_owned(), fault));
    }

    pub(crate) fn calls(&self) -> Vec<String> {
        self.world.lock().expect("world").calls.clone()
    }

    pub(crate) fn payment(&self, payment_id: &str) -> Option<Payment> {
        self.world
            .lock()
            .expect("world")
            .payments
            .get(payment_id)
            .cloned()
    }

    /// The `payment_id` created for `reference_id`.
    pub(crate) fn payment_id_of(&self, reference_id: &str) -> Option<String> {
        let world = self.world.lock().expect("world");
        world
            .payments
            .values()
            .find(|payment| payment.reference_id == reference_id)
            .map(|payment| payment.payment_id.clone())
    }

    /// Moves `payment_id` from one of `from` to `to`, as Xendit does on its own.
    fn provider_moves(&self, payment_id: &str, from: &[&str], to: &str) {
        let mut world = self.world.lock().expect("world");
        let payment = world
            .payments
            .get_mut(payment_id)
            .unwrap_or_else(|| panic!("no Xendit payment {payment_id}"));
        assert!(
            from.contains(&payment.status.as_str()),
            "Xendit payment {payment_id} is {}, not one of {from:?}",
            payment.status
        );
        moved(payment, to);
    }

    /// The authorisation lapsed uncaptured (the 7-day window), or 3DS was abandoned: → `EXPIRED`.
    pub(crate) fn lapse(&self, payment_id: &str) {
        self.provider_moves(payment_id, &["AUTHORIZED", "REQUIRES_ACTION"], "EXPIRED");
    }

    /// The cardholder finished 3DS: `REQUIRES_ACTION` → `AUTHORIZED`.
    pub(crate) fn complete_3ds(&self, payment_id: &str) {
        self.provider_moves(payment_id, &["REQUIRES_ACTION"], "AUTHORIZED");
    }

    /// The v3 webhook `event` (`payment.authorization`, `payment.capture`, `payment.failure`)
    /// carrying the payment as it is now.
    pub(crate) fn webhook(&self, payment_id: &str, event: &str) -> Value {
        let status = self
            .payment(payment_id)
            .map(|payment| payment.status)
            .unwrap_or_default();
        self.webhook_as(payment_id, event, &status)
    }

    /// The v3 webhook `event` whose data claims `status` (e.g. an earlier one, out of order).
    pub(crate) fn webhook_as(&self, payment_id: &str, event: &str, status: &str) -> Value {
        let payment = self
            .payment(payment_id)
            .unwrap_or_else(|| panic!("no Xendit payment {payment_id}"));
        json!({
            "event": event,
            "business_id": BUSINESS_ID,
            "created": now(),
            "api_version": "v3",
            "data": payment_json(&payment, status),
        })
    }

    /// POSTs `body` to `target_url` as Xendit does (JSON, `x-callback-token: token`, a
    /// `webhook-id` per event, 30 s timeout) and returns the HTTP status.
    pub(crate) async fn deliver(
        target_url: &str,
        body: &Value,
        token: &str,
    ) -> anyhow::Result<u16> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let response = client
            .post(target_url)
            .header("x-callback-token", token)
            // The same event delivered again carries the same id (a retry, a duplicate).
            .header("webhook-id", webhook_id(body))
            .json(body)
            .send()
            .await?;
        Ok(response.status().as_u16())
    }
}

/// A delivery's id: the same for the same event body.
fn webhook_id(body: &Value) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(body.to_string().as_bytes());
    digest
        .iter()
        .take(16)
        .fold(String::from("wh-"), |mut out, b| {
            use std::fmt::Write as _;
            let _ = write!(out, "{b:02x}");
            out
        })
}

async fn create(ctx: State<Ctx>, headers: HeaderMap, raw: Bytes) -> Answer {
    serve(ctx, headers, Op::Create(raw)).await
}

async fn fetch(ctx: State<Ctx>, Path(id): Path<String>, headers: HeaderMap) -> Answer {
    serve(ctx, headers, Op::Get(id)).await
}

async fn capture(
    ctx: State<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    serve(ctx, headers, Op::Capture(id, raw)).await
}

async fn cancel(ctx: State<Ctx>, Path(id): Path<String>, headers: HeaderMap) -> Answer {
    serve(ctx, headers, Op::Cancel(id)).await
}

async fn refund(ctx: State<Ctx>, headers: HeaderMap, raw: Bytes) -> Answer {
    serve(ctx, headers, Op::Refund(raw)).await
}
