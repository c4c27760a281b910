//! The Xendit Payments API v3 client (reference: shared/reference payments-kyc.md §2).
//!
//! - Authorise: `POST /v3/payment_requests` with `capture_method: MANUAL`, channel `CARDS` and
//!   the customer's saved `payment_token_id` (no card numbers pass through us). Card only:
//!   Xendit offers no e-wallet holds. Captures are allowed up to 7 days after authorisation.
//! - Capture: `POST /v3/payments/{payment_id}/capture` with `capture_amount` (at most the
//!   uncaptured amount).
//! - Cancel: `POST /v3/payments/{payment_id}/cancel` (only while `AUTHORIZED`).
//! - Status: `GET /v3/payments/{payment_id}`.
//! - Refund: `POST /v3/refunds` with the `payment_id` and our `reference_id`.
//!
//! Basic auth with the secret key as the user name, the `api-version` header, and an
//! `idempotency-key` on every POST. Errors carry an `error_code`.

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

/// The Payments API version this client speaks.
pub const API_VERSION: &str = "2024-11-11";

/// The Xendit client.
#[derive(Debug, Clone)]
pub struct Xendit {
    http: reqwest::Client,
    base_url: String,
    secret_key: SecretString,
    /// Where the customer lands after 3-D Secure.
    return_url: String,
}

impl Xendit {
    /// A client for `base_url` (`https://api.xendit.co`).
    pub fn new(
        base_url: &str,
        secret_key: SecretString,
        return_url: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            http: http_client(timeout)?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            secret_key,
            return_url: return_url.trim_end_matches('/').to_owned(),
        })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Value, GatewayError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .header("Authorization", basic_auth(&self.secret_key))
            .header("api-version", API_VERSION);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| {
            GatewayError::Unavailable(format!("xendit {path}: {}", e.without_url()))
        })?;
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) && answer.is_object() {
            return Ok(answer);
        }
        let code = answer["error_code"].as_str().unwrap_or("").to_owned();
        let message = format!("{code} {}", answer["message"].as_str().unwrap_or(""))
            .trim()
            .to_owned();
        Err(match (status, code.as_str()) {
            (401, _) => GatewayError::Unauthorized,
            (404, _) | (_, "DATA_NOT_FOUND") => GatewayError::NotFound,
            (_, "INELIGIBLE_TRANSACTION_STATUS" | "INACTIVE_PAYMENT_REQUEST") => {
                GatewayError::NotAllowed(message)
            }
            (_, "CAPTURE_AMOUNT_EXCEEDED") => GatewayError::AboveHold(message),
            (s, _) if s >= 500 || s == 429 || code == "TEMPORARILY_UNAVAILABLE" => {
                GatewayError::Unavailable(format!("xendit {path} answered HTTP {s} {code}"))
            }
            (200..300, _) => {
                GatewayError::Unavailable(format!("xendit {path} answered without JSON"))
            }
            (s, _) => GatewayError::Refused(format!("HTTP {s} {message}")),
        })
    }

    fn payment_id(payment: &PaymentRef) -> Result<&str, GatewayError> {
        payment
            .payment_id
            .as_deref()
            .ok_or_else(|| GatewayError::Refused("the hold has no Xendit payment id".to_owned()))
    }
}

/// Reads a Payment object (status, capture or cancel answer, or a webhook's `data`), or a
/// payment request's creation answer.
pub fn report_of(payment: &Value) -> Result<Report, GatewayError> {
    let status = payment["status"].as_str().unwrap_or("");
    let state = match status {
        "AUTHORIZED" => RemoteState::Authorised,
        "SUCCEEDED" => RemoteState::Captured,
        "CANCELED" | "VOIDED" => RemoteState::Cancelled,
        "EXPIRED" => RemoteState::Expired,
        "FAILED" => RemoteState::Failed,
        "PENDING" | "REQUIRES_ACTION" | "ACCEPTING_PAYMENTS" => RemoteState::Pending,
        other => {
            return Err(GatewayError::Unavailable(format!(
                "xendit answered an unknown status {other:?}"
            )));
        }
    };
    let captured = payment["captures"]
        .as_array()
        .map_or(Money::ZERO, |captures| {
            captures.iter().fold(Money::ZERO, |sum, c| {
                sum.checked_add(rupiah_of(&c["capture_amount"]).unwrap_or(Money::ZERO))
                    .unwrap_or(sum)
            })
        });
    let action_url = payment["actions"].as_array().and_then(|actions| {
        actions
            .iter()
            .find(|a| a["type"].as_str() == Some("REDIRECT_CUSTOMER"))
            .and_then(|a| a["value"].as_str())
            .map(str::to_owned)
    });
    Ok(Report {
        state,
        authorised: rupiah_of(&payment["request_amount"]).unwrap_or(Money::ZERO),
        captured,
        payment_id: payment["payment_id"]
            .as_str()
            .or_else(|| payment["latest_payment_id"].as_str())
            .map(str::to_owned),
        action_url,
        bank: None,
        failure: payment["failure_code"].as_str().map(str::to_owned),
    })
}

#[async_trait::async_trait]
impl PaymentGateway for Xendit {
    fn provider(&self) -> PaymentProvider {
        PaymentProvider::Xendit
    }

    fn hold_lifetime(&self, method: PaymentMethod) -> Option<Duration> {
        // "captures up to 7 days after an authorization".
        (method == PaymentMethod::Card).then_some(Duration::from_hours(7 * 24))
    }

    async fn authorise(&self, request: &AuthoriseRequest<'_>) -> Result<Report, GatewayError> {
        let Instrument::Card { token } = request.instrument else {
            return Err(GatewayError::Refused(
                "Xendit holds cards only (no e-wallet pre-authorisation)".to_owned(),
            ));
        };
        let body = json!({
            "reference_id": request.order_id,
            "type": "PAY",
            "country": "ID",
            "currency": "IDR",
            "request_amount": request.amount.rupiah(),
            "capture_method": "MANUAL",
            "channel_code": "CARDS",
            "payment_token_id": token,
            "channel_properties": {
                "success_return_url": format!("{}/pembayaran/selesai", self.return_url),
                "failure_return_url": format!("{}/pembayaran/gagal", self.return_url),
            },
            "description": request.description,
            "metadata": {"order_id": request.order_id},
        });
        let key = format!("a-{}", request.order_id);
        self.send(
            reqwest::Method::POST,
            "/v3/payment_requests",
            Some(&body),
            Some(&key),
        )
        .await
        .and_then(|answer| report_of(&answer))
    }

    async fn capture(
        &self,
        payment: &PaymentRef,
        amount: Money,
        key: &str,
    ) -> Result<Report, GatewayError> {
        let path = format!("/v3/payments/{}/capture", Self::payment_id(payment)?);
        let body = json!({"capture_amount": amount.rupiah()});
        let answer = self
            .send(reqwest::Method::POST, &path, Some(&body), Some(key))
            .await?;
        report_of(&answer)
    }

    async fn cancel(&self, payment: &PaymentRef, key: &str) -> Result<Report, GatewayError> {
        let path = format!("/v3/payments/{}/cancel", Self::payment_id(payment)?);
        let answer = self
            .send(reqwest::Method::POST, &path, None, Some(key))
            .await?;
        report_of(&answer)
    }

    async fn refund(
        &self,
        payment: &PaymentRef,
        amount: Money,
        key: &str,
    ) -> Result<(), GatewayError> {
        let body = json!({
            "reference_id": key,
            "payment_id": Self::payment_id(payment)?,
            "amount": amount.rupiah(),
            "reason": "REQUESTED_BY_CUSTOMER",
            "metadata": {"order_id": payment.order_id},
        });
        let answer = match self
            .send(reqwest::Method::POST, "/v3/refunds", Some(&body), Some(key))
            .await
        {
            // The same reference_id again: this refund was made before (a retry after a lost
            // answer).
            Err(GatewayError::Refused(why)) if why.contains("DUPLICATE") => return Ok(()),
            answer => answer?,
        };
        match answer["status"].as_str() {
            Some("SUCCEEDED" | "PENDING") => Ok(()),
            other => Err(GatewayError::Refused(format!(
                "the refund is {}",
                other.unwrap_or("unknown")
            ))),
        }
    }

    async fn status(&self, payment: &PaymentRef) -> Result<Report, GatewayError> {
        // Without the payment id (the creation's answer was lost, and no webhook told it yet)
        // there is nothing to ask: the payment is unknown to us.
        let Some(id) = payment.payment_id.as_deref() else {
            return Err(GatewayError::NotFound);
        };
        let path = format!("/v3/payments/{id}");
        let answer = self.send(reqwest::Method::GET, &path, None, None).await?;
        report_of(&answer)
    }
}
