//! A local HTTP server implementing the documented Midtrans Core API contract for card and
//! `GoPay` pre-authorisation holds (shared/reference payments-kyc.md §1): Basic auth with
//! [`SERVER_KEY`]; `POST /v2/charge` (card `type: authorize`, `GoPay` `pre_auth`), where the token
//! decides: `tok-decline…` is denied (202), `tok-3ds…` pending with a `redirect_url` (201), any
//! other authorised (200); `POST /v2/capture` (partial for cards only); `POST /v2/{id}/cancel`
//! (voiding an uncaptured hold depends on the acquiring bank); `GET /v2/{id}/status`;
//! `POST /v2/{id}/refund` (a settled capture only, idempotent by `refund_key`);
//! `Idempotency-Key` replay of successful answers; SHA-512-signed HTTP notifications (§1.8).
//! Errors answer with the HTTP status equal to the body's `status_code`; 2xx bodies answer 200.
//!
//! Failure modes ([`FakeMidtrans::fail_next`]): an error status without doing the work
//! ([`Fault::Http`]), a hang past the client's timeout ([`Fault::Timeout`]), a lost response after
//! the work ([`Fault::AfterWork`]). Provider-side events: [`FakeMidtrans::lapse`],
//! [`FakeMidtrans::settle`], [`FakeMidtrans::complete_3ds`]. Webhooks: out-of-order
//! ([`FakeMidtrans::notification_as`]) and forged ([`FakeMidtrans::forge`]) ones.
//! Requests that fail authentication are not recorded in `calls`.

use std::{
    collections::HashMap,
    fmt::Write as _,
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
use chrono::{FixedOffset, TimeDelta, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

mod work;

use work::{cancel_work, capture_work, charge_work, refund_work};

pub(crate) const SERVER_KEY: &str = "SB-Mid-server-sentra-test-0123456789";
pub(crate) const MERCHANT_ID: &str = "G812345678";
/// The acquiring bank of a card charge that names none (one that cannot void an uncaptured hold).
pub(crate) const DEFAULT_BANK: &str = "bni";
/// The card every charge reports, the documented test card.
pub(crate) const MASKED_CARD: &str = "48111111-1114";
const WRONG_KEY: &str = "SB-Mid-server-someone-else-9876543210";
const CARD: &str = "credit_card";
const GOPAY: &str = "gopay";
const HANG: Duration = Duration::from_secs(40);
const MAX_IDEMPOTENCY_KEY: usize = 46;
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
const UNAUTHORIZED: &str = "Transaction cannot be authorized with the current client/server key.";
const NOT_FOUND: &str = "Transaction doesn't exist.";
const CANNOT_MODIFY: &str = "Merchant cannot modify the status of the transaction";
const DUPLICATE: &str = "The request could not be processed due to duplicate order ID. \
                         Order ID has already been utilized previously.";
const INVALID: &str = "One or more parameters in the payload is invalid.";
const DENIED: &str = "Deny by Bank with code [05] and message [Do not honour]";
const PENDING: &str = "OK, the transaction waits for the customer's verification";

/// A failure the next matching call suffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer with this HTTP status and a Midtrans-shaped body, without doing the work.
    Http(u16),
    /// Sleep 40 s (longer than the client's timeout) before answering, without doing the work.
    Timeout,
    /// Do the work (and remember it for the `Idempotency-Key`), then answer with this HTTP
    /// status: the response is lost on the way back.
    AfterWork(u16),
}

/// One transaction, keyed by `order_id` in [`MidtransWorld::txns`].
#[derive(Debug, Clone)]
pub(crate) struct Txn {
    pub(crate) order_id: String,
    pub(crate) transaction_id: String,
    /// `credit_card` or `gopay`.
    pub(crate) payment_type: String,
    /// The authorised amount in IDR.
    pub(crate) gross_amount: i64,
    pub(crate) captured: Option<i64>,
    /// Refunds by `refund_key`, with their amounts.
    pub(crate) refunds: Vec<(String, i64)>,
    /// The `transaction_status`: pending, authorize, capture, settlement, deny, cancel, expire.
    pub(crate) status: String,
    /// Lower-case acquiring bank (`bca`, `bni`, …); empty for `GoPay`.
    pub(crate) bank: String,
    /// Every status the transaction has had, in order.
    pub(crate) history: Vec<String>,
    pub(crate) fraud_status: String,
    pub(crate) approval_code: String,
    /// `YYYY-MM-DD HH:MM:SS` in UTC+7, as Midtrans writes times.
    pub(crate) transaction_time: String,
    pub(crate) expiry_time: String,
}

#[derive(Debug, Default)]
pub(crate) struct MidtransWorld {
    pub(crate) txns: HashMap<String, Txn>,
    /// Authenticated calls in order, e.g. `POST /v2/charge` or `POST /v2/{order_id}/cancel`.
    pub(crate) calls: Vec<String>,
    /// Queued faults: each hits the next call whose `calls` string starts with the prefix.
    pub(crate) faults: Vec<(String, Fault)>,
    /// Successful answers by `Idempotency-Key` (global across endpoints, as Midtrans keeps them).
    pub(crate) idempotent: HashMap<String, Value>,
}

impl MidtransWorld {
    /// The `order_id` of the transaction `id` names (an `order_id` or a `transaction_id`), or
    /// `id` itself when no transaction matches.
    fn order_of(&self, id: &str) -> String {
        if self.txns.contains_key(id) {
            return id.to_owned();
        }
        self.txns
            .values()
            .find(|txn| txn.transaction_id == id)
            .map_or_else(|| id.to_owned(), |txn| txn.order_id.clone())
    }

    fn find_mut(&mut self, id: &str) -> Option<&mut Txn> {
        if self.txns.contains_key(id) {
            return self.txns.get_mut(id);
        }
        self.txns.values_mut().find(|txn| txn.transaction_id == id)
    }
}

/// The running fake. Stops when dropped.
#[derive(Debug)]
pub(crate) struct FakeMidtrans {
    pub(crate) url: String,
    pub(crate) world: Arc<Mutex<MidtransWorld>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeMidtrans {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Clone)]
struct Ctx {
    world: Arc<Mutex<MidtransWorld>>,
    url: String,
}

type Answer = (StatusCode, Json<Value>);

/// The `Authorization` header value Midtrans expects.
pub(crate) fn basic_auth() -> String {
    let credentials = format!("{SERVER_KEY}:");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

/// `signature_key` as §1.8 defines it: lowercase hex SHA-512 of the concatenation.
fn sign(order_id: &str, status_code: &str, gross_amount: &str, key: &str) -> String {
    let digest = Sha512::digest(format!("{order_id}{status_code}{gross_amount}{key}").as_bytes());
    digest
        .iter()
        .fold(String::with_capacity(128), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// Sets `signature_key` from the exact strings in `body`, signed with `key`.
fn signed(mut body: Value, key: &str) -> Value {
    let text = |field: &str| body[field].as_str().unwrap_or_default().to_owned();
    let signature = sign(
        &text("order_id"),
        &text("status_code"),
        &text("gross_amount"),
        key,
    );
    body["signature_key"] = json!(signature);
    body
}

fn moved(txn: &mut Txn, to: &str) {
    to.clone_into(&mut txn.status);
    txn.history.push(to.to_owned());
}

fn amount(idr: i64) -> String {
    format!("{idr}.00")
}

fn now_wib() -> chrono::DateTime<FixedOffset> {
    Utc::now().with_timezone(&FixedOffset::east_opt(7 * 3600).expect("UTC+7"))
}

/// How long a transaction in `status` lives before Midtrans expires it.
fn lifetime(payment_type: &str, status: &str) -> TimeDelta {
    match (payment_type, status) {
        (_, "pending") => TimeDelta::minutes(10),
        (GOPAY, _) => TimeDelta::minutes(15),
        _ => TimeDelta::days(8),
    }
}

fn status_code_of(status: &str) -> &'static str {
    match status {
        "pending" => "201",
        "deny" | "cancel" | "expire" | "failure" => "202",
        _ => "200",
    }
}

/// The amount Midtrans reports for `txn` in `status`: the captured amount once captured.
fn reported_amount(txn: &Txn, status: &str) -> i64 {
    match (txn.captured, status) {
        (Some(captured), "capture" | "settlement" | "cancel" | "refund" | "partial_refund") => {
            captured
        }
        _ => txn.gross_amount,
    }
}

/// The transaction as Midtrans describes it in answers and notifications (without signature).
fn txn_body(txn: &Txn, status: &str, status_message: &str) -> Value {
    let mut body = json!({
        "status_code": status_code_of(status),
        "status_message": status_message,
        "transaction_id": txn.transaction_id,
        "order_id": txn.order_id,
        "merchant_id": MERCHANT_ID,
        "gross_amount": amount(reported_amount(txn, status)),
        "currency": "IDR",
        "payment_type": txn.payment_type,
        "transaction_time": txn.transaction_time,
        "transaction_status": status,
        "fraud_status": txn.fraud_status,
        "expiry_time": txn.expiry_time,
    });
    if txn.payment_type == CARD {
        body["bank"] = json!(txn.bank);
        body["masked_card"] = json!(MASKED_CARD);
        body["card_type"] = json!("credit");
        body["on_us"] = json!(false);
        if status == "deny" {
            body["channel_response_code"] = json!("05");
            body["channel_response_message"] = json!("Do not honour");
        } else if status != "pending" {
            body["approval_code"] = json!(txn.approval_code);
            body["eci"] = json!("05");
            body["channel_response_code"] = json!("0");
            body["channel_response_message"] = json!("Approved");
        }
    } else {
        body["payment_option_type"] = json!("GOPAY_WALLET");
    }
    body
}

fn error_body(code: u16, message: &str) -> Value {
    json!({"status_code": code.to_string(), "status_message": message, "id": uuid::Uuid::new_v4()})
}

fn invalid(problems: &[&str]) -> Value {
    json!({
        "status_code": "400",
        "status_message": INVALID,
        "validation_messages": problems,
        "id": uuid::Uuid::new_v4(),
    })
}

/// The body an injected [`Fault::Http`] (or a hang) answers with.
fn fault_body(code: u16) -> Value {
    let message = match code {
        400 => INVALID,
        401 => UNAUTHORIZED,
        404 => NOT_FOUND,
        406 => DUPLICATE,
        412 => CANNOT_MODIFY,
        429 => "Too many requests. Please try again later.",
        502 | 504 => "Sorry, the bank did not answer in time. Please retry.",
        503 => "Midtrans is under maintenance. Please try again later.",
        _ => "Sorry. Our system is recovering from unexpected issues. Please retry.",
    };
    error_body(code, message)
}

/// HTTP status from the body's `status_code`: 2xx bodies answer 200, errors their own code.
fn answer(body: Value) -> Answer {
    let code = body["status_code"]
        .as_str()
        .and_then(|code| code.parse::<u16>().ok())
        .unwrap_or(500);
    let status = if (200..300).contains(&code) {
        StatusCode::OK
    } else {
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    };
    (status, Json(body))
}

fn succeeded(body: &Value) -> bool {
    matches!(body["status_code"].as_str(), Some("200" | "201" | "202"))
}

fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    let key = headers.get("Idempotency-Key")?.to_str().ok()?;
    (!key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY).then(|| key.to_owned())
}

/// One API call.
enum Op {
    Charge(Bytes),
    Capture(Bytes),
    Cancel(String),
    Status(String),
    Refund(String, Bytes),
}

impl Op {
    /// The call as [`MidtransWorld::calls`] records it.
    fn call(&self, world: &MidtransWorld) -> String {
        match self {
            Op::Charge(_) => "POST /v2/charge".to_owned(),
            Op::Capture(_) => "POST /v2/capture".to_owned(),
            Op::Cancel(id) => format!("POST /v2/{}/cancel", world.order_of(id)),
            Op::Status(id) => format!("GET /v2/{}/status", world.order_of(id)),
            Op::Refund(id, _) => format!("POST /v2/{}/refund", world.order_of(id)),
        }
    }

    fn work(&self, world: &mut MidtransWorld, base_url: &str) -> Value {
        match self {
            Op::Charge(raw) => charge_work(world, base_url, raw),
            Op::Capture(raw) => capture_work(world, raw),
            Op::Cancel(id) => cancel_work(world, id),
            Op::Refund(id, raw) => refund_work(world, id, raw),
            Op::Status(id) => match world.find_mut(id) {
                Some(txn) => signed(
                    txn_body(txn, &txn.status, "Success, transaction is found"),
                    SERVER_KEY,
                ),
                None => error_body(404, NOT_FOUND),
            },
        }
    }
}

/// Authentication, the call log, faults and idempotency around the work. `None`: hang.
fn run(ctx: &Ctx, headers: &HeaderMap, op: &Op) -> Option<Answer> {
    let mut world = ctx.world.lock().expect("world");
    let expected = basic_auth();
    if headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return Some(answer(error_body(401, UNAUTHORIZED)));
    }
    let call = op.call(&world);
    world.calls.push(call.clone());
    let fault = world
        .faults
        .iter()
        .position(|(prefix, _)| call.starts_with(prefix.as_str()));
    let lost = match fault.map(|index| world.faults.remove(index).1) {
        Some(Fault::Http(code)) => return Some(answer(fault_body(code))),
        Some(Fault::Timeout) => return None,
        Some(Fault::AfterWork(code)) => Some(code),
        None => None,
    };
    let key = idempotency_key(headers).filter(|_| !matches!(op, Op::Status(_)));
    let cached = key.as_ref().and_then(|key| world.idempotent.get(key));
    let body = if let Some(cached) = cached.cloned() {
        cached
    } else {
        let body = op.work(&mut world, &ctx.url);
        if let Some(key) = key
            && succeeded(&body)
        {
            world.idempotent.insert(key, body.clone());
        }
        body
    };
    Some(answer(lost.map_or(body, fault_body)))
}

async fn serve(ctx: State<Ctx>, headers: HeaderMap, op: Op) -> Answer {
    if let Some(answer) = run(&ctx, &headers, &op) {
        return answer;
    }
    tokio::time::sleep(HANG).await;
    answer(fault_body(504))
}

impl FakeMidtrans {
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let world = Arc::new(Mutex::new(MidtransWorld::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let app = Router::new()
            .route("/v2/charge", post(charge))
            .route("/v2/capture", post(capture))
            .route("/v2/{id}/cancel", post(cancel))
            .route("/v2/{id}/status", get(status))
            .route("/v2/{id}/refund", post(refund))
            .with_state(Ctx {
                world: world.clone(),
                url: url.clone(),
            });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, world, task })
    }

    /// The next call whose `calls` string starts with `call_prefix` (e.g. `POST /v2/capture`)
    /// suffers `fault`. Faults queue in order.
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

    pub(crate) fn txn(&self, order_id: &str) -> Option<Txn> {
        self.world
            .lock()
            .expect("world")
            .txns
            .get(order_id)
            .cloned()
    }

    /// Moves `order_id` from one of `from` to `to`, as Midtrans does on its own.
    fn provider_moves(&self, order_id: &str, from: &[&str], to: &str) {
        let mut world = self.world.lock().expect("world");
        let txn = world
            .txns
            .get_mut(order_id)
            .unwrap_or_else(|| panic!("no Midtrans transaction {order_id}"));
        assert!(
            from.contains(&txn.status.as_str()),
            "Midtrans transaction {order_id} is {}, not one of {from:?}",
            txn.status
        );
        moved(txn, to);
        if to == "authorize" {
            let expiry = now_wib() + lifetime(&txn.payment_type, to);
            txn.expiry_time = expiry.format(TIME_FORMAT).to_string();
        }
    }

    /// The customer finished the 3DS (or `GoPay` verification) challenge: pending → authorize.
    pub(crate) fn complete_3ds(&self, order_id: &str) {
        self.provider_moves(order_id, &["pending"], "authorize");
    }

    /// The hold lapsed (the 8-day expiry, or an abandoned challenge): authorize → expire.
    pub(crate) fn lapse(&self, order_id: &str) {
        self.provider_moves(order_id, &["authorize", "pending"], "expire");
    }

    /// The capture settled: capture → settlement.
    pub(crate) fn settle(&self, order_id: &str) {
        self.provider_moves(order_id, &["capture"], "settlement");
    }

    /// The HTTP notification Midtrans sends for the current state of `order_id`.
    pub(crate) fn notification(&self, order_id: &str) -> Value {
        let status = self.txn(order_id).map(|txn| txn.status).unwrap_or_default();
        self.notification_as(order_id, &status)
    }

    /// A correctly signed notification for `order_id` claiming `status` (e.g. an earlier one).
    pub(crate) fn notification_as(&self, order_id: &str, status: &str) -> Value {
        let world = self.world.lock().expect("world");
        let txn = world
            .txns
            .get(order_id)
            .unwrap_or_else(|| panic!("no Midtrans transaction {order_id}"));
        signed(
            txn_body(txn, status, "midtrans payment notification"),
            SERVER_KEY,
        )
    }

    /// `body` with a `signature_key` made with someone else's server key.
    pub(crate) fn forge(body: &Value) -> Value {
        signed(body.clone(), WRONG_KEY)
    }

    /// POSTs `body` to `target_url` as Midtrans does (JSON, 30 s timeout, following only
    /// 307/308 redirects, at most 5) and returns the HTTP status.
    pub(crate) async fn deliver(target_url: &str, body: &Value) -> anyhow::Result<u16> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                if attempt.previous().len() < 5 && matches!(attempt.status().as_u16(), 307 | 308) {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .build()?;
        let response = client
            .post(target_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body)
            .send()
            .await?;
        Ok(response.status().as_u16())
    }
}

async fn charge(ctx: State<Ctx>, headers: HeaderMap, raw: Bytes) -> Answer {
    serve(ctx, headers, Op::Charge(raw)).await
}

async fn capture(ctx: State<Ctx>, headers: HeaderMap, raw: Bytes) -> Answer {
    serve(ctx, headers, Op::Capture(raw)).await
}

async fn cancel(ctx: State<Ctx>, Path(id): Path<String>, headers: HeaderMap) -> Answer {
    serve(ctx, headers, Op::Cancel(id)).await
}

async fn status(ctx: State<Ctx>, Path(id): Path<String>, headers: HeaderMap) -> Answer {
    serve(ctx, headers, Op::Status(id)).await
}

async fn refund(ctx: State<Ctx>, Path(id): Path<String>, headers: HeaderMap, raw: Bytes) -> Answer {
    serve(ctx, headers, Op::Refund(id, raw)).await
}
