//! Redlock on real Redis nodes: quorum, busy vs unavailable, release by token only.

use std::time::{Duration, Instant};

use sentra_server::cache::{
    RedisHandle, RedisTarget,
    redlock::{LockError, LockWait, Redlock, RetryPolicy},
};
use sentra_test_support::RedisServer;

fn redlock_over(nodes: &[RedisServer]) -> anyhow::Result<Redlock> {
    let handles = nodes
        .iter()
        .map(|n| RedisHandle::new(RedisTarget::Node(n.url().into())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Redlock::new(
        handles,
        RetryPolicy {
            attempts: 2,
            delay: Duration::from_millis(5),
        },
    ))
}

async fn set(node: &RedisServer, key: &str, value: &str) -> anyhow::Result<()> {
    let mut conn = redis::Client::open(node.url())?
        .get_multiplexed_async_connection()
        .await?;
    let _: () = redis::cmd("SET")
        .arg(key)
        .arg(value)
        .arg("PX")
        .arg(60_000)
        .query_async(&mut conn)
        .await?;
    Ok(())
}

async fn get(node: &RedisServer, key: &str) -> anyhow::Result<Option<String>> {
    let mut conn = redis::Client::open(node.url())?
        .get_multiplexed_async_connection()
        .await?;
    Ok(redis::cmd("GET").arg(key).query_async(&mut conn).await?)
}

async fn three_nodes() -> anyhow::Result<Vec<RedisServer>> {
    tokio::task::spawn_blocking(|| (0..3).map(|_| RedisServer::start()).collect()).await?
}

#[tokio::test]
async fn a_held_lock_is_busy_with_a_retry_hint_until_released() -> anyhow::Result<()> {
    let nodes = three_nodes().await?;
    let redlock = redlock_over(&nodes)?;
    let started = Instant::now();
    let lease = redlock
        .acquire("lock:{AVZ:1}", Duration::from_mins(10))
        .await?;
    assert!(
        lease.valid_until > started + Duration::from_secs(590),
        "TTL minus drift"
    );
    match redlock
        .acquire("lock:{AVZ:1}", Duration::from_mins(10))
        .await
    {
        // Holders release right after their transaction: the hint is the expected wait, not
        // the ten minutes left on the holder's TTL.
        Err(LockError::Busy { retry_after }) => {
            assert_eq!(retry_after, Duration::from_secs(1));
        }
        other => panic!("expected busy, got {other:?}"),
    }
    redlock.release(&lease).await;
    let again = redlock
        .acquire("lock:{AVZ:1}", Duration::from_mins(10))
        .await?;
    assert_ne!(again.token, lease.token);
    Ok(())
}

#[tokio::test]
async fn a_quorum_of_two_of_three_decides() -> anyhow::Result<()> {
    let nodes = three_nodes().await?;
    let redlock = redlock_over(&nodes)?;
    // Someone else holds it on one node: two of three is still a quorum for us.
    set(&nodes[0], "lock:{AVZ:2}", "other").await?;
    let lease = redlock
        .acquire("lock:{AVZ:2}", Duration::from_secs(10))
        .await?;
    redlock.release(&lease).await;
    assert_eq!(
        get(&nodes[0], "lock:{AVZ:2}").await?.as_deref(),
        Some("other"),
        "release only removes our token"
    );
    // Held on two of three: busy, and our partial acquisition on the third is undone.
    set(&nodes[1], "lock:{AVZ:2}", "other").await?;
    assert!(matches!(
        redlock
            .acquire("lock:{AVZ:2}", Duration::from_secs(10))
            .await,
        Err(LockError::Busy { .. })
    ));
    assert_eq!(get(&nodes[2], "lock:{AVZ:2}").await?, None);
    Ok(())
}

#[tokio::test]
async fn without_a_quorum_of_live_nodes_the_lock_is_unavailable() -> anyhow::Result<()> {
    let nodes = three_nodes().await?;
    let redlock = redlock_over(&nodes)?;
    nodes[0].kill();
    let lease = redlock
        .acquire("lock:{AVZ:3}", Duration::from_secs(10))
        .await?;
    redlock.release(&lease).await;
    nodes[1].kill();
    match redlock
        .acquire("lock:{AVZ:3}", Duration::from_secs(10))
        .await
    {
        Err(LockError::Unavailable {
            answered: 1,
            nodes: 3,
        }) => Ok(()),
        other => panic!("expected unavailable, got {other:?}"),
    }
}

async fn key_exists(node: &RedisServer, key: &str) -> anyhow::Result<bool> {
    Ok(get(node, key).await?.is_some())
}

/// Whether `key` disappears within `limit` (polled).
async fn gone_within(node: &RedisServer, key: &str, limit: Duration) -> anyhow::Result<bool> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if !key_exists(node, key).await? {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guarded_lease_is_released_however_its_holder_ends() -> anyhow::Result<()> {
    let nodes = three_nodes().await?;
    let redlock = std::sync::Arc::new(redlock_over(&nodes)?);
    let key = "lock:{AVZ:9}";
    let (slice, most) = (Duration::from_secs(1), Duration::from_mins(10));

    // A holder that panics (a bug in the booking path).
    let held = redlock.clone();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let panicking = tokio::spawn(async move {
        let _guard = held
            .acquire_guarded(key, slice, most, LockWait::Retry)
            .await;
        let _ = locked_tx.send(());
        let _ = go_rx.await;
        panic!("a bug while holding the lock");
    });
    locked_rx.await?;
    assert!(key_exists(&nodes[0], key).await?, "the holder has the lock");
    let _ = go_tx.send(());
    assert!(panicking.await.is_err());
    assert!(gone_within(&nodes[0], key, Duration::from_millis(500)).await?);

    // A holder that is cancelled (a client that went away, the request's time limit).
    let held = redlock.clone();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let cancelled = tokio::spawn(async move {
        let _guard = held
            .acquire_guarded(key, slice, most, LockWait::Retry)
            .await;
        let _ = locked_tx.send(());
        std::future::pending::<()>().await;
    });
    locked_rx.await?;
    assert!(key_exists(&nodes[0], key).await?, "the holder has the lock");
    // Held past its first slice: the watchdog renews it while the holder lives.
    tokio::time::sleep(slice + slice / 2).await;
    assert!(key_exists(&nodes[0], key).await?, "renewed while held");
    cancelled.abort();
    assert!(gone_within(&nodes[0], key, Duration::from_millis(500)).await?);

    // A holder whose process dies (no destructor, no watchdog): the lock lapses after one
    // slice, not after the ten-minute upper bound.
    let held = redlock.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let guard = runtime.block_on(held.acquire_guarded(key, slice, most, LockWait::Retry))?;
        std::mem::forget(guard);
        runtime.shutdown_background();
        anyhow::Ok(())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the holder thread panicked"))??;
    assert!(key_exists(&nodes[0], key).await?);
    assert!(gone_within(&nodes[0], key, slice * 2).await?);
    Ok(())
}
