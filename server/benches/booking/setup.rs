//! The benchmark's data: a server started in process on a fresh database (10,000 assets of one
//! SKU, 100 customers), and the plan Postgres picks for the plain search.

use std::{collections::HashMap, sync::Arc};

use sentra_server::{
    Config,
    booking::{availability::PLAIN_SEARCH, repo},
};
use uuid::Uuid;

use super::{ASSETS, Bench};

/// A server on `database_url` with the benchmark's fleet, and the bench around it.
pub(crate) async fn bench(database_url: &str, redis_url: &str) -> anyhow::Result<Arc<Bench>> {
    // JIT off: it only adds compile time to the plain search query on this data size.
    let storage = format!("sentra-bench-objects-{}", std::process::id());
    let env = super::common::server_env(database_url, redis_url, &storage);
    let config = Config::from_lookup(|name| env.get(name).cloned())?;
    let server = sentra_server::start(config).await?;
    let db = server.state().db.clone();
    sqlx::query("INSERT INTO branches (id, code, name, time_zone) VALUES ($1, 'BENCH', 'Bench', 'Asia/Jakarta')")
        .bind(Uuid::now_v7())
        .execute(&db)
        .await?;
    sqlx::query("INSERT INTO skus (id, code, name, category, daily_rate_idr) VALUES ($1, 'BENCH-CAR', 'Toyota Avanza 1.3 G AT', 'car', 450000)")
        .bind(Uuid::now_v7())
        .execute(&db)
        .await?;
    sqlx::query(
        "INSERT INTO assets (id, sku_id, home_branch_id, plate_or_serial) \
         SELECT gen_random_uuid(), (SELECT id FROM skus), (SELECT id FROM branches), 'B ' || n || ' BNC' \
         FROM generate_series(1, $1) n",
    )
    .bind(i32::try_from(ASSETS)?)
    .execute(&db)
    .await?;
    sqlx::query(
        "INSERT INTO customers (id, full_name, email) SELECT gen_random_uuid(), 'Customer ' || n, 'c' || n || '@bench.test' \
         FROM generate_series(1, 100) n",
    )
    .execute(&db)
    .await?;
    // Statistics as a deployment has them right after set-up: the bookings table empty.
    sqlx::query("ANALYZE").execute(&db).await?;
    let assets: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM assets ORDER BY sku_ordinal")
        .fetch_all(&db)
        .await?;
    let customers: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM customers")
        .fetch_all(&db)
        .await?;
    let mut contexts = HashMap::new();
    for asset in &assets {
        if let Some(context) = repo::asset_context(&db, *asset).await? {
            contexts.insert(*asset, context);
        }
    }
    let state = server.state().clone();
    let today = chrono::Utc::now().date_naive() + chrono::Days::new(2);
    Ok(Arc::new(Bench {
        db,
        state,
        assets,
        customers,
        contexts,
        today,
    }))
}

/// The node types of the plan Postgres picks for the plain search, outermost first.
pub(crate) async fn plan_of_plain_search(bench: &Bench, sku_id: Uuid) -> anyhow::Result<String> {
    let start = bench.today;
    let explain = format!("EXPLAIN (FORMAT JSON) {PLAIN_SEARCH}");
    let plan: serde_json::Value = sqlx::query_scalar(sqlx::AssertSqlSafe(explain))
        .bind(sku_id)
        .bind(None::<Uuid>)
        .bind(start)
        .bind(start + chrono::Days::new(7))
        .fetch_one(&bench.db)
        .await?;
    let mut nodes = Vec::new();
    collect_nodes(&plan[0]["Plan"], &mut nodes);
    Ok(nodes.join(" > "))
}

fn collect_nodes(node: &serde_json::Value, out: &mut Vec<String>) {
    let kind = node["Node Type"].as_str().unwrap_or("?");
    let on = node["Relation Name"]
        .as_str()
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    out.push(format!("{kind}{on}"));
    for child in node["Plans"].as_array().into_iter().flatten() {
        collect_nodes(child, out);
    }
}
