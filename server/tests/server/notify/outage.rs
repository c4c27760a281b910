//! Providers fail: an outage (WhatsApp answering 503, the SMTP server down) and a rate limit
//! delay a message but never lose or repeat it, and HQ sees why it waits; a refusal (not a
//! WhatsApp number, a mailbox that does not exist) is not retried and HQ sees the provider's
//! reason. WhatsApp's delivery statuses come back through its signed webhook.

use sentra_protocol::ConfirmBookingRequest;
use uuid::Uuid;

use super::{
    fake_whatsapp::{APP_SECRET, Fault},
    support::{Channels, contact, drained, eventually_in, outbox},
};
use crate::{
    fixtures::{assets, day, seed, unit_booking},
    support::TestApp,
};

/// Books the Avanza `n` for `customer` and confirms it (as HQ).
async fn confirmed_booking(
    app: &TestApp,
    customer: Uuid,
    n: usize,
    key: &str,
) -> anyhow::Result<Uuid> {
    let api = app.api();
    let avanza = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[n];
    let booking = api
        .create_booking(key, &unit_booking(avanza, customer, day(6), day(8)))
        .await?;
    api.confirm_booking(
        booking.id,
        &ConfirmBookingRequest {
            hold_token: booking.hold_token.expect("held"),
        },
    )
    .await?;
    Ok(booking.id)
}

fn signed(body: &[u8]) -> String {
    sentra_server::notify::whatsapp::signature(&APP_SECRET.to_owned().into(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one outage, followed from failure to delivery and its statuses"
)]
async fn an_outage_delays_messages_and_never_loses_or_repeats_them() -> anyhow::Result<()> {
    let channels = Channels::start().await?;
    let mut app = channels
        .app(&[("SENTRA_EXPIRY_SWEEP_MILLIS", "100")])
        .await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let (customer, phone, mail) = contact(&app, "silver").await?;
    channels.whatsapp.world.lock().expect("world").down = true;
    channels.smtp.stop();

    confirmed_booking(&app, customer, 0, "outage-1").await?;
    // Tried and failed at least twice on each channel; HQ sees both waiting, with the reason.
    eventually_in(&app, "both channels failed twice", async || {
        let attempts: Vec<(i32,)> = sqlx::query_as(
            "SELECT attempts FROM notification_outbox WHERE customer_id = $1 AND template = 'booking_confirmed' \
             AND status = 'pending'",
        )
        .bind(customer)
        .fetch_all(&app.db)
        .await?;
        Ok(attempts.len() == 2 && attempts.iter().all(|(a,)| *a >= 2))
    })
    .await?;
    let problems = app.api().notification_problems().await?.items;
    let reason = |channel: &str| {
        problems
            .iter()
            .find(|p| p.channel == channel && p.template == "booking_confirmed")
            .and_then(|p| p.reason.clone())
            .unwrap_or_default()
    };
    assert!(reason("whatsapp").contains("503"), "{problems:?}");
    assert!(reason("email").contains("SMTP"), "{problems:?}");
    assert!(
        problems
            .iter()
            .all(|p| !p.recipient.contains(&phone[6..phone.len() - 4])),
        "masked"
    );
    assert!(
        channels
            .whatsapp
            .sent("booking_confirmed", &phone)
            .is_empty()
    );
    assert!(channels.mails(&mail, "dikonfirmasi")?.is_empty());

    // The providers come back (WhatsApp first answers a rate limit and one more 503); time passes.
    {
        let mut world = channels.whatsapp.world.lock().expect("world");
        world.down = false;
        world.faults = vec![Fault::RateLimit, Fault::Outage];
    }
    channels.smtp.resume()?;
    sqlx::query("UPDATE jobs SET run_at = now() WHERE kind = 'notification_send'")
        .execute(&app.db)
        .await?;
    eventually_in(&app, "both delivered after the outage", async || {
        Ok(
            channels.whatsapp.sent("booking_confirmed", &phone).len() == 1
                && channels.mails(&mail, "dikonfirmasi")?.len() == 1,
        )
    })
    .await?;
    drained(&app).await?;
    app.run_jobs().await?;
    assert_eq!(
        channels.whatsapp.sent("booking_confirmed", &phone).len(),
        1,
        "once"
    );
    assert_eq!(channels.mails(&mail, "dikonfirmasi")?.len(), 1, "once");
    assert_eq!(
        outbox(&app, customer, "booking_confirmed").await?,
        [
            ("email".to_owned(), "sent".to_owned()),
            ("whatsapp".to_owned(), "sent".to_owned())
        ]
    );
    assert!(
        app.api()
            .notification_problems()
            .await?
            .items
            .iter()
            .all(|p| p.template != "booking_confirmed"),
        "nothing left for HQ to look at"
    );

    // WhatsApp reports it delivered, then read, through the signed webhook; a forged one is
    // refused; a late "delivered" does not undo "read".
    let wamid = channels.whatsapp.sent("booking_confirmed", &phone)[0]
        .wamid
        .clone();
    let status = |s: &str| {
        serde_json::to_vec(&serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "1",
            "changes": [{"field": "messages", "value": {"statuses": [
                {"id": wamid, "status": s, "timestamp": "1767225600", "recipient_id": phone.trim_start_matches('+')}
            ]}}]}]}))
        .expect("json")
    };
    let anonymous = app.api().anonymous();
    for (s, matched) in [("delivered", 1), ("read", 1), ("delivered", 0)] {
        let body = status(s);
        assert_eq!(
            anonymous.whatsapp_webhook(&signed(&body), &body).await?,
            matched,
            "{s}"
        );
    }
    let body = status("failed");
    let err = anonymous
        .whatsapp_webhook("sha256=00", &body)
        .await
        .expect_err("forged");
    assert_eq!(err.status(), Some(401));
    let delivery: Option<String> = sqlx::query_scalar(
        "SELECT delivery_status FROM notification_outbox WHERE provider_message_id = $1",
    )
    .bind(&wamid)
    .fetch_one(&app.db)
    .await?;
    assert_eq!(delivery.as_deref(), Some("read"));
    assert_eq!(
        anonymous
            .whatsapp_verify("sentra-verify-token", "1158201444")
            .await?,
        "1158201444"
    );
    let err = anonymous
        .whatsapp_verify("wrong", "1158201444")
        .await
        .expect_err("wrong token");
    assert_eq!(err.status(), Some(403));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_not_retried_and_hq_sees_the_providers_reason() -> anyhow::Result<()> {
    let channels = Channels::start().await?;
    let mut app = channels
        .app(&[("SENTRA_EXPIRY_SWEEP_MILLIS", "100")])
        .await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let (customer, phone, _) = contact(&app, "gold").await?;
    sqlx::query("UPDATE customers SET email = 'bounce@example.com' WHERE id = $1")
        .bind(customer)
        .execute(&app.db)
        .await?;
    channels
        .whatsapp
        .world
        .lock()
        .expect("world")
        .not_on_whatsapp
        .insert(phone.clone());

    // Another reads English, and the English confirmation is not approved at Meta (yet).
    let (reader, _, reader_mail) = contact(&app, "silver").await?;
    sqlx::query("UPDATE customers SET language = 'en' WHERE id = $1")
        .bind(reader)
        .execute(&app.db)
        .await?;
    channels
        .whatsapp
        .world
        .lock()
        .expect("world")
        .approved
        .remove(&("sentra_booking_confirmed".to_owned(), "en".to_owned()));

    confirmed_booking(&app, customer, 1, "refused-1").await?;
    confirmed_booking(&app, reader, 0, "refused-2").await?;
    eventually_in(
        &app,
        "both refused, the English WhatsApp refused",
        async || {
            Ok(outbox(&app, customer, "booking_confirmed").await?
                == [
                    ("email".to_owned(), "failed".to_owned()),
                    ("whatsapp".to_owned(), "failed".to_owned()),
                ]
                && outbox(&app, reader, "booking_confirmed").await?
                    == [
                        ("email".to_owned(), "sent".to_owned()),
                        ("whatsapp".to_owned(), "failed".to_owned()),
                    ])
        },
    )
    .await?;
    assert_eq!(
        channels.mails(&reader_mail, "confirmed")?.len(),
        1,
        "e-mail still reaches them"
    );
    let requests = channels.whatsapp.world.lock().expect("world").requests;
    drained(&app).await?;
    app.run_jobs().await?;
    assert_eq!(
        channels.whatsapp.world.lock().expect("world").requests,
        requests,
        "a refusal is not retried"
    );
    let problems = app.api().notification_problems().await?.items;
    let failed: Vec<_> = problems
        .iter()
        .filter(|p| p.template == "booking_confirmed")
        .collect();
    assert_eq!(failed.len(), 3, "{problems:?}");
    let mut reasons: Vec<String> = Vec::new();
    for p in failed {
        assert_eq!(p.status, "failed");
        reasons.push(p.reason.clone().unwrap_or_default());
    }
    for code in ["131026", "132001", "550"] {
        assert!(
            reasons.iter().any(|r| r.contains(code)),
            "{code} in {reasons:?}"
        );
    }
    Ok(())
}
