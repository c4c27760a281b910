//! From an event to its messages (the `notification_fanout` job): what the event owes whom,
//! decided against Postgres, in the recipient's words, and when each may go out.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sentra_domain::{
    calendar::BranchTimeZone,
    money::Money,
    notification::{
        Channel, Language, MessageKind, OVERDUE_AFTER, PAYMENT_CLOSING_LEAD, RETURN_DUE_LEAD,
        pickup_reminder_due, return_due_at,
    },
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Notify,
    outbox::{self, Planned, Recipient},
};

#[derive(sqlx::FromRow)]
struct Event {
    kind: String,
    customer_id: Option<Uuid>,
    booking_id: Option<Uuid>,
    subject_id: Option<Uuid>,
    ledger_id: Option<i64>,
}

/// The booking an event is about, with what its messages show.
#[derive(sqlx::FromRow)]
struct Booking {
    id: Uuid,
    branch_id: Uuid,
    start_date: NaiveDate,
    end_date: NaiveDate,
    expires_at: Option<DateTime<Utc>>,
    branch_name: String,
    time_zone: String,
    item: String,
    customer_name: Option<String>,
}

impl Booking {
    fn zone(&self) -> BranchTimeZone {
        BranchTimeZone::from_iana(&self.time_zone).unwrap_or(BranchTimeZone::Wib)
    }
}

/// A short reference customers and staff can read out: the booking id's last 8 characters
/// (its random part; the first ones of a `UUIDv7` are the creation time, shared by every
/// booking of the same minute).
pub fn booking_ref(id: Uuid) -> String {
    id.simple().to_string()[24..].to_uppercase()
}

/// `24/12/2026`: day first, as Indonesians write dates, readable in both languages.
fn date_text(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// `24/12/2026 14:30 WIB` at the branch.
fn moment_text(at: DateTime<Utc>, zone: BranchTimeZone) -> String {
    let local = at.with_timezone(&zone.utc_offset());
    format!(
        "{} {} {}",
        date_text(local.date_naive()),
        local.format("%H:%M"),
        zone.abbreviation()
    )
}

/// Who an event's customer messages go to.
struct ToCustomer {
    customer: Uuid,
    name: String,
    event_id: i64,
    now: DateTime<Utc>,
}

impl ToCustomer {
    /// A message to the customer, due at `due` (or now, if that passed).
    fn message(
        &self,
        kind: MessageKind,
        key: String,
        due: DateTime<Utc>,
        b: Option<&Booking>,
    ) -> Planned {
        let mut values = BTreeMap::from([("customer_name", self.name.clone())]);
        if let Some(b) = b {
            // What every booking message may show (each template takes what it names).
            values.insert("booking_ref", booking_ref(b.id));
            values.insert("item", b.item.clone());
            values.insert("branch", b.branch_name.clone());
            values.insert("start", date_text(b.start_date));
            values.insert("end", date_text(b.end_date));
        }
        Planned {
            kind,
            idempotency_key: key,
            recipient: Recipient::Customer(self.customer),
            values,
            due: due.max(self.now),
            zone: b.map_or(BranchTimeZone::Wib, Booking::zone),
            branch_id: b.map(|b| b.branch_id),
            booking_id: b.map(|b| b.id),
            event_id: Some(self.event_id),
            processor_request_id: None,
        }
    }
}

impl Notify {
    /// Writes the messages of event `event_id` (idempotent: run twice, it writes nothing new).
    pub async fn fan_out(&self, event_id: i64) -> anyhow::Result<usize> {
        let mut tx = self.db.begin().await?;
        let Some(event) = sqlx::query_as::<_, Event>(
            "SELECT kind, customer_id, booking_id, subject_id, ledger_id FROM notification_events WHERE id = $1",
        )
        .bind(event_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(0);
        };
        let booking = match event.booking_id {
            Some(id) => booking(&mut tx, id).await?,
            None => None,
        };
        let planned = self
            .plan(&mut tx, event_id, &event, booking.as_ref())
            .await?;
        let mut written = 0;
        for message in &planned {
            written += outbox::queue(&mut tx, message).await?;
        }
        tx.commit().await?;
        tracing::info!(
            event = event_id,
            kind = event.kind,
            written,
            "notifications written"
        );
        Ok(written)
    }

    async fn plan(
        &self,
        conn: &mut PgConnection,
        event_id: i64,
        event: &Event,
        booking: Option<&Booking>,
    ) -> anyhow::Result<Vec<Planned>> {
        let now = self.now();
        if event.kind == "processor_request" {
            return self
                .processor_request(conn, event_id, event.subject_id.unwrap_or_default())
                .await;
        }
        let Some(customer) = event.customer_id else {
            return Ok(Vec::new());
        };
        let customer_name: Option<String> = sqlx::query_scalar(
            // FOR SHARE: an erasure waits until these messages are written (and then deletes
            // them), rather than committing between this read and the outbox rows.
            "SELECT full_name FROM customers WHERE id = $1 AND erased_at IS NULL FOR SHARE",
        )
        .bind(customer)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(customer_name) = customer_name else {
            return Ok(Vec::new());
        };
        let to = ToCustomer {
            customer,
            name: customer_name,
            event_id,
            now,
        };
        let plan = |kind, key, due, b| to.message(kind, key, due, b);
        let mut out = Vec::new();
        match (event.kind.as_str(), booking) {
            (
                "booking_pending" | "waitlist_offered" | "waitlist_lapsed" | "booking_confirmed"
                | "rental_started",
                Some(b),
            ) => out.extend(self.lifecycle(conn, &to, event, b).await?),
            ("deposit_captured" | "deposit_released", Some(b)) => {
                let ledger = event.ledger_id.unwrap_or_default();
                let amount: i64 =
                    sqlx::query_scalar("SELECT amount_idr FROM payment_ledger WHERE id = $1")
                        .bind(ledger)
                        .fetch_optional(&mut *conn)
                        .await?
                        .unwrap_or_default();
                if amount == 0 {
                    return Ok(out);
                }
                let amount = Money::from_rupiah(amount).to_string();
                let key = format!("{}:{ledger}", event.kind);
                if event.kind == "deposit_released" {
                    let mut p = plan(MessageKind::DepositReleased, key, now, Some(b));
                    p.values.insert("amount", amount);
                    out.push(p);
                    return Ok(out);
                }
                // A capture with a settled bill lists its lines; one without is the whole hold
                // captured before it lapsed during a long rental.
                let lines = charge_lines(conn, b.id).await?;
                let kind = if lines.is_some() {
                    MessageKind::DepositCaptured
                } else {
                    MessageKind::DepositPrecaptured
                };
                let mut p = plan(kind, key, now, Some(b));
                p.values.insert("captured", amount);
                if let Some(lines) = lines {
                    p.values.insert("lines", lines);
                }
                out.push(p);
            }
            ("kyc_decided", _) => {
                let case = event.subject_id.unwrap_or_default();
                let decision: Option<(String,)> =
                    sqlx::query_as("SELECT status FROM kyc_cases WHERE id = $1")
                        .bind(case)
                        .fetch_optional(&mut *conn)
                        .await?;
                let Some((status,)) = decision else {
                    return Ok(out);
                };
                let kind = if status == "verified" {
                    MessageKind::KycVerified
                } else {
                    MessageKind::KycRejected
                };
                // Per event: a case sent back to review and decided again is told again. The
                // reason is shown in the app, in the customer's language, not in the message.
                out.push(plan(
                    kind,
                    format!("kyc_decided:{case}:{event_id}"),
                    now,
                    None,
                ));
            }
            _ => {}
        }
        Ok(out)
    }

    /// The messages of a booking's lifecycle: payment, waitlist offers, confirmation, rental.
    async fn lifecycle(
        &self,
        conn: &mut PgConnection,
        to: &ToCustomer,
        event: &Event,
        b: &Booking,
    ) -> anyhow::Result<Vec<Planned>> {
        let (now, event_id) = (to.now, to.event_id);
        let plan = |kind, key, due, b| to.message(kind, key, due, b);
        let mut out = Vec::new();
        match event.kind.as_str() {
            "booking_pending" => {
                if let Some(expires) = b.expires_at {
                    let mut p = plan(
                        MessageKind::PaymentClosing,
                        format!("payment_closing:{}", b.id),
                        expires - PAYMENT_CLOSING_LEAD,
                        Some(b),
                    );
                    p.values.insert("deadline", moment_text(expires, b.zone()));
                    p.values
                        .insert("pay_link", self.link(&format!("bookings/{}/pay", b.id)));
                    out.push(p);
                }
            }
            "waitlist_offered" => {
                let entry = event.subject_id.unwrap_or_default();
                let mut p = plan(
                    MessageKind::WaitlistOffer,
                    format!("waitlist_offer:{entry}:{}", b.id),
                    now,
                    Some(b),
                );
                let deadline = b.expires_at.unwrap_or(now);
                p.values.insert("deadline", moment_text(deadline, b.zone()));
                p.values
                    .insert("pay_link", self.link(&format!("bookings/{}/pay", b.id)));
                out.push(p);
            }
            "waitlist_lapsed" => {
                let entry = event.subject_id.unwrap_or_default();
                out.push(plan(
                    MessageKind::WaitlistLapsed,
                    format!("waitlist_lapsed:{entry}:{}", b.id),
                    now,
                    Some(b),
                ));
            }
            "booking_confirmed" => {
                let mut p = plan(
                    MessageKind::BookingConfirmed,
                    format!("booking_confirmed:{}", b.id),
                    now,
                    Some(b),
                );
                p.values
                    .insert("booking_link", self.link(&format!("bookings/{}", b.id)));
                out.push(p);
                // Booked on the pickup day itself: no reminder.
                if now < b.zone().start_of_day(b.start_date) {
                    out.push(plan(
                        MessageKind::PickupReminder,
                        format!("pickup_reminder:{}", b.id),
                        pickup_reminder_due(b.zone(), b.start_date),
                        Some(b),
                    ));
                }
            }
            "rental_started" => {
                let due_back = return_due_at(b.zone(), b.end_date);
                for (kind, key, due) in [
                    (
                        MessageKind::ReturnDue,
                        "return_due",
                        due_back - RETURN_DUE_LEAD,
                    ),
                    (
                        MessageKind::RentalOverdue,
                        "rental_overdue",
                        due_back + OVERDUE_AFTER,
                    ),
                ] {
                    let mut p = plan(kind, format!("{key}:{}", b.id), due, Some(b));
                    p.values
                        .insert("return_at", moment_text(due_back, b.zone()));
                    out.push(p);
                }
                out.extend(self.staff_overdue(conn, event_id, b, due_back).await?);
            }
            _ => {}
        }
        Ok(out)
    }

    /// The overdue notice to every active branch admin of the booking's branch (e-mail).
    async fn staff_overdue(
        &self,
        conn: &mut PgConnection,
        event_id: i64,
        b: &Booking,
        due_back: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Planned>> {
        let staff: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT u.id, u.email FROM users u JOIN user_branches ub ON ub.user_id = u.id \
             WHERE ub.branch_id = $1 AND u.role = 'branch_admin' AND u.disabled_at IS NULL ORDER BY u.id",
        )
        .bind(b.branch_id)
        .fetch_all(&mut *conn)
        .await?;
        Ok(staff
            .into_iter()
            .map(|(user, email)| Planned {
                kind: MessageKind::RentalOverdueStaff,
                idempotency_key: format!("rental_overdue_staff:{}:{user}", b.id),
                recipient: Recipient::Address {
                    channel: Channel::Email,
                    address: email,
                    language: Language::Id,
                    customer: None,
                },
                values: BTreeMap::from([
                    ("booking_ref", booking_ref(b.id)),
                    ("item", b.item.clone()),
                    ("customer_name", b.customer_name.clone().unwrap_or_default()),
                    ("return_at", moment_text(due_back, b.zone())),
                ]),
                due: (due_back + OVERDUE_AFTER).max(self.now()),
                zone: b.zone(),
                branch_id: Some(b.branch_id),
                booking_id: Some(b.id),
                event_id: Some(event_id),
                processor_request_id: None,
            })
            .collect())
    }

    /// The deletion request an erasure owes the KYC processor, to its privacy contact.
    async fn processor_request(
        &self,
        conn: &mut PgConnection,
        event_id: i64,
        request: Uuid,
    ) -> anyhow::Result<Vec<Planned>> {
        let row: Option<(String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT processor, reference, requested_at FROM processor_requests WHERE id = $1",
        )
        .bind(request)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((processor, reference, requested_at)) = row else {
            return Ok(Vec::new());
        };
        let contact = match processor.as_str() {
            "verihubs" => self.settings.verihubs_privacy_email.clone(),
            _ => None,
        };
        let Some(contact) = contact else {
            // The job fails and is retried (up to an hour apart) until a contact is configured:
            // the request is owed, not optional.
            tracing::error!(%processor, %request,
                "an erasure request owed to a processor waits: SENTRA_VERIHUBS_PRIVACY_EMAIL is not set");
            anyhow::bail!(
                "the erasure request {request} for {processor} cannot be sent: no privacy contact is configured (SENTRA_VERIHUBS_PRIVACY_EMAIL)"
            );
        };
        Ok(vec![Planned {
            kind: MessageKind::ProcessorErasure,
            idempotency_key: format!("processor_erasure:{request}"),
            recipient: Recipient::Address {
                channel: Channel::Email,
                address: contact,
                language: Language::Id,
                customer: None,
            },
            values: BTreeMap::from([
                ("reference", reference),
                (
                    "requested_at",
                    moment_text(requested_at, BranchTimeZone::Wib),
                ),
            ]),
            due: self.now(),
            zone: BranchTimeZone::Wib,
            branch_id: None,
            booking_id: None,
            event_id: Some(event_id),
            processor_request_id: Some(request),
        }])
    }

    fn link(&self, path: &str) -> String {
        format!(
            "{}/{path}",
            self.settings.customer_url.trim_end_matches('/')
        )
    }
}

async fn booking(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Booking>> {
    sqlx::query_as(
        "SELECT b.id, b.branch_id, lower(b.period) AS start_date, upper(b.period) AS end_date, \
           b.expires_at, br.name AS branch_name, \
           br.time_zone, s.name AS item, c.full_name AS customer_name \
         FROM bookings b JOIN branches br ON br.id = b.branch_id \
         JOIN assets a ON a.id = b.asset_id JOIN skus s ON s.id = a.sku_id \
         LEFT JOIN customers c ON c.id = b.customer_id WHERE b.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The settled bill's lines, `Sewa 3 hari Rp 1.050.000; Kerusakan: bemper Rp 500.000`; `None`
/// when no bill is settled.
async fn charge_lines(conn: &mut PgConnection, booking: Uuid) -> sqlx::Result<Option<String>> {
    let lines: Vec<(String, i64)> = sqlx::query_as(
        "SELECT description, amount_idr FROM charge_lines WHERE booking_id = $1 \
         AND settlement_id IS NOT NULL ORDER BY created_at, id",
    )
    .bind(booking)
    .fetch_all(conn)
    .await?;
    if lines.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        lines
            .into_iter()
            .map(|(d, a)| format!("{d} {}", Money::from_rupiah(a)))
            .collect::<Vec<_>>()
            .join("; "),
    ))
}
