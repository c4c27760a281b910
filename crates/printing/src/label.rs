//! The asset QR label: the signed payload as a QR code plus the plate, SKU and branch, laid out by
//! `printer-templates/asset-label/template.json`.

use serde::Deserialize;

use crate::{RenderError, pdf::Page};

/// The template shipped in `printer-templates/asset-label/`.
const TEMPLATE: &str = include_str!("../../../printer-templates/asset-label/template.json");

/// What one label shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetLabel {
    /// The signed QR text (`SR1:A:…`), made by the server.
    pub payload: String,
    /// Number plate or serial number.
    pub plate: String,
    pub sku_name: String,
    pub branch_code: String,
    pub label_version: u32,
}

/// Layout of a label, in millimetres from the top-left corner.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelTemplate {
    pub page_width_mm: f64,
    pub page_height_mm: f64,
    pub qr: QrBox,
    pub texts: Vec<TextLine>,
}

/// Where the QR code goes.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct QrBox {
    pub x_mm: f64,
    pub y_mm: f64,
    pub size_mm: f64,
}

/// One line of text with `{placeholders}`.
#[derive(Debug, Clone, Deserialize)]
pub struct TextLine {
    pub x_mm: f64,
    pub y_mm: f64,
    pub size_pt: f64,
    #[serde(default)]
    pub bold: bool,
    pub max_chars: usize,
    pub text: String,
}

impl LabelTemplate {
    /// The shipped template.
    pub fn shipped() -> Result<Self, RenderError> {
        Self::from_json(TEMPLATE)
    }

    /// A template from its JSON text.
    pub fn from_json(json: &str) -> Result<Self, RenderError> {
        let template: Self =
            serde_json::from_str(json).map_err(|e| RenderError::Template(e.to_string()))?;
        let fits = template.qr.size_mm > 0.0
            && template.qr.x_mm + template.qr.size_mm <= template.page_width_mm
            && template.qr.y_mm + template.qr.size_mm <= template.page_height_mm;
        if !fits {
            return Err(RenderError::Template(
                "the QR code does not fit on the page".to_owned(),
            ));
        }
        Ok(template)
    }
}

/// Renders one label as a one-page PDF.
pub fn render_asset_label(
    template: &LabelTemplate,
    label: &AssetLabel,
) -> Result<Vec<u8>, RenderError> {
    Ok(draw_asset_label(template, label)?.finish())
}

/// Draws one label on a page: [`Page::finish`] makes the PDF, [`crate::preview::page_svg`]
/// the preview.
pub fn draw_asset_label(template: &LabelTemplate, label: &AssetLabel) -> Result<Page, RenderError> {
    let mut page = Page::new(template.page_width_mm, template.page_height_mm);
    crate::qr::draw_qr(
        &mut page,
        template.qr.x_mm,
        template.qr.y_mm,
        template.qr.size_mm,
        &label.payload,
    )?;
    for line in &template.texts {
        let text = line
            .text
            .replace("{plate}", &label.plate)
            .replace("{sku_name}", &label.sku_name)
            .replace("{branch_code}", &label.branch_code)
            .replace("{label_version}", &label.label_version.to_string());
        let text: String = text.chars().take(line.max_chars).collect();
        page.text(line.x_mm, line.y_mm, line.size_pt, line.bold, &text);
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;
    use sentra_test_support::pdf::read_back;

    fn label() -> AssetLabel {
        AssetLabel {
            payload: "SR1:A:AGNM4SDK7BVRNKX2FFFUQPNCAI:2:M5Q2JBVQ6TPBUIDJ".to_owned(),
            plate: "B 1234 SRT".to_owned(),
            sku_name: "Toyota Avanza 1.3 G AT".to_owned(),
            branch_code: "JKT01".to_owned(),
            label_version: 2,
        }
    }

    /// Rasterises the PDF with poppler (a real PDF renderer) and decodes the QR code from the
    /// pixels: what a scanner pointed at the printed label reads.
    #[test]
    fn the_printed_label_scans_back_to_its_payload() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pdf_path = dir.path().join("label.pdf");
        let pdf = render_asset_label(&LabelTemplate::shipped().expect("template"), &label())
            .expect("render");
        std::fs::write(&pdf_path, &pdf).expect("write");
        let (content, text) = read_back(&pdf_path);
        assert_eq!(content, label().payload);
        assert!(text.contains("B 1234 SRT"), "{text}");
        assert!(text.contains("Cabang JKT01"), "{text}");
    }

    /// The print preview, drawn by librsvg (a real SVG renderer, `rsvg-convert`) and rasterised
    /// by poppler, scans back to the same payload and shows the same text: the preview shows the
    /// label the printer gets.
    #[test]
    fn the_preview_scans_back_to_the_same_payload() {
        let dir = tempfile::tempdir().expect("temp dir");
        let page =
            draw_asset_label(&LabelTemplate::shipped().expect("template"), &label()).expect("draw");
        let svg_path = dir.path().join("label.svg");
        std::fs::write(&svg_path, crate::preview::page_svg(&page)).expect("write");
        let drawn = dir.path().join("preview.pdf");
        let status = Command::new("rsvg-convert")
            .args(["--format", "pdf", "--output"])
            .arg(&drawn)
            .arg(&svg_path)
            .status()
            .expect("rsvg-convert (librsvg2-bin) is installed by `make test`");
        assert!(status.success());
        let (content, text) = read_back(&drawn);
        assert_eq!(content, label().payload);
        assert!(text.contains("B 1234 SRT"), "{text}");
        assert!(text.contains("Cabang JKT01"), "{text}");
    }

    #[test]
    fn a_template_whose_qr_code_overflows_is_refused() {
        let json = TEMPLATE.replace("\"size_mm\": 27.0", "\"size_mm\": 40.0");
        assert!(matches!(
            LabelTemplate::from_json(&json),
            Err(RenderError::Template(_))
        ));
    }

    #[test]
    fn long_names_are_cut_to_the_template_width() {
        let mut long = label();
        long.sku_name = "Mitsubishi Pajero Sport Dakar Ultimate 4x4".to_owned();
        let pdf = render_asset_label(&LabelTemplate::shipped().expect("template"), &long)
            .expect("render");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("long.pdf");
        std::fs::write(&path, &pdf).expect("write");
        let (_, text) = read_back(&path);
        assert!(text.contains("Mitsubishi Pajero Spor\n"), "{text}");
    }
}
