//! A SKU's waitlist as the staff who run it see it (`GET /api/v1/skus/{code}/waitlist`): queue
//! order by tier then joining time, each waiting entry's place among those competing for the
//! branch's units, and only their own branches (with the entries for any branch).

use sentra_protocol::{JoinWaitlistRequest, WaitlistQueueQuery};

use crate::{
    fixtures::{customers, day, seed, sell_out},
    support::TestApp,
};

const JAKARTA_ADMIN: (&str, &str) = ("admin.jkt@demo.sentrarental.id", "demo-jkt-2026");
const BALI_ADMIN: (&str, &str) = ("admin.dps@demo.sentrarental.id", "demo-dps-2026");
const INSPECTOR: (&str, &str) = ("inspektur@demo.sentrarental.id", "demo-insp-2026");

#[tokio::test]
async fn branch_staff_see_their_skus_queue_in_order_and_no_other_branchs() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let people = customers(&app.db).await?;
    // The second to join is platinum: the queue puts them first.
    sqlx::query("UPDATE customers SET membership_tier = 'regular' WHERE id = $1")
        .bind(people[0])
        .execute(&app.db)
        .await?;
    for (person, tier) in [
        (people[1], "platinum"),
        (people[2], "platinum"),
        (people[3], "gold"),
    ] {
        sqlx::query("UPDATE customers SET membership_tier = $2 WHERE id = $1")
            .bind(person)
            .bind(tier)
            .execute(&app.db)
            .await?;
    }
    app.as_hq().await?;
    let hq = app.api();
    let join = |customer, branch: &str| JoinWaitlistRequest {
        customer_id: customer,
        sku: "AVANZA-13G-AT".to_owned(),
        branch: Some(branch.to_owned()),
        start: day(10),
        end: day(12),
    };
    sell_out(&hq, &app.db, "AVANZA-13G-AT", None, day(10), day(12)).await?;
    hq.join_waitlist(&join(people[0], "JKT01")).await?;
    hq.join_waitlist(&join(people[1], "JKT01")).await?;
    hq.join_waitlist(&join(people[2], "DPS01")).await?;
    // Gold, for a car from any branch: offered Jakarta's and Bali's freed units alike.
    hq.join_waitlist(&JoinWaitlistRequest {
        branch: None,
        ..join(people[3], "JKT01")
    })
    .await?;

    let jakarta = app
        .api()
        .with_token(&app.staff_token(JAKARTA_ADMIN.0, JAKARTA_ADMIN.1).await?);
    let queue = jakarta
        .sku_waitlist("AVANZA-13G-AT", &WaitlistQueueQuery::default())
        .await?;
    let seen: Vec<_> = queue
        .items
        .iter()
        .map(|e| (e.customer_id, e.position))
        .collect();
    assert_eq!(
        seen,
        [
            (people[1], Some(1)),
            (people[3], Some(2)),
            (people[0], Some(3))
        ],
        "platinum first, then gold for any branch; Bali's platinum neither shows nor counts"
    );

    bali_sees_its_own_queue_only(&app, &people).await?;

    // HQ sees every queue; an inspector none; an unknown SKU is named.
    let all = hq
        .sku_waitlist("AVANZA-13G-AT", &WaitlistQueueQuery::default())
        .await?;
    assert_eq!(all.items.len(), 4);
    let any_branch = all.items.iter().find(|e| e.customer_id == people[3]);
    assert_eq!(
        any_branch.and_then(|e| e.position),
        Some(3),
        "for any branch, behind both platinums"
    );
    let inspector = app
        .api()
        .with_token(&app.staff_token(INSPECTOR.0, INSPECTOR.1).await?);
    let err = inspector
        .sku_waitlist("AVANZA-13G-AT", &WaitlistQueueQuery::default())
        .await
        .expect_err("inspectors do not run queues");
    assert_eq!(err.status(), Some(403));
    let err = jakarta
        .sku_waitlist("NO-SUCH-SKU", &WaitlistQueueQuery::default())
        .await
        .expect_err("unknown");
    assert_eq!(err.status(), Some(404));
    Ok(())
}

/// Another branch's queue is refused by name; its own has its entry and the one for any
/// branch, placed among those two only.
async fn bali_sees_its_own_queue_only(app: &TestApp, people: &[uuid::Uuid]) -> anyhow::Result<()> {
    let bali = app
        .api()
        .with_token(&app.staff_token(BALI_ADMIN.0, BALI_ADMIN.1).await?);
    let err = bali
        .sku_waitlist(
            "AVANZA-13G-AT",
            &WaitlistQueueQuery {
                branch: Some("JKT01".to_owned()),
            },
        )
        .await
        .expect_err("not Bali's queue");
    assert_eq!(
        (err.status(), err.code()),
        (Some(422), "validation_failed"),
        "{err}"
    );
    let own = bali
        .sku_waitlist("AVANZA-13G-AT", &WaitlistQueueQuery::default())
        .await?;
    assert_eq!(
        own.items
            .iter()
            .map(|e| (e.customer_id, e.position))
            .collect::<Vec<_>>(),
        [(people[2], Some(1)), (people[3], Some(2))]
    );
    Ok(())
}
