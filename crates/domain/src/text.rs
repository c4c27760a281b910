//! Text people type that ends up printed (names, plates, serials, addresses, notes, reasons):
//! NFC-normalised and trimmed, letters of any script allowed ("Nguyễn", "Ṣiti"), and refused
//! when it holds what a printed document must not carry: control characters (a newline only
//! where a note may have lines), bidirectional overrides and isolates (U+202A–U+202E,
//! U+2066–U+2069, which make a plate print reversed) and zero-width characters (U+200B–U+200F,
//! U+2060, U+FEFF, which make two texts look the same).

use unicode_normalization::UnicodeNormalization;

/// Why a text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must have at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters (U+{0:04X})")]
    Control(u32),
    #[error("must not contain direction overrides (U+{0:04X}): they change how it prints")]
    Bidi(u32),
    #[error("must not contain invisible characters (U+{0:04X})")]
    Invisible(u32),
}

/// What a field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// Most characters (after normalisation).
    pub max_chars: usize,
    /// Whether empty text is accepted.
    pub may_be_empty: bool,
    /// Whether line breaks are accepted (notes).
    pub multiline: bool,
}

impl TextRule {
    /// A one-line name, plate or serial: 1 to `max_chars` characters.
    pub const fn line(max_chars: usize) -> Self {
        Self {
            max_chars,
            may_be_empty: false,
            multiline: false,
        }
    }

    /// A note or address: up to `max_chars` characters, lines allowed, may be empty.
    pub const fn note(max_chars: usize) -> Self {
        Self {
            max_chars,
            may_be_empty: true,
            multiline: true,
        }
    }

    /// The text as stored: NFC, trimmed; or why it is refused.
    pub fn clean(self, input: &str) -> Result<String, TextError> {
        let text: String = input.trim().nfc().collect();
        for c in text.chars() {
            let code = u32::from(c);
            match c {
                '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                    return Err(TextError::Bidi(code));
                }
                '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' => {
                    return Err(TextError::Invisible(code));
                }
                '\n' | '\t' if self.multiline => {}
                c if c.is_control() => return Err(TextError::Control(code)),
                _ => {}
            }
        }
        if text.is_empty() && !self.may_be_empty {
            return Err(TextError::Empty);
        }
        if text.chars().count() > self.max_chars {
            return Err(TextError::TooLong {
                max: self.max_chars,
            });
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: TextRule = TextRule::line(40);

    #[test]
    fn letters_of_any_script_stay_and_are_normalised() {
        // "Nguyễn" typed with a combining circumflex and dot becomes its composed form.
        let decomposed = "Nguye\u{0302}\u{0303}n";
        let clean = NAME.clean(decomposed).expect("a name");
        assert_eq!(clean, "Nguy\u{1EC5}n");
        assert_eq!(NAME.clean("  Siti Rahma  "), Ok("Siti Rahma".to_owned()));
        assert_eq!(NAME.clean("B 1234 XYZ"), Ok("B 1234 XYZ".to_owned()));
    }

    #[test]
    fn what_would_print_wrongly_is_refused() {
        // A plate that would print reversed, two names that look alike, a hidden line break.
        assert_eq!(
            NAME.clean("B 1234 \u{202E}ZYX"),
            Err(TextError::Bidi(0x202E))
        );
        assert_eq!(NAME.clean("B\u{2067}1234"), Err(TextError::Bidi(0x2067)));
        assert_eq!(
            NAME.clean("Budi\u{200B}Santoso"),
            Err(TextError::Invisible(0x200B))
        );
        assert_eq!(
            NAME.clean("Budi\u{FEFF}"),
            Err(TextError::Invisible(0xFEFF))
        );
        assert_eq!(NAME.clean("Budi\nSantoso"), Err(TextError::Control(0x0A)));
        assert_eq!(NAME.clean("Budi\u{7}"), Err(TextError::Control(0x07)));
        assert_eq!(NAME.clean("   "), Err(TextError::Empty));
        assert_eq!(
            NAME.clean(&"a".repeat(41)),
            Err(TextError::TooLong { max: 40 })
        );
        let note = TextRule::note(100);
        assert_eq!(
            note.clean("baris 1\nbaris 2"),
            Ok("baris 1\nbaris 2".to_owned())
        );
        assert_eq!(note.clean(""), Ok(String::new()));
        assert_eq!(note.clean("x\u{0}"), Err(TextError::Control(0)));
    }
}
