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

/// `payload` as a QR code in a grayscale PNG, `module_px` pixels per module, with the
/// four-module quiet zone (for e-mail, where a PDF page is not wanted).
pub fn qr_png(payload: &str, module_px: u32) -> Result<Vec<u8>, RenderError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| RenderError::Content(format!("the QR payload cannot be encoded: {e}")))?;
    let modules = u32::try_from(code.width()).unwrap_or(u32::MAX);
    let side = (modules + 8) * module_px;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; (side * side) as usize];
    for (index, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let (row, column) = (index / modules + 4, index % modules + 4);
        for y in row * module_px..(row + 1) * module_px {
            let start = (y * side + column * module_px) as usize;
            pixels[start..start + module_px as usize].fill(0);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let writer = encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&pixels).map(|()| w))
        .map_err(|e| RenderError::Content(format!("the QR image cannot be written: {e}")))?;
    writer
        .finish()
        .map_err(|e| RenderError::Content(format!("the QR image cannot be written: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_is_a_square_with_a_white_quiet_zone() {
        let png_bytes = qr_png("SR1:B:example", 4).expect("png");
        assert_eq!(&png_bytes[1..4], b"PNG");
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("header");
        let info = reader.info().clone();
        assert_eq!(info.width, info.height);
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        reader.next_frame(&mut buf).expect("frame");
        assert_eq!(buf[0], 255, "the corner is the white quiet zone");
        assert!(buf.contains(&0), "there are dark modules");
    }
}
