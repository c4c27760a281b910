//! Notifications: the customer's choices, HQ's list of messages that did not go out, and
//! WhatsApp's webhook (for tools and tests).

use reqwest::StatusCode;
use sentra_protocol::{
    NotificationPreferences, NotificationProblems, UpdateNotificationPreferences,
};

use crate::{ApiClient, ApiError, endpoints};

impl ApiClient {
    /// `GET /api/v1/customers/me/notifications`: the caller's channels, language, reminders.
    pub async fn my_notification_preferences(&self) -> Result<NotificationPreferences, ApiError> {
        let request = self.request(endpoints::MY_NOTIFICATIONS, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `PATCH /api/v1/customers/me/notifications`: changes the fields given.
    pub async fn update_my_notification_preferences(
        &self,
        change: &UpdateNotificationPreferences,
    ) -> Result<NotificationPreferences, ApiError> {
        let request = self
            .request(endpoints::UPDATE_MY_NOTIFICATIONS, &[])?
            .json(change);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/notifications/problems` (HQ): refused or retried messages with the reason.
    pub async fn notification_problems(&self) -> Result<NotificationProblems, ApiError> {
        let request = self.request(endpoints::NOTIFICATION_PROBLEMS, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/notifications/webhooks/whatsapp`: Meta's verification request; returns the
    /// challenge echoed.
    pub async fn whatsapp_verify(
        &self,
        verify_token: &str,
        challenge: &str,
    ) -> Result<String, ApiError> {
        let request = self.request(endpoints::WHATSAPP_VERIFY, &[])?.query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", verify_token),
            ("hub.challenge", challenge),
        ]);
        let (_, bytes) = self.bytes(request).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `POST /api/v1/notifications/webhooks/whatsapp`: delivery statuses, as Meta sends them
    /// (`signature` is the `X-Hub-Signature-256` header). Returns how many messages matched.
    pub async fn whatsapp_webhook(&self, signature: &str, body: &[u8]) -> Result<u64, ApiError> {
        let request = self
            .request(endpoints::WHATSAPP_WEBHOOK, &[])?
            .header("x-hub-signature-256", signature)
            .header("content-type", "application/json")
            .body(body.to_vec());
        let answer: serde_json::Value = self.json(request, &[StatusCode::OK]).await?;
        Ok(answer["matched"].as_u64().unwrap_or_default())
    }
}
