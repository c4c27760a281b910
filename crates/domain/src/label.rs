//! The text inside SentraRental QR codes: asset labels stuck on vehicles and equipment, and the
//! booking codes customers show at the counter.
//!
//! Format (QR alphanumeric mode only, so the code stays small and scanners read it at a glance):
//!
//! ```text
//! SR1:A:<asset id, base32>:<label version>:<tag>     an asset label
//! SR1:B:<booking id, base32>:0:<tag>                 a booking code
//! ```
//!
//! `SR1` is the format version. The tag is the first 80 bits of HMAC-SHA256 over the text before
//! it, keyed by the server's label secret: anyone can read a label, nobody without the secret
//! can make one the server accepts. The label version lets staff re-issue a label (lost or
//! damaged): the server then accepts only the newest one. Scanners decode with [`parse`]; only
//! the server, holding the key, calls [`sign`] and [`verify`].

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// Prefix and format version of every payload.
pub const FORMAT: &str = "SR1";

/// Bytes of the HMAC kept in the tag (80 bits).
const TAG_BYTES: usize = 10;

crate::stored_enum! {
    /// What a QR payload names.
    pub enum LabelKind as "label kind" {
        /// A rental asset (car, motorbike, equipment).
        Asset = "asset",
        /// A customer's booking.
        Booking = "booking",
    }
}

impl LabelKind {
    fn letter(self) -> char {
        match self {
            LabelKind::Asset => 'A',
            LabelKind::Booking => 'B',
        }
    }
}

/// A decoded payload (not yet verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub kind: LabelKind,
    pub id: Uuid,
    /// The asset label's version (0 for bookings).
    pub version: u32,
    tag: [u8; TAG_BYTES],
}

/// Why a scanned text is not a SentraRental code, or not a genuine one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("this QR code is not a SentraRental code")]
    NotOurs,
    #[error("this QR code uses a newer format; update the app")]
    UnknownFormat,
    #[error("this QR code is damaged or incomplete")]
    Malformed,
    #[error("this QR code is not genuine: its signature does not match")]
    Forged,
}

/// The signed payload for `kind` `id` at `version`.
pub fn sign(key: &[u8], kind: LabelKind, id: Uuid, version: u32) -> String {
    let body = body(kind, id, version);
    let tag = tag(key, &body);
    format!("{body}:{}", base32_encode(&tag))
}

/// Decodes a scanned text without checking the signature (what a scanner can do offline).
pub fn parse(text: &str) -> Result<Label, LabelError> {
    let text = text.trim();
    let mut parts = text.split(':');
    let format = parts.next().unwrap_or_default();
    if !format.starts_with("SR") {
        return Err(LabelError::NotOurs);
    }
    if format != FORMAT {
        return Err(LabelError::UnknownFormat);
    }
    let (Some(kind), Some(id), Some(version), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(LabelError::Malformed);
    };
    let kind = match kind {
        "A" => LabelKind::Asset,
        "B" => LabelKind::Booking,
        _ => return Err(LabelError::Malformed),
    };
    let id: [u8; 16] = base32_decode(id)
        .and_then(|b| b.try_into().ok())
        .ok_or(LabelError::Malformed)?;
    let version = version.parse().map_err(|_| LabelError::Malformed)?;
    let tag: [u8; TAG_BYTES] = base32_decode(tag)
        .and_then(|b| b.try_into().ok())
        .ok_or(LabelError::Malformed)?;
    Ok(Label {
        kind,
        id: Uuid::from_bytes(id),
        version,
        tag,
    })
}

/// Decodes and checks the signature.
pub fn verify(key: &[u8], text: &str) -> Result<Label, LabelError> {
    let label = parse(text)?;
    let mut mac = mac(key);
    mac.update(body(label.kind, label.id, label.version).as_bytes());
    mac.verify_truncated_left(&label.tag)
        .map_err(|_| LabelError::Forged)?;
    Ok(label)
}

fn body(kind: LabelKind, id: Uuid, version: u32) -> String {
    format!(
        "{FORMAT}:{}:{}:{version}",
        kind.letter(),
        base32_encode(id.as_bytes())
    )
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

fn tag(key: &[u8], body: &str) -> [u8; TAG_BYTES] {
    let mut mac = mac(key);
    mac.update(body.as_bytes());
    let full = mac.finalize().into_bytes();
    let mut tag = [0; TAG_BYTES];
    tag.copy_from_slice(&full[..TAG_BYTES]);
    tag
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (upper case: QR alphanumeric mode).
fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c)?;
        buffer = (buffer << 5) | u32::try_from(value).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    // Leftover bits must be padding zeros, or the text was not made by the encoder.
    (buffer & ((1 << bits) - 1) == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"label-secret-for-tests-0123456789";

    #[test]
    fn a_signed_label_verifies_and_is_short_and_alphanumeric() {
        let id = Uuid::now_v7();
        let text = sign(KEY, LabelKind::Asset, id, 3);
        assert!(text.len() <= 56, "{text}");
        assert!(
            text.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ':'),
            "{text}"
        );
        let label = verify(KEY, &text).expect("genuine");
        assert_eq!(
            (label.kind, label.id, label.version),
            (LabelKind::Asset, id, 3)
        );
    }

    #[test]
    fn forged_and_altered_labels_are_refused() {
        let id = Uuid::now_v7();
        let text = sign(KEY, LabelKind::Asset, id, 1);
        assert_eq!(
            verify(b"another-key-0000000000000000000000", &text),
            Err(LabelError::Forged)
        );
        // Bumping the version or turning an asset label into a booking code breaks the tag.
        let bumped = text.replacen(":1:", ":2:", 1);
        assert_eq!(verify(KEY, &bumped), Err(LabelError::Forged));
        let booking = text.replacen(":A:", ":B:", 1);
        assert_eq!(verify(KEY, &booking), Err(LabelError::Forged));
    }

    #[test]
    fn foreign_and_damaged_texts_are_told_apart() {
        assert_eq!(parse("https://example.com"), Err(LabelError::NotOurs));
        assert_eq!(parse("SR9:A:X:1:Y"), Err(LabelError::UnknownFormat));
        assert_eq!(parse("SR1:A:ABC"), Err(LabelError::Malformed));
        let text = sign(KEY, LabelKind::Booking, Uuid::now_v7(), 0);
        assert_eq!(parse(&text[..text.len() - 3]), Err(LabelError::Malformed));
        assert!(
            parse(&format!("  {text}\r\n")).is_ok(),
            "scanner line endings are fine"
        );
    }

    #[test]
    fn base32_round_trips() {
        for len in 0..20u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i: u8| i.wrapping_mul(37).wrapping_add(11))
                .collect();
            assert_eq!(base32_decode(&base32_encode(&bytes)), Some(bytes));
        }
    }
}
