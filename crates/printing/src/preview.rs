//! The print preview: a page's drawing ([`Page::marks`]) as an SVG image the desktop shows
//! before printing. It is drawn from the same marks as the PDF, so the preview cannot show a
//! layout the printer would not get; text asks for DejaVu Sans, the font the PDF embeds.

use std::fmt::Write as _;

use crate::pdf::{Mark, PT_PER_MM, Page};

/// The page as an SVG document, sized in millimetres, on a white sheet.
pub fn page_svg(page: &Page) -> String {
    let (width, height) = page.size_mm();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}mm\" height=\"{height}mm\" \
         viewBox=\"0 0 {width} {height}\">\
         <rect width=\"{width}\" height=\"{height}\" fill=\"#fff\"/><g fill=\"#000\">"
    );
    for mark in page.marks() {
        match mark {
            Mark::Rect {
                x_mm,
                y_mm,
                width_mm,
                height_mm,
            } => {
                // A hair wider than the module so neighbours join without seams when scaled.
                let _ = write!(
                    svg,
                    "<rect x=\"{x_mm:.3}\" y=\"{y_mm:.3}\" width=\"{:.3}\" height=\"{:.3}\"/>",
                    width_mm + 0.01,
                    height_mm + 0.01
                );
            }
            Mark::Frame {
                x_mm,
                y_mm,
                width_mm,
                height_mm,
            } => {
                let _ = write!(
                    svg,
                    "<rect x=\"{x_mm:.3}\" y=\"{y_mm:.3}\" width=\"{width_mm:.3}\" \
                     height=\"{height_mm:.3}\" fill=\"none\" stroke=\"#000\" stroke-width=\"0.21\"/>"
                );
            }
            Mark::Line {
                x1_mm,
                y1_mm,
                x2_mm,
                y2_mm,
            } => {
                let _ = write!(
                    svg,
                    "<line x1=\"{x1_mm:.3}\" y1=\"{y1_mm:.3}\" x2=\"{x2_mm:.3}\" y2=\"{y2_mm:.3}\" \
                     stroke=\"#000\" stroke-width=\"0.21\"/>"
                );
            }
            Mark::Text {
                x_mm,
                y_mm,
                size_pt,
                bold,
                text,
            } => {
                let weight = if *bold { " font-weight=\"bold\"" } else { "" };
                let _ = write!(
                    svg,
                    "<text x=\"{x_mm:.3}\" y=\"{y_mm:.3}\" font-size=\"{:.3}\" \
                     font-family=\"'DejaVu Sans', Verdana, sans-serif\"{weight}>{}</text>",
                    size_pt / PT_PER_MM,
                    escape_xml(text)
                );
            }
        }
    }
    svg.push_str("</g></svg>");
    svg
}

/// Text as XML character data.
fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preview_draws_what_the_pdf_prints() {
        let mut page = Page::new(50.0, 30.0);
        page.fill_rect(1.0, 2.0, 3.0, 4.0);
        page.text(5.0, 6.0, 9.0, true, "B <1234> & Nguyễn\u{7}");
        let svg = page_svg(&page);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"50mm\""));
        assert!(svg.contains("<rect x=\"1.000\" y=\"2.000\" width=\"3.010\" height=\"4.010\"/>"));
        // Escaped for XML; Vietnamese prints (the embedded font has it), a control character
        // shows as it prints: `?`.
        assert!(
            svg.contains(">B &lt;1234&gt; &amp; Nguyễn?</text>"),
            "{svg}"
        );
        assert!(svg.contains("font-weight=\"bold\""));
        assert!(page.finish().starts_with(b"%PDF-"));
    }
}
