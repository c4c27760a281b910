//! The Midtrans Core API client (reference: shared/reference payments-kyc.md §1).
//!
//! - Authorise: `POST /v2/charge` with `credit_card.type = "authorize"` and the card token from
//!   Midtrans' tokenisation in the customer's browser (held 7 days), or `GoPay` tokenisation with
//!   `gopay.pre_auth = true` (held 15 minutes; no partial capture).
//! - Capture: `POST /v2/capture` with the `transaction_id` and an optional partial
//!   `gross_amount` (one capture; the issuer frees the uncaptured rest).
//! - Cancel: `POST /v2/{order_id}/cancel` (whether an uncaptured hold can be voided depends on
//!   the acquiring bank: BNI and Mandiri cannot, so `credit_card.bank` routes holds to the
//!   configured bank).
//! - Status: `GET /v2/{order_id}/status`.
//! - Refund (of a settled capture): `POST /v2/{order_id}/refund` with a `refund_key`.
//!
//! Basic auth with the server key as the user name; `Idempotency-Key` (at most 46 characters)
//! on every POST. Answers carry a `status_code` in the body ("200", "201" pending, "202"
//! deny/cancel/expire, "412" not allowed now, "406" duplicate order id); amounts come back as
//! strings with ".00". Unknown fields are ignored.

use std::time::Duration;

use secrecy::SecretString;
use sentra_domain::{
    Money,
    payment::{PaymentMethod, PaymentProvider, RemoteState},
};
use serde_json::{Value, json};

use super::gateway::{
    AuthoriseRequest, GatewayError, Instrument, PaymentGateway, PaymentRef, Report, basic_auth,
    http_client, rupiah_of,
};

/// Midtrans' longest idempotency key; a longer one is silently ignored by Midtrans.
const MAX_IDEMPOTENCY_KEY: usize = 46;

/// The Midtrans client.
#[derive(Debug, Clone)]
pub struct Midtrans {
    http: reqwest::Client,
    base_url: String,
    server_key: SecretString,
    /// The acquiring bank card holds are routed to (`bca`, `bri`, `maybank` can void an
    /// uncaptured hold).
    bank: String,
}

impl Midtrans {
    /// A client for `base_url` (`https://api.midtrans.com`, or the sandbox).
    pub fn new(
        base_url: &str,
        server_key: SecretString,
        bank: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            http: http_client(timeout)?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            server_key,
            bank: bank.to_owned(),
        })
    }

    /// Sends a request and reads the JSON answer with its effective status code (the body's
    /// `status_code`, else the HTTP status).
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<(u16, Value), GatewayError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .header("Authorization", basic_auth(&self.server_key))
            .header("Accept", "application/json");
        if let Some(key) = key.filter(|k| k.len() <= MAX_IDEMPOTENCY_KEY) {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| {
            GatewayError::Unavailable(format!("midtrans {path}: {}", e.without_url()))
        })?;
        let http_status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        let code = answer["status_code"]
            .as_str()
            .and_then(|c| c.parse::<u16>().ok())
            .unwrap_or(http_status);
        let message = answer["status_message"].as_str().unwrap_or("").to_owned();
        match code {
            401 => Err(GatewayError::Unauthorized),
            404 => Err(GatewayError::NotFound),
            412 => Err(GatewayError::NotAllowed(message)),
            c if c >= 500 || http_status >= 500 || http_status == 429 => {
                Err(GatewayError::Unavailable(format!(
                    "midtrans {path} answered {c} (HTTP {http_status})"
                )))
            }
            _ if answer.is_null() => Err(GatewayError::Unavailable(format!(
                "midtrans {path} answered HTTP {http_status} without JSON"
            ))),
            c => Ok((c, answer)),
        }
    }
}

/// Reads a transaction (charge, capture, cancel or status answer, or a notification).
pub fn report_of(answer: &Value) -> Result<Report, GatewayError> {
    let status = answer["transaction_status"].as_str().unwrap_or("");
    let fraud = answer["fraud_status"].as_str().unwrap_or("accept");
    let amount = rupiah_of(&answer["gross_amount"]).unwrap_or(Money::ZERO);
    let state = match (status, fraud) {
        ("authorize", "accept") => RemoteState::Authorised,
        // A challenged authorisation is neither held nor refused until it is reviewed.
        ("authorize" | "pending", _) => RemoteState::Pending,
        // A refund follows a settled capture: what was captured stays captured.
        ("capture" | "settlement" | "refund" | "partial_refund", _) => RemoteState::Captured,
        ("cancel", _) => RemoteState::Cancelled,
        ("expire", _) => RemoteState::Expired,
        ("deny" | "failure", _) => RemoteState::Failed,
        (other, _) => {
            return Err(GatewayError::Unavailable(format!(
                "midtrans answered an unknown transaction_status {other:?}"
            )));
        }
    };
    let action_url = answer["redirect_url"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            answer["actions"].as_array().and_then(|actions| {
                actions
                    .iter()
                    .find(|a| {
                        a["name"]
                            .as_str()
                            .is_some_and(|n| n.contains("verification"))
                    })
                    .or_else(|| actions.first())
                    .and_then(|a| a["url"].as_str())
                    .map(str::to_owned)
            })
        });
    Ok(Report {
        state,
        authorised: if state == RemoteState::Captured {
            Money::ZERO
        } else {
            amount
        },
        captured: if state == RemoteState::Captured {
            amount
        } else {
            Money::ZERO
        },
        payment_id: answer["transaction_id"].as_str().map(str::to_owned),
        action_url,
        bank: answer["bank"].as_str().map(str::to_owned),
        failure: (state == RemoteState::Failed).then(|| {
            answer["status_message"]
                .as_str()
                .unwrap_or(status)
                .to_owned()
        }),
    })
}

#[async_trait::async_trait]
impl PaymentGateway for Midtrans {
    fn provider(&self) -> PaymentProvider {
        PaymentProvider::Midtrans
    }

    fn hold_lifetime(&self, method: PaymentMethod) -> Option<Duration> {
        match method {
            // "reserved fund will be released after seven days if there is no capture action"
            PaymentMethod::Card => Some(Duration::from_hours(7 * 24)),
            PaymentMethod::Gopay => Some(Duration::from_mins(15)),
            PaymentMethod::Cash | PaymentMethod::Transfer => None,
        }
    }

    async fn authorise(&self, request: &AuthoriseRequest<'_>) -> Result<Report, GatewayError> {
        let details = json!({
            "order_id": request.order_id,
            "gross_amount": request.amount.rupiah(),
        });
        let body = match request.instrument {
            Instrument::Card { token } => json!({
                "payment_type": "credit_card",
                "transaction_details": details,
                "credit_card": {"token_id": token, "type": "authorize", "bank": self.bank},
                "custom_field1": request.description,
            }),
            Instrument::Gopay {
                account_id,
                payment_option_token,
            } => json!({
                "payment_type": "gopay",
                "transaction_details": details,
                "gopay": {
                    "account_id": account_id,
                    "payment_option_token": payment_option_token,
                    "pre_auth": true,
                },
            }),
            Instrument::Counter { .. } => {
                return Err(GatewayError::Refused(
                    "cash and transfers are taken at the counter".to_owned(),
                ));
            }
        };
        let key = format!("a-{}", request.order_id);
        match self
            .send(reqwest::Method::POST, "/v2/charge", Some(&body), Some(&key))
            .await
        {
            // The order id exists: an earlier attempt whose answer was lost. Read it.
            Ok((406, _)) => {
                self.status(&PaymentRef {
                    order_id: request.order_id.to_owned(),
                    payment_id: None,
                })
                .await
            }
            Ok((200..=202, answer)) => report_of(&answer),
            Ok((code, answer)) => Err(GatewayError::Refused(format!(
                "{code} {}",
                answer["status_message"].as_str().unwrap_or("")
            ))),
            Err(e) => Err(e),
        }
    }

    async fn capture(
        &self,
        payment: &PaymentRef,
        amount: Money,
        key: &str,
    ) -> Result<Report, GatewayError> {
        let transaction_id = payment.payment_id.as_deref().ok_or_else(|| {
            GatewayError::Refused("the hold has no Midtrans transaction_id".to_owned())
        })?;
        let body = json!({"transaction_id": transaction_id, "gross_amount": amount.rupiah()});
        let (code, answer) = self
            .send(reqwest::Method::POST, "/v2/capture", Some(&body), Some(key))
            .await?;
        match code {
            200 | 201 => report_of(&answer),
            // Still being processed (a retry of the same key while the first runs): later.
            202 if answer["transaction_status"].as_str() != Some("deny") => Err(
                GatewayError::Unavailable("midtrans is still processing the capture".to_owned()),
            ),
            // The bank declined the capture; the hold stays authorised.
            202 => Err(GatewayError::Refused(
                answer["status_message"]
                    .as_str()
                    .unwrap_or("the bank declined the capture")
                    .to_owned(),
            )),
            _ => {
                let message = answer["status_message"].as_str().unwrap_or("").to_owned();
                if message.to_lowercase().contains("exceed") || message.contains("gross_amount") {
                    Err(GatewayError::AboveHold(message))
                } else {
                    Err(GatewayError::Refused(format!("{code} {message}")))
                }
            }
        }
    }

    async fn cancel(&self, payment: &PaymentRef, key: &str) -> Result<Report, GatewayError> {
        let path = format!("/v2/{}/cancel", payment.order_id);
        let (code, answer) = self
            .send(reqwest::Method::POST, &path, None, Some(key))
            .await?;
        match code {
            200..=202 => report_of(&answer),
            _ => Err(GatewayError::Refused(format!(
                "{code} {}",
                answer["status_message"].as_str().unwrap_or("")
            ))),
        }
    }

    async fn refund(
        &self,
        payment: &PaymentRef,
        amount: Money,
        key: &str,
    ) -> Result<(), GatewayError> {
        // Only a settled capture can be refunded (before that Midtrans answers 412).
        let path = format!("/v2/{}/refund", payment.order_id);
        let body = json!({"refund_key": key, "amount": amount.rupiah(),
                          "reason": "Sisa jaminan sewa dikembalikan"});
        let (code, answer) = self
            .send(reqwest::Method::POST, &path, Some(&body), Some(key))
            .await?;
        match code {
            200 | 201 => Ok(()),
            _ => Err(GatewayError::Refused(format!(
                "{code} {}",
                answer["status_message"].as_str().unwrap_or("")
            ))),
        }
    }

    async fn status(&self, payment: &PaymentRef) -> Result<Report, GatewayError> {
        let path = format!("/v2/{}/status", payment.order_id);
        let (code, answer) = self.send(reqwest::Method::GET, &path, None, None).await?;
        match code {
            200..=202 => report_of(&answer),
            _ => Err(GatewayError::Unavailable(format!(
                "midtrans status answered {code}"
            ))),
        }
    }
}
