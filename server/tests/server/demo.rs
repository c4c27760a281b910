//! The demo data `make run` loads.

use sentra_server::demo::{self, SeedOutcome};

use crate::support::TestApp;

#[tokio::test]
async fn demo_data_covers_branches_zones_assets_customers_and_roles() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    assert_eq!(demo::seed(&app.db).await?, SeedOutcome::Seeded);
    let zones: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT time_zone FROM branches ORDER BY 1")
            .fetch_all(&app.db)
            .await?;
    assert_eq!(zones, ["Asia/Jakarta", "Asia/Makassar"]);
    let assets: i64 = sqlx::query_scalar("SELECT count(*) FROM assets")
        .fetch_one(&app.db)
        .await?;
    assert!(assets >= 20, "{assets} assets");
    let avanza: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assets a JOIN skus s ON s.id = a.sku_id WHERE s.name = 'Toyota Avanza 1.3 G AT'",
    )
    .fetch_one(&app.db)
    .await?;
    assert!(avanza >= 2);
    let categories: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT category FROM skus ORDER BY 1")
            .fetch_all(&app.db)
            .await?;
    assert!(categories.contains(&"motorbike".to_owned()));
    let tiers: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT membership_tier FROM customers ORDER BY 1")
            .fetch_all(&app.db)
            .await?;
    assert_eq!(tiers, ["gold", "platinum", "regular", "silver"]);
    let roles: Vec<String> = sqlx::query_scalar("SELECT DISTINCT role FROM users ORDER BY 1")
        .fetch_all(&app.db)
        .await?;
    assert_eq!(
        roles,
        ["branch_admin", "hq_admin", "inspector", "kyc_reviewer"]
    );
    let printed = demo::logins_table();
    for login in demo::DEMO_LOGINS {
        assert!(printed.contains(login.email) && printed.contains(login.password));
    }
    Ok(())
}

#[tokio::test]
async fn seeding_twice_keeps_the_existing_data() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    demo::seed(&app.db).await?;
    sqlx::query("UPDATE customers SET full_name = 'Budi Santoso Jr.' WHERE email = 'budi.santoso@example.com'")
        .execute(&app.db)
        .await?;
    assert_eq!(demo::seed(&app.db).await?, SeedOutcome::AlreadyPresent);
    let name: String = sqlx::query_scalar(
        "SELECT full_name FROM customers WHERE email = 'budi.santoso@example.com'",
    )
    .fetch_one(&app.db)
    .await?;
    assert_eq!(name, "Budi Santoso Jr.");
    let branches: i64 = sqlx::query_scalar("SELECT count(*) FROM branches")
        .fetch_one(&app.db)
        .await?;
    assert_eq!(branches, 2);
    Ok(())
}
