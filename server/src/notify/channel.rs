//! The [`Notifier`] trait every channel implements, and what a send may answer.

use sentra_domain::notification::{Channel, Language};

/// One message ready to go out, rendered in the recipient's language.
#[derive(Clone)]
pub struct Outgoing<'a> {
    /// Stable per event and channel: sent as the e-mail's `Message-ID` and as WhatsApp's
    /// `biz_opaque_callback_data`, so a resend after an unknown outcome is recognisable.
    pub idempotency_key: &'a str,
    /// An E.164 number (`+62…`) or an e-mail address.
    pub recipient: &'a str,
    pub language: Language,
    /// The template's name (WhatsApp's approved template of the same name).
    pub template: &'a str,
    /// The template's parameters in its declared order (WhatsApp's `{{1}}`…`{{n}}`).
    pub params: &'a [String],
    pub subject: &'a str,
    pub body: &'a str,
    /// A PNG shown inline in an e-mail (the booking QR), with its content id.
    pub inline_png: Option<(&'a str, &'a [u8])>,
}

impl std::fmt::Debug for Outgoing<'_> {
    // Recipients and bodies are personal data: never printed whole.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("idempotency_key", &self.idempotency_key)
            .field("template", &self.template)
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

/// The provider accepted the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The provider's id of the message (WhatsApp's `wamid`, the e-mail's `Message-ID`).
    pub provider_message_id: String,
}

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (rate limit, provider down, connection refused): the reason is
    /// kept for HQ and the job queue retries with back-off.
    #[error("will retry: {0}")]
    Retry(String),
    /// Will never work as it is (not a WhatsApp number, template not approved, mailbox does
    /// not exist): the message is marked failed with the provider's reason for HQ.
    #[error("refused: {0}")]
    Refused(String),
}

/// One channel's provider.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// The channel it serves.
    fn channel(&self) -> Channel;
    /// Sends one message.
    async fn send(&self, message: &Outgoing<'_>) -> Result<Accepted, SendError>;
}

/// The development notifier: writes each message to the console log instead of sending it.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleNotifier(pub Channel);

#[async_trait::async_trait]
impl Notifier for ConsoleNotifier {
    fn channel(&self) -> Channel {
        self.0
    }

    async fn send(&self, message: &Outgoing<'_>) -> Result<Accepted, SendError> {
        tracing::info!(
            channel = %self.0,
            template = message.template,
            subject = message.subject,
            "notification (console only, not sent):\n{}",
            message.body
        );
        Ok(Accepted {
            provider_message_id: format!("console:{}", message.idempotency_key),
        })
    }
}
