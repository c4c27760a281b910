//! E-mail over SMTP with `lettre`: STARTTLS (or implicit TLS) and AUTH, plain text with an HTML
//! alternative when a picture (the booking QR) goes inline.
//!
//! SMTP's own answer decides: a permanent (5xx) reply is a refusal kept for HQ; a transient
//! (4xx) reply, a refused connection or a time-out is retried.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType},
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};
use secrecy::{ExposeSecret, SecretString};
use sentra_domain::notification::Channel;

use super::channel::{Accepted, Notifier, Outgoing, SendError};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only allowed to a loopback server (a local relay).
    None,
}

/// Where and how to send e-mail.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: SecretString,
    /// `SentraRental <noreply@example.id>`.
    pub from: String,
    /// Extra trusted root certificates (PEM), e.g. a company CA or a test server's own.
    pub extra_root_pem: Option<Vec<u8>>,
}

/// The SMTP notifier.
#[derive(Debug, Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The domain of our Message-IDs.
    domain: String,
}

impl SmtpMailer {
    pub fn new(settings: &SmtpSettings) -> anyhow::Result<Self> {
        let tls = || -> anyhow::Result<TlsParameters> {
            let mut builder = TlsParameters::builder(settings.host.clone());
            if let Some(pem) = &settings.extra_root_pem {
                builder = builder.add_root_certificate(Certificate::from_pem(pem)?);
            }
            Ok(builder.build()?)
        };
        let tls = match settings.security {
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
                .port(settings.port)
                .tls(tls)
                .timeout(Some(Duration::from_secs(20)));
        if !settings.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                settings.username.clone(),
                settings.password.expose_secret().to_owned(),
            ));
        }
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("SENTRA_SMTP_FROM is not an address: {e}"))?;
        let domain = from.email.domain().to_owned();
        Ok(Self {
            transport: builder.build(),
            from,
            domain,
        })
    }

    fn message(&self, message: &Outgoing<'_>) -> Result<(Message, String), SendError> {
        let to: Mailbox = message
            .recipient
            .parse()
            .map_err(|e| SendError::Refused(format!("not an e-mail address: {e}")))?;
        let message_id = format!(
            "<{}@{}>",
            message.idempotency_key.replace(':', "."),
            self.domain
        );
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject)
            .message_id(Some(message_id.clone()));
        let plain = SinglePart::plain(message.body.to_owned());
        let built = match message.inline_png {
            None => builder.singlepart(plain),
            Some((cid, png)) => {
                let html = format!(
                    "<html><body><p>{}</p><p><img src=\"cid:{cid}\" alt=\"QR\" width=\"240\" height=\"240\"></p></body></html>",
                    html_escape(message.body).replace('\n', "<br>")
                );
                let png_type = ContentType::parse("image/png")
                    .map_err(|e| SendError::Refused(format!("content type: {e}")))?;
                builder.multipart(
                    MultiPart::alternative().singlepart(plain).multipart(
                        MultiPart::related()
                            .singlepart(SinglePart::html(html))
                            .singlepart(
                                Attachment::new_inline(cid.to_owned()).body(png.to_vec(), png_type),
                            ),
                    ),
                )
            }
        };
        let built =
            built.map_err(|e| SendError::Refused(format!("the e-mail cannot be built: {e}")))?;
        Ok((built, message_id))
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[async_trait::async_trait]
impl Notifier for SmtpMailer {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(&self, message: &Outgoing<'_>) -> Result<Accepted, SendError> {
        let (email, message_id) = self.message(message)?;
        match self.transport.send(email).await {
            Ok(_) => Ok(Accepted {
                provider_message_id: message_id,
            }),
            Err(e) if e.is_permanent() => Err(SendError::Refused(format!("SMTP refused: {e}"))),
            Err(e) => Err(SendError::Retry(format!("SMTP failed: {e}"))),
        }
    }
}
