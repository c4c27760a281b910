//! Long rentals: a card hold lasts about 7 days. A day before it lapses, the configured policy
//! applies: the whole hold is captured (and what the bill does not need refunded once the
//! capture settled), or staff only are told to arrange a new deposit.

use super::support::{Provider, Rig, rig, rp};

async fn guard_runs_now(rig: &Rig) -> anyhow::Result<()> {
    // The test's clock: the guard's day has come.
    sqlx::query("UPDATE jobs SET run_at = now() WHERE kind = 'hold_lapse_guard'")
        .execute(&rig.app.db)
        .await?;
    rig.settle_jobs().await
}

#[tokio::test]
async fn a_long_rental_s_deposit_is_captured_before_it_lapses_and_the_rest_refunded()
-> anyhow::Result<()> {
    let rig = rig(Provider::Midtrans, &[]).await?;
    let booking = rig.book(0, 9).await?;
    let (_, paid) = rig.pay(booking, "tok-visa-4811").await?;
    let authorised = rp(&paid["holds"][0]["authorised"]);
    let order = paid["holds"][0]["reference"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    rig.pick_up(booking, 9).await?;
    guard_runs_now(&rig).await?;
    let hold = rig.hold(booking).await?;
    assert_eq!(hold["status"], "CAPTURED");
    assert_eq!(rp(&hold["captured"]), authorised);
    assert!(
        hold["attention"]
            .as_str()
            .unwrap_or_default()
            .contains("ditarik penuh"),
        "staff are told: {hold}"
    );

    rig.take_back(booking, 6).await?;
    let charges = rig.charges(booking).await?;
    let total = rp(&charges["total"]);
    assert_eq!(
        rp(&charges["held"]),
        authorised,
        "the captured deposit covers the bill"
    );
    let (status, settled) = rig.confirm(booking, total).await?;
    assert_eq!(status, 200, "{settled}");
    // Midtrans refunds only a settled capture: until then the refund waits.
    assert_eq!(settled["status"], "CAPTURING");
    rig.midtrans.settle(&order);
    sqlx::query("UPDATE jobs SET run_at = now()")
        .execute(&rig.app.db)
        .await?;
    rig.settle_jobs().await?;
    let charges = rig.charges(booking).await?;
    assert_eq!(charges["settlement"]["status"], "SETTLED", "{charges}");
    assert_eq!(rp(&charges["settlement"]["released"]), authorised - total);
    let refunds = rig
        .midtrans
        .txn(&order)
        .map(|t| t.refunds)
        .unwrap_or_default();
    assert_eq!(
        refunds.iter().map(|(_, a)| *a).collect::<Vec<_>>(),
        [authorised - total]
    );
    let hold = rig.hold(booking).await?;
    assert_eq!(hold["status"], "RELEASED");
    let id = hold["id"].as_str().unwrap_or_default();
    assert_eq!(
        rig.ledger(id).await?,
        [
            ("AUTHORISED".to_owned(), authorised),
            ("CAPTURED".to_owned(), authorised),
            ("REFUNDED".to_owned(), authorised - total)
        ]
    );
    let (status, _) = rig.complete(booking).await?;
    assert_eq!(status, 200);
    super::support::assert_ledgers_balance(&rig).await?;
    Ok(())
}

#[tokio::test]
async fn with_the_alert_policy_a_lapsing_xendit_hold_is_only_flagged_for_staff()
-> anyhow::Result<()> {
    let rig = rig(
        Provider::Xendit,
        &[("SENTRA_LONG_RENTAL_POLICY", "alert_staff")],
    )
    .await?;
    let booking = rig.book(1, 9).await?;
    let (_, paid) = rig.pay(booking, "tok-xendit-visa").await?;
    assert_eq!(paid["holds"][0]["status"], "AUTHORISED");
    guard_runs_now(&rig).await?;
    let hold = rig.hold(booking).await?;
    assert_eq!(hold["status"], "AUTHORISED", "nothing captured");
    assert!(
        hold["attention"]
            .as_str()
            .unwrap_or_default()
            .contains("jaminan baru"),
        "{hold}"
    );
    let captures = rig
        .xendit
        .calls()
        .iter()
        .filter(|c| c.ends_with("/capture"))
        .count();
    assert_eq!(captures, 0);
    Ok(())
}
