//! A local HTTP server implementing the documented WhatsApp Business Cloud API send endpoint
//! (`POST /{version}/{phone-number-id}/messages`, bearer token, template messages) with its
//! failures: a wrong token (190), a number not on WhatsApp (131026), a template not approved in
//! that language (132001, HTTP 404), a wrong parameter count (132000), the throughput limit
//! (130429) and an outage (HTTP 503).
//!
//! Its approved templates are the repository's: `sentra_<name>` in `id` and `en`, with the
//! parameter count of `notification-templates/`.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};
use sentra_domain::notification::{Language, MessageKind};
use serde_json::{Value, json};

pub(crate) const PHONE_NUMBER_ID: &str = "109876543210";
pub(crate) const TOKEN: &str = "EAAG-sentra-test-token";
pub(crate) const APP_SECRET: &str = "sentra-test-app-secret";

/// One message the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accepted {
    pub(crate) wamid: String,
    pub(crate) to: String,
    pub(crate) template: String,
    pub(crate) language: String,
    pub(crate) params: Vec<String>,
    pub(crate) callback: String,
}

/// What the fake answers next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// `400 {"error": {"code": 130429}}`: Cloud API throughput reached.
    RateLimit,
    /// `503`, no JSON: the service is down.
    Outage,
}

#[derive(Debug, Default)]
pub(crate) struct World {
    pub(crate) accepted: Vec<Accepted>,
    /// Answers owed before the next success, in order.
    pub(crate) faults: Vec<Fault>,
    /// Every send answers 503 while set.
    pub(crate) down: bool,
    /// Numbers that are not on WhatsApp.
    pub(crate) not_on_whatsapp: HashSet<String>,
    /// Every request seen (including refused ones).
    pub(crate) requests: usize,
    /// (template name, language) → its parameter count.
    pub(crate) approved: HashMap<(String, String), usize>,
}

/// The running fake. Stops when dropped.
pub(crate) struct FakeWhatsapp {
    pub(crate) url: String,
    pub(crate) world: Arc<Mutex<World>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWhatsapp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn error(status: StatusCode, code: i64, message: &str, details: &str) -> (StatusCode, Json<Value>) {
    (
        status,
        Json(json!({"error": {
            "message": format!("({code}) {message}"),
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "ATestTrace0001"
        }})),
    )
}

#[expect(
    clippy::too_many_lines,
    reason = "the documented contract, check by check"
)]
async fn send(
    State(world): State<Arc<Mutex<World>>>,
    Path((_version, phone_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut world = world.lock().expect("world");
    world.requests += 1;
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(TOKEN) || phone_id != PHONE_NUMBER_ID {
        return error(
            StatusCode::UNAUTHORIZED,
            190,
            "Access token has expired",
            "Error validating access token",
        );
    }
    if world.down {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!("Service Unavailable")),
        );
    }
    if !world.faults.is_empty() {
        return match world.faults.remove(0) {
            Fault::RateLimit => error(
                StatusCode::BAD_REQUEST,
                130_429,
                "Rate limit hit",
                "Cloud API message throughput has been reached.",
            ),
            Fault::Outage => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!("Service Unavailable")),
            ),
        };
    }
    let to = body["to"].as_str().unwrap_or_default().to_owned();
    if body["messaging_product"] != "whatsapp" || body["type"] != "template" {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            "Invalid parameter",
            "expected a template message",
        );
    }
    if !to.starts_with("+62") || !to[1..].chars().all(|c| c.is_ascii_digit()) {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            "Invalid parameter",
            "to: expected E.164 with +",
        );
    }
    if world.not_on_whatsapp.contains(&to) {
        return error(
            StatusCode::BAD_REQUEST,
            131_026,
            "Message undeliverable",
            "Unable to deliver message. The recipient is not a WhatsApp user.",
        );
    }
    let template = body["template"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let language = body["template"]["language"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let Some(&expected) = world.approved.get(&(template.clone(), language.clone())) else {
        return error(
            StatusCode::NOT_FOUND,
            132_001,
            "Template name does not exist in the translation",
            &format!("template name ({template}) does not exist in {language}"),
        );
    };
    let params: Vec<String> = body["template"]["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "body"))
        .and_then(|c| c["parameters"].as_array())
        .map(|p| {
            p.iter()
                .map(|p| p["text"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    if params.len() != expected || params.iter().any(|p| p.contains('\n')) {
        return error(
            StatusCode::BAD_REQUEST,
            132_000,
            "Number of parameters does not match the expected number of params",
            &format!("body: expected {expected} parameters without new lines"),
        );
    }
    let wamid = format!("wamid.TEST{:06}", world.accepted.len() + 1);
    world.accepted.push(Accepted {
        wamid: wamid.clone(),
        to: to.clone(),
        template,
        language,
        params,
        callback: body["biz_opaque_callback_data"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    });
    (
        StatusCode::OK,
        Json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.trim_start_matches('+')}],
            "messages": [{"id": wamid}]
        })),
    )
}

impl FakeWhatsapp {
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let mut world = World::default();
        for kind in MessageKind::ALL {
            for language in [Language::Id, Language::En] {
                let template = sentra_server::notify::templates::template(kind, language)?;
                world.approved.insert(
                    (
                        format!("sentra_{}", kind.template()),
                        language.code().to_owned(),
                    ),
                    template.params.len(),
                );
            }
        }
        let world = Arc::new(Mutex::new(world));
        let app = Router::new()
            .route("/{version}/{phone_id}/messages", post(send))
            .with_state(world.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/v21.0", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, world, task })
    }

    /// The accepted messages of `template` (without the `sentra_` prefix) to `to`.
    pub(crate) fn sent(&self, template: &str, to: &str) -> Vec<Accepted> {
        let name = format!("sentra_{template}");
        self.world
            .lock()
            .expect("world")
            .accepted
            .iter()
            .filter(|a| a.template == name && a.to == to)
            .cloned()
            .collect()
    }

    /// The server's environment for this fake.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        [
            ("SENTRA_WHATSAPP", "cloud"),
            ("SENTRA_WHATSAPP_URL", self.url.as_str()),
            ("SENTRA_WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID),
            ("SENTRA_WHATSAPP_TOKEN", TOKEN),
            ("SENTRA_WHATSAPP_APP_SECRET", APP_SECRET),
            ("SENTRA_WHATSAPP_VERIFY_TOKEN", "sentra-verify-token"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}
