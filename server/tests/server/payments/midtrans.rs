//! Deposit holds at Midtrans (through its contract server), end to end: the customer's payment
//! confirms the booking, a late and damaged return is captured in part with an invoice whose
//! lines sum exactly, completion releases the rest even across a restart, a payment authorised
//! after the window lapsed is voided, and a capture above the hold cannot happen.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{Provider, Rig, rig, rp};
use crate::handover::support::assert_refused;

/// The text of a PDF (poppler's `pdftotext -layout`), whitespace collapsed per line.
pub(crate) fn pdf_text(pdf: &[u8]) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf)?;
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()?;
    anyhow::ensure!(out.status.success(), "pdftotext failed");
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// `Rp 1.250.000` as the documents print it.
pub(crate) fn printed(amount: i64) -> String {
    sentra_domain::Money::from_rupiah(amount).to_string()
}

async fn booking_status(rig: &Rig, booking: uuid::Uuid) -> anyhow::Result<String> {
    let (_, body) = rig
        .as_customer(Method::GET, &format!("/api/v1/bookings/{booking}"), None)
        .await?;
    Ok(body["status"].as_str().unwrap_or_default().to_owned())
}

/// Sets the return to `minutes` after the booking was due back (the test's clock).
async fn returned_late(rig: &Rig, booking: uuid::Uuid, minutes: i32) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE bookings SET returned_at = ((upper(period)::timestamp + time '12:00') \
         AT TIME ZONE 'Asia/Jakarta') + make_interval(mins => $2) WHERE id = $1",
    )
    .bind(booking)
    .bind(minutes)
    .execute(&rig.app.db)
    .await?;
    Ok(())
}

/// The customer reads the quote of a 3-day booking and pays it by card: the booking is
/// confirmed and Midtrans holds the rental and the deposit. Returns the quote and the order id.
async fn quote_and_pay(rig: &Rig, booking: uuid::Uuid) -> anyhow::Result<(Value, String)> {
    let (status, quote) = rig
        .as_customer(
            Method::GET,
            &format!("/api/v1/bookings/{booking}/quote"),
            None,
        )
        .await?;
    assert_eq!(status, 200, "{quote}");
    assert_eq!(quote["days"], 3);
    assert_eq!(rp(&quote["rental"]), 3 * rp(&quote["daily_rate"]));
    assert_eq!(
        rp(&quote["hold"]),
        rp(&quote["rental"]) + rp(&quote["deposit"])
    );
    assert_eq!(quote["provider"], "midtrans");
    let hold_amount = rp(&quote["hold"]);

    let (status, paid) = rig.pay(booking, "tok-visa-4811").await?;
    assert_eq!(status, 200, "{paid}");
    let hold = &paid["holds"][0];
    assert_eq!(hold["status"], "AUTHORISED");
    assert_eq!(rp(&hold["authorised"]), hold_amount);
    assert!(
        hold["lapses_at"].is_string(),
        "the customer sees when the hold lapses"
    );
    assert!(
        paid["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ditahan")
    );
    assert_eq!(booking_status(rig, booking).await?, "CONFIRMED");
    let order = hold["reference"].as_str().unwrap_or_default().to_owned();
    let at_midtrans = rig.midtrans.txn(&order).expect("a Midtrans transaction");
    assert_eq!(
        (at_midtrans.status.as_str(), at_midtrans.gross_amount),
        ("authorize", hold_amount)
    );
    Ok((quote, order))
}

/// The invoice PDF lists every `(description, amount)` line, its number, the total and what
/// was released.
async fn invoice_lists(
    rig: &Rig,
    booking: uuid::Uuid,
    lines: &[(String, i64)],
    number: &str,
    released: i64,
) -> anyhow::Result<()> {
    let text = pdf_text(&rig.app.api().invoice_pdf(booking).await?)?;
    for (description, amount) in lines {
        let printed_line = text
            .lines()
            .find(|l| l.contains(description.as_str()))
            .unwrap_or_else(|| panic!("{description} is not on the invoice:\n{text}"));
        assert!(printed_line.contains(&printed(*amount)), "{printed_line}");
    }
    let total: i64 = lines.iter().map(|(_, a)| a).sum();
    assert!(text.contains(number), "{text}");
    assert!(text.contains(&printed(released)), "the released amount");
    assert!(text.contains(&printed(total)), "the total");
    Ok(())
}

/// The bill's lines as `(description, amount)`.
fn lines_of(charges: &Value) -> Vec<(String, i64)> {
    charges["lines"].as_array().map_or_else(Vec::new, |lines| {
        lines
            .iter()
            .map(|l| {
                (
                    l["description"].as_str().unwrap_or_default().to_owned(),
                    rp(&l["amount"]),
                )
            })
            .collect()
    })
}

#[tokio::test]
async fn a_late_damaged_return_is_captured_in_part_and_the_invoice_lists_every_line()
-> anyhow::Result<()> {
    let rig = rig(Provider::Midtrans, &[]).await?;
    let booking = rig.book(0, 3).await?;
    let (quote, order) = quote_and_pay(&rig, booking).await?;
    let hold_amount = rp(&quote["hold"]);

    rig.pick_up(booking, 3).await?;
    let inspection = rig.take_back(booking, 4).await?;
    returned_late(&rig, booking, 250).await?;
    let deposit = rp(&quote["deposit"]);
    let (status, line) = rig
        .app
        .post(
            &format!("/api/v1/bookings/{booking}/charges"),
            None,
            &json!({"description": "Bumper depan penyok", "amount": deposit / 2,
                    "reason": "Penawaran bengkel resmi", "inspection_id": inspection}),
        )
        .await?;
    assert_eq!(status, 201, "{line}");
    let (status, charges) = rig
        .app
        .get_json(&format!("/api/v1/bookings/{booking}/charges"))
        .await?;
    assert_eq!(status, 200, "{charges}");
    let kinds: Vec<&str> = charges["lines"]
        .as_array()
        .map(|l| l.iter().filter_map(|l| l["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["RENTAL", "LATE_FEE", "FUEL", "DAMAGE"]);
    let lines = lines_of(&charges);
    let total: i64 = lines.iter().map(|(_, a)| a).sum();
    assert_eq!(rp(&charges["total"]), total);
    assert!(total < hold_amount, "this bill fits in the hold");

    // Staff confirm a total they did not see: refused, nothing captured.
    let (status, refused) = rig.confirm(booking, total - 1).await?;
    assert_refused(status, &refused, 409, "charges_changed");
    let (status, settled) = rig.confirm(booking, total).await?;
    assert_eq!(status, 200, "{settled}");
    assert_eq!(settled["status"], "SETTLED");
    assert_eq!(rp(&settled["captured"]), total);
    assert_eq!(rp(&settled["released"]), hold_amount - total);
    assert_eq!(rp(&settled["outstanding"]), 0);
    let number = settled["invoice_number"].as_str().unwrap_or_default();
    assert!(
        number.starts_with("INV/JKT01/") && number.ends_with("/000001"),
        "{number}"
    );
    let at_midtrans = rig.midtrans.txn(&order).expect("a Midtrans transaction");
    assert_eq!(
        (at_midtrans.status.as_str(), at_midtrans.captured),
        ("capture", Some(total))
    );
    let captures = rig
        .midtrans
        .calls()
        .iter()
        .filter(|c| c.starts_with("POST /v2/capture"))
        .count();
    assert_eq!(captures, 1, "one capture of the whole bill");

    invoice_lists(&rig, booking, &lines, number, hold_amount - total).await?;

    // Completed: the rest is released by the job and the ledger balances.
    let (status, done) = rig.complete(booking).await?;
    assert_eq!(status, 200, "{done}");
    rig.settle_jobs().await?;
    let hold = rig.hold(booking).await?;
    assert_eq!(hold["status"], "RELEASED");
    let id = hold["id"].as_str().unwrap_or_default();
    assert_eq!(
        rig.ledger(id).await?,
        [
            ("AUTHORISED".to_owned(), hold_amount),
            ("CAPTURED".to_owned(), total),
            ("RELEASED".to_owned(), hold_amount - total)
        ]
    );
    let movements = hold["movements"].as_array().map_or(0, Vec::len);
    assert_eq!(movements, 3, "the customer sees every movement");
    told_every_step(&rig, booking, total, hold_amount - total).await
}

/// The customer was told each step by e-mail (the console notifier here), the branch's staff
/// of the overdue rental; reminders still scheduled for a rental already returned are
/// cancelled rather than sent.
async fn told_every_step(
    rig: &Rig,
    booking: uuid::Uuid,
    captured: i64,
    released: i64,
) -> anyhow::Result<()> {
    rig.settle_jobs().await?;
    let rows: Vec<(uuid::Uuid, String, String, Value, Option<uuid::Uuid>)> = sqlx::query_as(
        "SELECT id, template, status, params, customer_id FROM notification_outbox \
         WHERE booking_id = $1 AND channel = 'email' ORDER BY created_at, template",
    )
    .bind(booking)
    .fetch_all(&rig.app.db)
    .await?;
    let of = |template: &str| rows.iter().filter(|r| r.1 == template).collect::<Vec<_>>();
    for template in ["booking_confirmed", "deposit_captured", "deposit_released"] {
        assert_eq!(
            of(template)
                .iter()
                .map(|r| r.2.as_str())
                .collect::<Vec<_>>(),
            ["sent"],
            "{template}: {rows:?}"
        );
    }
    let capture = &of("deposit_captured")[0].3;
    let lines = capture["lines"].as_str().unwrap_or_default();
    assert!(lines.contains("Bumper depan penyok"), "{capture}");
    assert_eq!(
        capture["captured"],
        sentra_domain::Money::from_rupiah(captured).to_string()
    );
    assert_eq!(
        of("deposit_released")[0].3["amount"],
        sentra_domain::Money::from_rupiah(released).to_string()
    );
    assert!(
        of("rental_overdue_staff").iter().all(|r| r.4.is_none())
            && !of("rental_overdue_staff").is_empty(),
        "branch staff are told of an overdue rental: {rows:?}"
    );
    for template in ["return_due", "rental_overdue"] {
        let row = of(template)[0];
        let outcome = rig.app.state.notify.send(row.0).await?;
        assert!(
            matches!(outcome, sentra_server::notify::Outcome::Cancelled(_)),
            "{template} after the return: {outcome:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_clean_return_is_released_after_a_restart_within_the_day() -> anyhow::Result<()> {
    // The job loop runs at start-up and then only every minute: the restart below, not the
    // loop of the first server, is what releases the hold.
    let mut rig = rig(
        Provider::Midtrans,
        &[("SENTRA_EXPIRY_SWEEP_MILLIS", "60000")],
    )
    .await?;
    let booking = rig.book(1, 2).await?;
    let (status, paid) = rig.pay(booking, "tok-visa-4811").await?;
    assert_eq!(status, 200, "{paid}");
    rig.pick_up(booking, 2).await?;
    rig.take_back(booking, 6).await?;
    let charges = rig.charges(booking).await?;
    let total = rp(&charges["total"]);
    assert_eq!(
        charges["lines"].as_array().map_or(0, Vec::len),
        1,
        "the rental only"
    );
    let (status, refused) = rig.complete(booking).await?;
    assert_refused(status, &refused, 409, "charges_not_settled");
    let (status, settled) = rig.confirm(booking, total).await?;
    assert_eq!(status, 200, "{settled}");
    let (status, _) = rig.complete(booking).await?;
    assert_eq!(status, 200);
    assert_eq!(
        rig.hold(booking).await?["status"],
        "CAPTURED",
        "not released yet"
    );

    rig.app.restart().await?;
    let mut released = Value::Null;
    // Bounded: the restarted server's job loop runs once at start-up.
    for _ in 0..100 {
        released = rig.hold(booking).await?;
        if released["status"] == "RELEASED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(released["status"], "RELEASED", "{released}");
    let within: bool = sqlx::query_scalar(
        "SELECT l.created_at - b.completed_at < interval '24 hours' FROM payment_ledger l \
         JOIN payment_holds h ON h.id = l.hold_id JOIN bookings b ON b.id = h.booking_id \
         WHERE h.booking_id = $1 AND l.entry = 'RELEASED'",
    )
    .bind(booking)
    .fetch_one(&rig.app.db)
    .await?;
    assert!(within, "released within 24 hours of completion");
    assert_eq!(
        rp(&released["returned"]),
        rp(&released["authorised"]) - total
    );
    Ok(())
}

#[tokio::test]
async fn a_payment_authorised_after_the_window_lapsed_is_voided_and_the_customer_told()
-> anyhow::Result<()> {
    let rig = rig(Provider::Midtrans, &[]).await?;
    let booking = rig.book(2, 2).await?;
    // 3-D Secure: the hold waits for the customer's bank.
    let (status, pending) = rig.pay(booking, "tok-3ds-4811").await?;
    assert_eq!(status, 200, "{pending}");
    let hold = &pending["holds"][0];
    assert_eq!(hold["status"], "PENDING");
    assert!(
        hold["action_url"].is_string(),
        "the customer is sent to 3-D Secure"
    );
    let order = hold["reference"].as_str().unwrap_or_default().to_owned();
    // The payment window lapses while the customer is at the bank's page (the test's clock).
    sqlx::query("UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(booking)
        .execute(&rig.app.db)
        .await?;
    rig.midtrans.complete_3ds(&order);
    let note = rig.midtrans.notification(&order);
    let webhook = format!("{}/api/v1/payments/webhooks/midtrans", rig.app.base_url);
    assert_eq!(
        super::fake_midtrans::FakeMidtrans::deliver(&webhook, &note).await?,
        200
    );
    rig.settle_jobs().await?;

    let seen = rig.payment(booking).await?;
    assert_eq!(seen["holds"][0]["status"], "VOIDED", "{seen}");
    assert!(
        seen["message"]
            .as_str()
            .unwrap_or_default()
            .contains("dibatalkan"),
        "{seen}"
    );
    assert_ne!(booking_status(&rig, booking).await?, "CONFIRMED");
    assert_eq!(
        rig.midtrans.txn(&order).map(|t| t.status),
        Some("cancel".to_owned())
    );
    let id = seen["holds"][0]["id"].as_str().unwrap_or_default();
    let ledger = rig.ledger(id).await?;
    assert_eq!(
        ledger.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(),
        ["AUTHORISED", "VOIDED"]
    );
    assert_eq!(ledger[0].1, ledger[1].1, "all of it went back");

    // Paying a lapsed booking again holds nothing.
    let (status, refused) = rig.pay(booking, "tok-visa-4811").await?;
    assert_refused(status, &refused, 409, "hold_expired");
    Ok(())
}

#[tokio::test]
async fn a_bill_above_the_hold_is_captured_up_to_the_hold_and_the_rest_paid_apart()
-> anyhow::Result<()> {
    let rig = rig(Provider::Midtrans, &[]).await?;
    let booking = rig.book(3, 1).await?;
    let (_, paid) = rig.pay(booking, "tok-visa-4811").await?;
    let hold_amount = rp(&paid["holds"][0]["authorised"]);
    let order = paid["holds"][0]["reference"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    rig.pick_up(booking, 1).await?;
    let inspection = rig.take_back(booking, 6).await?;
    let (status, _) = rig
        .app
        .post(
            &format!("/api/v1/bookings/{booking}/charges"),
            None,
            &json!({"description": "Pintu kiri diganti", "amount": 5_000_000,
                    "reason": "Penyok berat, foto 3", "inspection_id": inspection}),
        )
        .await?;
    assert_eq!(status, 201);
    let charges = rig.charges(booking).await?;
    let total = rp(&charges["total"]);
    assert_eq!(rp(&charges["capture"]), hold_amount);
    assert_eq!(rp(&charges["outstanding"]), total - hold_amount);
    let (status, settled) = rig.confirm(booking, total).await?;
    assert_eq!(status, 200, "{settled}");
    assert_eq!(rp(&settled["captured"]), hold_amount);
    assert_eq!(rp(&settled["outstanding"]), total - hold_amount);
    assert_eq!(
        rig.midtrans.txn(&order).and_then(|t| t.captured),
        Some(hold_amount)
    );

    // The customer pays the rest with a new payment, taken at once: here with GoPay (a GoPay
    // pre-authorisation, captured whole).
    let gopay = json!({"method": "gopay", "gopay_account_id": "acc-6281234567890",
                       "gopay_payment_option_token": "tok-gopay-wallet"});
    let path = format!("/api/v1/bookings/{booking}/payment");
    let (status, rest) = rig.as_customer(Method::POST, &path, Some(&gopay)).await?;
    assert_eq!(status, 200, "{rest}");
    rig.settle_jobs().await?;
    let seen = rig.payment(booking).await?;
    let charge = seen["holds"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["purpose"] == "CHARGE"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(rp(&charge["captured"]), total - hold_amount, "{seen}");
    assert_eq!(
        (charge["method"].as_str(), charge["status"].as_str()),
        (Some("gopay"), Some("RELEASED"))
    );
    let wallet = rig
        .midtrans
        .txn(charge["reference"].as_str().unwrap_or_default())
        .expect("a GoPay transaction");
    assert_eq!(
        (wallet.payment_type.as_str(), wallet.captured),
        ("gopay", Some(total - hold_amount))
    );
    super::support::assert_ledgers_balance(&rig).await?;
    // Whatever is tried, no hold is ever captured above what it holds.
    let over: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM payment_holds WHERE captured_idr > authorised_idr",
    )
    .fetch_one(&rig.app.db)
    .await?;
    assert_eq!(over, 0);
    Ok(())
}
