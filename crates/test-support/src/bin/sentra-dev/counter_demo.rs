//! The counter demo of `make run`: no scanner or printer needed. A booking starting today for
//! the Jakarta branch, a virtual serial scanner (a `socat` pseudo-terminal pair: the app reads
//! `.dev/scanner`, anyone writes codes into `.dev/scanner-in`), a private CUPS with a PDF
//! printer when this runs as root, and the desktop's preferences pointing at both.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use sentra_domain::label::{self, LabelKind};
use sentra_test_support::{CupsServer, KillOnDrop, spawn_tied};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

/// What the demo set up; dropping it stops the scanner and the printer.
pub(crate) struct CounterDemo {
    pub(crate) data_dir: PathBuf,
    instructions: String,
    _scanner: Option<KillOnDrop>,
    _printer: Option<CupsServer>,
}

impl CounterDemo {
    /// Prints how to try the counter.
    pub(crate) fn print(&self) {
        println!("{}", self.instructions);
    }
}

const PLATE_TO_BOOK: &str = "B 1235 XYZ";
const PLATE_TO_LABEL: &str = "B 1234 XYZ";

/// Sets the demo up under `root` (`.dev/`).
pub(crate) async fn prepare(
    root: &Path,
    database_url: &str,
    label_secret: &str,
) -> anyhow::Result<CounterDemo> {
    let mut db = PgConnection::connect(database_url).await?;
    let booking = booking_today(&mut db).await?;
    let (asset, version): (Uuid, i32) =
        sqlx::query_as("SELECT id, label_version FROM assets WHERE plate_or_serial = $1")
            .bind(PLATE_TO_LABEL)
            .fetch_one(&mut db)
            .await?;
    let key = label_secret.as_bytes();
    let booking_code = label::sign(key, LabelKind::Booking, booking, 0);
    let asset_code = label::sign(key, LabelKind::Asset, asset, u32::try_from(version)?);

    let scanner = virtual_scanner(root);
    let printer = private_printer();
    let data_dir = root.join("desktop");
    write_preferences(&data_dir, root, scanner.is_some(), printer.as_ref())?;

    let inject = root.join("scanner-in").display().to_string();
    let mut lines = vec![
        "\n▶ The counter (no hardware needed):".to_owned(),
        "    log in as admin.jkt@demo.sentrarental.id / demo-jkt-2026".to_owned(),
    ];
    if scanner.is_some() {
        lines.push(format!(
            "    scan a booking QR:   printf '%s\\r\\n' '{booking_code}' > {inject}"
        ));
        lines.push(format!(
            "    scan an asset label: printf '%s\\r\\n' '{asset_code}' > {inject}"
        ));
    } else {
        lines.push("    (install socat for a virtual serial scanner)".to_owned());
    }
    lines.push(format!(
        "    or type a code, or a plate such as {PLATE_TO_LABEL}, in the scan box and press Enter"
    ));
    lines.push(match &printer {
        Some(_) => format!(
            "    printed labels land in {}",
            CupsServer::anonymous_output_dir().display()
        ),
        None => {
            "    (run as root for the demo PDF printer; \"Simpan label sebagai PDF\" always works)"
                .to_owned()
        }
    });
    let text = lines.join("\n");
    Ok(CounterDemo {
        data_dir,
        instructions: text,
        _scanner: scanner,
        _printer: printer,
    })
}

/// A confirmed rental of [`PLATE_TO_BOOK`] starting today in Jakarta (made once a day).
async fn booking_today(db: &mut PgConnection) -> anyhow::Result<Uuid> {
    let today = "(now() AT TIME ZONE 'Asia/Jakarta')::date";
    let existing: Option<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT b.id FROM bookings b JOIN assets a ON a.id = b.asset_id \
         WHERE a.plate_or_serial = $1 AND lower(b.period) = {today} AND b.status = 'CONFIRMED'"
    )))
    .bind(PLATE_TO_BOOK)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    // An earlier day's demo rental still holds these days: it is over for the demo.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE bookings b SET status = 'CANCELLED' FROM assets a \
         WHERE a.id = b.asset_id AND a.plate_or_serial = $1 AND b.status = 'CONFIRMED' \
           AND lower(b.period) < {today} AND b.period && daterange({today}, {today} + 2)"
    )))
    .bind(PLATE_TO_BOOK)
    .execute(&mut *db)
    .await?;
    let id = Uuid::now_v7();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO bookings (id, branch_id, asset_id, customer_id, period, status, total_idr) \
         SELECT $1, a.home_branch_id, a.id, (SELECT id FROM customers ORDER BY id LIMIT 1), \
                daterange({today}, {today} + 2), 'CONFIRMED', 900000 \
         FROM assets a WHERE a.plate_or_serial = $2"
    )))
    .bind(id)
    .bind(PLATE_TO_BOOK)
    .execute(&mut *db)
    .await?;
    Ok(id)
}

/// `socat` linking `.dev/scanner` (the app's port) to `.dev/scanner-in` (where codes go in).
fn virtual_scanner(root: &Path) -> Option<KillOnDrop> {
    let (app, inject) = (root.join("scanner"), root.join("scanner-in"));
    let mut command = Command::new("socat");
    command
        .arg(format!("pty,raw,echo=0,link={}", app.display()))
        .arg(format!(
            "pty,raw,echo=0,link={},ignoreeof",
            inject.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = KillOnDrop(spawn_tied(command).ok()?);
    let started = Instant::now();
    while !(app.exists() && inject.exists()) {
        if started.elapsed() > Duration::from_secs(5) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Some(child)
}

/// A private CUPS with a PDF queue (needs root and the cups-pdf package).
fn private_printer() -> Option<CupsServer> {
    let cups = CupsServer::start().ok()?;
    cups.add_pdf_printer("SentraRental_PDF").ok()?;
    Some(cups)
}

/// Points the desktop's preferences at the demo scanner and printer, keeping the rest.
fn write_preferences(
    data_dir: &Path,
    root: &Path,
    scanner: bool,
    printer: Option<&CupsServer>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("preferences.json");
    let mut prefs: serde_json::Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    if scanner {
        prefs["scanner"] = serde_json::json!({
            "port": root.join("scanner"), "baud_rate": 9600, "line_ending": "auto"
        });
    }
    if let Some(cups) = printer {
        prefs["printer"] = serde_json::json!({"server": cups.url(), "printer": "SentraRental_PDF"});
    }
    std::fs::write(path, serde_json::to_vec_pretty(&prefs)?)?;
    Ok(())
}
