//! HQ's payment report and the reconciliation: open holds per branch with their expiry, the
//! day's totals from the ledger, a hold that lapsed at the provider without a word listed as a
//! difference, and a long rental's hold about to lapse flagged for staff.

use super::support::{Provider, rig, rp};

#[tokio::test]
async fn hq_sees_open_holds_daily_totals_differences_and_holds_about_to_lapse() -> anyhow::Result<()>
{
    let rig = rig(Provider::Midtrans, &[]).await?;
    let first = rig.book(0, 2).await?;
    let second = rig.book(1, 9).await?;
    let mut orders = Vec::new();
    let mut total_held = 0;
    for booking in [first, second] {
        let (status, paid) = rig.pay(booking, "tok-visa-4811").await?;
        assert_eq!(status, 200, "{paid}");
        total_held += rp(&paid["holds"][0]["authorised"]);
        orders.push(
            paid["holds"][0]["reference"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }

    let (status, report) = rig.app.get_json("/api/v1/payments/report").await?;
    assert_eq!(status, 200, "{report}");
    let open = report["open_holds"].as_array().cloned().unwrap_or_default();
    assert_eq!(open.len(), 2);
    assert!(
        open.iter()
            .all(|h| h["branch_code"] == "JKT01" && h["lapses_at"].is_string())
    );
    assert_eq!(open.iter().map(|h| rp(&h["held"])).sum::<i64>(), total_held);
    let today = &report["days"][0];
    assert_eq!(
        (today["branch_code"].as_str(), rp(&today["authorised"])),
        (Some("JKT01"), total_held)
    );

    // The first hold lapses at Midtrans and no webhook comes: the reconciliation lists it.
    rig.midtrans.lapse(&orders[0]);
    let (status, run) = rig
        .app
        .post("/api/v1/payments/reconcile", None, &serde_json::json!({}))
        .await?;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["compared"], 2);
    let differences = run["differences"].as_array().cloned().unwrap_or_default();
    assert_eq!(differences.len(), 1, "{run}");
    assert_eq!(
        differences[0]["reference"].as_str(),
        Some(orders[0].as_str())
    );
    assert!(
        differences[0]["theirs"]
            .as_str()
            .unwrap_or_default()
            .contains("Expired")
    );
    let (_, report) = rig.app.get_json("/api/v1/payments/report").await?;
    assert_eq!(report["reconciliation"]["differences"], run["differences"]);

    // A day before the nine-day rental's card hold lapses, staff are told.
    sqlx::query("UPDATE jobs SET run_at = now() WHERE kind = 'hold_lapse_guard'")
        .execute(&rig.app.db)
        .await?;
    rig.settle_jobs().await?;
    let hold = rig.hold(second).await?;
    let attention = hold["attention"].as_str().unwrap_or_default();
    assert!(attention.contains("berakhir"), "{hold}");
    Ok(())
}

#[tokio::test]
async fn the_database_refuses_a_hold_going_back_and_any_ledger_edit() -> anyhow::Result<()> {
    let rig = rig(Provider::Midtrans, &[]).await?;
    let booking = rig.book(2, 2).await?;
    let (_, paid) = rig.pay(booking, "tok-visa-4811").await?;
    let id = paid["holds"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for sql in [
        "UPDATE payment_holds SET status = 'PENDING' WHERE id = $1::uuid",
        "UPDATE payment_holds SET authorised_idr = authorised_idr - 1 WHERE id = $1::uuid",
        "UPDATE payment_holds SET captured_idr = authorised_idr + 1 WHERE id = $1::uuid",
        "UPDATE payment_ledger SET amount_idr = 1 WHERE hold_id = $1::uuid",
        "DELETE FROM payment_ledger WHERE hold_id = $1::uuid",
    ] {
        let refused = sqlx::query(sql).bind(&id).execute(&rig.app.db).await;
        assert!(refused.is_err(), "{sql} was allowed");
    }
    assert!(
        sqlx::query("TRUNCATE payment_ledger")
            .execute(&rig.app.db)
            .await
            .is_err()
    );
    assert_eq!(
        rig.ledger(&id).await?.len(),
        1,
        "the authorisation is still there"
    );
    super::support::assert_ledgers_balance(&rig).await?;
    Ok(())
}
