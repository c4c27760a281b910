//! The surat jalan (delivery note) and the perjanjian sewa (rental agreement), laid out on A4
//! from `printer-templates/surat-jalan/` and `printer-templates/rental-agreement/`: letterhead,
//! numbered document, parties with the NIK masked, vehicle, rental period in the branch's time
//! zone, price and deposit hold with the pre-authorisation consent, obligations, late-fee rule,
//! signature boxes (with the e-Meterai place on the agreement) and a QR code that opens the
//! handover record's verify page.
//!
//! The caller formats every value (money, dates, the masked NIK); this module only lays them out.

use serde::Deserialize;

use crate::{
    RenderError,
    layout::{Flow, MARGIN_MM},
    pdf::Page,
    qr::draw_qr,
};

const SURAT_JALAN: &str = include_str!("../../../printer-templates/surat-jalan/template.json");
const AGREEMENT: &str = include_str!("../../../printer-templates/rental-agreement/template.json");

/// Everything the two documents print about one rental, already formatted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RentalDocument {
    /// `SJ/JKT01/2026/000001` or `PS/JKT01/2026/000001`.
    pub number: String,
    /// `02-12-2026 13:05 WIB`.
    pub issued_at: String,
    pub branch_name: String,
    pub branch_address: String,
    /// `Waktu Indonesia Barat (WIB)`.
    pub time_zone: String,
    pub renter_name: String,
    /// `************0001`.
    pub renter_nik: String,
    pub renter_phone: String,
    pub plate: String,
    /// Make and model.
    pub vehicle: String,
    pub colour: String,
    pub odometer_km: String,
    /// `6/8`.
    pub fuel: String,
    pub period_start: String,
    pub period_end: String,
    pub days: u32,
    pub daily_rate: String,
    pub total: String,
    pub deposit: String,
    /// `Rp 45.000 per jam setelah 60 menit, paling banyak Rp 450.000 per hari`.
    pub late_fee_rule: String,
    /// The handover record's tamper-proof hash.
    pub handover_hash: String,
    /// The verify page of that record (what the QR code opens).
    pub verify_url: String,
}

impl RentalDocument {
    /// `template` with every `{placeholder}` filled.
    fn fill(&self, template: &str, company: &str) -> String {
        let days = self.days.to_string();
        let pairs: [(&str, &str); 23] = [
            ("{company}", company),
            ("{number}", &self.number),
            ("{issued_at}", &self.issued_at),
            ("{branch_name}", &self.branch_name),
            ("{branch_address}", &self.branch_address),
            ("{time_zone}", &self.time_zone),
            ("{renter_name}", &self.renter_name),
            ("{renter_nik}", &self.renter_nik),
            ("{renter_phone}", &self.renter_phone),
            ("{plate}", &self.plate),
            ("{vehicle}", &self.vehicle),
            ("{colour}", &self.colour),
            ("{odometer}", &self.odometer_km),
            ("{fuel}", &self.fuel),
            ("{period_start}", &self.period_start),
            ("{period_end}", &self.period_end),
            ("{days}", &days),
            ("{daily_rate}", &self.daily_rate),
            ("{total}", &self.total),
            ("{deposit}", &self.deposit),
            ("{late_fee_rule}", &self.late_fee_rule),
            ("{handover_hash}", &self.handover_hash),
            ("{verify_url}", &self.verify_url),
        ];
        pairs
            .iter()
            .fold(template.to_owned(), |text, (key, value)| {
                text.replace(key, value)
            })
    }
}

#[derive(Debug, Deserialize)]
struct SuratJalanTemplate {
    company: String,
    title: String,
    intro: String,
    notes: Vec<String>,
    signatures: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct AgreementTemplate {
    company: String,
    title: String,
    opening: String,
    first_party: String,
    second_party: String,
    recital: String,
    clauses: Vec<String>,
    closing: String,
    signatures: Vec<String>,
    meterai: String,
}

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, RenderError> {
    serde_json::from_str(json).map_err(|e| RenderError::Template(e.to_string()))
}

fn check(doc: &RentalDocument) -> Result<(), RenderError> {
    let required = [
        ("number", &doc.number),
        ("renter_name", &doc.renter_name),
        ("plate", &doc.plate),
        ("handover_hash", &doc.handover_hash),
        ("verify_url", &doc.verify_url),
    ];
    match required.iter().find(|(_, v)| v.trim().is_empty()) {
        Some((name, _)) => Err(RenderError::Content(format!("{name} is required"))),
        None => Ok(()),
    }
}

/// The letterhead, the title and the number.
fn heading(flow: &mut Flow, company: &str, doc: &RentalDocument, title: &str) {
    flow.paragraph(company, 16.0, true);
    flow.paragraph(
        &format!("Cabang {} — {}", doc.branch_name, doc.branch_address),
        9.0,
        false,
    );
    flow.rule();
    flow.space(3.0);
    flow.centred(title, 14.0, true);
    flow.centred(&format!("Nomor: {}", doc.number), 10.0, false);
    flow.space(4.0);
}

/// The verify QR code with its caption, beside the text block at the cursor.
fn verify_block(flow: &mut Flow, doc: &RentalDocument) -> Result<(), RenderError> {
    const SIZE_MM: f64 = 32.0;
    flow.reserve(SIZE_MM + 2.0);
    let top = flow.y();
    draw_qr(flow.page(), MARGIN_MM, top, SIZE_MM, &doc.verify_url)?;
    flow.text_at(
        SIZE_MM + 4.0,
        Flow::width_mm() - SIZE_MM - 4.0,
        "Verifikasi serah terima (pindai kode QR):",
        8.5,
        true,
    );
    flow.text_at(
        SIZE_MM + 4.0,
        Flow::width_mm() - SIZE_MM - 4.0,
        &doc.verify_url,
        7.5,
        false,
    );
    flow.text_at(
        SIZE_MM + 4.0,
        Flow::width_mm() - SIZE_MM - 4.0,
        &format!("SHA-256: {}", doc.handover_hash),
        7.0,
        false,
    );
    let after = flow.y();
    flow.space((top + SIZE_MM + 2.0 - after).max(0.0));
    Ok(())
}

/// The surat jalan's pages.
pub fn draw_surat_jalan(doc: &RentalDocument) -> Result<Vec<Page>, RenderError> {
    check(doc)?;
    let template: SuratJalanTemplate = parse(SURAT_JALAN)?;
    let fill = |t: &str| doc.fill(t, &template.company);
    let mut flow = Flow::new();
    heading(&mut flow, &template.company, doc, &template.title);
    flow.paragraph(&fill(&template.intro), 10.0, false);
    flow.space(3.0);
    flow.paragraph("Penyewa", 11.0, true);
    flow.row("Nama", &doc.renter_name, 10.0);
    flow.row("NIK", &doc.renter_nik, 10.0);
    flow.row("Telepon", &doc.renter_phone, 10.0);
    flow.space(2.0);
    flow.paragraph("Kendaraan", 11.0, true);
    flow.row("Nomor polisi", &doc.plate, 10.0);
    flow.row("Merek / tipe", &doc.vehicle, 10.0);
    flow.row("Warna", &doc.colour, 10.0);
    flow.row("Odometer", &format!("{} km", doc.odometer_km), 10.0);
    flow.row("BBM", &doc.fuel, 10.0);
    flow.space(2.0);
    flow.paragraph("Masa sewa", 11.0, true);
    flow.row("Berangkat", &doc.period_start, 10.0);
    flow.row("Kembali", &doc.period_end, 10.0);
    flow.row("Zona waktu", &doc.time_zone, 10.0);
    flow.row("Diterbitkan", &doc.issued_at, 10.0);
    flow.space(3.0);
    for (index, note) in template.notes.iter().enumerate() {
        flow.clause(&format!("{}.", index + 1), &fill(note), 9.5);
    }
    flow.space(4.0);
    verify_block(&mut flow, doc)?;
    flow.space(4.0);
    let captions: Vec<&str> = template.signatures.iter().map(String::as_str).collect();
    flow.boxes(&captions, 28.0, 9.5);
    Ok(flow.finish(&format!("{} · {}", template.title, doc.number)))
}

/// The rental agreement's pages.
pub fn draw_agreement(doc: &RentalDocument) -> Result<Vec<Page>, RenderError> {
    check(doc)?;
    let template: AgreementTemplate = parse(AGREEMENT)?;
    let fill = |t: &str| doc.fill(t, &template.company);
    let mut flow = Flow::new();
    heading(&mut flow, &template.company, doc, &template.title);
    for part in [
        &template.opening,
        &template.first_party,
        &template.second_party,
        &template.recital,
    ] {
        flow.paragraph(&fill(part), 10.0, false);
        flow.space(1.5);
    }
    for (index, clause) in template.clauses.iter().enumerate() {
        flow.clause(&format!("{}.", index + 1), &fill(clause), 10.0);
        flow.space(1.0);
    }
    flow.space(2.0);
    flow.paragraph(&fill(&template.closing), 10.0, false);
    flow.space(4.0);
    verify_block(&mut flow, doc)?;
    flow.space(4.0);
    let captions: Vec<&str> = template.signatures.iter().map(String::as_str).collect();
    let boxes = flow.boxes(&captions, 34.0, 10.0);
    // The e-Meterai goes in the renter's box, where they sign over it.
    if let Some(&(page, x, y)) = boxes.last() {
        let page = &mut flow.pages_mut()[page];
        page.frame(x + 3.0, y + 3.0, 26.0, 26.0);
        for (line, word) in (0u32..).zip(template.meterai.split(' ')) {
            page.text(x + 5.0, y + 13.0 + f64::from(line) * 3.5, 6.5, true, word);
        }
    }
    Ok(flow.finish(&format!("{} · {}", template.title, doc.number)))
}

/// The surat jalan as a PDF.
pub fn render_surat_jalan(doc: &RentalDocument) -> Result<Vec<u8>, RenderError> {
    Ok(crate::pdf::render("Surat jalan", &draw_surat_jalan(doc)?))
}

/// The rental agreement as a PDF.
pub fn render_agreement(doc: &RentalDocument) -> Result<Vec<u8>, RenderError> {
    Ok(crate::pdf::render("Perjanjian sewa", &draw_agreement(doc)?))
}

#[cfg(test)]
#[path = "documents/tests.rs"]
mod tests;
