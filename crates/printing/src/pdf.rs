//! Pages and their PDF, written with `printpdf`: filled rectangles (QR modules), lines and frames
//! (rules, signature boxes) and text in the shipped DejaVu fonts, embedded and subsetted.
//!
//! A page remembers what was drawn ([`Mark`]), so the same drawing also becomes the print
//! preview ([`crate::preview`]): what staff see before printing is what the printer gets.

use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfPage, PdfSaveOptions, Point,
    Polygon, PolygonRing, Pt, Rgb, TextItem, WindingOrder, ops::PdfFontHandle,
};

use crate::fonts;

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
    /// A black outline of a rectangle.
    Frame {
        x_mm: f64,
        y_mm: f64,
        width_mm: f64,
        height_mm: f64,
    },
    /// A straight black line.
    Line {
        x1_mm: f64,
        y1_mm: f64,
        x2_mm: f64,
        y2_mm: f64,
    },
    /// A line of text whose baseline starts at (`x_mm`, `y_mm`), as the PDF prints it
    /// (characters the font has no glyph for already replaced by `?`).
    Text {
        x_mm: f64,
        y_mm: f64,
        size_pt: f64,
        bold: bool,
        text: String,
    },
}

/// A page being drawn. Coordinates are millimetres from the top-left corner.
#[derive(Debug, Clone)]
pub struct Page {
    width_mm: f64,
    height_mm: f64,
    marks: Vec<Mark>,
}

impl Page {
    /// An empty page of the given size.
    pub fn new(width_mm: f64, height_mm: f64) -> Self {
        Self {
            width_mm,
            height_mm,
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
    }

    /// Outlines a rectangle.
    pub fn frame(&mut self, x_mm: f64, y_mm: f64, width_mm: f64, height_mm: f64) {
        self.marks.push(Mark::Frame {
            x_mm,
            y_mm,
            width_mm,
            height_mm,
        });
    }

    /// Draws a line.
    pub fn line(&mut self, x1_mm: f64, y1_mm: f64, x2_mm: f64, y2_mm: f64) {
        self.marks.push(Mark::Line {
            x1_mm,
            y1_mm,
            x2_mm,
            y2_mm,
        });
    }

    /// Writes one line of text whose baseline starts at (`x_mm`, `y_mm`).
    pub fn text(&mut self, x_mm: f64, y_mm: f64, size_pt: f64, bold: bool, text: &str) {
        self.marks.push(Mark::Text {
            x_mm,
            y_mm,
            size_pt,
            bold,
            text: fonts::shipped().printable(text, bold),
        });
    }

    /// The page alone as a PDF document.
    pub fn finish(&self) -> Vec<u8> {
        render("SentraRental", std::slice::from_ref(self))
    }
}

#[allow(clippy::cast_possible_truncation)]
fn pt(mm: f64) -> Pt {
    Pt((mm * PT_PER_MM) as f32)
}

fn point(page: &Page, x_mm: f64, y_mm: f64) -> Point {
    Point {
        x: pt(x_mm),
        y: pt(page.height_mm - y_mm),
    }
}

fn corner(p: Point) -> LinePoint {
    LinePoint { p, bezier: false }
}

/// `pages` as one PDF document titled `title`, fonts embedded and subsetted.
pub fn render(title: &str, pages: &[Page]) -> Vec<u8> {
    let shipped = fonts::shipped();
    let mut doc = PdfDocument::new(title);
    // Each face cut down to the characters this document prints.
    let mut used = [
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    ];
    for mark in pages.iter().flat_map(|p| &p.marks) {
        if let Mark::Text { bold, text, .. } = mark {
            used[usize::from(*bold)].extend(text.chars());
        }
    }
    let mut embed = |is_bold: bool| {
        let face = shipped.face(is_bold);
        match fonts::subset(
            fonts::Fonts::bytes(is_bold),
            face,
            &used[usize::from(is_bold)],
        ) {
            Some(cut) => doc.add_font(&cut),
            None => doc.add_font(face),
        }
    };
    let regular = embed(false);
    let bold = embed(true);
    let black = Color::Rgb(Rgb {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        icc_profile: None,
    });
    let mut out = Vec::with_capacity(pages.len());
    for page in pages {
        let mut ops = vec![
            Op::SetFillColor { col: black.clone() },
            Op::SetOutlineColor { col: black.clone() },
            Op::SetOutlineThickness { pt: Pt(0.6) },
        ];
        for mark in &page.marks {
            ops.extend(mark_ops(page, mark, &regular, &bold));
        }
        #[allow(clippy::cast_possible_truncation)]
        let size = (Mm(page.width_mm as f32), Mm(page.height_mm as f32));
        out.push(PdfPage::new(size.0, size.1, ops));
    }
    let mut warnings = Vec::new();
    doc.with_pages(out).save(
        &PdfSaveOptions {
            // Already subset above (printpdf subsets only with its layout engine).
            subset_fonts: false,
            ..Default::default()
        },
        &mut warnings,
    )
}

/// The drawing operations of one mark.
fn mark_ops(page: &Page, mark: &Mark, regular: &FontId, bold: &FontId) -> Vec<Op> {
    let mut ops = Vec::new();
    match mark {
        Mark::Rect {
            x_mm,
            y_mm,
            width_mm,
            height_mm,
        }
        | Mark::Frame {
            x_mm,
            y_mm,
            width_mm,
            height_mm,
        } => {
            let ring = [
                point(page, *x_mm, *y_mm),
                point(page, x_mm + width_mm, *y_mm),
                point(page, x_mm + width_mm, y_mm + height_mm),
                point(page, *x_mm, y_mm + height_mm),
            ];
            let mode = if matches!(mark, Mark::Rect { .. }) {
                PaintMode::Fill
            } else {
                PaintMode::Stroke
            };
            ops.push(Op::DrawPolygon {
                polygon: Polygon {
                    rings: vec![PolygonRing {
                        points: ring.into_iter().map(corner).collect(),
                    }],
                    mode,
                    winding_order: WindingOrder::NonZero,
                },
            });
        }
        Mark::Line {
            x1_mm,
            y1_mm,
            x2_mm,
            y2_mm,
        } => ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    corner(point(page, *x1_mm, *y1_mm)),
                    corner(point(page, *x2_mm, *y2_mm)),
                ],
                is_closed: false,
            },
        }),
        Mark::Text {
            x_mm,
            y_mm,
            size_pt,
            bold: is_bold,
            text,
        } => {
            let font = if *is_bold {
                bold.clone()
            } else {
                regular.clone()
            };
            #[allow(clippy::cast_possible_truncation)]
            let size = Pt(*size_pt as f32);
            ops.extend([
                Op::StartTextSection,
                Op::SetFont {
                    font: PdfFontHandle::External(font),
                    size,
                },
                Op::SetTextCursor {
                    pos: point(page, *x_mm, *y_mm),
                },
                Op::ShowText {
                    items: vec![TextItem::Text(text.clone())],
                },
                Op::EndTextSection,
            ]);
        }
    }
    ops
}
