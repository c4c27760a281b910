//! Webhooks from the contract servers: forged ones are refused with 401 and change nothing,
//! duplicates are stored once, and events delivered out of order (an old state after a newer
//! one) never take a hold back: the ledger ends exactly right.

use reqwest::Method;
use serde_json::json;

use super::{
    fake_midtrans::FakeMidtrans,
    fake_xendit::{CALLBACK_TOKEN, FakeXendit},
    support::{Provider, Rig, rig, rp},
};

async fn events(rig: &Rig) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM payment_events")
        .fetch_one(&rig.app.db)
        .await?)
}

/// Returns the car and settles the bill (the rental only): one capture.
async fn return_and_settle(rig: &Rig, booking: uuid::Uuid) -> anyhow::Result<i64> {
    rig.pick_up(booking, 2).await?;
    rig.take_back(booking, 6).await?;
    let charges = rig.charges(booking).await?;
    let total = rp(&charges["total"]);
    let (status, settled) = rig.confirm(booking, total).await?;
    anyhow::ensure!(
        status == 200 && settled["status"] == "SETTLED",
        "{status} {settled}"
    );
    Ok(total)
}

#[tokio::test]
async fn midtrans_webhooks_forged_duplicated_and_reordered_leave_the_ledger_exactly_right()
-> anyhow::Result<()> {
    let rig = rig(Provider::Midtrans, &[]).await?;
    let url = format!("{}/api/v1/payments/webhooks/midtrans", rig.app.base_url);
    let booking = rig.book(0, 2).await?;
    let (_, pending) = rig.pay(booking, "tok-3ds-4811").await?;
    let hold = pending["holds"][0].clone();
    let order = hold["reference"].as_str().unwrap_or_default().to_owned();
    let id = hold["id"].as_str().unwrap_or_default().to_owned();
    rig.midtrans.complete_3ds(&order);
    let authorised = rig.midtrans.notification(&order);

    // Forged: refused, nothing stored, nothing moves.
    let forged = FakeMidtrans::forge(&authorised);
    assert_eq!(FakeMidtrans::deliver(&url, &forged).await?, 401);
    let mut tampered = authorised.clone();
    tampered["gross_amount"] = json!("1.00");
    assert_eq!(FakeMidtrans::deliver(&url, &tampered).await?, 401);
    assert_eq!(events(&rig).await?, 0);
    rig.settle_jobs().await?;
    assert_eq!(rig.hold(booking).await?["status"], "PENDING");
    assert!(rig.ledger(&id).await?.is_empty());

    // The real one, delivered twice: stored once, authorised once, the booking confirmed.
    assert_eq!(FakeMidtrans::deliver(&url, &authorised).await?, 200);
    let (status, again) = rig
        .app
        .post("/api/v1/payments/webhooks/midtrans", None, &authorised)
        .await?;
    assert_eq!(
        (status, again["received"].as_str()),
        (200, Some("duplicate"))
    );
    assert_eq!(events(&rig).await?, 1);
    rig.settle_jobs().await?;
    assert_eq!(rig.hold(booking).await?["status"], "AUTHORISED");
    let (_, seen) = rig
        .as_customer(Method::GET, &format!("/api/v1/bookings/{booking}"), None)
        .await?;
    assert_eq!(seen["status"], "CONFIRMED");

    let total = return_and_settle(&rig, booking).await?;
    // Old states arriving late (pending, then the authorisation again): no step back.
    for status in ["pending", "authorize"] {
        let late = rig.midtrans.notification_as(&order, status);
        assert_eq!(FakeMidtrans::deliver(&url, &late).await?, 200);
    }
    let captured = rig.midtrans.notification(&order);
    assert_eq!(FakeMidtrans::deliver(&url, &captured).await?, 200);
    assert_eq!(FakeMidtrans::deliver(&url, &captured).await?, 200);
    // The next day the capture settles: still the same capture.
    rig.midtrans.settle(&order);
    let settled = rig.midtrans.notification(&order);
    assert_eq!(FakeMidtrans::deliver(&url, &settled).await?, 200);
    rig.settle_jobs().await?;
    let hold = rig.hold(booking).await?;
    assert_eq!(hold["status"], "CAPTURED");
    let authorised_amount = rp(&hold["authorised"]);
    assert_eq!(
        rig.ledger(&id).await?,
        [
            ("AUTHORISED".to_owned(), authorised_amount),
            ("CAPTURED".to_owned(), total)
        ]
    );
    super::support::assert_ledgers_balance(&rig).await?;
    Ok(())
}

#[tokio::test]
async fn a_xendit_hold_is_authorised_captured_and_released_and_its_webhooks_verified()
-> anyhow::Result<()> {
    let rig = rig(Provider::Xendit, &[]).await?;
    let url = format!("{}/api/v1/payments/webhooks/xendit", rig.app.base_url);
    let booking = rig.book(1, 2).await?;
    let (status, paid) = rig.pay(booking, "tok-xendit-visa").await?;
    assert_eq!(status, 200, "{paid}");
    let hold = paid["holds"][0].clone();
    assert_eq!(
        (hold["provider"].as_str(), hold["status"].as_str()),
        (Some("xendit"), Some("AUTHORISED"))
    );
    let id = hold["id"].as_str().unwrap_or_default().to_owned();
    let payment = rig
        .xendit
        .payment_id_of(hold["reference"].as_str().unwrap_or_default())
        .expect("a Xendit payment");
    let authorised = rig.xendit.webhook(&payment, "payment.authorization");
    assert_eq!(
        FakeXendit::deliver(&url, &authorised, "not-the-token").await?,
        401
    );
    assert_eq!(events(&rig).await?, 0);
    assert_eq!(
        FakeXendit::deliver(&url, &authorised, CALLBACK_TOKEN).await?,
        200
    );
    assert_eq!(
        FakeXendit::deliver(&url, &authorised, CALLBACK_TOKEN).await?,
        200
    );
    assert_eq!(
        events(&rig).await?,
        1,
        "a duplicate delivery is stored once"
    );

    let total = return_and_settle(&rig, booking).await?;
    let at_xendit = rig.xendit.payment(&payment).expect("the payment");
    assert_eq!(
        (at_xendit.status.as_str(), at_xendit.captured),
        ("SUCCEEDED", total)
    );
    // The authorisation again, after the capture: nothing goes back.
    let late = rig
        .xendit
        .webhook_as(&payment, "payment.authorization", "AUTHORIZED");
    assert_eq!(FakeXendit::deliver(&url, &late, CALLBACK_TOKEN).await?, 200);
    rig.settle_jobs().await?;
    assert_eq!(rig.hold(booking).await?["status"], "CAPTURED");

    let (status, _) = rig.complete(booking).await?;
    assert_eq!(status, 200);
    rig.settle_jobs().await?;
    let hold = rig.hold(booking).await?;
    assert_eq!(hold["status"], "RELEASED");
    let authorised_amount = rp(&hold["authorised"]);
    assert_eq!(
        rig.ledger(&id).await?,
        [
            ("AUTHORISED".to_owned(), authorised_amount),
            ("CAPTURED".to_owned(), total),
            ("RELEASED".to_owned(), authorised_amount - total)
        ]
    );
    super::support::assert_ledgers_balance(&rig).await?;
    Ok(())
}

#[tokio::test]
async fn a_cancelled_xendit_booking_is_voided_and_an_ineligible_cancel_reconciled()
-> anyhow::Result<()> {
    let rig = rig(Provider::Xendit, &[]).await?;
    let booking = rig.book(2, 2).await?;
    let (_, paid) = rig.pay(booking, "tok-xendit-visa").await?;
    let reference = paid["holds"][0]["reference"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let payment = rig
        .xendit
        .payment_id_of(&reference)
        .expect("a Xendit payment");
    // The hold lapses at Xendit unseen; the customer then cancels: the cancel is ineligible,
    // the status says EXPIRED, and the ledger follows it.
    rig.xendit.lapse(&payment);
    let (status, cancelled) = rig
        .as_customer(
            Method::POST,
            &format!("/api/v1/bookings/{booking}/cancel"),
            None,
        )
        .await?;
    assert_eq!(status, 200, "{cancelled}");
    rig.settle_jobs().await?;
    let hold = rig.hold(booking).await?;
    assert_eq!(hold["status"], "EXPIRED", "{hold}");
    assert_eq!(rp(&hold["returned"]), rp(&hold["authorised"]));
    let calls = rig.xendit.calls();
    assert!(calls.iter().any(|c| c.ends_with("/cancel")), "{calls:?}");
    assert!(
        calls.iter().any(|c| c.starts_with("GET /v3/payments/")),
        "{calls:?}"
    );
    Ok(())
}
