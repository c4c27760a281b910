//! Access tokens: compact JWS (JWT) signed with HMAC-SHA256 under the server's secret.
//!
//! Only `HS256` is produced or accepted (a token claiming any other `alg`, `none` included, is
//! rejected before its signature is looked at); the signature is checked in constant time; `exp`
//! is mandatory. Written here rather than pulled in as a crate because HS256 is all we need and
//! the general crates bring RSA/ECDSA code into every build.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::Sha256;

/// The only header we issue and accept.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Why a token was refused. Callers answer every variant the same way (401); the variants are
/// for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a compact JWT")]
    Malformed,
    #[error("unsupported algorithm")]
    Algorithm,
    #[error("bad signature")]
    Signature,
    #[error("expired")]
    Expired,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Claims every token carries.
pub trait Expiring {
    /// Expiry, seconds since 1970.
    fn exp(&self) -> i64;
}

/// Signs `claims`.
pub fn sign<C: Serialize>(secret: &[u8], claims: &C) -> String {
    let header = URL_SAFE_NO_PAD.encode(HEADER);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(
        mac(secret, signing_input.as_bytes())
            .finalize()
            .into_bytes(),
    );
    format!("{signing_input}.{signature}")
}

/// Verifies a token's algorithm, signature and expiry (at `now`, seconds since 1970).
pub fn verify<C: DeserializeOwned + Expiring>(
    secret: &[u8],
    token: &str,
    now: i64,
) -> Result<C, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    if header.alg != "HS256" {
        return Err(TokenError::Algorithm);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let signing_input_len = token.len() - token.rsplit('.').next().map_or(0, str::len) - 1;
    mac(secret, &token.as_bytes()[..signing_input_len])
        .verify_slice(&signature)
        .map_err(|_| TokenError::Signature)?;
    let claims: C = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    if claims.exp() <= now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

fn mac(secret: &[u8], input: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(input);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    impl Expiring for Claims {
        fn exp(&self) -> i64 {
            self.exp
        }
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let claims = Claims {
            sub: "staff-1".into(),
            exp: 1_000,
        };
        let token = sign(SECRET, &claims);
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(verify::<Claims>(SECRET, &token, 999), Ok(claims));
        assert_eq!(
            verify::<Claims>(SECRET, &token, 1_000),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn tampering_another_key_and_other_algorithms_are_refused() {
        let token = sign(
            SECRET,
            &Claims {
                sub: "customer".into(),
                exp: 1_000,
            },
        );
        let other_key = sign(
            b"another secret of enough length!!",
            &Claims {
                sub: "customer".into(),
                exp: 1_000,
            },
        );
        assert_eq!(
            verify::<Claims>(SECRET, &other_key, 0),
            Err(TokenError::Signature)
        );
        let parts: Vec<&str> = token.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"hq_admin","exp":1000}"#);
        let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert_eq!(
            verify::<Claims>(SECRET, &tampered, 0),
            Err(TokenError::Signature)
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            parts[1]
        );
        assert_eq!(
            verify::<Claims>(SECRET, &none, 0),
            Err(TokenError::Algorithm)
        );
        for junk in ["", "a.b", "a.b.c.d", "!!.??.**"] {
            assert_eq!(
                verify::<Claims>(SECRET, junk, 0),
                Err(TokenError::Malformed),
                "{junk}"
            );
        }
    }
}
