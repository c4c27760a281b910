//! Notifications: the customer's choices (`/api/v1/customers/me/notifications`) and HQ's list
//! of messages that did not go out (`/api/v1/notifications/problems`).

use chrono::{DateTime, Utc};
use sentra_domain::Uuid;
use serde::{Deserialize, Serialize};

/// How a customer wants to hear from us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPreferences {
    /// `id` (Bahasa Indonesia, the default) or `en`.
    pub language: String,
    /// Messages on WhatsApp (to the phone number).
    pub whatsapp: bool,
    /// Messages by e-mail.
    pub email: bool,
    /// Courtesy reminders (pickup tomorrow, return due). Messages the law or the rental
    /// requires (payments, deposit, identity decisions) are sent whatever this says.
    pub reminders: bool,
}

/// A change of the customer's choices: only the fields given change. At least one channel
/// stays on.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateNotificationPreferences {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminders: Option<bool>,
}

/// A message that failed, or is being retried, with the provider's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationProblem {
    pub id: Uuid,
    /// `whatsapp` or `email`.
    pub channel: String,
    /// The template's name, e.g. `waitlist_offer`.
    pub template: String,
    /// The address, masked (`+62812****7890`, `b***@example.com`).
    pub recipient: String,
    /// `failed` (the provider refused; not retried) or `pending`/`sending` (retrying).
    pub status: String,
    pub attempts: i32,
    /// The provider's reason.
    pub reason: Option<String>,
    pub booking_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// HQ's list, most recent first (at most 200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationProblems {
    pub items: Vec<NotificationProblem>,
}
