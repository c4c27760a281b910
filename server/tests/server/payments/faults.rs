//! Provider faults through the real clients: an authorisation whose answer is lost is found by
//! the status check, a capture refused with 412 or answered with 5xx is recovered by the job
//! (captured once), a release that fails is retried, and a bank that cannot void an uncaptured
//! hold is handled: staff are told and the ledger follows the lapse.

use super::{
    fake_midtrans::Fault,
    support::{Provider, Rig, rig, rp},
};

/// The server's own job loop runs at start-up only: the test drives the jobs.
const QUIET: &[(&str, &str)] = &[("SENTRA_EXPIRY_SWEEP_MILLIS", "60000")];

/// Makes every waiting job due now (the test's clock: but not a week later, when a card hold's
/// lapse guard would run) and runs them.
async fn run_waiting_jobs(rig: &Rig) -> anyhow::Result<()> {
    sqlx::query("UPDATE jobs SET run_at = now() WHERE kind <> 'hold_lapse_guard'")
        .execute(&rig.app.db)
        .await?;
    rig.settle_jobs().await
}

fn captures(rig: &Rig) -> usize {
    rig.midtrans
        .calls()
        .iter()
        .filter(|c| c.starts_with("POST /v2/capture"))
        .count()
}

#[tokio::test]
async fn lost_answers_and_refused_captures_are_recovered_and_captured_once() -> anyhow::Result<()> {
    let rig = rig(Provider::Midtrans, QUIET).await?;
    // The charge is made but its answer is lost (502): the hold waits, the check finds it.
    rig.midtrans
        .fail_next("POST /v2/charge", Fault::AfterWork(502));
    let booking = rig.book(0, 2).await?;
    let (status, paid) = rig.pay(booking, "tok-visa-4811").await?;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["holds"][0]["status"], "PENDING");
    run_waiting_jobs(&rig).await?;
    assert_eq!(rig.hold(booking).await?["status"], "AUTHORISED");

    rig.pick_up(booking, 2).await?;
    rig.take_back(booking, 6).await?;
    let charges = rig.charges(booking).await?;
    let total = rp(&charges["total"]);
    // 412 first, then the capture is made but answered 500: staff see CAPTURING.
    rig.midtrans.fail_next("POST /v2/capture", Fault::Http(412));
    let (status, capturing) = rig.confirm(booking, total).await?;
    assert_eq!(status, 200, "{capturing}");
    assert_eq!(capturing["status"], "CAPTURING");
    rig.midtrans
        .fail_next("POST /v2/capture", Fault::AfterWork(500));
    run_waiting_jobs(&rig).await?;
    let charges = rig.charges(booking).await?;
    assert_eq!(
        charges["settlement"]["status"], "CAPTURING",
        "the 500 is retried later"
    );
    run_waiting_jobs(&rig).await?;
    let charges = rig.charges(booking).await?;
    assert_eq!(charges["settlement"]["status"], "SETTLED", "{charges}");
    let order = rig.hold(booking).await?["reference"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        rig.midtrans.txn(&order).and_then(|t| t.captured),
        Some(total)
    );
    assert_eq!(
        captures(&rig),
        2,
        "412, then a lost answer; the status then showed the capture: none more"
    );

    // The release's status check times out once and is retried.
    rig.midtrans.fail_next("GET /v2/", Fault::Timeout);
    let (status, _) = rig.complete(booking).await?;
    assert_eq!(status, 200);
    rig.settle_jobs().await?;
    assert_eq!(
        rig.hold(booking).await?["status"],
        "CAPTURED",
        "retried after a back-off"
    );
    run_waiting_jobs(&rig).await?;
    assert_eq!(rig.hold(booking).await?["status"], "RELEASED");
    super::support::assert_ledgers_balance(&rig).await?;
    Ok(())
}

#[tokio::test]
async fn a_bank_that_cannot_void_an_uncaptured_hold_lets_it_lapse_and_staff_are_told()
-> anyhow::Result<()> {
    let rig = rig(
        Provider::Midtrans,
        &[("SENTRA_MIDTRANS_BANK", "bni"), QUIET[0]],
    )
    .await?;
    let booking = rig.book(1, 2).await?;
    let (_, paid) = rig.pay(booking, "tok-visa-4811").await?;
    let order = paid["holds"][0]["reference"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, _) = rig
        .as_customer(
            reqwest::Method::POST,
            &format!("/api/v1/bookings/{booking}/cancel"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    rig.settle_jobs().await?;
    let hold = rig.hold(booking).await?;
    assert_eq!(hold["status"], "AUTHORISED", "BNI keeps the hold: {hold}");
    let attention = hold["attention"].as_str().unwrap_or_default();
    assert!(attention.contains("BNI"), "{attention}");
    let (status, report) = rig.app.get_json("/api/v1/payments/report").await?;
    assert_eq!(status, 200);
    let open = report["open_holds"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["hold_id"] == hold["id"]))
        .cloned()
        .unwrap_or_default();
    assert_eq!(open["attention"], hold["attention"], "{report}");
    assert!(open["lapses_at"].is_string());
    // The bank lets it go after the hold's time: the ledger follows.
    rig.midtrans.lapse(&order);
    run_waiting_jobs(&rig).await?;
    let hold = rig.hold(booking).await?;
    assert_eq!(hold["status"], "EXPIRED");
    assert_eq!(rp(&hold["returned"]), rp(&hold["authorised"]));
    Ok(())
}

#[tokio::test]
async fn a_charge_that_never_reached_the_provider_fails_and_the_customer_pays_again()
-> anyhow::Result<()> {
    let rig = rig(Provider::Midtrans, QUIET).await?;
    rig.midtrans.fail_next("POST /v2/charge", Fault::Http(503));
    let booking = rig.book(2, 2).await?;
    let (status, paid) = rig.pay(booking, "tok-visa-4811").await?;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["holds"][0]["status"], "PENDING");
    run_waiting_jobs(&rig).await?;
    assert_eq!(rig.hold(booking).await?["status"], "FAILED");
    let (status, again) = rig.pay(booking, "tok-visa-4811").await?;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["holds"][1]["status"], "AUTHORISED");
    Ok(())
}

#[tokio::test]
async fn xendit_server_errors_timeouts_and_3ds_are_handled_end_to_end() -> anyhow::Result<()> {
    use super::fake_xendit::{CALLBACK_TOKEN, FakeXendit, Fault as XenditFault};
    let rig = rig(Provider::Xendit, QUIET).await?;
    let booking = rig.book(3, 2).await?;
    // A 500 before anything was held: the hold fails once checked, the customer pays again.
    rig.xendit
        .fail_next("POST /v3/payment_requests", XenditFault::Http(500));
    let (_, first) = rig.pay(booking, "tok-xendit-visa").await?;
    assert_eq!(first["holds"][0]["status"], "PENDING");
    run_waiting_jobs(&rig).await?;
    assert_eq!(rig.hold(booking).await?["status"], "FAILED");
    // 3-D Secure, whose creation answer is lost (502): the webhook tells the payment's id.
    rig.xendit
        .fail_next("POST /v3/payment_requests", XenditFault::AfterWork(502));
    let (_, second) = rig.pay(booking, "tok-3ds-xendit").await?;
    let hold = second["holds"][1].clone();
    assert_eq!(hold["status"], "PENDING");
    let payment = rig
        .xendit
        .payment_id_of(hold["reference"].as_str().unwrap_or_default())
        .expect("a Xendit payment");
    rig.xendit.complete_3ds(&payment);
    let url = format!("{}/api/v1/payments/webhooks/xendit", rig.app.base_url);
    let note = rig.xendit.webhook(&payment, "payment.authorization");
    assert_eq!(FakeXendit::deliver(&url, &note, CALLBACK_TOKEN).await?, 200);
    rig.settle_jobs().await?;
    assert_eq!(
        rig.payment(booking).await?["holds"][1]["status"],
        "AUTHORISED"
    );

    // The capture times out (the client gives up after 5 s): retried with the same key.
    rig.pick_up(booking, 2).await?;
    rig.take_back(booking, 6).await?;
    let charges = rig.charges(booking).await?;
    let total = rp(&charges["total"]);
    rig.xendit
        .fail_next("POST /v3/payments/", XenditFault::Timeout);
    let (status, capturing) = rig.confirm(booking, total).await?;
    assert_eq!(
        (status, capturing["status"].as_str()),
        (200, Some("CAPTURING"))
    );
    run_waiting_jobs(&rig).await?;
    let charges = rig.charges(booking).await?;
    assert_eq!(charges["settlement"]["status"], "SETTLED", "{charges}");
    let at_xendit = rig.xendit.payment(&payment).expect("the payment");
    assert_eq!((at_xendit.captures.len(), at_xendit.captured), (1, total));
    super::support::assert_ledgers_balance(&rig).await?;
    Ok(())
}

#[tokio::test]
async fn a_bill_whose_hold_lapsed_unseen_is_owed_and_paid_apart() -> anyhow::Result<()> {
    let rig = rig(Provider::Midtrans, QUIET).await?;
    let booking = rig.book(3, 2).await?;
    let (_, paid) = rig.pay(booking, "tok-visa-4811").await?;
    let order = paid["holds"][0]["reference"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    rig.pick_up(booking, 2).await?;
    // The hold lapses at Midtrans and no webhook comes.
    rig.midtrans.lapse(&order);
    rig.take_back(booking, 6).await?;
    let charges = rig.charges(booking).await?;
    let total = rp(&charges["total"]);
    let (status, settled) = rig.confirm(booking, total).await?;
    assert_eq!(status, 200, "{settled}");
    assert_eq!(settled["status"], "SETTLED");
    assert_eq!(
        (rp(&settled["captured"]), rp(&settled["outstanding"])),
        (0, total)
    );
    assert_eq!(captures(&rig), 0, "nothing captured from a lapsed hold");
    let seen = rig.payment(booking).await?;
    assert_eq!(seen["holds"][0]["status"], "EXPIRED");
    assert!(
        seen["message"]
            .as_str()
            .unwrap_or_default()
            .contains("bayar sisanya"),
        "{seen}"
    );
    let (status, rest) = rig.pay(booking, "tok-visa-4811").await?;
    assert_eq!(status, 200, "{rest}");
    rig.settle_jobs().await?;
    let seen = rig.payment(booking).await?;
    assert_eq!(rp(&seen["holds"][1]["captured"]), total, "{seen}");
    assert_eq!(seen["holds"][1]["status"], "RELEASED");
    assert!(
        !seen["message"]
            .as_str()
            .unwrap_or_default()
            .contains("sisanya")
    );
    Ok(())
}
