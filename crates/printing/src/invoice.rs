//! The deposit invoice ("Faktur / Rincian Biaya Sewa"), laid out on A4 from
//! `printer-templates/invoice/`: letterhead, title, number and date, the renter, booking and
//! vehicle, the table of charges (each description wrapped in its column with its reference in
//! small print under it, the amount right-aligned, the column titles repeated on every page the
//! table runs onto), the total, and what became of the deposit hold (held, taken from it, given
//! back, charged separately) with a note on when released money reaches the card.
//!
//! The caller formats every value (money, dates); this module only lays them out.

use serde::Deserialize;

use crate::{
    RenderError, fonts,
    layout::{A4, Flow, MARGIN_MM, line_mm},
    pdf::Page,
};

/// The template shipped in `printer-templates/invoice/`.
const TEMPLATE: &str = include_str!("../../../printer-templates/invoice/template.json");

/// Width of the amount column, right-aligned against the right margin.
const AMOUNT_MM: f64 = 44.0;
/// Space between the description and the amount columns.
const GUTTER_MM: f64 = 6.0;
/// How far a line's reference is indented under its description.
const REFERENCE_INDENT_MM: f64 = 3.0;
/// Space after each row of the table.
const ROW_GAP_MM: f64 = 1.2;
/// Body text, a line's reference, the column titles, the total.
const BODY_PT: f64 = 10.0;
const REFERENCE_PT: f64 = 7.5;
const HEADER_PT: f64 = 9.0;
const TOTAL_PT: f64 = 10.5;
const HEADING_PT: f64 = 11.0;

/// Everything an invoice prints, already formatted by the caller (money as "Rp 1.250.000").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invoice {
    /// `INV/JKT01/2026/000001`.
    pub number: String,
    /// `02-12-2026 13:05 WIB`.
    pub issued_at: String,
    pub branch_name: String,
    pub branch_address: String,
    pub renter_name: String,
    /// The booking id (uuid text).
    pub booking_reference: String,
    pub plate: String,
    /// Make and model.
    pub vehicle: String,
    /// `01-12-2026 s.d. 04-12-2026`.
    pub period: String,
    /// `Kartu kredit (Midtrans)`, `Tunai`.
    pub payment_method: String,
    pub lines: Vec<InvoiceLine>,
    /// The sum of the lines.
    pub total: String,
    /// The amount held (pre-authorisation or cash deposit).
    pub hold: String,
    /// Taken from the hold.
    pub captured: String,
    /// Given back to the customer.
    pub released: String,
    /// Charged separately (above the hold), `Rp 0` if none.
    pub outstanding: String,
}

/// One charge on the invoice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceLine {
    /// `Sewa 3 hari × Rp 350.000`, `Keterlambatan 5 jam`, `Kerusakan: bumper depan (penyok)`.
    pub description: String,
    /// An inspection reference or empty (printed small under the description).
    pub reference: String,
    /// `Rp 1.050.000`.
    pub amount: String,
}

/// The printed texts, from `printer-templates/invoice/template.json`.
#[derive(Debug, Deserialize)]
struct Template {
    company: String,
    letterhead: String,
    title: String,
    number: String,
    issued: String,
    renter_heading: String,
    renter_name: String,
    booking_reference: String,
    payment_method: String,
    vehicle_heading: String,
    plate: String,
    vehicle: String,
    period: String,
    lines_heading: String,
    description_column: String,
    amount_column: String,
    continued: String,
    no_lines: String,
    total: String,
    summary_heading: String,
    hold: String,
    captured: String,
    released: String,
    outstanding: String,
    note: String,
}

impl Invoice {
    /// `template` with every `{placeholder}` filled.
    fn fill(&self, template: &str, company: &str) -> String {
        fill(
            template,
            &[
                ("{company}", company),
                ("{number}", &self.number),
                ("{issued_at}", &self.issued_at),
                ("{branch_name}", &self.branch_name),
                ("{branch_address}", &self.branch_address),
                ("{renter_name}", &self.renter_name),
                ("{booking_reference}", &self.booking_reference),
                ("{plate}", &self.plate),
                ("{vehicle}", &self.vehicle),
                ("{period}", &self.period),
                ("{payment_method}", &self.payment_method),
                ("{total}", &self.total),
                ("{hold}", &self.hold),
                ("{captured}", &self.captured),
                ("{released}", &self.released),
                ("{outstanding}", &self.outstanding),
            ],
        )
    }
}

/// `template` with each `{key}` of `pairs` replaced by its value in one pass, so a value that
/// itself contains braces prints as written; an unknown `{…}` stays as it is.
fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if let Some((key, value)) = pairs.iter().find(|(key, _)| tail.starts_with(key)) {
            out.push_str(value);
            rest = &tail[key.len()..];
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

fn check(invoice: &Invoice) -> Result<(), RenderError> {
    let required = [
        ("number", &invoice.number),
        ("renter_name", &invoice.renter_name),
        ("total", &invoice.total),
        ("hold", &invoice.hold),
        ("captured", &invoice.captured),
        ("released", &invoice.released),
        ("outstanding", &invoice.outstanding),
    ];
    if let Some((name, _)) = required.iter().find(|(_, v)| v.trim().is_empty()) {
        return Err(RenderError::Content(format!("{name} is required")));
    }
    for (index, line) in invoice.lines.iter().enumerate() {
        for (name, value) in [("description", &line.description), ("amount", &line.amount)] {
            if value.trim().is_empty() {
                return Err(RenderError::Content(format!(
                    "lines[{index}].{name} is required"
                )));
            }
        }
    }
    Ok(())
}

/// The width of the description column.
fn description_mm() -> f64 {
    Flow::width_mm() - AMOUNT_MM - GUTTER_MM
}

/// The height of `text` wrapped to `width_mm`.
fn wrapped_mm(text: &str, width_mm: f64, size_pt: f64, bold: bool) -> f64 {
    let fonts = fonts::shipped();
    let lines = fonts
        .wrap(&fonts.printable(text, bold), width_mm, size_pt, bold)
        .len();
    f64::from(u32::try_from(lines).unwrap_or(u32::MAX)) * line_mm(size_pt)
}

/// The height [`row`] takes.
fn row_mm(text: &str, reference: &str, amount: &str, size_pt: f64, bold: bool) -> f64 {
    let mut left = wrapped_mm(text, description_mm(), size_pt, bold);
    if !reference.trim().is_empty() {
        left += wrapped_mm(
            reference,
            description_mm() - REFERENCE_INDENT_MM,
            REFERENCE_PT,
            false,
        );
    }
    left.max(wrapped_mm(amount, AMOUNT_MM, size_pt, bold)) + ROW_GAP_MM
}

/// One row: `text` wrapped in the description column with `reference` in small print under it,
/// and `amount` right-aligned in the amount column from the same first baseline.
fn row(flow: &mut Flow, text: &str, reference: &str, amount: &str, size_pt: f64, bold: bool) {
    let fonts = fonts::shipped();
    flow.reserve(row_mm(text, reference, amount, size_pt, bold));
    let page = flow.page_count();
    // The amount first, on this page, even if a description taller than a page runs on.
    let line = line_mm(size_pt);
    let mut bottom = flow.y();
    for part in fonts.wrap(&fonts.printable(amount, bold), AMOUNT_MM, size_pt, bold) {
        bottom += line;
        if part.is_empty() {
            continue;
        }
        let x = A4.0 - MARGIN_MM - fonts.width_mm(&part, size_pt, bold);
        flow.page()
            .text(x, bottom - line * 0.25, size_pt, bold, &part);
    }
    flow.text_at(0.0, description_mm(), text, size_pt, bold);
    if !reference.trim().is_empty() {
        flow.text_at(
            REFERENCE_INDENT_MM,
            description_mm() - REFERENCE_INDENT_MM,
            reference,
            REFERENCE_PT,
            false,
        );
    }
    if flow.page_count() == page {
        flow.space((bottom - flow.y()).max(0.0));
    }
    flow.space(ROW_GAP_MM);
}

/// The column titles with a rule under them; `continued` on the pages the table runs onto.
fn column_titles(flow: &mut Flow, template: &Template, continued: bool) {
    let description = if continued {
        format!("{} {}", template.description_column, template.continued)
    } else {
        template.description_column.clone()
    };
    row(
        flow,
        &description,
        "",
        &template.amount_column,
        HEADER_PT,
        true,
    );
    flow.rule();
}

/// The table of charges and its total.
fn charges(flow: &mut Flow, template: &Template, invoice: &Invoice) {
    // The heading, the column titles and a first row stay together.
    flow.reserve(line_mm(HEADING_PT) + line_mm(HEADER_PT) + 3.0 * line_mm(BODY_PT) + 6.0);
    flow.paragraph(&template.lines_heading, HEADING_PT, true);
    flow.space(1.5);
    column_titles(flow, template, false);
    if invoice.lines.is_empty() {
        row(flow, &template.no_lines, "", "", BODY_PT, false);
    }
    for line in &invoice.lines {
        let pages = flow.page_count();
        flow.reserve(row_mm(
            &line.description,
            &line.reference,
            &line.amount,
            BODY_PT,
            false,
        ));
        if flow.page_count() > pages {
            column_titles(flow, template, true);
        }
        row(
            flow,
            &line.description,
            &line.reference,
            &line.amount,
            BODY_PT,
            false,
        );
    }
    flow.reserve(2.0 + row_mm(&template.total, "", &invoice.total, TOTAL_PT, true));
    flow.rule();
    row(flow, &template.total, "", &invoice.total, TOTAL_PT, true);
}

/// What became of the deposit hold, and when released money comes back.
fn summary(flow: &mut Flow, template: &Template, invoice: &Invoice) {
    let amounts = [
        (&template.hold, &invoice.hold, false),
        (&template.captured, &invoice.captured, false),
        (&template.released, &invoice.released, false),
        (&template.outstanding, &invoice.outstanding, true),
    ];
    // The heading and the four amounts stay together.
    let height: f64 = amounts
        .iter()
        .map(|(label, amount, bold)| row_mm(label, "", amount, BODY_PT, *bold))
        .sum();
    flow.reserve(line_mm(HEADING_PT) + 1.5 + height);
    flow.paragraph(&template.summary_heading, HEADING_PT, true);
    flow.space(1.5);
    for (label, amount, bold) in amounts {
        row(flow, label, "", amount, BODY_PT, bold);
    }
    flow.space(3.0);
    flow.paragraph(&invoice.fill(&template.note, &template.company), 8.5, false);
}

/// The invoice's pages.
pub fn draw_invoice(invoice: &Invoice) -> Result<Vec<Page>, RenderError> {
    check(invoice)?;
    let template: Template =
        serde_json::from_str(TEMPLATE).map_err(|e| RenderError::Template(e.to_string()))?;
    let fill = |t: &str| invoice.fill(t, &template.company);
    let mut flow = Flow::new();
    flow.paragraph(&template.company, 16.0, true);
    flow.paragraph(&fill(&template.letterhead), 9.0, false);
    flow.rule();
    flow.space(3.0);
    flow.centred(&template.title, 14.0, true);
    flow.centred(&fill(&template.number), BODY_PT, false);
    flow.centred(&fill(&template.issued), BODY_PT, false);
    flow.space(4.0);
    flow.paragraph(&template.renter_heading, HEADING_PT, true);
    flow.row(&template.renter_name, &invoice.renter_name, BODY_PT);
    flow.row(
        &template.booking_reference,
        &invoice.booking_reference,
        BODY_PT,
    );
    flow.row(&template.payment_method, &invoice.payment_method, BODY_PT);
    flow.space(2.0);
    flow.paragraph(&template.vehicle_heading, HEADING_PT, true);
    flow.row(&template.plate, &invoice.plate, BODY_PT);
    flow.row(&template.vehicle, &invoice.vehicle, BODY_PT);
    flow.row(&template.period, &invoice.period, BODY_PT);
    flow.space(5.0);
    charges(&mut flow, &template, invoice);
    flow.space(6.0);
    summary(&mut flow, &template, invoice);
    Ok(flow.finish(&format!("{} · {}", template.title, invoice.number)))
}

/// The invoice as a PDF.
pub fn render_invoice(invoice: &Invoice) -> Result<Vec<u8>, RenderError> {
    Ok(crate::pdf::render("Faktur", &draw_invoice(invoice)?))
}

#[cfg(test)]
#[path = "invoice/tests.rs"]
mod tests;
