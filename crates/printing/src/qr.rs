//! QR codes drawn as filled squares on a page (labels, the documents' verify code).

use qrcode::{EcLevel, QrCode};

use crate::{RenderError, pdf::Page};

/// Draws `payload` as a QR code in the square at (`x_mm`, `y_mm`) of side `size_mm`, with the
/// four-module quiet zone the standard asks for inside that square.
pub fn draw_qr(
    page: &mut Page,
    x_mm: f64,
    y_mm: f64,
    size_mm: f64,
    payload: &str,
) -> Result<(), RenderError> {
    // Level M survives a scratched corner and keeps the modules large enough for cheap scanners.
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| RenderError::Content(format!("the QR payload cannot be encoded: {e}")))?;
    let width = code.width();
    let module = size_mm / f64::from(u32::try_from(width + 8).unwrap_or(u32::MAX));
    for (index, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (row, column) = (index / width, index % width);
            let at = |n: usize| f64::from(u32::try_from(n + 4).unwrap_or(0)) * module;
            page.fill_rect(x_mm + at(column), y_mm + at(row), module, module);
        }
    }
    Ok(())
}
