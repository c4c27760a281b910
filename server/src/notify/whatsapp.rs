//! WhatsApp Business Cloud API: approved template messages sent to
//! `POST {base}/{phone-number-id}/messages` with a bearer token, and the delivery statuses its
//! webhooks report, verified by their `X-Hub-Signature-256` header.
//!
//! Errors are told apart by their `error.code`, not the HTTP status (Meta has answered rate
//! limits with both 400 and 429): throughput and pair rate limits and service errors are
//! retried; an undeliverable number or a template that is missing, paused or malformed is not.

use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sentra_domain::notification::Channel;
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::channel::{Accepted, Notifier, Outgoing, SendError};

/// The Cloud API client of one business phone number.
#[derive(Debug, Clone)]
pub struct WhatsappCloud {
    http: reqwest::Client,
    /// `https://graph.facebook.com/v21.0/{phone-number-id}/messages`.
    messages_url: String,
    token: SecretString,
    /// Our template names are `{prefix}{template}` (e.g. `sentra_waitlist_offer`).
    template_prefix: String,
}

impl WhatsappCloud {
    /// A client for `base` (the Graph API with its version) and the business number's id.
    pub fn new(
        base: &str,
        phone_number_id: &str,
        token: SecretString,
        template_prefix: &str,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            // No redirects: one would resend the bearer token elsewhere.
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            messages_url: format!("{}/{phone_number_id}/messages", base.trim_end_matches('/')),
            token,
            template_prefix: template_prefix.to_owned(),
        })
    }
}

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(default)]
    messages: Vec<MessageId>,
}

#[derive(Deserialize)]
struct MessageId {
    id: String,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    #[serde(default)]
    details: String,
}

/// Whether an error code is worth retrying later.
fn retryable(code: i64) -> bool {
    matches!(
        code,
        // Throughput and pair rate limits, generic and service errors, an expired token (an
        // operator replaces it; the messages wait), a paused template (pauses end).
        4 | 80_007 | 130_429 | 131_056 | 131_000 | 131_016 | 1 | 2 | 190 | 132_015
    )
}

#[async_trait::async_trait]
impl Notifier for WhatsappCloud {
    fn channel(&self) -> Channel {
        Channel::Whatsapp
    }

    async fn send(&self, message: &Outgoing<'_>) -> Result<Accepted, SendError> {
        let parameters: Vec<_> = message
            .params
            .iter()
            .map(|p| json!({"type": "text", "text": p}))
            .collect();
        let body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            // E.164 with its "+": without it Meta prepends the business number's country code.
            "to": message.recipient,
            "type": "template",
            "biz_opaque_callback_data": message.idempotency_key,
            "template": {
                "name": format!("{}{}", self.template_prefix, message.template),
                "language": {"code": message.language.code()},
                "components": [{"type": "body", "parameters": parameters}],
            },
        });
        let answer = self
            .http
            .post(&self.messages_url)
            .bearer_auth(self.token.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| SendError::Retry(format!("WhatsApp unreachable: {e}")))?;
        let status = answer.status();
        let text = match answer.text().await {
            Ok(text) => text,
            // Accepted, but the body was lost on the way: never sent again.
            Err(_) if status.is_success() => String::new(),
            Err(e) => return Err(SendError::Retry(format!("WhatsApp answer lost: {e}"))),
        };
        if status.is_success() {
            // Accepted: never sent again, even if the answer cannot be read (its statuses then
            // cannot be matched, which is the lesser harm).
            let id = serde_json::from_str::<SendAnswer>(&text)
                .ok()
                .and_then(|parsed| parsed.messages.into_iter().next())
                .map_or_else(|| format!("unknown:{}", message.idempotency_key), |m| m.id);
            return Ok(Accepted {
                provider_message_id: id,
            });
        }
        match serde_json::from_str::<ErrorAnswer>(&text) {
            Ok(ErrorAnswer { error }) => {
                let details = error.error_data.map(|d| d.details).unwrap_or_default();
                let reason = format!("WhatsApp error {}: {} {details}", error.code, error.message);
                if retryable(error.code) || status.is_server_error() {
                    Err(SendError::Retry(reason.trim_end().to_owned()))
                } else {
                    Err(SendError::Refused(reason.trim_end().to_owned()))
                }
            }
            Err(_) if status.is_server_error() || status.as_u16() == 429 => {
                Err(SendError::Retry(format!("WhatsApp answered {status}")))
            }
            Err(_) => Err(SendError::Refused(format!("WhatsApp answered {status}"))),
        }
    }
}

/// The `X-Hub-Signature-256` header Meta sends with `body`: `sha256=` and the lowercase hex of
/// the app secret's HMAC-SHA256 of the raw body.
pub fn signature(app_secret: &SecretString, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.expose_secret().as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(body);
    format!(
        "sha256={}",
        crate::handover::records::hex(&mac.finalize().into_bytes())
    )
}

/// Whether `header` is the signature of `body` (hex compared case-insensitively, in constant
/// time).
pub fn signature_valid(app_secret: &SecretString, body: &[u8], header: &str) -> bool {
    let expected = signature(app_secret, body);
    bool::from(
        expected
            .as_bytes()
            .ct_eq(header.to_ascii_lowercase().as_bytes()),
    )
}

/// One delivery status from a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// The `wamid` our send got back.
    pub message_id: String,
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: String,
    /// The error's code and title when it failed.
    pub error: Option<String>,
}

/// The statuses in a webhook body (other changes, such as incoming messages, are ignored).
pub fn statuses(body: &serde_json::Value) -> Vec<DeliveryStatus> {
    let mut out = Vec::new();
    let entries = body["entry"].as_array().map_or(&[][..], Vec::as_slice);
    for change in entries
        .iter()
        .flat_map(|e| e["changes"].as_array().map_or(&[][..], Vec::as_slice))
    {
        for status in change["value"]["statuses"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
        {
            let (Some(id), Some(state)) = (status["id"].as_str(), status["status"].as_str()) else {
                continue;
            };
            let error = status["errors"].get(0).map(|e| {
                format!(
                    "WhatsApp error {}: {}",
                    e["code"].as_i64().unwrap_or_default(),
                    e["title"]
                        .as_str()
                        .or(e["message"].as_str())
                        .unwrap_or_default()
                )
            });
            out.push(DeliveryStatus {
                message_id: id.to_owned(),
                status: state.to_owned(),
                error,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_over_another_body_or_secret_is_refused() {
        let secret = SecretString::from("app-secret");
        let body = br#"{"entry":[]}"#;
        let header = signature(&secret, body);
        let good = header.trim_start_matches("sha256=").to_owned();
        assert!(signature_valid(&secret, body, &format!("sha256={good}")));
        assert!(!signature_valid(&secret, b"{}", &format!("sha256={good}")));
        assert!(!signature_valid(
            &SecretString::from("other"),
            body,
            &format!("sha256={good}")
        ));
        assert!(!signature_valid(&secret, body, &good));
        assert!(!signature_valid(&secret, body, "sha256=zz"));
    }

    #[test]
    fn statuses_are_read_from_every_entry_and_change() {
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
            {"field": "messages", "value": {"statuses": [
                {"id": "wamid.A", "status": "delivered", "timestamp": "1", "recipient_id": "62"},
                {"id": "wamid.B", "status": "failed", "errors": [{"code": 131_026, "title": "Message undeliverable"}]}
            ]}},
            {"field": "messages", "value": {"messages": [{"id": "in"}]}}
        ]}]});
        let got = statuses(&body);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].status, "delivered");
        assert_eq!(
            got[1].error.as_deref(),
            Some("WhatsApp error 131026: Message undeliverable")
        );
    }

    #[test]
    fn rate_limits_retry_and_bad_numbers_do_not() {
        for code in [130_429, 131_056, 131_000, 2] {
            assert!(retryable(code), "{code}");
        }
        for code in [131_026, 132_001, 132_000, 131_030, 131_047, 100] {
            assert!(!retryable(code), "{code}");
        }
    }
}
