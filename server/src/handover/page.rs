//! The public verify page (`/v/{hash}`): what a person who scans a printed document's QR sees.
//! Plain HTML from the server, in Bahasa Indonesia with English below each heading; it shows what
//! was recorded about the asset (never the customer's personal data) and whether the record
//! still verifies against what is stored.

use std::fmt::Write as _;

use sentra_domain::{BranchTimeZone, InspectionKind};
use sentra_protocol::Verification;

use super::{HandoverError, Handovers, StoredInspection};

/// What the page shows about the asset.
#[derive(Debug)]
pub struct AssetFacts {
    pub plate_or_serial: String,
    pub sku_name: String,
    pub branch_name: String,
    pub time_zone: BranchTimeZone,
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    text.chars()
        .fold(String::with_capacity(text.len()), |mut out, c| {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c if c.is_control() => out.push('\u{fffd}'),
                c => out.push(c),
            }
            out
        })
}

fn kind_label(kind: InspectionKind) -> &'static str {
    match kind {
        InspectionKind::Pickup => "Serah terima (pengambilan) / Pickup",
        InspectionKind::Return => "Pengembalian / Return",
        InspectionKind::Delivery => "Pengantaran / Delivery",
        InspectionKind::Transfer => "Pindah cabang / Transfer",
    }
}

/// The page for a record and its verification.
pub fn render(
    stored: &StoredInspection,
    facts: &AssetFacts,
    verification: &Verification,
) -> String {
    let r = &stored.record;
    let local = stored
        .recorded_at
        .with_timezone(&facts.time_zone.utc_offset());
    let mut body = String::new();
    let (class, verdict) = if verification.verified {
        (
            "ok",
            "✔ Terverifikasi: catatan ini sama dengan saat dibuat. / Verified: this record is unchanged.",
        )
    } else {
        (
            "bad",
            "✘ TIDAK COCOK: catatan ini telah berubah. / NOT VERIFIED: this record was changed.",
        )
    };
    let _ = write!(body, "<p class=\"{class}\" id=\"verdict\">{verdict}</p>");
    if !verification.verified {
        body.push_str("<ul id=\"findings\">");
        for f in &verification.findings {
            let _ = write!(body, "<li>{}: {}</li>", esc(&f.subject), esc(&f.detail));
        }
        body.push_str("</ul>");
    }
    let _ = write!(
        body,
        "<table><tr><th>Jenis / Kind</th><td>{}</td></tr>\
         <tr><th>Kendaraan / Vehicle</th><td>{} ({})</td></tr>\
         <tr><th>Cabang / Branch</th><td>{}</td></tr>\
         <tr><th>Waktu / Time</th><td>{} {}</td></tr>\
         <tr><th>Odometer</th><td>{} km</td></tr>\
         <tr><th>BBM / Fuel</th><td>{}/8</td></tr>\
         <tr><th>Foto / Photos</th><td>{}</td></tr>\
         <tr><th>Urutan / Chain place</th><td>{}</td></tr></table>",
        kind_label(r.kind),
        esc(&facts.plate_or_serial),
        esc(&facts.sku_name),
        esc(&facts.branch_name),
        local.format("%d-%m-%Y %H:%M"),
        facts.time_zone.abbreviation(),
        r.odometer_km,
        r.fuel_eighths,
        r.photos.len(),
        r.seq,
    );
    body.push_str("<h2>Daftar periksa / Checklist</h2><ul>");
    for answer in &r.checklist {
        let mark = if answer.ok { "✔" } else { "✘" };
        let _ = write!(
            body,
            "<li>{mark} {} {}</li>",
            esc(&answer.key),
            esc(&answer.note)
        );
    }
    body.push_str("</ul><h2>Kerusakan / Damage</h2><ul>");
    if r.damages.is_empty() {
        body.push_str("<li>Tidak ada / None</li>");
    }
    for damage in &r.damages {
        let _ = write!(
            body,
            "<li>{}: {} ({}) {}</li>",
            esc(&damage.area),
            esc(&damage.kind),
            damage.severity,
            esc(&damage.note)
        );
    }
    let _ = write!(
        body,
        "</ul><p class=\"hash\">SHA-256: <code>{}</code></p>",
        esc(&stored.tamper_proof_hash)
    );
    page("Verifikasi serah terima / Handover verification", &body)
}

impl Handovers {
    /// The page for the record with tamper-proof hash `hash`, verified now; `None` when no record
    /// has it (or it is not a hash).
    pub async fn verify_page(&self, hash: &str) -> Result<Option<String>, HandoverError> {
        let hash = hash.to_ascii_lowercase();
        let well_formed = hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit());
        if !well_formed {
            return Ok(None);
        }
        let Some(id) = self.inspection_id_by_hash(&hash).await? else {
            return Ok(None);
        };
        let verification = self.verify(id).await?;
        let stored = super::records::get(&self.db, id)
            .await?
            .ok_or(HandoverError::NotFound("Inspection"))?;
        let (plate_or_serial, sku_name, branch_name, zone): (String, String, String, String) =
            sqlx::query_as(
                "SELECT a.plate_or_serial, s.name, b.name, b.time_zone FROM assets a \
                 JOIN skus s ON s.id = a.sku_id JOIN branches b ON b.id = $2 WHERE a.id = $1",
            )
            .bind(stored.record.asset_id)
            .bind(stored.record.branch_id)
            .fetch_one(&self.db)
            .await?;
        let facts = AssetFacts {
            plate_or_serial,
            sku_name,
            branch_name,
            time_zone: zone.parse().unwrap_or(BranchTimeZone::Wib),
        };
        Ok(Some(render(&stored, &facts, &verification)))
    }
}

/// The page for a hash no record has.
pub fn unknown() -> String {
    page(
        "Verifikasi serah terima / Handover verification",
        "<p class=\"bad\" id=\"verdict\">✘ Tidak ditemukan: tidak ada catatan dengan kode ini. / \
         Not found: no record has this code.</p>",
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:sans-serif;max-width:40em;margin:1em auto;padding:0 1em}}\
         .ok{{color:#075e07;font-weight:bold}}.bad{{color:#a40000;font-weight:bold}}\
         th{{text-align:left;padding-right:1em}}code{{word-break:break-all}}</style></head>\
         <body><h1>SentraRental</h1><h2>{title}</h2>{body}</body></html>"
    )
}
