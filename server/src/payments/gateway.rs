//! The [`PaymentGateway`] trait: what the payment service asks of a provider (authorise a hold,
//! capture part of it, cancel it, read its status), with one answer shape ([`Report`]) and one
//! error type whatever the provider. Implementations: [`super::midtrans::Midtrans`],
//! [`super::xendit::Xendit`] and [`Counter`] (cash or transfer kept at the branch).
//!
//! Refunds give back part of a payment captured early (a long rental's deposit).
//!
//! Every mutating call carries an idempotency key derived from our own ids, so a retry after a
//! lost answer cannot hold or capture twice.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sentra_domain::{
    Money,
    payment::{PaymentMethod, PaymentProvider, RemoteState},
};

/// How the customer's card or wallet is referred to (never the card number itself).
#[derive(Clone, PartialEq, Eq)]
pub enum Instrument {
    /// A token from the provider's card tokenisation in the customer's browser (Midtrans
    /// `token_id`, Xendit `payment_token_id`).
    Card { token: String },
    /// A linked `GoPay` account (Midtrans `GoPay` tokenisation).
    Gopay {
        account_id: String,
        payment_option_token: String,
    },
    /// Money counted at the counter.
    Counter { method: PaymentMethod },
}

impl std::fmt::Debug for Instrument {
    /// Tokens are bearer credentials for a card: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Card { .. } => f.write_str("Card { token: <redacted> }"),
            Self::Gopay { .. } => f.write_str("Gopay { <redacted> }"),
            Self::Counter { method } => write!(f, "Counter {{ method: {method} }}"),
        }
    }
}

impl Instrument {
    /// The stored method.
    pub fn method(&self) -> PaymentMethod {
        match self {
            Self::Card { .. } => PaymentMethod::Card,
            Self::Gopay { .. } => PaymentMethod::Gopay,
            Self::Counter { method } => *method,
        }
    }
}

/// A hold to place.
#[derive(Debug, Clone)]
pub struct AuthoriseRequest<'a> {
    /// Our reference (Midtrans `order_id`, Xendit `reference_id`), unique per hold.
    pub order_id: &'a str,
    pub amount: Money,
    pub instrument: &'a Instrument,
    /// Shown on the customer's statement or payment page.
    pub description: &'a str,
}

/// Which hold at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRef {
    pub order_id: String,
    /// The provider's id (Midtrans `transaction_id`, Xendit `py-…`), once known.
    pub payment_id: Option<String>,
}

/// What the provider says about a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub state: RemoteState,
    /// Amount authorised (zero when the answer does not say).
    pub authorised: Money,
    /// Amount captured so far.
    pub captured: Money,
    pub payment_id: Option<String>,
    /// Where the customer completes 3-D Secure or an app approval.
    pub action_url: Option<String>,
    /// The acquiring bank (card holds).
    pub bank: Option<String>,
    /// The provider's reason for a refusal (`deny`, `CARD_DECLINED`), safe to show staff.
    pub failure: Option<String>,
}

/// Why a provider call did not give an answer we can act on.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The provider refused the operation in this state (Midtrans 412, Xendit
    /// `INELIGIBLE_TRANSACTION_STATUS`): ask for the status and reconcile.
    #[error("the provider refused the operation in the hold's current state ({0})")]
    NotAllowed(String),
    /// More than the uncaptured amount.
    #[error("the provider refused an amount above the hold ({0})")]
    AboveHold(String),
    /// The request was refused as invalid (a declined or malformed request).
    #[error("the provider refused the request: {0}")]
    Refused(String),
    /// Our credentials were refused (a configuration error).
    #[error("the provider refused our credentials")]
    Unauthorized,
    /// The provider does not know the payment.
    #[error("the provider does not know this payment")]
    NotFound,
    /// Down, timed out, or an answer we cannot read: try again later.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The counter keeps no remote state: the ledger is the truth.
    #[error("no remote state to read")]
    NoRemoteState,
}

/// A payment provider.
#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync + std::fmt::Debug {
    /// Which provider this is (stored with each hold).
    fn provider(&self) -> PaymentProvider;

    /// How long a hold of `method` lasts at the provider before it lapses by itself (`None`:
    /// it does not lapse).
    fn hold_lifetime(&self, method: PaymentMethod) -> Option<Duration>;

    /// Places a hold (pre-authorisation). Idempotent per `order_id`.
    async fn authorise(&self, request: &AuthoriseRequest<'_>) -> Result<Report, GatewayError>;

    /// Captures `amount` (at most what is held). `key` makes a retry a no-op.
    async fn capture(
        &self,
        payment: &PaymentRef,
        amount: Money,
        key: &str,
    ) -> Result<Report, GatewayError>;

    /// Cancels (voids) the hold.
    async fn cancel(&self, payment: &PaymentRef, key: &str) -> Result<Report, GatewayError>;

    /// What the provider says now.
    async fn status(&self, payment: &PaymentRef) -> Result<Report, GatewayError>;

    /// Gives back `amount` of a captured payment (once settled at the provider). `key` makes a
    /// retry a no-op.
    async fn refund(
        &self,
        payment: &PaymentRef,
        amount: Money,
        key: &str,
    ) -> Result<(), GatewayError>;
}

/// Cash or a bank transfer kept at the branch: staff count it, so each operation succeeds as
/// asked and the ledger is the only record (there is nothing remote to read).
#[derive(Debug, Default)]
pub struct Counter;

#[async_trait::async_trait]
impl PaymentGateway for Counter {
    fn provider(&self) -> PaymentProvider {
        PaymentProvider::Manual
    }

    fn hold_lifetime(&self, _method: PaymentMethod) -> Option<Duration> {
        None
    }

    async fn authorise(&self, request: &AuthoriseRequest<'_>) -> Result<Report, GatewayError> {
        Ok(Report {
            state: RemoteState::Authorised,
            authorised: request.amount,
            ..Report::nothing()
        })
    }

    async fn capture(
        &self,
        _payment: &PaymentRef,
        amount: Money,
        _key: &str,
    ) -> Result<Report, GatewayError> {
        Ok(Report {
            state: RemoteState::Captured,
            captured: amount,
            ..Report::nothing()
        })
    }

    /// Cash goes back by hand ([`super::Payments::counter_return`]), not by a call.
    async fn cancel(&self, _payment: &PaymentRef, _key: &str) -> Result<Report, GatewayError> {
        Err(GatewayError::NoRemoteState)
    }

    async fn status(&self, _payment: &PaymentRef) -> Result<Report, GatewayError> {
        Err(GatewayError::NoRemoteState)
    }

    async fn refund(
        &self,
        _payment: &PaymentRef,
        _amount: Money,
        _key: &str,
    ) -> Result<(), GatewayError> {
        Ok(())
    }
}

impl Report {
    /// An answer that says nothing yet (fields filled by the caller).
    pub fn nothing() -> Self {
        Self {
            state: RemoteState::Pending,
            authorised: Money::ZERO,
            captured: Money::ZERO,
            payment_id: None,
            action_url: None,
            bank: None,
            failure: None,
        }
    }

    /// As the domain's reconciliation reads it.
    pub fn remote(&self) -> sentra_domain::payment::Remote {
        sentra_domain::payment::Remote {
            state: self.state,
            authorised: self.authorised,
            captured: self.captured,
        }
    }
}

/// `Basic base64(key + ":")`: the API key as the user name, no password (Midtrans, Xendit).
pub fn basic_auth(key: &secrecy::SecretString) -> String {
    use base64::Engine as _;
    use secrecy::ExposeSecret as _;
    let raw = format!("{}:", key.expose_secret());
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A client for JSON providers: a timeout, no redirects (a redirect would resend the body
/// and the credentials elsewhere).
pub fn http_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// Reads `"145000.00"`, `"145000"` or `145000` as whole Rupiah (a fraction other than zero is
/// refused: the Rupiah has none).
pub fn rupiah_of(value: &serde_json::Value) -> Option<Money> {
    if let Some(n) = value.as_i64() {
        return Some(Money::from_rupiah(n));
    }
    if let Some(f) = value.as_f64()
        && f.fract() == 0.0
        && f.abs() < 9.0e15
    {
        #[allow(clippy::cast_possible_truncation)]
        return Some(Money::from_rupiah(f as i64));
    }
    let text = value.as_str()?.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !fraction.chars().all(|c| c == '0') || whole.is_empty() {
        return None;
    }
    whole.parse().ok().map(Money::from_rupiah)
}

/// The instant `lifetime` after `from`.
pub fn lapses_at(from: DateTime<Utc>, lifetime: Option<Duration>) -> Option<DateTime<Utc>> {
    lifetime
        .and_then(|l| chrono::Duration::from_std(l).ok())
        .map(|l| from + l)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn amounts_read_as_whole_rupiah_only() {
        assert_eq!(
            rupiah_of(&json!("145000.00")),
            Some(Money::from_rupiah(145_000))
        );
        assert_eq!(
            rupiah_of(&json!(250_000)),
            Some(Money::from_rupiah(250_000))
        );
        assert_eq!(
            rupiah_of(&json!("250000")),
            Some(Money::from_rupiah(250_000))
        );
        assert_eq!(rupiah_of(&json!("145000.50")), None);
        assert_eq!(rupiah_of(&json!("abc")), None);
    }

    #[test]
    fn card_tokens_never_print() {
        let card = Instrument::Card {
            token: "481111-1114-secret".to_owned(),
        };
        assert!(!format!("{card:?}").contains("secret"));
    }
}
