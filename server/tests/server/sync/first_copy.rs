//! A branch of 2,000 bookings: the desktop's first sync arrives in pages with progress, holds
//! every booking, and the next round fetches only what changed.

use sentra_client_core::{
    store::Store,
    sync_loop::{SyncEvent, round},
};
use sentra_protocol::SyncEntity;

use crate::{
    fixtures::{customers, seed},
    support::TestApp,
};

use super::desk::{Desktop, JAKARTA_ADMIN};

const BOOKINGS: i64 = 2_000;

#[tokio::test]
async fn the_first_sync_of_a_busy_branch_shows_progress_and_later_rounds_fetch_only_changes()
-> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let person = customers(&app.db).await?[0];
    // One-day confirmed rentals on every Jakarta asset, day after day from today.
    let inserted = sqlx::query(
        "WITH fleet AS (SELECT a.id, a.home_branch_id, row_number() OVER (ORDER BY a.id) - 1 AS n \
                        FROM assets a JOIN branches b ON b.id = a.home_branch_id \
                        WHERE b.code = 'JKT01'), \
              size AS (SELECT count(*) AS n FROM fleet) \
         INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status) \
         SELECT gen_random_uuid(), f.home_branch_id, f.id, $1, \
                daterange(current_date + (k / s.n)::int, current_date + (k / s.n)::int + 1), 'CONFIRMED' \
         FROM generate_series(0, $2 - 1) AS k, size s, fleet f WHERE f.n = k % s.n",
    )
    .bind(person)
    .bind(BOOKINGS)
    .execute(&app.db)
    .await?
    .rows_affected();
    assert_eq!(inserted, u64::try_from(BOOKINGS)?);

    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(&dir.path().join("JKT01.sqlite3"))?;
    let mut events = Vec::new();
    let started = std::time::Instant::now();
    let report = round(&desk.api, &desk.token, &mut store, |e| events.push(e)).await?;
    let took = started.elapsed();
    eprintln!("first sync of a branch with {BOOKINGS} bookings: {took:?}, {report:?}");

    assert_eq!(
        store.count(SyncEntity::Booking)?,
        usize::try_from(BOOKINGS)?
    );
    let progress: Vec<(usize, usize, bool)> = events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Pulling {
                pages,
                records,
                first_copy,
            } => Some((*pages, *records, *first_copy)),
            _ => None,
        })
        .collect();
    assert!(progress.len() >= 4, "a page at a time: {progress:?}");
    assert!(
        progress.windows(2).all(|w| w[0].1 < w[1].1 || !w[1].2),
        "{progress:?}"
    );
    assert!(progress[0].2, "flagged as the first copy");
    assert!(report.pulled >= usize::try_from(BOOKINGS)?);

    // Nothing changed: the next round fetches nothing; one change: it fetches that one.
    let again = round(&desk.api, &desk.token, &mut store, |_| {}).await?;
    assert_eq!(again.pulled, 0, "{again:?}");
    sqlx::query(
        "UPDATE bookings SET status = 'CANCELLED' WHERE id = \
         (SELECT id FROM bookings WHERE customer_id = $1 ORDER BY id LIMIT 1)",
    )
    .bind(person)
    .execute(&app.db)
    .await?;
    let started = std::time::Instant::now();
    loop {
        let later = round(&desk.api, &desk.token, &mut store, |_| {}).await?;
        if later.pulled > 0 {
            assert_eq!(later.pulled, 1, "{later:?}");
            break;
        }
        anyhow::ensure!(started.elapsed().as_secs() < 20, "the change never came");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}
