//! The waitlist cascade, told: the first customer in line gets the offer on WhatsApp (the
//! contract server) and by e-mail (a real SMTP server), in Bahasa Indonesia with the deadline
//! and the link to pay; when it lapses they are told it passed on, and the next customer gets
//! the offer. Exactly once each, however often the job queue runs.

use sentra_domain::WaitlistStatus;
use sentra_protocol::{ConfirmBookingRequest, JoinWaitlistRequest};

use super::support::{Channels, contact, drained, eventually_in, outbox};
use crate::fixtures::{assets, day, seed, unit_booking};

fn join(who: uuid::Uuid) -> JoinWaitlistRequest {
    JoinWaitlistRequest {
        customer_id: who,
        sku: "INNOVA-ZENIX-V".to_owned(),
        branch: Some("DPS01".to_owned()),
        start: day(5),
        end: day(8),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::too_many_lines, reason = "one cascade, followed step by step")]
async fn a_waitlist_cascade_tells_each_customer_once_on_whatsapp_and_by_email() -> anyhow::Result<()>
{
    let channels = Channels::start().await?;
    let mut app = channels
        .app(&[
            ("SENTRA_PAYMENT_WINDOW_SECS", "2"),
            ("SENTRA_WAITLIST_OFFER_SECS", "4"),
            ("SENTRA_EXPIRY_SWEEP_MILLIS", "100"),
        ])
        .await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let api = app.api();
    let innova = assets(&app.db, "INNOVA-ZENIX-V", "DPS01").await?;
    let (regular, _, _) = contact(&app, "regular").await?;
    let (platinum, platinum_phone, platinum_mail) = contact(&app, "platinum").await?;
    let (gold, gold_phone, gold_mail) = contact(&app, "gold").await?;
    // Gold reads English.
    sqlx::query("UPDATE customers SET language = 'en' WHERE id = $1")
        .bind(gold)
        .execute(&app.db)
        .await?;
    api.create_booking("n-0", &unit_booking(innova[0], regular, day(5), day(8)))
        .await?;
    let platinum_entry = api.join_waitlist(&join(platinum)).await?.entry;
    let gold_entry = api.join_waitlist(&join(gold)).await?.entry;

    // The first hold lapses: platinum is offered the Innova on both channels.
    eventually_in(
        &app,
        "platinum's offer went out on both channels",
        async || {
            Ok(channels
                .whatsapp
                .sent("waitlist_offer", &platinum_phone)
                .len()
                == 1
                && channels.mails(&platinum_mail, "tersedia untuk Anda")?.len() == 1)
        },
    )
    .await?;
    let offer = api.waitlist_entry(platinum_entry.id).await?;
    let offer_booking = offer.offer_booking_id.expect("an offer");
    let wa = &channels.whatsapp.sent("waitlist_offer", &platinum_phone)[0];
    assert_eq!(wa.language, "id");
    assert!(
        wa.params
            .iter()
            .any(|p| p.contains(&format!("bookings/{offer_booking}/pay"))),
        "the WhatsApp offer carries the link to pay: {wa:?}"
    );
    assert!(
        wa.params.iter().any(|p| p.ends_with("WITA")),
        "the deadline in Bali's time: {wa:?}"
    );
    let mail = &channels.mails(&platinum_mail, "tersedia untuk Anda")?[0];
    assert!(mail.text().contains(&format!(
        "https://app.sentrarental.test/bookings/{offer_booking}/pay"
    )));
    assert!(mail.text().contains("daftar tunggu"), "in Bahasa Indonesia");

    // Platinum does not pay: told it passed on; gold gets the offer, in English.
    eventually_in(
        &app,
        "the offer cascaded to gold on both channels",
        async || {
            Ok(
                channels.whatsapp.sent("waitlist_offer", &gold_phone).len() == 1
                    && channels.mails(&gold_mail, "is available for you")?.len() == 1
                    && channels
                        .whatsapp
                        .sent("waitlist_lapsed", &platinum_phone)
                        .len()
                        == 1
                    && channels.mails(&platinum_mail, "telah berakhir")?.len() == 1,
            )
        },
    )
    .await?;
    assert_eq!(
        api.waitlist_entry(platinum_entry.id).await?.status,
        WaitlistStatus::Expired
    );
    assert_eq!(
        channels.whatsapp.sent("waitlist_offer", &gold_phone)[0].language,
        "en"
    );

    // Gold pays: the confirmation comes with the booking QR (inline in the e-mail).
    let gold_offer = api
        .waitlist_entry(gold_entry.id)
        .await?
        .offer_booking_id
        .expect("offer");
    let held = api.booking(gold_offer).await?;
    api.confirm_booking(
        gold_offer,
        &ConfirmBookingRequest {
            hold_token: held.hold_token.expect("held"),
        },
    )
    .await?;
    eventually_in(&app, "gold's confirmation went out", async || {
        Ok(channels
            .whatsapp
            .sent("booking_confirmed", &gold_phone)
            .len()
            == 1
            && channels.mails(&gold_mail, "confirmed")?.len() == 1)
    })
    .await?;
    let confirmation = &channels.mails(&gold_mail, "confirmed")?[0];
    assert!(
        confirmation.raw.contains("Content-Type: image/png"),
        "the QR travels inline"
    );
    assert!(
        confirmation.raw.contains("Content-ID: <booking-qr>"),
        "{}",
        confirmation.raw
    );

    // However often the queue runs from here, nobody hears anything twice.
    drained(&app).await?;
    app.run_jobs().await?;
    for (template, phone, mail, subject) in [
        (
            "waitlist_offer",
            &platinum_phone,
            &platinum_mail,
            "tersedia untuk Anda",
        ),
        (
            "waitlist_lapsed",
            &platinum_phone,
            &platinum_mail,
            "telah berakhir",
        ),
        (
            "waitlist_offer",
            &gold_phone,
            &gold_mail,
            "is available for you",
        ),
    ] {
        assert_eq!(
            channels.whatsapp.sent(template, phone).len(),
            1,
            "{template} to {phone}"
        );
        assert_eq!(
            channels.mails(mail, subject)?.len(),
            1,
            "{template} to {mail}"
        );
    }
    assert!(
        channels.whatsapp.sent("waitlist_offer", &gold_phone)[0]
            .callback
            .starts_with("waitlist_offer:")
    );
    assert_eq!(
        outbox(&app, platinum, "waitlist_offer").await?,
        [
            ("email".to_owned(), "sent".to_owned()),
            ("whatsapp".to_owned(), "sent".to_owned())
        ]
    );
    Ok(())
}
