//! Notifications: what we tell customers and staff, over which channel, in which language, and
//! when a message may go out (quiet hours, the moments reminders are due).
//!
//! Pure rules; the server owns the outbox, the templates and the providers.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::BranchTimeZone;

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// WhatsApp Business (template messages) to the phone number.
    Whatsapp,
    /// E-mail to the address.
    Email,
}

impl Channel {
    /// Both channels, in the order they are tried.
    pub const ALL: [Channel; 2] = [Channel::Whatsapp, Channel::Email];

    /// The name stored in `notification_outbox.channel`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Whatsapp => "whatsapp",
            Channel::Email => "email",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "whatsapp" => Ok(Channel::Whatsapp),
            "email" => Ok(Channel::Email),
            other => Err(UnknownName(other.to_owned())),
        }
    }
}

/// The language a customer reads: Bahasa Indonesia unless they chose English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Id,
    En,
}

impl Language {
    /// The code stored and sent to WhatsApp (`id`, `en`).
    pub const fn code(self) -> &'static str {
        match self {
            Language::Id => "id",
            Language::En => "en",
        }
    }
}

impl FromStr for Language {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "id" => Ok(Language::Id),
            "en" => Ok(Language::En),
            other => Err(UnknownName(other.to_owned())),
        }
    }
}

/// A stored name this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name {0:?}")]
pub struct UnknownName(pub String);

/// How a message may be held back or declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// The law or the contract requires it (money moved, an identity decision, a login
    /// changed): never opted out of, sent at any hour.
    Required,
    /// Time-critical service (an offer, a closing payment window, an overdue rental): sent at
    /// any hour on the chosen channels.
    Service,
    /// A courtesy reminder: held during quiet hours, and the customer may turn reminders off.
    Reminder,
}

impl Category {
    /// The name stored in `notification_outbox.category`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Required => "required",
            Category::Service => "service",
            Category::Reminder => "reminder",
        }
    }
}

/// Every message we send; each has a template per language in `notification-templates/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    WaitlistOffer,
    WaitlistLapsed,
    PaymentClosing,
    BookingConfirmed,
    PickupReminder,
    ReturnDue,
    RentalOverdue,
    RentalOverdueStaff,
    DepositCaptured,
    /// A card hold about to lapse during a long rental, captured whole as security.
    DepositPrecaptured,
    DepositReleased,
    KycVerified,
    KycRejected,
    LoginChanged,
    ProcessorErasure,
}

impl MessageKind {
    /// Every kind.
    pub const ALL: [MessageKind; 15] = [
        MessageKind::WaitlistOffer,
        MessageKind::WaitlistLapsed,
        MessageKind::PaymentClosing,
        MessageKind::BookingConfirmed,
        MessageKind::PickupReminder,
        MessageKind::ReturnDue,
        MessageKind::RentalOverdue,
        MessageKind::RentalOverdueStaff,
        MessageKind::DepositCaptured,
        MessageKind::DepositPrecaptured,
        MessageKind::DepositReleased,
        MessageKind::KycVerified,
        MessageKind::KycRejected,
        MessageKind::LoginChanged,
        MessageKind::ProcessorErasure,
    ];

    /// The template's name (its file stem, and `notification_outbox.template`).
    pub const fn template(self) -> &'static str {
        match self {
            MessageKind::WaitlistOffer => "waitlist_offer",
            MessageKind::WaitlistLapsed => "waitlist_lapsed",
            MessageKind::PaymentClosing => "payment_closing",
            MessageKind::BookingConfirmed => "booking_confirmed",
            MessageKind::PickupReminder => "pickup_reminder",
            MessageKind::ReturnDue => "return_due",
            MessageKind::RentalOverdue => "rental_overdue",
            MessageKind::RentalOverdueStaff => "rental_overdue_staff",
            MessageKind::DepositCaptured => "deposit_captured",
            MessageKind::DepositPrecaptured => "deposit_precaptured",
            MessageKind::DepositReleased => "deposit_released",
            MessageKind::KycVerified => "kyc_verified",
            MessageKind::KycRejected => "kyc_rejected",
            MessageKind::LoginChanged => "login_changed",
            MessageKind::ProcessorErasure => "processor_erasure",
        }
    }

    /// Reads a stored template name.
    pub fn from_template(name: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|k| k.template() == name)
            .ok_or_else(|| UnknownName(name.to_owned()))
    }

    /// Whether it may be held or declined.
    pub const fn category(self) -> Category {
        match self {
            MessageKind::PickupReminder | MessageKind::ReturnDue => Category::Reminder,
            MessageKind::WaitlistOffer
            | MessageKind::WaitlistLapsed
            | MessageKind::PaymentClosing
            | MessageKind::RentalOverdue
            | MessageKind::RentalOverdueStaff => Category::Service,
            MessageKind::BookingConfirmed
            | MessageKind::DepositCaptured
            | MessageKind::DepositPrecaptured
            | MessageKind::DepositReleased
            | MessageKind::KycVerified
            | MessageKind::KycRejected
            | MessageKind::LoginChanged
            | MessageKind::ProcessorErasure => Category::Required,
        }
    }
}

/// Quiet hours at the branch: reminders wait from 21:00 until 07:00 local time.
pub const QUIET_FROM_HOUR: u32 = 21;
/// The end of quiet hours (local hour).
pub const QUIET_UNTIL_HOUR: u32 = 7;

/// Whether `at` falls in the branch's quiet hours.
pub fn in_quiet_hours(at: DateTime<Utc>, zone: BranchTimeZone) -> bool {
    let hour = at.with_timezone(&zone.utc_offset()).hour();
    !(QUIET_UNTIL_HOUR..QUIET_FROM_HOUR).contains(&hour)
}

/// When a message due at `due` may go out: reminders due in quiet hours wait until the next
/// 07:00 at the branch; everything else goes when due.
pub fn deliver_at(category: Category, due: DateTime<Utc>, zone: BranchTimeZone) -> DateTime<Utc> {
    if category != Category::Reminder || !in_quiet_hours(due, zone) {
        return due;
    }
    let local = due.with_timezone(&zone.utc_offset());
    let mut day = local.date_naive();
    if local.hour() >= QUIET_FROM_HOUR {
        day = day + Days::new(1);
    }
    local_time(zone, day, QUIET_UNTIL_HOUR)
}

/// The local hour of the evening before pickup when the pickup reminder goes (17:00).
pub const PICKUP_REMINDER_HOUR: u32 = 17;
/// The local hour a rental is due back on its last day (the late fee counts from it).
pub const RETURN_HOUR: u32 = 12;
/// How long before the return hour the "return due" reminder goes.
pub const RETURN_DUE_LEAD: TimeDelta = TimeDelta::hours(2);
/// How long past the return hour a rental still out is called overdue.
pub const OVERDUE_AFTER: TimeDelta = TimeDelta::hours(1);
/// How long before a payment window lapses the "closing" message goes.
pub const PAYMENT_CLOSING_LEAD: TimeDelta = TimeDelta::minutes(5);

/// The pickup reminder of a rental starting on `start`: 17:00 local the day before.
pub fn pickup_reminder_due(zone: BranchTimeZone, start: NaiveDate) -> DateTime<Utc> {
    local_time(zone, start - Days::new(1), PICKUP_REMINDER_HOUR)
}

/// When a rental whose half-open period ends on `end` is due back: 12:00 local on `end` (a
/// rental of `[1 Dec, 3 Dec)` is returned on 3 Dec at noon, when the late fee starts).
pub fn return_due_at(zone: BranchTimeZone, end: NaiveDate) -> DateTime<Utc> {
    local_time(zone, end, RETURN_HOUR)
}

fn local_time(zone: BranchTimeZone, day: NaiveDate, hour: u32) -> DateTime<Utc> {
    zone.start_of_day(day) + TimeDelta::hours(i64::from(hour))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn wib(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        BranchTimeZone::Wib
            .utc_offset()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid")
            .to_utc()
    }

    #[test]
    fn reminders_due_in_quiet_hours_wait_until_seven_local() {
        let zone = BranchTimeZone::Wib;
        // 22:30 → 07:00 the next morning; 03:00 → 07:00 the same morning.
        assert_eq!(
            deliver_at(Category::Reminder, wib(2026, 12, 3, 22, 30), zone),
            wib(2026, 12, 4, 7, 0)
        );
        assert_eq!(
            deliver_at(Category::Reminder, wib(2026, 12, 4, 3, 0), zone),
            wib(2026, 12, 4, 7, 0)
        );
        // The edges: 21:00 is quiet, 07:00 and 20:59 are not.
        assert_eq!(
            deliver_at(Category::Reminder, wib(2026, 12, 3, 21, 0), zone),
            wib(2026, 12, 4, 7, 0)
        );
        for (h, m) in [(7, 0), (20, 59)] {
            let at = wib(2026, 12, 3, h, m);
            assert_eq!(deliver_at(Category::Reminder, at, zone), at);
        }
    }

    #[test]
    fn only_reminders_wait() {
        let at = wib(2026, 12, 3, 23, 0);
        for category in [Category::Required, Category::Service] {
            assert_eq!(deliver_at(category, at, BranchTimeZone::Wib), at);
        }
    }

    #[test]
    fn quiet_hours_are_the_branch_s_own() {
        // 21:30 in Jakarta is 22:30 in Makassar and 23:30 in Jayapura: all quiet; 06:30 WIB is
        // 07:30 WITA: not quiet in Makassar.
        let at = wib(2026, 12, 4, 6, 30);
        assert!(in_quiet_hours(at, BranchTimeZone::Wib));
        assert!(!in_quiet_hours(at, BranchTimeZone::Wita));
        let released = deliver_at(
            Category::Reminder,
            wib(2026, 12, 3, 21, 30),
            BranchTimeZone::Wit,
        );
        assert_eq!(
            released
                .with_timezone(&BranchTimeZone::Wit.utc_offset())
                .hour(),
            7
        );
    }

    #[test]
    fn reminder_moments_are_local() {
        let start = NaiveDate::from_ymd_opt(2026, 12, 24).expect("date");
        assert_eq!(
            pickup_reminder_due(BranchTimeZone::Wib, start),
            wib(2026, 12, 23, 17, 0)
        );
        assert_eq!(
            return_due_at(BranchTimeZone::Wib, start),
            wib(2026, 12, 24, 12, 0)
        );
    }

    #[test]
    fn every_kind_has_a_distinct_template_that_reads_back() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::from_template(kind.template()), Ok(kind));
        }
        assert!(MessageKind::from_template("nope").is_err());
    }
}
