//! Demo data for `make run`: two branches in different time zones, SKUs, 24 assets with plates,
//! customers of every membership tier and one staff account per role.
//!
//! Seeding happens once: when any branch exists the data is left as it is, so a second
//! `make run` keeps whatever was created meanwhile. The demo passwords are fixed and printed.

use sqlx::PgPool;
use uuid::Uuid;

/// A demo staff login, printed at start-up.
#[derive(Debug, Clone, Copy)]
pub struct DemoLogin {
    /// Login e-mail.
    pub email: &'static str,
    /// Demo password (never use these outside a demo).
    pub password: &'static str,
    /// Role of the account.
    pub role: &'static str,
    /// Branch codes the account belongs to (empty for HQ).
    pub branches: &'static [&'static str],
}

/// The password of every demo customer (log in with the customer's e-mail or phone).
pub const DEMO_CUSTOMER_PASSWORD: &str = "demo-pelanggan-2026";

/// The demo staff accounts.
pub const DEMO_LOGINS: &[DemoLogin] = &[
    DemoLogin {
        email: "hq@demo.sentrarental.id",
        password: "demo-hq-2026",
        role: "hq_admin",
        branches: &[],
    },
    DemoLogin {
        email: "admin.jkt@demo.sentrarental.id",
        password: "demo-jkt-2026",
        role: "branch_admin",
        branches: &["JKT01"],
    },
    DemoLogin {
        email: "admin.dps@demo.sentrarental.id",
        password: "demo-dps-2026",
        role: "branch_admin",
        branches: &["DPS01"],
    },
    DemoLogin {
        email: "verifikasi@demo.sentrarental.id",
        password: "demo-kyc-2026",
        role: "kyc_reviewer",
        branches: &[],
    },
    DemoLogin {
        email: "inspektur@demo.sentrarental.id",
        password: "demo-insp-2026",
        role: "inspector",
        branches: &["JKT01", "DPS01"],
    },
];

struct Branch {
    code: &'static str,
    name: &'static str,
    address: &'static str,
    time_zone: &'static str,
    /// Latitude, longitude.
    location: (f64, f64),
}

const BRANCHES: &[Branch] = &[
    Branch {
        code: "JKT01",
        name: "Sentra Jakarta Kemayoran",
        address: "Jl. Benyamin Sueb No. 10, Kemayoran, Jakarta Pusat",
        time_zone: "Asia/Jakarta",
        location: (-6.1560, 106.8470),
    },
    Branch {
        code: "DPS01",
        name: "Sentra Bali Denpasar",
        address: "Jl. Bypass Ngurah Rai No. 88, Denpasar",
        time_zone: "Asia/Makassar",
        location: (-8.6890, 115.2190),
    },
];

struct Sku {
    code: &'static str,
    name: &'static str,
    category: &'static str,
    daily_rate_idr: i64,
    deposit_idr: i64,
    buffer_days: i32,
}

const SKUS: &[Sku] = &[
    Sku {
        code: "AVANZA-13G-AT",
        name: "Toyota Avanza 1.3 G AT",
        category: "car",
        daily_rate_idr: 450_000,
        deposit_idr: 1_000_000,
        buffer_days: 1,
    },
    Sku {
        code: "INNOVA-ZENIX-V",
        name: "Toyota Innova Zenix 2.0 V",
        category: "car",
        daily_rate_idr: 850_000,
        deposit_idr: 2_000_000,
        buffer_days: 1,
    },
    Sku {
        code: "VARIO-125",
        name: "Honda Vario 125",
        category: "motorbike",
        daily_rate_idr: 90_000,
        deposit_idr: 300_000,
        buffer_days: 0,
    },
    Sku {
        code: "GENSET-5KVA",
        name: "Genset Honda 5 kVA",
        category: "equipment",
        daily_rate_idr: 350_000,
        deposit_idr: 1_500_000,
        buffer_days: 0,
    },
];

/// (branch code, SKU code, plate or serial)
const ASSETS: &[(&str, &str, &str)] = &[
    ("JKT01", "AVANZA-13G-AT", "B 1234 XYZ"),
    ("JKT01", "AVANZA-13G-AT", "B 1235 XYZ"),
    ("JKT01", "AVANZA-13G-AT", "B 1236 XYZ"),
    ("JKT01", "AVANZA-13G-AT", "B 1237 XYZ"),
    ("JKT01", "AVANZA-13G-AT", "B 1238 XYZ"),
    ("JKT01", "INNOVA-ZENIX-V", "B 2701 SRT"),
    ("JKT01", "INNOVA-ZENIX-V", "B 2702 SRT"),
    ("JKT01", "VARIO-125", "B 3301 KMY"),
    ("JKT01", "VARIO-125", "B 3302 KMY"),
    ("JKT01", "VARIO-125", "B 3303 KMY"),
    ("JKT01", "GENSET-5KVA", "GEN-JKT-0001"),
    ("JKT01", "GENSET-5KVA", "GEN-JKT-0002"),
    ("DPS01", "AVANZA-13G-AT", "DK 1401 AB"),
    ("DPS01", "AVANZA-13G-AT", "DK 1402 AB"),
    ("DPS01", "AVANZA-13G-AT", "DK 1403 AB"),
    ("DPS01", "INNOVA-ZENIX-V", "DK 2501 CD"),
    ("DPS01", "VARIO-125", "DK 3601 EF"),
    ("DPS01", "VARIO-125", "DK 3602 EF"),
    ("DPS01", "VARIO-125", "DK 3603 EF"),
    ("DPS01", "VARIO-125", "DK 3604 EF"),
    ("DPS01", "VARIO-125", "DK 3605 EF"),
    ("DPS01", "VARIO-125", "DK 3606 EF"),
    ("DPS01", "GENSET-5KVA", "GEN-DPS-0001"),
    ("DPS01", "GENSET-5KVA", "GEN-DPS-0002"),
];

/// (name, phone, email, tier, KYC status)
const CUSTOMERS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "Budi Santoso",
        "+6281234567001",
        "budi.santoso@example.com",
        "regular",
        "unverified",
    ),
    (
        "Siti Rahmawati",
        "+6281234567002",
        "siti.rahma@example.com",
        "silver",
        "verified",
    ),
    (
        "Agus Salim",
        "+6281234567003",
        "agus.salim@example.com",
        "gold",
        "verified",
    ),
    (
        "Ni Luh Putu Ayu",
        "+6281234567004",
        "putu.ayu@example.com",
        "platinum",
        "verified",
    ),
    (
        "Made Wirawan",
        "+6281234567005",
        "made.wirawan@example.com",
        "regular",
        "pending",
    ),
];

/// What [`seed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The database was empty and now holds the demo data.
    Seeded,
    /// Branches already existed; nothing was changed.
    AlreadyPresent,
}

/// Loads the demo data into an empty database, in one transaction.
pub async fn seed(db: &PgPool) -> anyhow::Result<SeedOutcome> {
    let mut tx = db.begin().await?;
    // Serialise concurrent seeders (two `make run`s) on one advisory lock.
    sqlx::query("SELECT pg_advisory_xact_lock(73042026)")
        .execute(&mut *tx)
        .await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM branches")
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        return Ok(SeedOutcome::AlreadyPresent);
    }
    let mut branch_ids = std::collections::HashMap::new();
    for b in BRANCHES {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO branches (id, code, name, address, time_zone, latitude, longitude) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(b.code)
        .bind(b.name)
        .bind(b.address)
        .bind(b.time_zone)
        .bind(b.location.0)
        .bind(b.location.1)
        .execute(&mut *tx)
        .await?;
        branch_ids.insert(b.code, id);
    }
    let mut sku_ids = std::collections::HashMap::new();
    for s in SKUS {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO skus (id, code, name, category, daily_rate_idr, deposit_idr, turnaround_buffer_days, \
             late_grace_minutes, late_fee_per_hour_idr, late_fee_daily_cap_idr, checklist, \
             fuel_per_eighth_idr) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 60, $5 / 10, $5, $8, $9)",
        )
        .bind(id).bind(s.code).bind(s.name).bind(s.category)
        .bind(s.daily_rate_idr).bind(s.deposit_idr).bind(s.buffer_days)
        .bind(sqlx::types::Json(checklist(s.category)))
        // An eighth of a tank: about 5.6 l of a car's 45 l, 0.7 l of a scooter's 5.5 l.
        .bind(match s.category { "car" => 75_000_i64, "motorbike" => 10_000, _ => 0 })
        .execute(&mut *tx).await?;
        sku_ids.insert(s.code, id);
    }
    for (i, (branch, sku, plate)) in ASSETS.iter().enumerate() {
        let odometer = if sku.starts_with("GENSET") {
            None
        } else {
            Some(12_000 + 1_375 * i32::try_from(i)?)
        };
        sqlx::query(
            "INSERT INTO assets (id, sku_id, home_branch_id, plate_or_serial, odometer_km) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(Uuid::now_v7()).bind(sku_ids[sku]).bind(branch_ids[branch]).bind(plate).bind(odometer)
        .execute(&mut *tx).await?;
    }
    let customer_hash = crate::auth::password::hash(DEMO_CUSTOMER_PASSWORD)?;
    for (name, phone, email, tier, kyc) in CUSTOMERS {
        sqlx::query(
            "INSERT INTO customers (id, full_name, phone, email, membership_tier, kyc_status, password_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Uuid::now_v7()).bind(name).bind(phone).bind(email).bind(tier).bind(kyc).bind(&customer_hash)
        .execute(&mut *tx).await?;
    }
    for login in DEMO_LOGINS {
        let id = Uuid::now_v7();
        let hash = crate::auth::password::hash(login.password)?;
        let display_name = login.email.split('@').next().unwrap_or(login.email);
        sqlx::query("INSERT INTO users (id, email, display_name, password_hash, role) VALUES ($1, $2, $3, $4, $5)")
            .bind(id).bind(login.email).bind(display_name).bind(hash).bind(login.role)
            .execute(&mut *tx).await?;
        for code in login.branches {
            sqlx::query("INSERT INTO user_branches (user_id, branch_id) VALUES ($1, $2)")
                .bind(id)
                .bind(branch_ids[code])
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(SeedOutcome::Seeded)
}

/// The demo logins as a printable table.
pub fn logins_table() -> String {
    let rows: Vec<String> = DEMO_LOGINS
        .iter()
        .map(|l| {
            let branches = if l.branches.is_empty() {
                "all".to_owned()
            } else {
                l.branches.join(", ")
            };
            format!(
                "  {:<13} {:<34} password: {:<15} branches: {branches}\n",
                l.role, l.email, l.password
            )
        })
        .collect();
    let customers: Vec<String> = CUSTOMERS
        .iter()
        .map(|(name, _, email, tier, _)| format!("  {tier:<13} {email:<34} ({name})\n"))
        .collect();
    format!(
        "Demo staff accounts (demo data only):\n{}Demo customers, password {DEMO_CUSTOMER_PASSWORD}:\n{}",
        rows.concat(),
        customers.concat()
    )
}

/// The demo inspection checklist of a SKU category.
fn checklist(category: &str) -> Vec<sentra_domain::ChecklistItem> {
    let lines: &[(&str, &str, &str, bool)] = match category {
        "car" => &[
            (
                "body_exterior",
                "Bodi luar (baret, penyok)",
                "Exterior body (scratches, dents)",
                true,
            ),
            ("tyres", "Kondisi ban", "Tyre condition", false),
            (
                "spare_tyre_jack",
                "Ban serep dan dongkrak",
                "Spare tyre and jack",
                false,
            ),
            ("fuel_level", "Level BBM", "Fuel level", true),
            ("odometer", "Angka odometer", "Odometer reading", true),
            (
                "interior_clean",
                "Kebersihan interior",
                "Interior cleanliness",
                false,
            ),
            (
                "stnk",
                "STNK ada",
                "Vehicle registration (STNK) present",
                false,
            ),
        ],
        "motorbike" => &[
            (
                "body_exterior",
                "Bodi (baret, penyok)",
                "Body (scratches, dents)",
                true,
            ),
            ("tyres", "Kondisi ban", "Tyre condition", false),
            ("helmets", "Dua helm", "Two helmets", false),
            ("fuel_level", "Level BBM", "Fuel level", true),
            (
                "stnk",
                "STNK ada",
                "Vehicle registration (STNK) present",
                false,
            ),
        ],
        _ => &[
            (
                "unit_intact",
                "Unit utuh, tanpa kerusakan",
                "Unit intact, no damage",
                true,
            ),
            (
                "cables",
                "Kabel dan aksesori lengkap",
                "Cables and accessories complete",
                false,
            ),
            ("test_run", "Uji nyala", "Test run", false),
        ],
    };
    lines
        .iter()
        .map(
            |(key, label_id, label_en, requires_photo)| sentra_domain::ChecklistItem {
                key: (*key).to_owned(),
                label_id: (*label_id).to_owned(),
                label_en: (*label_en).to_owned(),
                requires_photo: *requires_photo,
            },
        )
        .collect()
}
