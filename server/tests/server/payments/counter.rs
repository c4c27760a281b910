//! Deposits at the counter (cash or transfer): a branch without an online provider refuses
//! card payments, staff record the deposit with a numbered receipt (which confirms the
//! booking), and settling the bill captures what it costs and gives the rest back with a
//! numbered return receipt; the invoice says it was cash.

use reqwest::Method;
use serde_json::json;

use super::{
    midtrans::pdf_text,
    support::{Provider, rig, rp},
};
use crate::handover::support::assert_refused;

#[tokio::test]
async fn a_cash_deposit_is_receipted_settled_and_given_back_at_the_counter() -> anyhow::Result<()> {
    let rig = rig(Provider::Counter, &[]).await?;
    let booking = rig.book(0, 2).await?;
    let (status, quote) = rig
        .as_customer(
            Method::GET,
            &format!("/api/v1/bookings/{booking}/quote"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(quote["provider"], "manual");
    assert_eq!(quote["methods"], json!([]));
    let (status, refused) = rig.pay(booking, "tok-visa-4811").await?;
    assert_refused(status, &refused, 409, "pay_at_counter");

    let path = format!("/api/v1/bookings/{booking}/counter-payment");
    let (status, paid) = rig
        .app
        .post(&path, None, &json!({"method": "cash"}))
        .await?;
    assert_eq!(status, 200, "{paid}");
    let hold = paid["holds"][0].clone();
    assert_eq!(hold["status"], "AUTHORISED");
    assert_eq!(rp(&hold["authorised"]), rp(&quote["hold"]));
    let receipt = hold["reference"].as_str().unwrap_or_default();
    assert!(
        receipt.starts_with("KW/JKT01/") && receipt.ends_with("/000001"),
        "{receipt}"
    );
    // Recorded again (a double click): the same deposit.
    let (_, again) = rig
        .app
        .post(&path, None, &json!({"method": "cash"}))
        .await?;
    assert_eq!(again["holds"].as_array().map_or(0, Vec::len), 1);
    let (_, seen) = rig
        .as_customer(Method::GET, &format!("/api/v1/bookings/{booking}"), None)
        .await?;
    assert_eq!(seen["status"], "CONFIRMED");

    rig.pick_up(booking, 2).await?;
    rig.take_back(booking, 5).await?;
    let charges = rig.charges(booking).await?;
    let total = rp(&charges["total"]);
    let kinds: Vec<&str> = charges["lines"]
        .as_array()
        .map(|l| l.iter().filter_map(|l| l["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["RENTAL", "FUEL"]);
    let (status, settled) = rig.confirm(booking, total).await?;
    assert_eq!(status, 200, "{settled}");
    assert_eq!(settled["status"], "SETTLED");
    let hold = rig.hold(booking).await?;
    assert_eq!(hold["status"], "RELEASED");
    let back = hold["return_receipt"].as_str().unwrap_or_default();
    assert!(back.starts_with("KK/JKT01/"), "{hold}");
    let id = hold["id"].as_str().unwrap_or_default();
    let authorised = rp(&hold["authorised"]);
    assert_eq!(
        rig.ledger(id).await?,
        [
            ("AUTHORISED".to_owned(), authorised),
            ("CAPTURED".to_owned(), total),
            ("RELEASED".to_owned(), authorised - total)
        ]
    );
    let text = pdf_text(&rig.app.api().invoice_pdf(booking).await?)?;
    assert!(text.contains("Tunai"), "{text}");
    let (status, _) = rig.complete(booking).await?;
    assert_eq!(status, 200);
    super::support::assert_ledgers_balance(&rig).await?;
    Ok(())
}

#[tokio::test]
async fn a_cancelled_booking_s_cash_deposit_is_given_back_with_a_receipt() -> anyhow::Result<()> {
    let rig = rig(Provider::Counter, &[]).await?;
    let booking = rig.book(1, 2).await?;
    let path = format!("/api/v1/bookings/{booking}/counter-payment");
    let (status, _) = rig
        .app
        .post(&path, None, &json!({"method": "transfer"}))
        .await?;
    assert_eq!(status, 200);
    let give_back = format!("/api/v1/bookings/{booking}/counter-return");
    let (status, refused) = rig.app.post(&give_back, None, &json!({})).await?;
    assert_refused(status, &refused, 409, "invalid_state");
    let (status, _) = rig
        .as_customer(
            Method::POST,
            &format!("/api/v1/bookings/{booking}/cancel"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    rig.settle_jobs().await?;
    let hold = rig.hold(booking).await?;
    assert_eq!(
        hold["status"], "AUTHORISED",
        "the money is still in the till"
    );
    assert!(
        hold["attention"]
            .as_str()
            .unwrap_or_default()
            .contains("Kembalikan")
    );
    let (status, back) = rig.app.post(&give_back, None, &json!({})).await?;
    assert_eq!(status, 200, "{back}");
    let hold = back["holds"][0].clone();
    assert_eq!(hold["status"], "VOIDED");
    assert!(
        hold["return_receipt"]
            .as_str()
            .unwrap_or_default()
            .starts_with("KK/JKT01/")
    );
    assert!(hold["attention"].is_null());
    let id = hold["id"].as_str().unwrap_or_default();
    let amount = rp(&hold["authorised"]);
    assert_eq!(
        rig.ledger(id).await?,
        [
            ("AUTHORISED".to_owned(), amount),
            ("VOIDED".to_owned(), amount)
        ]
    );
    // Asked again: the same return.
    let (_, again) = rig.app.post(&give_back, None, &json!({})).await?;
    assert_eq!(again["holds"][0]["return_receipt"], hold["return_receipt"]);
    Ok(())
}
