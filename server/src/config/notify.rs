//! The notification settings: which provider each channel uses (the console by default, so
//! development never messages anyone), their addresses and secrets, the customers' app link,
//! how long message bodies are kept, and where processors' erasure requests go.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::reader::{Invalid, Reader, provider_url};

/// A channel's provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelProvider {
    /// Written to the console log only (development).
    Console,
    /// The real provider (WhatsApp Cloud API, SMTP).
    Live,
}

/// `SENTRA_WHATSAPP*`, `SENTRA_EMAIL`, `SENTRA_SMTP_*`, `SENTRA_CUSTOMER_URL`, …
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// `SENTRA_WHATSAPP`: `console` (default) or `cloud`.
    pub whatsapp: ChannelProvider,
    /// `SENTRA_WHATSAPP_URL`: the Graph API with its version.
    pub whatsapp_url: String,
    /// `SENTRA_WHATSAPP_PHONE_NUMBER_ID`: the business number's id.
    pub whatsapp_phone_number_id: String,
    /// `SENTRA_WHATSAPP_TOKEN`: the system user's access token.
    pub whatsapp_token: SecretString,
    /// `SENTRA_WHATSAPP_APP_SECRET`: verifies the status webhooks' signatures.
    pub whatsapp_app_secret: SecretString,
    /// `SENTRA_WHATSAPP_VERIFY_TOKEN`: answers the webhook verification request.
    pub whatsapp_verify_token: SecretString,
    /// `SENTRA_WHATSAPP_TEMPLATE_PREFIX`: our approved templates' names start with it.
    pub whatsapp_template_prefix: String,
    /// `SENTRA_EMAIL`: `console` (default) or `smtp`.
    pub email: ChannelProvider,
    /// `SENTRA_SMTP_HOST`, `SENTRA_SMTP_PORT`.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `SENTRA_SMTP_SECURITY`: `starttls` (default), `tls`, or `none` (loopback relays only).
    pub smtp_security: crate::notify::email::SmtpSecurity,
    /// `SENTRA_SMTP_USERNAME`, `SENTRA_SMTP_PASSWORD`.
    pub smtp_username: String,
    pub smtp_password: SecretString,
    /// `SENTRA_SMTP_FROM`.
    pub smtp_from: String,
    /// `SENTRA_SMTP_CA_FILE`: an extra trusted root certificate (PEM).
    pub smtp_ca_file: Option<String>,
    /// `SENTRA_CUSTOMER_URL`: links in messages start with it.
    pub customer_url: String,
    /// `SENTRA_NOTIFICATION_BODY_RETENTION_DAYS`.
    pub body_retention: Duration,
    /// `SENTRA_VERIHUBS_PRIVACY_EMAIL`: Verihubs' data-protection contact, who receives the
    /// erasure requests the processing agreement foresees.
    pub verihubs_privacy_email: Option<String>,
}

fn channel(v: &str, live: &str) -> Result<ChannelProvider, Invalid> {
    match v {
        "console" => Ok(ChannelProvider::Console),
        other if other == live => Ok(ChannelProvider::Live),
        _ => Err(Invalid(format!("expected console or {live}"))),
    }
}

fn email_address(v: &str) -> Result<Option<String>, Invalid> {
    if v.is_empty() {
        return Ok(None);
    }
    let ok = v
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !v.contains(char::is_whitespace);
    if ok {
        Ok(Some(v.to_lowercase()))
    } else {
        Err(Invalid::from("expected an e-mail address"))
    }
}

pub(super) fn read<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> NotifyConfig {
    let secret =
        |r: &Reader<'_, F>, name: &str| SecretString::from((r.lookup)(name).unwrap_or_default());
    let text = |v: &str| Ok::<_, Invalid>(v.to_owned());
    let config = NotifyConfig {
        whatsapp: r.parsed("SENTRA_WHATSAPP", "console", |v| channel(v, "cloud")),
        whatsapp_url: r.parsed(
            "SENTRA_WHATSAPP_URL",
            "https://graph.facebook.com/v21.0",
            provider_url,
        ),
        whatsapp_phone_number_id: r.parsed("SENTRA_WHATSAPP_PHONE_NUMBER_ID", "", text),
        whatsapp_token: secret(r, "SENTRA_WHATSAPP_TOKEN"),
        whatsapp_app_secret: secret(r, "SENTRA_WHATSAPP_APP_SECRET"),
        whatsapp_verify_token: secret(r, "SENTRA_WHATSAPP_VERIFY_TOKEN"),
        whatsapp_template_prefix: r.parsed("SENTRA_WHATSAPP_TEMPLATE_PREFIX", "sentra_", |v| {
            if v.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                Ok(v.to_owned())
            } else {
                Err(Invalid::from(
                    "expected a-z, 0-9 and _ (WhatsApp template names)",
                ))
            }
        }),
        email: r.parsed("SENTRA_EMAIL", "console", |v| channel(v, "smtp")),
        smtp_host: r.parsed("SENTRA_SMTP_HOST", "", text),
        smtp_port: r.parsed("SENTRA_SMTP_PORT", "587", |v| {
            v.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| Invalid::from("expected a port from 1 to 65535"))
        }),
        smtp_security: r.parsed("SENTRA_SMTP_SECURITY", "starttls", |v| {
            use crate::notify::email::SmtpSecurity;
            match v {
                "starttls" => Ok(SmtpSecurity::StartTls),
                "tls" => Ok(SmtpSecurity::Tls),
                "none" => Ok(SmtpSecurity::None),
                _ => Err(Invalid::from("expected starttls, tls or none")),
            }
        }),
        smtp_username: r.parsed("SENTRA_SMTP_USERNAME", "", text),
        smtp_password: secret(r, "SENTRA_SMTP_PASSWORD"),
        smtp_from: r.parsed(
            "SENTRA_SMTP_FROM",
            "SentraRental <noreply@sentrarental.id>",
            text,
        ),
        smtp_ca_file: r.parsed("SENTRA_SMTP_CA_FILE", "", |v| {
            Ok::<_, Invalid>((!v.is_empty()).then(|| v.to_owned()))
        }),
        customer_url: r.parsed(
            "SENTRA_CUSTOMER_URL",
            "https://app.sentrarental.id",
            provider_url,
        ),
        body_retention: Duration::from_secs(
            u64::from(r.number("SENTRA_NOTIFICATION_BODY_RETENTION_DAYS", "90", 1, 3650)) * 86_400,
        ),
        verihubs_privacy_email: r.parsed("SENTRA_VERIHUBS_PRIVACY_EMAIL", "", email_address),
    };
    if config.whatsapp == ChannelProvider::Live
        && (config.whatsapp_phone_number_id.is_empty()
            || config.whatsapp_token.expose_secret().is_empty()
            || config.whatsapp_app_secret.expose_secret().is_empty())
    {
        r.problems.push(
            "SENTRA_WHATSAPP_PHONE_NUMBER_ID, SENTRA_WHATSAPP_TOKEN and SENTRA_WHATSAPP_APP_SECRET: required when SENTRA_WHATSAPP=cloud"
                .to_owned(),
        );
    }
    if config.email == ChannelProvider::Live {
        if config.smtp_host.is_empty() {
            r.problems
                .push("SENTRA_SMTP_HOST: required when SENTRA_EMAIL=smtp".to_owned());
        }
        let loopback = config.smtp_host == "localhost"
            || config
                .smtp_host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if config.smtp_security == crate::notify::email::SmtpSecurity::None && !loopback {
            r.problems.push(
                "SENTRA_SMTP_SECURITY: none is only allowed to a relay on this machine's loopback"
                    .to_owned(),
            );
        }
    }
    config
}
