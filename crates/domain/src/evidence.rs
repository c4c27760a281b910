//! Canonical JSON (RFC 8785, JCS) and the evidence hashes built on it.
//!
//! Evidence (handover photos' metadata, signed checklists, payment proofs) is stored as JSON and
//! fingerprinted with SHA-256. For the fingerprint to be reproducible by any party, the JSON is
//! first written in the one canonical form defined by the JSON Canonicalization Scheme: sorted
//! members, no whitespace, ECMAScript number and string formatting.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

/// Why a JSON value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalJsonError {
    /// JCS numbers are IEEE 754 doubles, and this integer would silently become a different
    /// number. Encode such values (large ids, counters) as strings instead.
    #[error(
        "integer {0} cannot be represented exactly as an IEEE 754 double; encode it as a string"
    )]
    UnrepresentableInteger(String),
    /// Only reachable if another crate enables `serde_json`'s `arbitrary_precision` feature.
    #[error("number {0} is not a finite IEEE 754 double")]
    NonFiniteNumber(String),
}

/// Writes `value` in RFC 8785 canonical form.
///
/// - Object members are sorted by their names compared as UTF-16 code units (not UTF-8 bytes
///   and not by locale); arrays keep their order; there is no whitespace.
/// - Strings are escaped as ECMAScript `JSON.stringify` does: `\b \t \n \f \r \" \\` in short
///   form, other control characters below U+0020 as `\u00xx` (lowercase hex), and everything
///   else, including DEL and all non-ASCII characters, written literally as UTF-8.
/// - Numbers are written as ECMAScript `Number.prototype.toString` writes the double they
///   denote: `1` not `1.0`, `1e+21`, `1e-7`, `0.000001`, and `-0` as `0`.
///
/// Integers are treated as doubles too. One that a double cannot hold exactly (beyond 2^53,
/// e.g. `9007199254740993`) is rejected rather than rounded, unless its decimal text is already
/// the canonical text of the nearest double (e.g. `1152921504606847000`); that exception keeps
/// canonicalising canonical output a no-op.
pub fn canonical_json(value: &Value) -> Result<String, CanonicalJsonError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

/// SHA-256 of the UTF-8 bytes of [`canonical_json`]`(value)`.
pub fn evidence_hash(value: &Value) -> Result<EvidenceHash, CanonicalJsonError> {
    let canonical = canonical_json(value)?;
    Ok(EvidenceHash(Sha256::digest(canonical.as_bytes()).into()))
}

fn write_value(out: &mut String, value: &Value) -> Result<(), CanonicalJsonError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => out.push_str(&canonical_number(number)?),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(members) => write_object(out, members)?,
    }
    Ok(())
}

fn write_object(out: &mut String, members: &Map<String, Value>) -> Result<(), CanonicalJsonError> {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    sorted.sort_by(|(left, _), (right, _)| left.encode_utf16().cmp(right.encode_utf16()));
    out.push('{');
    for (index, (name, member)) in sorted.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_string(out, name);
        out.push(':');
        write_value(out, member)?;
    }
    out.push('}');
    Ok(())
}

fn write_string(out: &mut String, text: &str) {
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            control if control < ' ' => {
                let code = u8::try_from(control).expect("control characters are ASCII");
                out.push_str("\\u00");
                out.push(char::from(HEX_DIGITS[usize::from(code >> 4)]));
                out.push(char::from(HEX_DIGITS[usize::from(code & 0xf)]));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// The ECMAScript text of the double a JSON number denotes.
fn canonical_number(number: &Number) -> Result<String, CanonicalJsonError> {
    if let Some(integer) = number.as_i64() {
        return canonical_integer(i128::from(integer));
    }
    if let Some(integer) = number.as_u64() {
        return canonical_integer(i128::from(integer));
    }
    match number.as_f64() {
        Some(double) if double.is_finite() => Ok(ecmascript_number(double)),
        _ => Err(CanonicalJsonError::NonFiniteNumber(number.to_string())),
    }
}

/// The ECMAScript text of an integer held by `serde_json` as `i64` or `u64`.
fn canonical_integer(integer: i128) -> Result<String, CanonicalJsonError> {
    // Rounds to the nearest double, exactly as an ECMAScript engine parsing the text would.
    #[allow(clippy::cast_precision_loss)]
    let double = integer as f64;
    let text = ecmascript_number(double);
    if is_exact_double(integer.unsigned_abs()) || text == integer.to_string() {
        Ok(text)
    } else {
        Err(CanonicalJsonError::UnrepresentableInteger(
            integer.to_string(),
        ))
    }
}

/// Whether a double holds `magnitude` exactly: its significant bits fit in 53.
fn is_exact_double(magnitude: u128) -> bool {
    magnitude == 0 || magnitude >> magnitude.trailing_zeros() < 1 << 53
}

/// `Number.prototype.toString` for a finite double.
fn ecmascript_number(double: f64) -> String {
    ryu_js::Buffer::new().format_finite(double).to_owned()
}

/// A SHA-256 fingerprint of canonical evidence JSON.
///
/// Displays, parses and serializes as 64 lowercase hex digits (parsing also accepts uppercase).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct EvidenceHash(pub [u8; 32]);

/// Why a text is not an evidence hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceHashParseError {
    #[error("an evidence hash has 64 hex digits, but {0} characters were given")]
    WrongLength(usize),
    #[error("an evidence hash may contain only the hex digits 0-9 and a-f")]
    NotHex,
}

impl EvidenceHash {
    /// The 32 raw bytes of the digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(64);
        for byte in self.0 {
            hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
            hex.push(char::from(HEX_DIGITS[usize::from(byte & 0xf)]));
        }
        hex
    }
}

impl fmt::Display for EvidenceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.to_hex())
    }
}

impl fmt::Debug for EvidenceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EvidenceHash({})", self.to_hex())
    }
}

impl FromStr for EvidenceHash {
    type Err = EvidenceHashParseError;

    fn from_str(hex: &str) -> Result<Self, Self::Err> {
        let length = hex.chars().count();
        if length != 64 {
            return Err(EvidenceHashParseError::WrongLength(length));
        }
        let mut bytes = [0_u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let high = hex_value(pair[0]).ok_or(EvidenceHashParseError::NotHex)?;
            let low = hex_value(pair[1]).ok_or(EvidenceHashParseError::NotHex)?;
            *byte = (high << 4) | low;
        }
        Ok(Self(bytes))
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

impl From<EvidenceHash> for String {
    fn from(hash: EvidenceHash) -> Self {
        hash.to_hex()
    }
}

impl TryFrom<String> for EvidenceHash {
    type Error = EvidenceHashParseError;

    fn try_from(hex: String) -> Result<Self, Self::Error> {
        hex.parse()
    }
}

#[cfg(test)]
mod tests;
