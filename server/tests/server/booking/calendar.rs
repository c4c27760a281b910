//! The Redis calendar mirrors Postgres: after random sequences of creates, cancellations,
//! expiries, maintenance blocks and injected drift, a reconcile makes every bit equal what
//! Postgres says, day for day. And the whole booking layer works unchanged on a Redis Cluster.

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use sentra_protocol::{JoinWaitlistRequest, SearchQuery};
use sentra_server::cache::{
    Cache, RedisHandle, RedisTarget,
    calendar::{AssetCalendar, SkuDays, bit_is_set, yyyymm},
};
use sentra_test_support::{RedisCluster, RedisServer};
use uuid::Uuid;

use crate::{
    fixtures::{assets, customers, day, overlapping_pairs, seed, unit_booking},
    support::TestApp,
};

#[derive(Debug, Clone)]
enum Op {
    Create {
        asset: usize,
        start: u64,
        nights: u64,
    },
    Cancel {
        nth: usize,
    },
    Expire {
        nth: usize,
    },
    Maintenance {
        asset: usize,
        start: u64,
        nights: u64,
    },
    Drift {
        asset: usize,
        day: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..25u64, 1..5u64).prop_map(|(asset, start, nights)| Op::Create { asset, start, nights }),
        2 => (0..8usize).prop_map(|nth| Op::Cancel { nth }),
        1 => (0..8usize).prop_map(|nth| Op::Expire { nth }),
        1 => (0..3usize, 0..25u64, 1..4u64).prop_map(|(asset, start, nights)| Op::Maintenance { asset, start, nights }),
        1 => (0..3usize, 0..30u64).prop_map(|(asset, day)| Op::Drift { asset, day }),
    ]
}

/// Whether Postgres says `asset` is occupied on `d`.
async fn occupied_in_postgres(app: &TestApp, asset: Uuid, d: NaiveDate) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bookings WHERE asset_id = $1 AND occupied @> $2::date \
         AND status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE'))",
    )
    .bind(asset)
    .bind(d)
    .fetch_one(&app.db)
    .await?)
}

#[expect(
    clippy::too_many_lines,
    reason = "one generated scenario, then the day-by-day check"
)]
async fn run_case(ops: Vec<Op>) -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let fleet = assets(&app.db, "AVANZA-13G-AT", "DPS01").await?;
    let ordinals: Vec<i32> = {
        let mut o = Vec::new();
        for a in &fleet {
            o.push(
                sqlx::query_scalar("SELECT sku_ordinal FROM assets WHERE id = $1")
                    .bind(a)
                    .fetch_one(&app.db)
                    .await?,
            );
        }
        o
    };
    let person = customers(&app.db).await?[0];
    let cache = Cache {
        main: RedisHandle::new(RedisTarget::Node(RedisServer::shared()?.url().into()))?,
        key_prefix: app.key_prefix.clone(),
    };
    let mut conn = cache.main.connection().await?;
    let mut created: Vec<Uuid> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Create {
                asset,
                start,
                nights,
            } => {
                let body = unit_booking(fleet[*asset], person, day(*start), day(start + nights));
                match app.api().create_booking(&format!("p-{i}"), &body).await {
                    Ok(booking) => created.push(booking.id),
                    Err(err) => anyhow::ensure!(err.status() == Some(409), "{err}"),
                }
            }
            Op::Cancel { nth } if !created.is_empty() => {
                // A second cancel of the same booking is refused (409); that is fine here.
                let _ = app.api().cancel_booking(created[nth % created.len()]).await;
            }
            // An expiry the sweeper has not seen yet, and whose bits are still set: drift.
            Op::Expire { nth } if !created.is_empty() => {
                sqlx::query("UPDATE bookings SET status = 'EXPIRED' WHERE id = $1 AND status = 'PENDING_PAYMENT'")
                    .bind(created[nth % created.len()])
                    .execute(&app.db)
                    .await?;
            }
            // Maintenance written straight to Postgres: its bits are missing until reconciled.
            Op::Maintenance {
                asset,
                start,
                nights,
            } => {
                let _ = sqlx::query(
                    "INSERT INTO bookings (id, branch_id, asset_id, kind, period, status) \
                     SELECT $1, home_branch_id, id, 'MAINTENANCE', daterange($2, $3, '[)'), 'CONFIRMED' FROM assets WHERE id = $4",
                )
                .bind(Uuid::now_v7())
                .bind(day(*start))
                .bind(day(start + nights))
                .bind(fleet[*asset])
                .execute(&app.db)
                .await;
            }
            // A bit set behind the calendar's back (no version): drift.
            Op::Drift { asset, day: d } => {
                let calendar = AssetCalendar::new(&app.key_prefix, "AVANZA-13G-AT", fleet[*asset]);
                let drifted = day(*d);
                let _: i64 = redis::cmd("SETBIT")
                    .arg(calendar.month_key(yyyymm(drifted)))
                    .arg(drifted.day0())
                    .arg(1)
                    .query_async(&mut conn)
                    .await?;
            }
            Op::Cancel { .. } | Op::Expire { .. } => {}
        }
    }
    app.state.bookings.projection().rebuild_all().await?;
    let index = SkuDays::new(&app.key_prefix, "AVANZA-13G-AT");
    let days = index
        .read(&mut conn, day(0), day(32))
        .await?
        .expect("the index is built after a rebuild");
    for (a, asset) in fleet.iter().enumerate() {
        let calendar = AssetCalendar::new(&app.key_prefix, "AVANZA-13G-AT", *asset);
        for offset in 0..32u64 {
            let d = day(offset);
            let truth = occupied_in_postgres(&app, *asset, d).await?;
            let bit = !calendar
                .is_free(&mut conn, d, d + chrono::Days::new(1))
                .await?;
            anyhow::ensure!(
                bit == truth,
                "asset {a} day {d}: redis {bit}, postgres {truth}"
            );
            let index_bit =
                bit_is_set(&days[usize::try_from(offset)?], u32::try_from(ordinals[a])?);
            anyhow::ensure!(
                index_bit == truth,
                "search index, asset {a} day {d}: {index_bit} vs {truth}"
            );
        }
    }
    anyhow::ensure!(overlapping_pairs(&app.db).await? == 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn after_reconcile_redis_equals_postgres_day_for_day(ops in prop::collection::vec(op(), 1..25)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        runtime.block_on(run_case(ops)).map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_functions_locks_search_and_waitlist_work_on_a_redis_cluster() -> anyhow::Result<()>
{
    let cluster = tokio::task::spawn_blocking(RedisCluster::start).await??;
    let urls = cluster.urls().join(",");
    let mut app = TestApp::spawn_with(&[("REDIS_CLUSTER_URLS", &urls)]).await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    let fleet = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?;

    // Bookings across a month boundary on several assets (their keys live on different masters).
    let api = app.api();
    for (i, asset) in fleet.iter().enumerate() {
        api.create_booking(
            &format!("cl-{i}"),
            &unit_booking(*asset, people[0], day(2), day(40)),
        )
        .await?;
    }
    let err = api
        .create_booking("cl-x", &unit_booking(fleet[0], people[1], day(30), day(31)))
        .await
        .expect_err("taken");
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), "asset_held"),
        "another customer's unpaid hold is in the way"
    );

    let cache = Cache {
        main: RedisHandle::new(RedisTarget::Cluster(
            cluster.urls().into_iter().map(Into::into).collect(),
        ))?,
        key_prefix: app.key_prefix.clone(),
    };
    let mut conn = cache.main.connection().await?;
    let calendar = AssetCalendar::new(&app.key_prefix, "AVANZA-13G-AT", fleet[0]);
    assert!(
        !calendar.is_free(&mut conn, day(38), day(39)).await?,
        "bits are set on the cluster"
    );
    assert!(calendar.is_free(&mut conn, day(41), day(42)).await?);

    let search = |from: u64, to: u64| SearchQuery {
        sku: "AVANZA-13G-AT".to_owned(),
        start: day(from),
        end: day(to),
        branch: Some("JKT01".to_owned()),
        ..SearchQuery::default()
    };
    assert_eq!(api.search(&search(10, 12)).await?.free_units, 0);
    assert_eq!(
        api.search(&search(45, 46)).await?.free_units,
        u32::try_from(fleet.len())?
    );

    let join = |who: Uuid| JoinWaitlistRequest {
        customer_id: who,
        sku: "AVANZA-13G-AT".to_owned(),
        branch: Some("JKT01".to_owned()),
        start: day(10),
        end: day(12),
    };
    api.join_waitlist(&join(people[0])).await?;
    let joined = api.join_waitlist(&join(people[1])).await?;
    assert!(joined.created);
    assert!(joined.entry.position.is_some(), "{joined:?}");

    let report = app.state.bookings.projection().rebuild_all().await?;
    assert_eq!(report.keys_repaired, 0, "nothing drifted");
    assert_eq!(overlapping_pairs(&app.db).await?, 0);
    Ok(())
}
