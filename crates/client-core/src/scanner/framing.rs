//! Cutting the scanner's byte stream into lines: the configured line ending (or any of CR, LF,
//! CRLF), across reads that split a line anywhere, with noise and over-long input rejected
//! instead of passed on.

use serde::{Deserialize, Serialize};

use super::ScanProblem;

/// The longest line accepted (bytes, without its ending). QR codes the counter scans are far
/// shorter; anything longer is a scanner misconfigured or noise.
pub const MAX_LINE: usize = 4096;

/// What the scanner sends after each code (set in the scanner's own configuration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    /// CR, LF or CRLF, whichever comes (empty lines are skipped).
    #[default]
    Auto,
    Cr,
    Lf,
    CrLf,
}

/// One framed line: its text, or why it was rejected.
pub type Framed = Result<String, ScanProblem>;

/// Accumulates bytes and hands out complete lines.
#[derive(Debug, Clone, Default)]
pub struct LineFramer {
    ending: LineEnding,
    line: Vec<u8>,
    /// A CR seen in CRLF mode, waiting for its LF.
    pending_cr: bool,
    /// The current line passed [`MAX_LINE`]: drop bytes until its end.
    discarding: bool,
}

impl LineFramer {
    /// A framer for lines ending in `ending`.
    pub fn new(ending: LineEnding) -> Self {
        Self {
            ending,
            ..Self::default()
        }
    }

    /// Forgets a partial line (after the port was lost: its rest will not come).
    pub fn reset(&mut self) {
        *self = Self::new(self.ending);
    }

    /// Feeds `bytes`; returns the lines they completed, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Framed> {
        let mut out = Vec::new();
        for &byte in bytes {
            if self.pending_cr {
                self.pending_cr = false;
                if byte == b'\n' {
                    self.finish(&mut out);
                    continue;
                }
                // A lone CR in CRLF mode is part of the line (and makes it noise).
                self.keep(b'\r', &mut out);
            }
            match (self.ending, byte) {
                (LineEnding::Auto, b'\r' | b'\n')
                | (LineEnding::Cr, b'\r')
                | (LineEnding::Lf, b'\n') => self.finish(&mut out),
                (LineEnding::CrLf, b'\r') => self.pending_cr = true,
                _ => self.keep(byte, &mut out),
            }
        }
        out
    }

    fn keep(&mut self, byte: u8, out: &mut Vec<Framed>) {
        if self.discarding {
            return;
        }
        if self.line.len() == MAX_LINE {
            out.push(Err(ScanProblem::TooLong));
            self.line.clear();
            self.discarding = true;
            return;
        }
        self.line.push(byte);
    }

    fn finish(&mut self, out: &mut Vec<Framed>) {
        let line = std::mem::take(&mut self.line);
        if std::mem::take(&mut self.discarding) {
            return;
        }
        if let Some(framed) = line_text(&line) {
            out.push(framed);
        }
    }
}

/// The text of a line: `None` for an empty one, an error for anything but printable text.
///
/// Control bytes and spaces at either end are dropped: scanners frame codes with STX/ETX or
/// send a NUL keep-alive, and a CRLF scanner read in CR or LF mode leaves the other half of
/// its line ending at an end. A control character inside the text is noise.
pub(crate) fn line_text(line: &[u8]) -> Option<Framed> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Some(Err(ScanProblem::NotText));
    };
    let text = text.trim_matches(|c: char| c.is_control() || c.is_whitespace());
    if text.chars().any(char::is_control) {
        return Some(Err(ScanProblem::NotText));
    }
    (!text.is_empty()).then(|| Ok(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn lines(framed: Vec<Framed>) -> Vec<String> {
        framed
            .into_iter()
            .map(|f| f.expect("a good line"))
            .collect()
    }

    #[test]
    fn each_line_ending_frames_across_split_reads() {
        for (ending, stream) in [
            (LineEnding::Cr, &b"ASSET-001\rASSET-002\r"[..]),
            (LineEnding::Lf, b"ASSET-001\nASSET-002\n"),
            (LineEnding::CrLf, b"ASSET-001\r\nASSET-002\r\n"),
            (LineEnding::Auto, b"ASSET-001\r\nASSET-002\n"),
        ] {
            for split in 0..=stream.len() {
                let mut framer = LineFramer::new(ending);
                let mut got = lines(framer.push(&stream[..split]));
                got.extend(lines(framer.push(&stream[split..])));
                assert_eq!(
                    got,
                    ["ASSET-001", "ASSET-002"],
                    "{ending:?} split at {split}"
                );
            }
        }
    }

    #[test]
    fn noise_and_overlong_lines_are_rejected_and_the_next_scan_still_reads() {
        let mut framer = LineFramer::new(LineEnding::Auto);
        assert_eq!(
            framer.push(b"\x00\xff\x1b[2J\r"),
            [Err(ScanProblem::NotText)]
        );
        assert_eq!(
            framer.push(&[0xC3, 0x28, b'\n']),
            [Err(ScanProblem::NotText)]
        );
        let long = vec![b'A'; MAX_LINE + 10];
        assert_eq!(framer.push(&long), [Err(ScanProblem::TooLong)]);
        assert_eq!(framer.push(&long), [], "one message per long line");
        assert_eq!(lines(framer.push(b"\rSR1:OK\r")), ["SR1:OK"]);
        let exact = vec![b'B'; MAX_LINE];
        assert_eq!(lines(framer.push(&[&exact[..], b"\n"].concat())).len(), 1);
    }

    #[test]
    fn a_crlf_scanner_read_in_cr_or_lf_mode_and_framing_bytes_still_read() {
        for ending in [LineEnding::Cr, LineEnding::Lf] {
            let mut framer = LineFramer::new(ending);
            let got = lines(framer.push(b"SR1:ONE\r\nSR1:TWO\r\n"));
            assert_eq!(got, ["SR1:ONE", "SR1:TWO"], "{ending:?}");
        }
        let mut framer = LineFramer::new(LineEnding::Auto);
        assert_eq!(lines(framer.push(b"\x00\x02SR1:STX\x03\r")), ["SR1:STX"]);
    }

    #[test]
    fn crlf_mode_keeps_a_lone_cr_inside_the_line_as_noise() {
        let mut framer = LineFramer::new(LineEnding::CrLf);
        assert_eq!(framer.push(b"AB\rCD\r\n"), [Err(ScanProblem::NotText)]);
        assert_eq!(lines(framer.push(b"EF\r")), Vec::<String>::new());
        assert_eq!(lines(framer.push(b"\n")), ["EF"]);
    }

    proptest! {
        /// Any byte stream, cut anywhere: the framer never panics, never returns a line longer
        /// than the limit or one with control characters, and good lines between noise survive.
        #[test]
        fn framing_survives_any_input(
            noise in proptest::collection::vec(any::<u8>(), 0..6000),
            cut in any::<prop::sample::Index>(),
            ending in prop::sample::select(vec![LineEnding::Auto, LineEnding::Cr, LineEnding::Lf, LineEnding::CrLf]),
            code in "[A-Z0-9:]{1,60}",
        ) {
            let mut stream = noise.clone();
            stream.extend_from_slice(b"\r\n");
            stream.extend_from_slice(code.as_bytes());
            stream.extend_from_slice(b"\r\n");
            let at = cut.index(stream.len() + 1);
            let mut framer = LineFramer::new(ending);
            let mut got = framer.push(&stream[..at]);
            got.extend(framer.push(&stream[at..]));
            for line in got.iter().flatten() {
                prop_assert!(line.len() <= MAX_LINE);
                prop_assert!(!line.chars().any(char::is_control));
            }
            prop_assert_eq!(got.last(), Some(&Ok(code)));
        }
    }
}
