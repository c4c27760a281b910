//! Redlock on real Redis nodes: quorum, busy vs unavailable, release by token only.

use std::time::{Duration, Instant};

use sentra_server::cache::{
    RedisHandle, RedisTarget,
    redlock::{LockError, Redlock, RetryPolicy},
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
        Err(LockError::Busy { retry_after }) => {
            assert!(retry_after > Duration::from_secs(590), "{retry_after:?}");
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
