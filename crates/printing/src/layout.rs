//! Flowing text down A4 pages: headings, wrapped paragraphs, label–value rows, numbered clauses
//! and boxes, each measured with the font's metrics; a new page starts whenever the next block
//! would cross the bottom margin, and every page gets its number at the end.

use crate::{fonts, pdf::Page};

/// A4 in millimetres.
pub const A4: (f64, f64) = (210.0, 297.0);
/// The page margins.
pub const MARGIN_MM: f64 = 18.0;
/// Room kept at the bottom for the page number.
const FOOTER_MM: f64 = 12.0;

/// Line height for a font size, in millimetres.
pub fn line_mm(size_pt: f64) -> f64 {
    size_pt * 1.35 / crate::pdf::PT_PER_MM
}

/// A document being laid out.
#[derive(Debug)]
pub struct Flow {
    pages: Vec<Page>,
    /// The baseline cursor on the current page, from the top.
    y_mm: f64,
}

impl Default for Flow {
    fn default() -> Self {
        Self::new()
    }
}

impl Flow {
    /// An empty document with its first page.
    pub fn new() -> Self {
        Self {
            pages: vec![Page::new(A4.0, A4.1)],
            y_mm: MARGIN_MM,
        }
    }

    /// The width text may take.
    pub fn width_mm() -> f64 {
        A4.0 - 2.0 * MARGIN_MM
    }

    fn bottom() -> f64 {
        A4.1 - MARGIN_MM - FOOTER_MM
    }

    /// The page being drawn on.
    pub fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("a flow always has a page")
    }

    /// The cursor (top of the next block).
    pub fn y(&self) -> f64 {
        self.y_mm
    }

    /// How many pages the document has so far (grows when a block starts a new page).
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Makes sure `height_mm` fits below the cursor, starting a new page if not.
    pub fn reserve(&mut self, height_mm: f64) {
        if self.y_mm + height_mm > Self::bottom() {
            self.pages.push(Page::new(A4.0, A4.1));
            self.y_mm = MARGIN_MM;
        }
    }

    /// Moves the cursor down.
    pub fn space(&mut self, mm: f64) {
        self.y_mm += mm;
    }

    /// Wrapped text from `x_mm` (relative to the left margin) across `width_mm`.
    pub fn text_at(&mut self, x_mm: f64, width_mm: f64, text: &str, size_pt: f64, bold: bool) {
        let fonts = fonts::shipped();
        let printable = fonts.printable(text, bold);
        for line in fonts.wrap(&printable, width_mm, size_pt, bold) {
            let height = line_mm(size_pt);
            self.reserve(height);
            self.y_mm += height;
            let y = self.y_mm - height * 0.25;
            self.page().text(MARGIN_MM + x_mm, y, size_pt, bold, &line);
        }
    }

    /// A paragraph across the full width.
    pub fn paragraph(&mut self, text: &str, size_pt: f64, bold: bool) {
        self.text_at(0.0, Self::width_mm(), text, size_pt, bold);
    }

    /// A centred line (titles).
    pub fn centred(&mut self, text: &str, size_pt: f64, bold: bool) {
        let fonts = fonts::shipped();
        let text = fonts.printable(text, bold);
        let width = fonts.width_mm(&text, size_pt, bold);
        let height = line_mm(size_pt);
        self.reserve(height);
        self.y_mm += height;
        let x = (A4.0 - width) / 2.0;
        let y = self.y_mm - height * 0.25;
        self.page().text(x.max(MARGIN_MM), y, size_pt, bold, &text);
    }

    /// A rule across the width.
    pub fn rule(&mut self) {
        self.reserve(2.0);
        let y = self.y_mm + 1.0;
        self.page().line(MARGIN_MM, y, A4.0 - MARGIN_MM, y);
        self.y_mm += 2.0;
    }

    /// A label in the first column and its (wrapped) value in the second.
    pub fn row(&mut self, label: &str, value: &str, size_pt: f64) {
        const LABEL_MM: f64 = 48.0;
        let fonts = fonts::shipped();
        let value = fonts.printable(value, false);
        let lines = fonts.wrap(&value, Self::width_mm() - LABEL_MM, size_pt, false);
        let height = line_mm(size_pt);
        self.reserve(height * f64::from(u32::try_from(lines.len()).unwrap_or(1)));
        let top = self.y_mm;
        self.text_at(0.0, LABEL_MM - 2.0, label, size_pt, true);
        let after_label = self.y_mm;
        self.y_mm = top;
        for line in lines {
            self.y_mm += height;
            let y = self.y_mm - height * 0.25;
            self.page()
                .text(MARGIN_MM + LABEL_MM, y, size_pt, false, &line);
        }
        self.y_mm = self.y_mm.max(after_label);
    }

    /// A numbered clause: the number hangs, the text wraps beside it.
    pub fn clause(&mut self, number: &str, text: &str, size_pt: f64) {
        const HANG_MM: f64 = 8.0;
        // The first line fits on this page, so the number and that line share a baseline.
        self.reserve(line_mm(size_pt));
        let baseline = self.y_mm + line_mm(size_pt) * 0.75;
        self.page()
            .text(MARGIN_MM, baseline, size_pt, false, number);
        self.text_at(HANG_MM, Self::width_mm() - HANG_MM, text, size_pt, false);
    }

    /// Side-by-side boxes of `height_mm` with a caption above each (signatures).
    pub fn boxes(
        &mut self,
        captions: &[&str],
        height_mm: f64,
        size_pt: f64,
    ) -> Vec<(usize, f64, f64)> {
        let gap = 8.0;
        let count = f64::from(u32::try_from(captions.len().max(1)).unwrap_or(1));
        let width = (Self::width_mm() - gap * (count - 1.0)) / count;
        self.reserve(line_mm(size_pt) * 2.0 + height_mm);
        let top = self.y_mm;
        let mut placed = Vec::new();
        for (index, caption) in captions.iter().enumerate() {
            let x = MARGIN_MM + f64::from(u32::try_from(index).unwrap_or(0)) * (width + gap);
            self.y_mm = top;
            self.text_at(x - MARGIN_MM, width, caption, size_pt, true);
            let box_top = top + line_mm(size_pt) * 2.0;
            self.page().frame(x, box_top, width, height_mm);
            placed.push((self.pages.len() - 1, x, box_top));
        }
        self.y_mm = top + line_mm(size_pt) * 2.0 + height_mm + 2.0;
        placed
    }

    /// The pages so far (for drawing into a box placed earlier).
    pub fn pages_mut(&mut self) -> &mut [Page] {
        &mut self.pages
    }

    /// Finishes the document: "Halaman i dari n" and `footer` at the bottom of every page.
    pub fn finish(mut self, footer: &str) -> Vec<Page> {
        let total = self.pages.len();
        for (index, page) in self.pages.iter_mut().enumerate() {
            let y = A4.1 - MARGIN_MM + 2.0;
            page.line(MARGIN_MM, y - 5.0, A4.0 - MARGIN_MM, y - 5.0);
            page.text(MARGIN_MM, y, 7.5, false, footer);
            let number = format!("Halaman {} dari {total}", index + 1);
            let width = fonts::shipped().width_mm(&number, 7.5, false);
            page.text(A4.0 - MARGIN_MM - width, y, 7.5, false, &number);
        }
        self.pages
    }
}
