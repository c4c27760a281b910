//! Notifications to customers and staff over WhatsApp and e-mail.
//!
//! The flow: a trigger writes a `notification_events` row and a `notification_fanout` job in the
//! transaction of the change it announces (a booking confirmed, a waitlist offer, a deposit
//! released…); [`fanout`] turns the event into outbox rows, one per message and channel, in the
//! customer's language and with the moment each may go; [`send`] delivers one row through its
//! channel's [`Notifier`] (WhatsApp Cloud API, SMTP, or the console in development), retried by
//! the job queue, never twice for one idempotency key and channel.
//!
//! - [`templates`]: the texts in `notification-templates/`, Bahasa Indonesia and English.
//! - [`outbox`]: writing messages (also used directly: login changes, processor requests).
//! - [`admin`]: HQ's list of problems;
//!   delivery statuses from WhatsApp's webhook; the 90-day limit on message bodies.

pub mod admin;
pub mod channel;
pub mod email;
pub mod fanout;
pub mod outbox;
pub mod send;
pub mod templates;
pub mod whatsapp;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use uuid::Uuid;

pub use channel::{Accepted, ConsoleNotifier, Notifier, Outgoing, SendError};
pub use outbox::{Planned, Recipient};
pub use send::Outcome;

/// Where "now" comes from (tests pass a fixed moment to check quiet hours).
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(Arc::new(Utc::now))
    }

    /// A clock that always answers `at`.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Arc::new(move || at))
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// The settings messages need.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The customers' web app: links to pay and to see a booking start with it.
    pub customer_url: String,
    /// Signs the booking QR codes (the same key as the labels the counter scans).
    pub label_secret: SecretString,
    /// The secret WhatsApp signs its webhooks with (absent: the webhook is refused).
    pub whatsapp_app_secret: Option<SecretString>,
    /// What WhatsApp's webhook verification request must carry.
    pub whatsapp_verify_token: Option<SecretString>,
    /// Message bodies are kept this long, then only the metadata.
    pub body_retention: std::time::Duration,
    /// Verihubs' data-protection contact: erasure requests go there by e-mail.
    pub verihubs_privacy_email: Option<String>,
}

/// The notification service.
#[derive(Debug, Clone)]
pub struct Notify {
    pub db: PgPool,
    pub whatsapp: Arc<dyn Notifier>,
    pub email: Arc<dyn Notifier>,
    pub settings: NotifySettings,
    pub clock: Clock,
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Notify {
    /// Now, by this service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock.0)()
    }

    /// The same service reading `clock`.
    #[must_use]
    pub fn with_clock(&self, clock: Clock) -> Self {
        Self {
            clock,
            ..self.clone()
        }
    }

    /// The booking's QR code (the signed booking code the counter scans) as a PNG.
    fn booking_qr_png(&self, booking: Uuid) -> anyhow::Result<Vec<u8>> {
        let code = sentra_domain::label::sign(
            self.settings.label_secret.expose_secret().as_bytes(),
            sentra_domain::label::LabelKind::Booking,
            booking,
            0,
        );
        Ok(sentra_printing::qr::qr_png(&code, 6)?)
    }
}
