//! Reminders respect the customer: a pickup reminder due late in the evening waits until 07:00
//! at the branch (quiet hours 21:00-07:00), goes exactly once, and stops when the customer
//! turns reminders off; required messages ignore both. The moments are given to the real
//! services through a fixed clock.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use sentra_domain::calendar::BranchTimeZone;
use sentra_protocol::{ConfirmBookingRequest, CustomerLoginRequest, UpdateNotificationPreferences};
use sentra_server::notify::{Clock, Outcome};
use uuid::Uuid;

use super::support::{Channels, contact};
use crate::fixtures::{assets, day, seed, unit_booking};

fn jakarta(date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    BranchTimeZone::Wib
        .utc_offset()
        .from_local_datetime(&date.and_hms_opt(hour, minute, 0).expect("time"))
        .single()
        .expect("fixed offset")
        .to_utc()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one reminder, followed through the night, the opt-out and its retention"
)]
async fn a_reminder_due_at_night_waits_until_seven_at_the_branch() -> anyhow::Result<()> {
    let channels = Channels::start().await?;
    // The test runs the jobs itself, at the moments it chooses.
    let mut app = channels.app(&[("SENTRA_BACKGROUND_JOBS", "false")]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let (customer, phone, mail) = contact(&app, "silver").await?;
    let start = day(3);
    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let booking = app
        .api()
        .create_booking("quiet-1", &unit_booking(avanza, customer, start, day(5)))
        .await?;
    app.api()
        .confirm_booking(
            booking.id,
            &ConfirmBookingRequest {
                hold_token: booking.hold_token.expect("held"),
            },
        )
        .await?;
    let event: i64 = sqlx::query_scalar(
        "SELECT id FROM notification_events WHERE kind = 'booking_confirmed' AND booking_id = $1",
    )
    .bind(booking.id)
    .fetch_one(&app.db)
    .await?;

    // Confirmed at 22:30 the evening before pickup: the reminder is due at once but waits.
    let evening = jakarta(start - Days::new(1), 22, 30);
    let at = |moment| app.state.notify.with_clock(Clock::fixed(moment));
    at(evening).fan_out(event).await?;
    let rows: Vec<(Uuid, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, channel, template, deliver_after FROM notification_outbox WHERE booking_id = $1 \
         AND template IN ('pickup_reminder', 'booking_confirmed') ORDER BY template, channel",
    )
    .bind(booking.id)
    .fetch_all(&app.db)
    .await?;
    let seven = jakarta(start, 7, 0);
    let reminders: Vec<_> = rows.iter().filter(|r| r.2 == "pickup_reminder").collect();
    assert_eq!(reminders.len(), 2, "{rows:?}");
    assert!(
        reminders.iter().all(|r| r.3 == seven),
        "held until 07:00 WIB: {rows:?}"
    );
    assert!(
        rows.iter()
            .filter(|r| r.2 == "booking_confirmed")
            .all(|r| r.3 == evening),
        "the confirmation is required and goes at once"
    );
    let (whatsapp_reminder, email_reminder) = (
        reminders
            .iter()
            .find(|r| r.1 == "whatsapp")
            .expect("whatsapp")
            .0,
        reminders.iter().find(|r| r.1 == "email").expect("email").0,
    );

    // A worker that reaches it during the night (a retry, a late queue) holds it again.
    for moment in [jakarta(start - Days::new(1), 23, 30), jakarta(start, 6, 59)] {
        assert_eq!(
            at(moment).send(whatsapp_reminder).await?,
            Outcome::Held(seven)
        );
    }
    assert!(channels.whatsapp.sent("pickup_reminder", &phone).is_empty());
    // At 07:00 it goes, once.
    assert_eq!(at(seven).send(whatsapp_reminder).await?, Outcome::Sent);
    assert_eq!(at(seven).send(whatsapp_reminder).await?, Outcome::Settled);
    let sent = channels.whatsapp.sent("pickup_reminder", &phone);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0]
            .params
            .iter()
            .any(|p| p == &start.format("%d/%m/%Y").to_string()),
        "{sent:?}"
    );

    // The customer turns reminders off (and cannot turn every channel off): the e-mail one
    // is not sent.
    let me = app.api().anonymous();
    let token = me
        .customer_login(&CustomerLoginRequest {
            login: mail.clone(),
            password: sentra_server::demo::DEMO_CUSTOMER_PASSWORD.to_owned(),
        })
        .await?
        .access_token;
    let me = me.with_token(&token);
    let err = me
        .update_my_notification_preferences(&UpdateNotificationPreferences {
            whatsapp: Some(false),
            email: Some(false),
            ..Default::default()
        })
        .await
        .expect_err("some channel must stay");
    assert_eq!((err.status(), err.code()), (Some(422), "validation_failed"));
    let prefs = me
        .update_my_notification_preferences(&UpdateNotificationPreferences {
            reminders: Some(false),
            language: Some("en".to_owned()),
            ..Default::default()
        })
        .await?;
    assert_eq!(
        (prefs.reminders, prefs.language.as_str(), prefs.whatsapp),
        (false, "en", true)
    );
    assert_eq!(me.my_notification_preferences().await?, prefs);
    assert!(matches!(
        at(seven).send(email_reminder).await?,
        Outcome::Cancelled(_)
    ));
    assert!(channels.mails(&mail, "Pengingat")?.is_empty());
    // Without a phone, turning e-mail off would leave nothing to reach them by.
    sqlx::query("UPDATE customers SET phone = NULL WHERE id = $1")
        .bind(customer)
        .execute(&app.db)
        .await?;
    let err = me
        .update_my_notification_preferences(&UpdateNotificationPreferences {
            email: Some(false),
            ..Default::default()
        })
        .await
        .expect_err("no address left");
    assert_eq!((err.status(), err.code()), (Some(422), "validation_failed"));

    // 90 days on, the words go and the metadata stays (the daily retention pass).
    sqlx::query(
        "UPDATE notification_outbox SET created_at = now() - interval '91 days' WHERE id = $1",
    )
    .bind(whatsapp_reminder)
    .execute(&app.db)
    .await?;
    assert_eq!(app.state.notify.forget_old_bodies().await?, 1);
    let kept: (Option<String>, Option<String>, serde_json::Value, String, String, String) = sqlx::query_as(
        "SELECT subject, body, params, template, status, recipient FROM notification_outbox WHERE id = $1",
    )
    .bind(whatsapp_reminder)
    .fetch_one(&app.db)
    .await?;
    assert_eq!(
        kept,
        (
            None,
            None,
            serde_json::json!({}),
            "pickup_reminder".to_owned(),
            "sent".to_owned(),
            phone.clone()
        )
    );
    let younger: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_outbox WHERE body IS NOT NULL AND booking_id = $1",
    )
    .bind(booking.id)
    .fetch_one(&app.db)
    .await?;
    assert!(younger > 0, "younger messages keep their words");
    Ok(())
}
