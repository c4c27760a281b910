//! Writing messages to the outbox: the recipient's channels and language, the template
//! rendered, the moment it may go out, and its send job, all in the caller's transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sentra_domain::{
    calendar::BranchTimeZone,
    notification::{Category, Channel, Language, MessageKind, deliver_at},
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::templates;
use crate::jobs::{self, NotificationSend};

/// Who a message is for.
#[derive(Debug, Clone)]
pub enum Recipient {
    /// A customer, on the channels they chose.
    Customer(Uuid),
    /// One address on one channel (an old login, staff, a processor's privacy contact).
    Address {
        channel: Channel,
        address: String,
        language: Language,
        /// The customer the address belonged to, if any (erasure removes their messages).
        customer: Option<Uuid>,
    },
}

/// One message an event owes.
#[derive(Debug, Clone)]
pub struct Planned {
    pub kind: MessageKind,
    /// Unique per event (per channel in the table): the same key is never sent twice.
    pub idempotency_key: String,
    pub recipient: Recipient,
    pub values: BTreeMap<&'static str, String>,
    /// When it is due (reminders due in quiet hours wait for the morning).
    pub due: DateTime<Utc>,
    pub zone: BranchTimeZone,
    pub branch_id: Option<Uuid>,
    pub booking_id: Option<Uuid>,
    pub event_id: Option<i64>,
    pub processor_request_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the customers row's columns, read once"
)]
struct Choices {
    phone: Option<String>,
    email: Option<String>,
    language: String,
    notify_whatsapp: bool,
    notify_email: bool,
    notify_reminders: bool,
    erased: bool,
}

/// The (channel, address) pairs a customer gets a message of `category` on, and their language.
async fn customer_addresses(
    conn: &mut PgConnection,
    customer: Uuid,
    category: Category,
) -> sqlx::Result<(Vec<(Channel, String)>, Language)> {
    let Some(c) = sqlx::query_as::<_, Choices>(
        "SELECT phone, email, language, notify_whatsapp, notify_email, notify_reminders, \
         erased_at IS NOT NULL AS erased FROM customers WHERE id = $1",
    )
    .bind(customer)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok((Vec::new(), Language::Id));
    };
    let language = c.language.parse().unwrap_or_default();
    if c.erased || (category == Category::Reminder && !c.notify_reminders) {
        return Ok((Vec::new(), language));
    }
    let available = [(Channel::Whatsapp, c.phone), (Channel::Email, c.email)];
    let chosen: Vec<(Channel, String)> = available
        .iter()
        .filter(|(channel, _)| match channel {
            Channel::Whatsapp => c.notify_whatsapp,
            Channel::Email => c.notify_email,
        })
        .filter_map(|(channel, address)| address.clone().map(|a| (*channel, a)))
        .collect();
    // A required message reaches the customer even when the chosen channel has no address.
    if chosen.is_empty() && category == Category::Required {
        return Ok((
            available
                .into_iter()
                .filter_map(|(channel, address)| address.map(|a| (channel, a)))
                .take(1)
                .collect(),
            language,
        ));
    }
    Ok((chosen, language))
}

/// Writes `planned` to the outbox with a send job per channel; returns how many messages are
/// new (a key already written is skipped: the event was seen before).
pub async fn queue(conn: &mut PgConnection, planned: &Planned) -> anyhow::Result<usize> {
    let category = planned.kind.category();
    let (addresses, language, customer) = match &planned.recipient {
        Recipient::Customer(id) => {
            let (addresses, language) = customer_addresses(conn, *id, category).await?;
            (addresses, language, Some(*id))
        }
        Recipient::Address {
            channel,
            address,
            language,
            customer,
        } => (vec![(*channel, address.clone())], *language, *customer),
    };
    let rendered = templates::render(planned.kind, language, &planned.values)?;
    let deliver_after = deliver_at(category, planned.due, planned.zone);
    let values: serde_json::Map<String, serde_json::Value> = planned
        .values
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
        .collect();
    let mut written = 0;
    for (channel, address) in addresses {
        let id: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO notification_outbox (id, customer_id, channel, recipient, template, params, \
               idempotency_key, event_id, category, language, branch_id, booking_id, deliver_after, \
               subject, body, processor_request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (idempotency_key, channel) DO NOTHING RETURNING id",
        )
        .bind(Uuid::now_v7())
        .bind(customer)
        .bind(channel.as_str())
        .bind(&address)
        .bind(planned.kind.template())
        .bind(serde_json::Value::Object(values.clone()))
        .bind(&planned.idempotency_key)
        .bind(planned.event_id)
        .bind(category.as_str())
        .bind(language.code())
        .bind(planned.branch_id)
        .bind(planned.booking_id)
        .bind(deliver_after)
        .bind(&rendered.subject)
        .bind(&rendered.body)
        .bind(planned.processor_request_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(message_id) = id {
            jobs::enqueue(
                &mut *conn,
                &NotificationSend { message_id },
                Some(deliver_after),
            )
            .await?;
            written += 1;
        }
    }
    Ok(written)
}
