use redis::AsyncCommands;
use sentra_test_support::{RedisCluster, RedisServer, unique_key_prefix};

async fn write_then_read(value: &str) -> anyhow::Result<(String, Vec<String>)> {
    let server = RedisServer::shared()?;
    let prefix = unique_key_prefix();
    let client = redis::Client::open(server.url())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    // Both tests use the same logical key; the per-test prefix keeps them apart.
    let key = format!("{prefix}calendar");
    let _: () = conn.set(&key, value).await?;
    let read: String = conn.get(&key).await?;
    let mine: Vec<String> = conn.keys(format!("{prefix}*")).await?;
    Ok((read, mine))
}

#[tokio::test]
async fn two_tests_writing_the_same_key_do_not_see_each_other_a() -> anyhow::Result<()> {
    let (read, keys) = write_then_read("a").await?;
    assert_eq!(read, "a");
    assert_eq!(keys.len(), 1);
    Ok(())
}

#[tokio::test]
async fn two_tests_writing_the_same_key_do_not_see_each_other_b() -> anyhow::Result<()> {
    let (read, keys) = write_then_read("b").await?;
    assert_eq!(read, "b");
    assert_eq!(keys.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_killed_node_refuses_connections() -> anyhow::Result<()> {
    let node = tokio::task::spawn_blocking(RedisServer::start).await??;
    let client = redis::Client::open(node.url())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
    assert_eq!(pong, "PONG");
    let port = node.port();
    node.kill();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    Ok(())
}

#[tokio::test]
async fn the_cluster_serves_keys_of_every_slot() -> anyhow::Result<()> {
    let cluster = tokio::task::spawn_blocking(RedisCluster::start).await??;
    let client = redis::cluster::ClusterClient::new(cluster.urls())?;
    let mut conn = client.get_async_connection().await?;
    // Keys with different hash tags land on different masters; all must work.
    for i in 0..30 {
        let key = format!("avail:{{SKU-{i}:asset}}:202612");
        let _: () = conn.set(&key, i).await?;
        let back: i32 = conn.get(&key).await?;
        assert_eq!(back, i);
    }
    let masters_with_keys = {
        let mut n = 0;
        for node in cluster.nodes() {
            let mut direct = redis::Client::open(node.url())?
                .get_multiplexed_async_connection()
                .await?;
            let size: i64 = redis::cmd("DBSIZE").query_async(&mut direct).await?;
            if size > 0 {
                n += 1;
            }
        }
        n
    };
    assert_eq!(
        masters_with_keys, 3,
        "30 hash tags should spread over all three masters"
    );
    Ok(())
}
