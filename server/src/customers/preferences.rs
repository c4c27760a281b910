//! How a customer wants to hear from us: language, channels, reminders
//! (`/api/v1/customers/me/notifications`).

use sentra_protocol::{FieldError, NotificationPreferences, UpdateNotificationPreferences};
use uuid::Uuid;

use super::{CustomerError, Customers};

#[derive(sqlx::FromRow)]
struct Row {
    language: String,
    notify_whatsapp: bool,
    notify_email: bool,
    notify_reminders: bool,
}

impl From<Row> for NotificationPreferences {
    fn from(r: Row) -> Self {
        Self {
            language: r.language,
            whatsapp: r.notify_whatsapp,
            email: r.notify_email,
            reminders: r.notify_reminders,
        }
    }
}

const COLUMNS: &str = "language, notify_whatsapp, notify_email, notify_reminders";

const ONE_CHANNEL: &str =
    "at least one channel must stay on: payments, deposits and identity decisions must reach you";

impl Customers {
    /// The customer's choices.
    pub async fn preferences(&self, id: Uuid) -> Result<NotificationPreferences, CustomerError> {
        let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM customers WHERE id = $1 AND erased_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.db)
        .await?
        .ok_or(CustomerError::NotFound)?;
        Ok(row.into())
    }

    /// Changes the given choices; refuses an unknown language and turning both channels off.
    pub async fn set_preferences(
        &self,
        id: Uuid,
        change: &UpdateNotificationPreferences,
    ) -> Result<NotificationPreferences, CustomerError> {
        let mut errors = Vec::new();
        if let Some(language) = &change.language
            && !matches!(language.as_str(), "id" | "en")
        {
            errors.push(FieldError::new("language", "expected id or en"));
        }
        if change.whatsapp == Some(false) && change.email == Some(false) {
            errors.push(FieldError::new("email", ONE_CHANNEL));
        }
        // Each channel left on must have an address to reach, and one must stay on.
        let (phone, email): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT CASE WHEN coalesce($2, notify_whatsapp) THEN phone END, \
                    CASE WHEN coalesce($3, notify_email) THEN email END \
             FROM customers WHERE id = $1 AND erased_at IS NULL",
        )
        .bind(id)
        .bind(change.whatsapp)
        .bind(change.email)
        .fetch_optional(&self.db)
        .await?
        .ok_or(CustomerError::NotFound)?;
        if errors.is_empty() && phone.is_none() && email.is_none() {
            errors.push(FieldError::new(
                if change.email.is_some() { "email" } else { "whatsapp" },
                "choose a channel we have an address for: payments, deposits and identity decisions must reach you",
            ));
        }
        if !errors.is_empty() {
            return Err(CustomerError::Invalid(errors));
        }
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE customers SET language = coalesce($2, language), \
               notify_whatsapp = coalesce($3, notify_whatsapp), notify_email = coalesce($4, notify_email), \
               notify_reminders = coalesce($5, notify_reminders) \
             WHERE id = $1 AND erased_at IS NULL RETURNING {COLUMNS}"
        )))
        .bind(id)
        .bind(&change.language)
        .bind(change.whatsapp)
        .bind(change.email)
        .bind(change.reminders)
        .fetch_optional(&self.db)
        .await
        .map_err(|e| {
            if crate::db::has_sqlstate(&e, &["23514"]) {
                CustomerError::Invalid(vec![FieldError::new(
                    "email",
                    ONE_CHANNEL,
                )])
            } else {
                CustomerError::Database(e)
            }
        })?;
        Ok(row.ok_or(CustomerError::NotFound)?.into())
    }
}
