//! Sending one message (the `notification_send` job): still owed? allowed now? then over its
//! channel, with the outcome written back.
//!
//! A message is claimed by marking it `sending` (a lease of [`SENDING_LEASE`]); the provider is
//! called outside any transaction. Retryable failures go back to `pending` and fail the job, so
//! the queue retries with back-off; refusals are `failed` with the provider's reason, for HQ.
//! Only a crash between the provider's acceptance and our write leaves the outcome unknown; the
//! resend then carries the same idempotency key (WhatsApp's callback data, the e-mail's
//! Message-ID) so it can be recognised.

use chrono::{DateTime, Utc};
use sentra_domain::{
    calendar::BranchTimeZone,
    notification::{Category, Channel, Language, MessageKind, deliver_at, in_quiet_hours},
};
use uuid::Uuid;

use super::{
    Notify,
    channel::{Outgoing, SendError},
};
use crate::jobs::{self, NotificationSend};

/// How long a send may be in flight before another attempt takes over.
pub const SENDING_LEASE_SECS: i64 = 300;

/// Attempts before a message that keeps failing is given up and listed as failed for HQ
/// (with the back-off capped at an hour, about half a day of trying).
pub const MAX_SEND_ATTEMPTS: i32 = 24;

#[derive(sqlx::FromRow)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the customers row's columns, read once"
)]
struct CustomerNow {
    erased: bool,
    phone: Option<String>,
    email: Option<String>,
    notify_whatsapp: bool,
    notify_email: bool,
    notify_reminders: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    channel: String,
    recipient: String,
    template: String,
    params: serde_json::Value,
    idempotency_key: String,
    category: String,
    language: String,
    booking_id: Option<Uuid>,
    customer_id: Option<Uuid>,
    subject: Option<String>,
    body: Option<String>,
    status: String,
    attempts: i32,
    processor_request_id: Option<Uuid>,
    time_zone: Option<String>,
}

/// What became of one send job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Already sent, failed, cancelled or gone: nothing to do.
    Settled,
    /// No longer owed (the booking moved on, reminders turned off).
    Cancelled(String),
    /// A reminder in quiet hours: held until the given moment.
    Held(DateTime<Utc>),
    /// Refused by the provider (kept for HQ).
    Failed(String),
}

impl Notify {
    /// Sends message `id` if it is still owed and may go now.
    pub async fn send(&self, id: Uuid) -> anyhow::Result<Outcome> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT n.channel, n.recipient, n.template, n.params, n.idempotency_key, n.category, \
               n.language, n.booking_id, n.customer_id, n.subject, n.body, n.status, n.attempts, \
               n.processor_request_id, br.time_zone \
             FROM notification_outbox n LEFT JOIN branches br ON br.id = n.branch_id WHERE n.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db)
        .await?;
        let Some(row) = row else {
            return Ok(Outcome::Settled);
        };
        if !matches!(row.status.as_str(), "pending" | "sending") {
            return Ok(Outcome::Settled);
        }
        let kind = MessageKind::from_template(&row.template)?;
        if let Some(why) = self.no_longer_owed(kind, &row).await? {
            sqlx::query(
                "UPDATE notification_outbox SET status = 'cancelled', last_error = $2, updated_at = now() \
                 WHERE id = $1 AND status IN ('pending', 'sending')",
            )
            .bind(id)
            .bind(&why)
            .execute(&self.db)
            .await?;
            return Ok(Outcome::Cancelled(why));
        }
        let zone = row
            .time_zone
            .as_deref()
            .and_then(|z| BranchTimeZone::from_iana(z).ok())
            .unwrap_or(BranchTimeZone::Wib);
        let now = self.now();
        if row.category == Category::Reminder.as_str() && in_quiet_hours(now, zone) {
            // Due in the evening but retried into the night, say: the morning, then.
            let morning = deliver_at(Category::Reminder, now, zone);
            let mut tx = self.db.begin().await?;
            sqlx::query("UPDATE notification_outbox SET deliver_after = $2, updated_at = now() WHERE id = $1")
                .bind(id)
                .bind(morning)
                .execute(&mut *tx)
                .await?;
            jobs::enqueue(&mut tx, &NotificationSend { message_id: id }, Some(morning)).await?;
            tx.commit().await?;
            return Ok(Outcome::Held(morning));
        }
        // Claim it: one attempt in flight at a time; a lease left by a crash is taken over.
        let claimed = sqlx::query(
            "UPDATE notification_outbox SET status = 'sending', attempts = attempts + 1, updated_at = now() \
             WHERE id = $1 AND (status = 'pending' OR (status = 'sending' \
               AND updated_at < now() - make_interval(secs => $2::double precision)))",
        )
        .bind(id)
        .bind(SENDING_LEASE_SECS)
        .execute(&self.db)
        .await?
        .rows_affected();
        if claimed == 0 {
            anyhow::bail!("message {id} is being sent by another attempt");
        }
        if row.status == "sending" {
            tracing::warn!(message = %id, "an earlier send's outcome is unknown (crash); resending with the same idempotency key");
        }
        self.deliver(id, kind, &row).await
    }

    /// Sends a claimed message over its channel and writes the outcome back.
    async fn deliver(&self, id: Uuid, kind: MessageKind, row: &Row) -> anyhow::Result<Outcome> {
        let channel: Channel = row.channel.parse()?;
        let prepared = match self.prepare(kind, channel, row) {
            Ok(prepared) => prepared,
            Err(e) => {
                // Kept with the row, so HQ sees why it waits.
                self.record_failure(id, "pending", &scrub(&format!("{e:#}")))
                    .await?;
                return Err(e);
            }
        };
        let outgoing = Outgoing {
            idempotency_key: &row.idempotency_key,
            recipient: &row.recipient,
            language: row.language.parse().unwrap_or_default(),
            template: &row.template,
            params: &prepared.params,
            subject: &prepared.subject,
            body: &prepared.body,
            inline_png: prepared.qr.as_deref().map(|png| ("booking-qr", png)),
        };
        let notifier = match channel {
            Channel::Whatsapp => &self.whatsapp,
            Channel::Email => &self.email,
        };
        match notifier.send(&outgoing).await {
            Ok(accepted) => {
                let mut tx = self.db.begin().await?;
                sqlx::query(
                    "UPDATE notification_outbox SET status = 'sent', sent_at = now(), \
                       provider_message_id = $2, last_error = NULL, updated_at = now() WHERE id = $1",
                )
                .bind(id)
                .bind(&accepted.provider_message_id)
                .execute(&mut *tx)
                .await?;
                if let Some(request) = row.processor_request_id {
                    sqlx::query("UPDATE processor_requests SET sent_at = coalesce(sent_at, now()) WHERE id = $1")
                        .bind(request)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                self.metrics_count(channel, "sent");
                tracing::info!(message = %id, %channel, template = row.template, "notification sent");
                Ok(Outcome::Sent)
            }
            Err(SendError::Retry(reason)) if row.attempts + 1 < MAX_SEND_ATTEMPTS => {
                let reason = scrub(&reason);
                self.record_failure(id, "pending", &reason).await?;
                self.metrics_count(channel, "retry");
                Err(anyhow::anyhow!("{channel} send will be retried: {reason}"))
            }
            Err(SendError::Retry(reason) | SendError::Refused(reason)) => {
                let reason = if row.attempts + 1 >= MAX_SEND_ATTEMPTS {
                    format!(
                        "gave up after {MAX_SEND_ATTEMPTS} attempts: {}",
                        scrub(&reason)
                    )
                } else {
                    scrub(&reason)
                };
                self.record_failure(id, "failed", &reason).await?;
                self.metrics_count(channel, "failed");
                tracing::warn!(message = %id, %channel, template = row.template, %reason,
                    "notification refused by the provider; listed for HQ");
                Ok(Outcome::Failed(reason))
            }
        }
    }

    /// The message's parameters, words and picture. Rows written before bodies were stored
    /// (the first login-change messages) are rendered now.
    fn prepare(&self, kind: MessageKind, channel: Channel, row: &Row) -> anyhow::Result<Prepared> {
        let language = row.language.parse().unwrap_or_default();
        let params = ordered_params(kind, language, &row.params)?;
        let (subject, body) = if let (Some(subject), Some(body)) = (&row.subject, &row.body) {
            (subject.clone(), body.clone())
        } else {
            let template = super::templates::template(kind, language)?;
            let values = template
                .params
                .iter()
                .copied()
                .zip(params.iter().cloned())
                .collect();
            let rendered = super::templates::render(kind, language, &values)?;
            (rendered.subject, rendered.body)
        };
        let qr = match (kind, channel, row.booking_id) {
            (MessageKind::BookingConfirmed, Channel::Email, Some(booking)) => {
                Some(self.booking_qr_png(booking)?)
            }
            _ => None,
        };
        Ok(Prepared {
            params,
            subject,
            body,
            qr,
        })
    }

    async fn record_failure(&self, id: Uuid, status: &str, reason: &str) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE notification_outbox SET status = $2, last_error = $3, updated_at = now() WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(reason)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Why a message is no longer owed, decided against Postgres now (it may have been written
    /// days ago).
    async fn no_longer_owed(&self, kind: MessageKind, row: &Row) -> sqlx::Result<Option<String>> {
        if let Some(customer) = row.customer_id
            && let Some(why) = self.customer_moved_on(customer, kind, row).await?
        {
            return Ok(Some(why));
        }
        let wanted_status = match kind {
            MessageKind::PaymentClosing | MessageKind::WaitlistOffer => "PENDING_PAYMENT",
            MessageKind::PickupReminder => "CONFIRMED",
            MessageKind::ReturnDue
            | MessageKind::RentalOverdue
            | MessageKind::RentalOverdueStaff => "ACTIVE",
            _ => return Ok(None),
        };
        let Some(booking) = row.booking_id else {
            return Ok(None);
        };
        let still: Option<bool> = sqlx::query_scalar(
            "SELECT status = $2 AND (status <> 'PENDING_PAYMENT' OR expires_at > now()) FROM bookings WHERE id = $1",
        )
        .bind(booking)
        .bind(wanted_status)
        .fetch_optional(&self.db)
        .await?;
        Ok((still != Some(true)).then(|| format!("the booking is no longer {wanted_status}")))
    }

    /// The customer was erased, changed the address, turned the channel or reminders off.
    async fn customer_moved_on(
        &self,
        customer: Uuid,
        kind: MessageKind,
        row: &Row,
    ) -> sqlx::Result<Option<String>> {
        let now: Option<CustomerNow> = sqlx::query_as(
            "SELECT erased_at IS NOT NULL AS erased, phone, email, notify_whatsapp, notify_email, \
             notify_reminders FROM customers WHERE id = $1",
        )
        .bind(customer)
        .fetch_optional(&self.db)
        .await?;
        let Some(now) = now.filter(|c| !c.erased) else {
            return Ok(Some("the customer was erased".to_owned()));
        };
        if row.category == Category::Reminder.as_str() && !now.notify_reminders {
            return Ok(Some("the customer turned reminders off".to_owned()));
        }
        // A login change is told to the old address on purpose.
        if kind == MessageKind::LoginChanged {
            return Ok(None);
        }
        let (address, chosen) = match row.channel.as_str() {
            "whatsapp" => (now.phone, now.notify_whatsapp),
            _ => (now.email, now.notify_email),
        };
        if address.as_deref() != Some(row.recipient.as_str()) {
            return Ok(Some("the customer's address changed".to_owned()));
        }
        if !chosen && row.category != Category::Required.as_str() {
            return Ok(Some(format!("the customer turned {} off", row.channel)));
        }
        Ok(None)
    }

    fn metrics_count(&self, channel: Channel, outcome: &'static str) {
        if let Some(metrics) = &self.metrics {
            metrics.notification(channel.as_str(), outcome);
        }
    }
}

/// A message ready for its channel.
struct Prepared {
    params: Vec<String>,
    subject: String,
    body: String,
    qr: Option<Vec<u8>>,
}

/// A provider's reason without the addresses it may quote (an SMTP server's `550 <budi@…>`):
/// reasons are logged, kept for HQ and stored with the job.
pub fn scrub(reason: &str) -> String {
    reason
        .split(' ')
        .map(|word| {
            let digits = word.chars().filter(char::is_ascii_digit).count();
            if word.contains('@') {
                "<address>"
            } else if digits >= 8 && word.trim_start_matches(['<', '(']).starts_with('+') {
                "<phone>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The stored values in the template's parameter order.
fn ordered_params(
    kind: MessageKind,
    language: Language,
    stored: &serde_json::Value,
) -> anyhow::Result<Vec<String>> {
    let template = super::templates::template(kind, language)?;
    Ok(template
        .params
        .iter()
        .map(|p| {
            let value = &stored[*p];
            match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            }
        })
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn provider_reasons_lose_the_addresses_they_quote() {
        assert_eq!(
            scrub("SMTP refused: 550 5.1.1 <budi@example.com>: mailbox unavailable"),
            "SMTP refused: 550 5.1.1 <address> mailbox unavailable"
        );
        assert_eq!(
            scrub("WhatsApp error 131026: undeliverable to +6281234567001"),
            "WhatsApp error 131026: undeliverable to <phone>"
        );
        assert_eq!(scrub("WhatsApp answered 503"), "WhatsApp answered 503");
    }
}
