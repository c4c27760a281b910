//! Provider notifications: verified (Midtrans' SHA-512 signature, Xendit's callback token, both
//! in constant time), stored once under the provider's event key (a duplicate delivery is a
//! no-op), answered at once; a `payment_sync` job then asks the provider for the hold's status
//! and catches up, so events arriving out of order can never take a hold back.

use secrecy::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Payments, webhook_auth};
use crate::jobs::{self, PaymentSync};

/// What became of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Stored; the hold is being caught up.
    Accepted,
    /// Seen before: nothing to do.
    Duplicate,
    /// Not about a hold of ours (stored for the record).
    Unknown,
}

/// Why a notification was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the notification's signature or token is not valid")]
    Forged,
    #[error("the notification is not JSON of the documented shape")]
    Malformed,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn text<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key].as_str().unwrap_or("")
}

fn digest(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    format!("{:x}", hash.finalize())
}

impl Payments {
    /// A Midtrans HTTP notification.
    pub async fn midtrans_notification(&self, body: &[u8]) -> Result<Received, WebhookError> {
        let body: Value = serde_json::from_slice(body).map_err(|_| WebhookError::Malformed)?;
        let order_id = text(&body, "order_id");
        let status_code = text(&body, "status_code");
        let gross_amount = text(&body, "gross_amount");
        let key = self.config.midtrans_server_key.expose_secret();
        // Without a configured key no signature can be checked: refused.
        if order_id.is_empty()
            || key.is_empty()
            || !webhook_auth::midtrans_signed(
                order_id,
                status_code,
                gross_amount,
                text(&body, "signature_key"),
                key,
            )
        {
            return Err(WebhookError::Forged);
        }
        // Midtrans has no event id: the same state of the same transaction is the same event.
        let event = digest(&[
            order_id,
            text(&body, "transaction_id"),
            text(&body, "transaction_status"),
            status_code,
            gross_amount,
            text(&body, "fraud_status"),
        ]);
        self.store_event("midtrans", &event, order_id, None, &body)
            .await
    }

    /// A Xendit v3 payment webhook.
    pub async fn xendit_notification(
        &self,
        token: Option<&str>,
        event_id: Option<&str>,
        body: &[u8],
    ) -> Result<Received, WebhookError> {
        if !webhook_auth::xendit_signed(token, self.config.xendit_callback_token.expose_secret()) {
            return Err(WebhookError::Forged);
        }
        let body: Value = serde_json::from_slice(body).map_err(|_| WebhookError::Malformed)?;
        let data = &body["data"];
        let reference = text(data, "reference_id");
        let captures: Vec<&str> = data["captures"]
            .as_array()
            .map(|c| c.iter().filter_map(|c| c["capture_id"].as_str()).collect())
            .unwrap_or_default();
        let key = match event_id.filter(|id| !id.is_empty() && id.len() <= 200) {
            Some(id) => id.to_owned(),
            None => digest(&[
                text(&body, "event"),
                text(data, "payment_id"),
                text(data, "status"),
                &captures.join(","),
            ]),
        };
        self.store_event(
            "xendit",
            &key,
            reference,
            data["payment_id"].as_str(),
            &body,
        )
        .await
    }

    /// Stores an event once and asks for the hold's catch-up; `payment_id` is the provider's id
    /// of the payment, kept should the creation's answer have been lost.
    async fn store_event(
        &self,
        provider: &str,
        key: &str,
        order_id: &str,
        payment_id: Option<&str>,
        body: &Value,
    ) -> Result<Received, WebhookError> {
        let mut tx = self.db.begin().await?;
        let hold: Option<uuid::Uuid> = sqlx::query_scalar(
            "SELECT id FROM payment_holds WHERE order_id = $1 AND provider = $2",
        )
        .bind(order_id)
        .bind(provider)
        .fetch_optional(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO payment_events (provider, event_key, order_id, hold_id, body) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(provider)
        .bind(key)
        .bind(order_id)
        .bind(hold)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(Received::Duplicate);
        }
        let Some(hold_id) = hold else {
            tx.commit().await?;
            tracing::warn!(provider, "a notification about no hold of ours");
            return Ok(Received::Unknown);
        };
        if let Some(payment_id) = payment_id {
            sqlx::query(
                "UPDATE payment_holds SET provider_payment_id = $2 \
                 WHERE id = $1 AND provider_payment_id IS NULL",
            )
            .bind(hold_id)
            .bind(payment_id)
            .execute(&mut *tx)
            .await?;
        }
        jobs::enqueue(&mut tx, &PaymentSync { hold_id }, None).await?;
        tx.commit().await?;
        tracing::info!(provider, hold = %hold_id, "payment notification stored");
        Ok(Received::Accepted)
    }
}
