//! What HQ sees and keeps: the messages that did not go out, the delivery statuses WhatsApp
//! reports, and the 90-day limit on message bodies.

use sentra_protocol::{NotificationProblem, NotificationProblems};
use uuid::Uuid;

use super::{Notify, whatsapp::DeliveryStatus};

#[derive(sqlx::FromRow)]
struct ProblemRow {
    id: Uuid,
    channel: String,
    template: String,
    recipient: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    booking_id: Option<Uuid>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

/// `+62812****7890`, `b***@example.com`: enough for staff to recognise, not to copy.
pub fn mask_recipient(recipient: &str) -> String {
    if let Some((local, domain)) = recipient.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = recipient.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

impl Notify {
    /// Messages refused by their provider, or retried after a failure, newest first.
    pub async fn problems(&self) -> sqlx::Result<NotificationProblems> {
        let rows: Vec<ProblemRow> = sqlx::query_as(
            "SELECT id, channel, template, recipient, status, attempts, last_error, booking_id, \
               created_at, updated_at FROM notification_outbox \
             WHERE status = 'failed' OR (status IN ('pending', 'sending') AND attempts > 0) \
             ORDER BY updated_at DESC, id LIMIT 200",
        )
        .fetch_all(&self.db)
        .await?;
        Ok(NotificationProblems {
            items: rows
                .into_iter()
                .map(|r| NotificationProblem {
                    id: r.id,
                    channel: r.channel,
                    template: r.template,
                    recipient: mask_recipient(&r.recipient),
                    status: r.status,
                    attempts: r.attempts,
                    reason: r.last_error,
                    booking_id: r.booking_id,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                })
                .collect(),
        })
    }

    /// Records what WhatsApp reported of our messages; returns how many rows it matched. A
    /// status only moves forward (sent → delivered → read); a failure after acceptance marks
    /// the message failed with WhatsApp's reason, for HQ.
    pub async fn record_statuses(&self, statuses: &[DeliveryStatus]) -> sqlx::Result<u64> {
        let mut matched = 0;
        for s in statuses {
            let done = if s.status == "failed" {
                sqlx::query(
                    "UPDATE notification_outbox SET delivery_status = 'failed', status = 'failed', \
                       last_error = $2, updated_at = now() \
                     WHERE provider_message_id = $1 AND channel = 'whatsapp'",
                )
                .bind(&s.message_id)
                .bind(
                    s.error
                        .as_deref()
                        .unwrap_or("WhatsApp reported the message failed"),
                )
                .execute(&self.db)
                .await?
            } else {
                sqlx::query(
                    "UPDATE notification_outbox SET delivery_status = $2, updated_at = now() \
                     WHERE provider_message_id = $1 AND channel = 'whatsapp' \
                       AND coalesce(delivery_status, '') NOT IN ('failed', 'read') \
                       AND array_position(ARRAY['sent', 'delivered', 'read'], $2) > \
                           coalesce(array_position(ARRAY['sent', 'delivered', 'read'], delivery_status), 0)",
                )
                .bind(&s.message_id)
                .bind(&s.status)
                .execute(&self.db)
                .await?
            };
            matched += done.rows_affected();
        }
        Ok(matched)
    }

    /// Forgets the words of messages older than the body retention period; the metadata (who,
    /// which template, when, the outcome) stays. Returns how many were cleared.
    pub async fn forget_old_bodies(&self) -> sqlx::Result<u64> {
        let keep = i64::try_from(self.settings.body_retention.as_secs()).unwrap_or(i64::MAX);
        // A message still not delivered by then is given up (its job finds it failed).
        Ok(sqlx::query(
            "UPDATE notification_outbox SET subject = NULL, body = NULL, params = '{}', \
               body_purged_at = now(), \
               status = CASE WHEN status IN ('pending', 'sending') THEN 'failed' ELSE status END, \
               last_error = CASE WHEN status IN ('pending', 'sending') \
                 THEN 'not delivered within the retention period' ELSE last_error END \
             WHERE body_purged_at IS NULL \
               AND created_at < now() - make_interval(secs => $1::double precision)",
        )
        .bind(keep)
        .execute(&self.db)
        .await?
        .rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::mask_recipient;

    #[test]
    fn recipients_are_masked() {
        assert_eq!(mask_recipient("+6281234567890"), "+62812****7890");
        assert_eq!(mask_recipient("budi@example.com"), "b***@example.com");
    }
}
