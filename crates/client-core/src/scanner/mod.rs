//! The counter's QR scanner: a serial scanner (USB CDC or RS-232) read by [`SerialScanner`], or
//! a keyboard-wedge scanner whose typed lines the UI hands to [`typed`]. Both go through the
//! same framing and decoding, so a scan means the same thing whichever scanner read it.
//!
//! Settings (port, baud rate, line ending) are the scanner's own; a scan becomes a
//! [`ScanEvent`], which the shell forwards to the UI as it is.

mod decode;
mod framing;
mod serial;

use serde::{Deserialize, Serialize};

pub use decode::{ScanTarget, decode};
pub use framing::{Framed, LineEnding, LineFramer, MAX_LINE};
pub use serial::{PortChoice, PortList, SerialScanner, SystemPorts, available_ports};

/// How to read the serial scanner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannerSettings {
    /// `/dev/ttyACM0`, `/dev/serial/by-id/…`, `COM3`.
    pub port: String,
    /// Ignored by USB CDC scanners; RS-232 ones need theirs (9600 is the usual default).
    pub baud_rate: u32,
    pub line_ending: LineEnding,
}

impl ScannerSettings {
    /// Settings for `port` with the usual defaults.
    pub fn for_port(port: impl Into<String>) -> Self {
        Self {
            port: port.into(),
            baud_rate: 9600,
            line_ending: LineEnding::Auto,
        }
    }
}

/// Why a scan was not understood; each has its own message in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum ScanProblem {
    #[error("the scan was longer than {MAX_LINE} bytes: check the scanner's settings")]
    TooLong,
    #[error("the scanner sent something that is not text (noise or a wrong baud rate)")]
    NotText,
    #[error("this code is not a SentraRental code")]
    NotOurs,
    #[error("this code uses a newer format: update the app")]
    UnknownFormat,
    #[error("this code is damaged or incomplete")]
    Malformed,
}

/// What the scanner reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ScanEvent {
    /// A line was read: what it names, or why it is not understood.
    Scan(#[serde(with = "scan_result")] Result<ScanTarget, ScanProblem>),
    /// The port is open and being read.
    Connected { port: String },
    /// The port could not be opened or was lost; it is reopened when it appears again.
    Disconnected { port: String, reason: String },
}

/// A keyboard-wedge scan: the characters typed before Enter.
pub fn typed(text: &str) -> ScanEvent {
    let result = framing::line_text(text.as_bytes())
        .unwrap_or(Err(ScanProblem::NotOurs))
        .and_then(|line| {
            if line.len() > MAX_LINE {
                Err(ScanProblem::TooLong)
            } else {
                decode(&line)
            }
        });
    ScanEvent::Scan(result)
}

/// `{"ok": target}` or `{"problem": code}` on the wire.
mod scan_result {
    use serde::{Serialize, Serializer};

    use super::{ScanProblem, ScanTarget};

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Wire<'a> {
        Ok(&'a ScanTarget),
        Problem(&'a ScanProblem),
    }

    pub(super) fn serialize<S: Serializer>(
        value: &Result<ScanTarget, ScanProblem>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Ok(target) => Wire::Ok(target).serialize(serializer),
            Err(problem) => Wire::Problem(problem).serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyboard_wedge_scan_reads_like_a_serial_one() {
        assert_eq!(
            typed("8991234567890"),
            ScanEvent::Scan(Err(ScanProblem::NotOurs))
        );
        assert_eq!(typed("   "), ScanEvent::Scan(Err(ScanProblem::NotOurs)));
        assert_eq!(
            typed("ab\u{7}c"),
            ScanEvent::Scan(Err(ScanProblem::NotText))
        );
        assert_eq!(
            typed(&"A".repeat(MAX_LINE + 1)),
            ScanEvent::Scan(Err(ScanProblem::TooLong))
        );
    }

    #[test]
    fn events_reach_the_ui_as_tagged_json() {
        let json = serde_json::to_value(ScanEvent::Scan(Err(ScanProblem::TooLong))).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"event": "scan", "problem": "too_long"})
        );
        let json = serde_json::to_value(ScanEvent::Connected {
            port: "/dev/ttyACM0".into(),
        })
        .expect("json");
        assert_eq!(
            json,
            serde_json::json!({"event": "connected", "port": "/dev/ttyACM0"})
        );
    }
}

#[cfg(all(test, unix))]
mod serial_tests;
