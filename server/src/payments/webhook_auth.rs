//! Webhook authentication, compared in constant time so a forger learns nothing from timing.
//!
//! - Midtrans signs each notification: `signature_key` is the lowercase hex of
//!   SHA-512(`order_id` + `status_code` + `gross_amount` + server key), over the exact strings of
//!   the body (`"100000.00"`, not a number).
//! - Xendit sends the account's callback token in the `x-callback-token` header.

use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

/// The `signature_key` Midtrans computes for a notification.
pub fn midtrans_signature(
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    server_key: &str,
) -> String {
    let digest = Sha512::new()
        .chain_update(order_id.as_bytes())
        .chain_update(status_code.as_bytes())
        .chain_update(gross_amount.as_bytes())
        .chain_update(server_key.as_bytes())
        .finalize();
    digest
        .iter()
        .fold(String::with_capacity(128), |mut out, b| {
            use std::fmt::Write as _;
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// Whether a Midtrans notification carries the right `signature_key` (case-insensitive hex).
pub fn midtrans_signed(
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    signature_key: &str,
    server_key: &str,
) -> bool {
    let expected = midtrans_signature(order_id, status_code, gross_amount, server_key);
    let given = signature_key.to_ascii_lowercase();
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Whether Xendit's `x-callback-token` header is the configured token.
pub fn xendit_signed(header: Option<&str>, token: &str) -> bool {
    let Some(header) = header else {
        return false;
    };
    !token.is_empty() && bool::from(header.as_bytes().ct_eq(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER_KEY: &str = "askvnoibnosifnboseofinbofinfgbiufglnbfg";

    #[test]
    fn the_midtrans_signature_matches_the_documented_example() {
        // The documentation's PHP example, computed with sha512sum (reference §1.8).
        assert_eq!(
            midtrans_signature("1111", "200", "100000.00", SERVER_KEY),
            "edc076b21793ebe3e17926350f5b8ae67d902fe657b3d0aa31b932d5c127e2375d308a2bc94f3265ac2d80a1f181a79b997ac178a236fcff35af263fc4d4c231"
        );
    }

    #[test]
    fn a_forged_or_altered_midtrans_notification_is_refused() {
        let good = midtrans_signature("1111", "200", "100000.00", SERVER_KEY);
        assert!(midtrans_signed(
            "1111",
            "200",
            "100000.00",
            &good,
            SERVER_KEY
        ));
        assert!(midtrans_signed(
            "1111",
            "200",
            "100000.00",
            &good.to_uppercase(),
            SERVER_KEY
        ));
        // The amount as a number instead of the body's string, another amount, another key.
        assert!(!midtrans_signed("1111", "200", "100000", &good, SERVER_KEY));
        assert!(!midtrans_signed(
            "1111",
            "200",
            "900000.00",
            &good,
            SERVER_KEY
        ));
        assert!(!midtrans_signed(
            "1111",
            "200",
            "100000.00",
            &good,
            "other-key"
        ));
        assert!(!midtrans_signed("1111", "200", "100000.00", "", SERVER_KEY));
        assert!(!midtrans_signed(
            "1111",
            "200",
            "100000.00",
            &good[..64],
            SERVER_KEY
        ));
    }

    #[test]
    fn the_xendit_token_must_be_present_and_equal() {
        assert!(xendit_signed(Some("tok-123"), "tok-123"));
        assert!(!xendit_signed(Some("tok-124"), "tok-123"));
        assert!(!xendit_signed(Some("tok-12"), "tok-123"));
        assert!(!xendit_signed(None, "tok-123"));
        assert!(!xendit_signed(Some(""), ""), "an unset token never matches");
    }
}
