//! The fonts every document prints with: DejaVu Sans and DejaVu Sans Bold, shipped in
//! `printer-templates/fonts/` with their licence and embedded (subsetted) in each PDF, so every
//! printer prints the same glyphs. Also the metrics that wrap text to a width.

use std::{collections::BTreeSet, sync::OnceLock};

use printpdf::ParsedFont;

const REGULAR: &[u8] = include_bytes!("../../../printer-templates/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../../printer-templates/fonts/DejaVuSans-Bold.ttf");

/// The two parsed faces.
#[derive(Debug)]
pub struct Fonts {
    pub regular: ParsedFont,
    pub bold: ParsedFont,
}

/// The shipped fonts, parsed once (they are constants of the program, so sharing the parsed
/// tables is no state: nothing ever changes them).
pub fn shipped() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let parse = |bytes: &[u8]| {
            ParsedFont::from_bytes(bytes, 0, &mut Vec::new())
                .expect("the shipped DejaVu fonts parse")
        };
        Fonts {
            regular: parse(REGULAR),
            bold: parse(BOLD),
        }
    })
}

/// `face` cut down to the glyphs of `chars` (and `.notdef`), with a Unicode cmap, so a
/// document embeds only what it prints. `None` when the font cannot be subset.
pub fn subset(bytes: &[u8], face: &ParsedFont, chars: &BTreeSet<char>) -> Option<ParsedFont> {
    use allsorts::{
        binary::read::ReadScope,
        font_data::FontData,
        subset::{CmapTarget, SubsetProfile},
    };
    let mut ids: Vec<u16> = chars
        .iter()
        .filter_map(|c| face.lookup_glyph_index(u32::from(*c)))
        .filter(|gid| *gid != 0)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.insert(0, 0);
    let file = ReadScope::new(bytes).read::<FontData<'_>>().ok()?;
    let provider = file.table_provider(0).ok()?;
    let cut = allsorts::subset::subset(
        &provider,
        &ids,
        &SubsetProfile::Minimal,
        CmapTarget::Unicode,
    )
    .ok()?;
    ParsedFont::from_bytes(&cut, 0, &mut Vec::new())
}

impl Fonts {
    /// The shipped file of a face.
    pub fn bytes(bold: bool) -> &'static [u8] {
        if bold { BOLD } else { REGULAR }
    }

    /// The parsed face.
    pub fn face(&self, bold: bool) -> &ParsedFont {
        if bold { &self.bold } else { &self.regular }
    }

    /// Whether the face has a glyph for `c`.
    pub fn has_glyph(&self, c: char, bold: bool) -> bool {
        self.face(bold)
            .lookup_glyph_index(u32::from(c))
            .is_some_and(|gid| gid != 0)
    }

    /// The text as it will print: control characters and characters the font has no glyph for
    /// become `?` (a blank would hide that something is missing).
    pub fn printable(&self, text: &str, bold: bool) -> String {
        text.chars()
            .map(|c| {
                if c == ' ' || (!c.is_control() && self.has_glyph(c, bold)) {
                    c
                } else {
                    '?'
                }
            })
            .collect()
    }

    /// The width of `text` (already printable) at `size_pt`, in millimetres.
    pub fn width_mm(&self, text: &str, size_pt: f64, bold: bool) -> f64 {
        let face = self.face(bold);
        let units: u64 = text
            .chars()
            .map(|c| {
                face.lookup_glyph_index(u32::from(c))
                    .and_then(|gid| face.glyph_widths.get(&gid).copied())
                    .map_or(0, u64::from)
            })
            .sum();
        let em = f64::from(face.units_per_em.max(1));
        #[allow(clippy::cast_precision_loss)]
        let points = units as f64 / em * size_pt;
        points / crate::pdf::PT_PER_MM
    }

    /// Breaks `text` into lines no wider than `width_mm` at `size_pt`: at spaces where it can, and
    /// inside a word only when the word alone is wider than the line. Newlines start new lines.
    pub fn wrap(&self, text: &str, width_mm: f64, size_pt: f64, bold: bool) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width_mm(&candidate, size_pt, bold) <= width_mm {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // The word alone: split it where it overflows.
                for c in word.chars() {
                    line.push(c);
                    if self.width_mm(&line, size_pt, bold) > width_mm && line.chars().count() > 1 {
                        line.pop();
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_any_latin_script_have_glyphs() {
        let fonts = shipped();
        for name in [
            "Ni Luh Putu Ayu Saraswati",
            "Nguyễn Văn Thành",
            "Đặng",
            "Ö Çelik",
        ] {
            assert_eq!(fonts.printable(name, false), name);
            assert_eq!(fonts.printable(name, true), name);
        }
        assert_eq!(fonts.printable("a\u{7}b", false), "a?b");
    }

    #[test]
    fn text_wraps_by_the_font_s_widths() {
        let fonts = shipped();
        let wide = fonts.width_mm("WWWW", 10.0, false);
        let narrow = fonts.width_mm("iiii", 10.0, false);
        assert!(wide > 2.0 * narrow, "{wide} vs {narrow}");
        let text = "Penyewa wajib mengembalikan kendaraan tepat waktu dengan BBM yang sama";
        let lines = fonts.wrap(text, 50.0, 10.0, false);
        assert!(lines.len() >= 2, "{lines:?}");
        for line in &lines {
            assert!(fonts.width_mm(line, 10.0, false) <= 50.0, "{line}");
        }
        assert_eq!(lines.join(" "), text);
        let long = fonts.wrap(&"A".repeat(80), 20.0, 10.0, true);
        assert!(long.len() > 2 && long.iter().all(|l| fonts.width_mm(l, 10.0, true) <= 20.0));
    }
}
