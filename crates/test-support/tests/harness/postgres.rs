use sentra_test_support::{PgOptions, PgServer, TestDatabase};
use sqlx::migrate::Migrator;

static MIGRATOR: Migrator = sqlx::migrate!("tests/harness/migrations");

async fn write_then_count(label: &str) -> anyhow::Result<i64> {
    let db = TestDatabase::create(&MIGRATOR).await?;
    let pool = db.pool().await?;
    // Both tests write the same primary key: only isolation lets both succeed.
    sqlx::query("INSERT INTO items (id, label) VALUES (1, $1)")
        .bind(label)
        .execute(&pool)
        .await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM items")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(count)
}

#[tokio::test]
async fn two_tests_writing_the_same_row_do_not_see_each_other_a() -> anyhow::Result<()> {
    assert_eq!(write_then_count("a").await?, 1);
    Ok(())
}

#[tokio::test]
async fn two_tests_writing_the_same_row_do_not_see_each_other_b() -> anyhow::Result<()> {
    assert_eq!(write_then_count("b").await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_test_database_is_migrated_and_dropped_afterwards() -> anyhow::Result<()> {
    let db = TestDatabase::create(&MIGRATOR).await?;
    let name = db.name().to_owned();
    let pool = db.pool().await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await?;
    assert!(tables.contains(&"items".to_owned()), "{tables:?}");
    pool.close().await;
    let admin_url = PgServer::shared()?.url("postgres");
    drop(db);
    let admin = sqlx::PgPool::connect(&admin_url).await?;
    let still_there: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_one(&admin)
            .await?;
    assert_eq!(still_there, 0, "the test database must be dropped");
    Ok(())
}

#[tokio::test]
async fn a_dropped_server_frees_its_port_and_deletes_its_data() -> anyhow::Result<()> {
    let server = tokio::task::spawn_blocking(|| PgServer::start(&PgOptions::ephemeral())).await??;
    let port = server.port();
    let data_dir = server
        .log_path()
        .parent()
        .and_then(std::path::Path::parent)
        .map(std::path::Path::to_path_buf)
        .expect("log lives in <tmp>/data");
    let pool = sqlx::PgPool::connect(&server.url("postgres")).await?;
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
    assert_eq!(one, 1);
    pool.close().await;
    tokio::task::spawn_blocking(move || drop(server)).await?;
    assert!(
        !data_dir.exists(),
        "{} should be deleted",
        data_dir.display()
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing may listen on {port} after the drop"
    );
    Ok(())
}
