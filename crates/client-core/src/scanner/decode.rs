//! What a scanned line names: a booking code, an asset label (both `SR1:` codes, see
//! `sentra_domain::label`) or the verify link printed on handover documents (`…/v/<hash>`).
//! Decoding is offline and checks the form only; the server checks a code's signature.

use sentra_domain::label::{self, LabelKind};
use serde::Serialize;
use uuid::Uuid;

use super::ScanProblem;

/// A decoded scan: which screen it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScanTarget {
    /// A booking code a customer shows.
    Booking { id: Uuid, payload: String },
    /// An asset label; `label_version` must be the asset's current one.
    Asset {
        id: Uuid,
        label_version: u32,
        payload: String,
    },
    /// The verify link on a printed document: the SHA-256 of the handover record. Only the
    /// hash is kept: a link to another host must not become a page the app opens.
    Verify { hash: String },
}

/// Decodes one scanned line.
pub fn decode(text: &str) -> Result<ScanTarget, ScanProblem> {
    let text = text.trim();
    if let Some(hash) = verify_hash(text) {
        return Ok(ScanTarget::Verify { hash });
    }
    let code = label::parse(text).map_err(|err| match err {
        label::LabelError::UnknownFormat => ScanProblem::UnknownFormat,
        label::LabelError::Malformed => ScanProblem::Malformed,
        _ => ScanProblem::NotOurs,
    })?;
    let payload = text.to_owned();
    Ok(match code.kind {
        LabelKind::Booking => ScanTarget::Booking {
            id: code.id,
            payload,
        },
        LabelKind::Asset => ScanTarget::Asset {
            id: code.id,
            label_version: code.version,
            payload,
        },
    })
}

/// `http(s)://<host>/v/<64 hex digits>` → the hash, lower-cased.
fn verify_hash(text: &str) -> Option<String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))?;
    let (_host, path) = rest.split_once('/')?;
    let hash = path.strip_prefix("v/")?;
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hash.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const KEY: &[u8] = b"label-secret-for-tests-0123456789";

    #[test]
    fn booking_codes_asset_labels_and_verify_links_open_their_screens() {
        let booking = Uuid::now_v7();
        let asset = Uuid::now_v7();
        let code = label::sign(KEY, LabelKind::Booking, booking, 0);
        assert_eq!(
            decode(&code),
            Ok(ScanTarget::Booking {
                id: booking,
                payload: code.clone()
            })
        );
        let code = label::sign(KEY, LabelKind::Asset, asset, 3);
        assert!(matches!(
            decode(&format!(" {code} ")),
            Ok(ScanTarget::Asset { id, label_version: 3, .. }) if id == asset
        ));
        let hash = "AB".repeat(32);
        assert_eq!(
            decode(&format!("https://sewa.example.id/v/{hash}")),
            Ok(ScanTarget::Verify {
                hash: hash.to_ascii_lowercase()
            })
        );
    }

    #[test]
    fn other_codes_are_named_for_the_user() {
        assert_eq!(decode("8991234567890"), Err(ScanProblem::NotOurs));
        assert_eq!(
            decode("https://example.com/v/123"),
            Err(ScanProblem::NotOurs)
        );
        assert_eq!(decode("SR9:A:xx:1:yy"), Err(ScanProblem::UnknownFormat));
        assert_eq!(decode("SR1:A:not-base32:1:zz"), Err(ScanProblem::Malformed));
    }

    proptest! {
        /// The decoder never panics, whatever the text.
        #[test]
        fn decoding_any_text_never_panics(text in "\\PC{0,200}") {
            let _ = decode(&text);
        }

        /// Every genuine code decodes to what it was made from.
        #[test]
        fn every_signed_code_decodes_back(id in any::<u128>(), version in any::<u32>(), asset in any::<bool>()) {
            let id = Uuid::from_u128(id);
            let kind = if asset { LabelKind::Asset } else { LabelKind::Booking };
            let version = if asset { version } else { 0 };
            let decoded = decode(&label::sign(KEY, kind, id, version)).expect("decodes");
            match decoded {
                ScanTarget::Asset { id: got, label_version, .. } => {
                    prop_assert!(asset);
                    prop_assert_eq!((got, label_version), (id, version));
                }
                ScanTarget::Booking { id: got, .. } => {
                    prop_assert!(!asset);
                    prop_assert_eq!(got, id);
                }
                ScanTarget::Verify { .. } => prop_assert!(false, "not a verify link"),
            }
        }
    }
}
