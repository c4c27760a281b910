//! A deliberately small PDF writer: one page, filled rectangles and lines of text in the PDF base
//! fonts (Helvetica, Helvetica-Bold). That covers labels and plain documents without font files
//! or a layout engine, and the output opens in every viewer and CUPS filter.
//!
//! The page remembers what was drawn ([`Mark`]), so the same drawing also becomes the print
//! preview ([`crate::preview`]): what staff see before printing is what the printer gets.

use std::fmt::Write as _;

/// Points per millimetre (1 pt = 1/72 inch).
pub const PT_PER_MM: f64 = 72.0 / 25.4;

/// One thing drawn on a page, in millimetres from the top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// A filled black rectangle.
    Rect {
        x_mm: f64,
        y_mm: f64,
        width_mm: f64,
        height_mm: f64,
    },
    /// A line of text whose baseline starts at (`x_mm`, `y_mm`), as the PDF prints it
    /// (characters outside Latin-1 already replaced by `?`).
    Text {
        x_mm: f64,
        y_mm: f64,
        size_pt: f64,
        bold: bool,
        text: String,
    },
}

/// A page being drawn. Coordinates are millimetres from the top-left corner.
#[derive(Debug)]
pub struct Page {
    width_mm: f64,
    height_mm: f64,
    width_pt: f64,
    height_pt: f64,
    content: String,
    marks: Vec<Mark>,
}

impl Page {
    /// An empty page of the given size.
    pub fn new(width_mm: f64, height_mm: f64) -> Self {
        Self {
            width_mm,
            height_mm,
            width_pt: width_mm * PT_PER_MM,
            height_pt: height_mm * PT_PER_MM,
            content: String::new(),
            marks: Vec::new(),
        }
    }

    /// The page's size in millimetres (width, height).
    pub fn size_mm(&self) -> (f64, f64) {
        (self.width_mm, self.height_mm)
    }

    /// What was drawn, in order.
    pub fn marks(&self) -> &[Mark] {
        &self.marks
    }

    /// Fills a black rectangle.
    pub fn fill_rect(&mut self, x_mm: f64, y_mm: f64, width_mm: f64, height_mm: f64) {
        self.marks.push(Mark::Rect {
            x_mm,
            y_mm,
            width_mm,
            height_mm,
        });
        let x = x_mm * PT_PER_MM;
        let y = self.height_pt - (y_mm + height_mm) * PT_PER_MM;
        let _ = writeln!(
            self.content,
            "{x:.3} {y:.3} {:.3} {:.3} re f",
            width_mm * PT_PER_MM,
            height_mm * PT_PER_MM
        );
    }

    /// Writes one line of text whose baseline starts at (`x_mm`, `y_mm`).
    pub fn text(&mut self, x_mm: f64, y_mm: f64, size_pt: f64, bold: bool, text: &str) {
        self.marks.push(Mark::Text {
            x_mm,
            y_mm,
            size_pt,
            bold,
            text: printable(text),
        });
        let text = &printable(text);
        let font = if bold { "F2" } else { "F1" };
        let x = x_mm * PT_PER_MM;
        let y = self.height_pt - y_mm * PT_PER_MM;
        let _ = writeln!(
            self.content,
            "BT /{font} {size_pt:.2} Tf {x:.3} {y:.3} Td ({}) Tj ET",
            escape(text)
        );
    }

    /// The finished document.
    pub fn finish(&self) -> Vec<u8> {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {:.3} {:.3}] \
                 /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
                self.width_pt, self.height_pt
            ),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
                .to_owned(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
                .to_owned(),
            format!(
                "<< /Length {} >>\nstream\n{}endstream",
                self.content.len(),
                self.content
            ),
        ];
        let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::with_capacity(objects.len());
        for (index, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", index + 1).as_bytes());
        }
        let xref_at = out.len();
        let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for offset in offsets {
            let _ = writeln!(xref, "{offset:010} 00000 n ");
        }
        let _ = write!(
            xref,
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
            objects.len() + 1
        );
        out.extend_from_slice(xref.as_bytes());
        out
    }
}

/// The text as the base fonts print it: characters outside Latin-1, and control characters
/// (which print nothing useful and are not allowed in the SVG preview), become `?`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if u32::from(c) <= 0xff && !c.is_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// A PDF string literal's body: Latin-1 bytes as octal escapes, other characters as `?`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xff => {
                let _ = write!(out, "\\{:03o}", u32::from(c));
            }
            _ => out.push('?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_pdf_strings() {
        assert_eq!(escape("B (1234) \\"), "B \\(1234\\) \\\\");
        assert_eq!(escape("Rp 1.000 é 漢"), "Rp 1.000 \\351 ?");
    }

    #[test]
    fn the_cross_reference_table_points_at_every_object() {
        let mut page = Page::new(50.0, 30.0);
        page.fill_rect(1.0, 1.0, 2.0, 2.0);
        let pdf = page.finish();
        let find = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle);
        let tail = &pdf[find(b"startxref\n").expect("startxref") + 10..];
        let start: usize = std::str::from_utf8(tail)
            .ok()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .expect("xref offset");
        assert!(pdf[start..].starts_with(b"xref"));
        let table = std::str::from_utf8(&pdf[start..]).expect("ascii");
        for (index, line) in table.lines().skip(3).take(6).enumerate() {
            let offset: usize = line[..10].parse().expect("offset");
            let object = format!("{} 0 obj", index + 1);
            assert!(pdf[offset..].starts_with(object.as_bytes()), "{line}");
        }
    }
}
