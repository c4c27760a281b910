//! Envelope encryption of identity documents, and the keyed NIK hash.
//!
//! Every document gets its own random AES-256-GCM data key. The document is encrypted with it
//! (the object key as associated data, so a ciphertext cannot be swapped for another document's),
//! and the data key is encrypted ("wrapped") with the key-encryption key from `SENTRA_DATA_KEY`.
//! Object storage only ever holds ciphertext; Postgres holds the wrapped key. Reading a document
//! needs both stores and the configured key. The key id stored with each wrapped key allows a
//! later key rotation (re-wrap the data keys; the documents stay as they are).
//!
//! NIKs are stored as HMAC-SHA256 under a key derived from the same secret: equal NIKs give equal
//! hashes (so one KTP cannot verify two accounts), but the 16-digit space cannot be searched
//! without the key.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Id of the key-encryption key in use.
pub const KEY_ID: &str = "k1";

const NONCE_BYTES: usize = 12;

/// The configured keys.
#[derive(Clone)]
pub struct Vault {
    kek: [u8; 32],
    nik_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault { keys: [redacted] }")
    }
}

/// A document sealed for storage.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// Nonce followed by the AES-GCM ciphertext of the document (goes to object storage).
    pub ciphertext: Vec<u8>,
    /// Nonce followed by the encrypted data key (goes to Postgres).
    pub wrapped_key: Vec<u8>,
}

/// Decryption failed: wrong key, or the stored bytes were altered.
#[derive(Debug, thiserror::Error)]
#[error("the document could not be decrypted (wrong key or altered data)")]
pub struct OpenError;

impl Vault {
    /// Builds the vault from `SENTRA_DATA_KEY` (base64 of 32 bytes, checked by the config).
    pub fn new(data_key: &SecretString) -> anyhow::Result<Self> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data_key.expose_secret().trim())
            .map_err(|_| anyhow::anyhow!("SENTRA_DATA_KEY is not base64"))?;
        let kek: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("SENTRA_DATA_KEY must be 32 bytes"))?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&kek)?;
        mac.update(b"sentra nik lookup v1");
        Ok(Self {
            kek,
            nik_key: mac.finalize().into_bytes().into(),
        })
    }

    /// Encrypts `document` stored under `object_key`.
    pub fn seal(&self, object_key: &str, document: &[u8]) -> anyhow::Result<Sealed> {
        let mut data_key = [0u8; 32];
        rand::rng().fill(&mut data_key);
        let ciphertext = encrypt(&data_key, object_key.as_bytes(), document)?;
        let wrapped_key = encrypt(&self.kek, object_key.as_bytes(), &data_key)?;
        Ok(Sealed {
            ciphertext,
            wrapped_key,
        })
    }

    /// Decrypts a document sealed by [`Self::seal`] under the same object key.
    pub fn open(&self, object_key: &str, sealed: &Sealed) -> Result<Vec<u8>, OpenError> {
        let data_key = decrypt(&self.kek, object_key.as_bytes(), &sealed.wrapped_key)?;
        let data_key: [u8; 32] = data_key.try_into().map_err(|_| OpenError)?;
        decrypt(&data_key, object_key.as_bytes(), &sealed.ciphertext)
    }

    /// The lookup hash of a NIK.
    pub fn nik_hash(&self, nik: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.nik_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(nik.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

fn encrypt(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rng().fill(&mut nonce);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| anyhow::anyhow!("encryption failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

fn decrypt(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < NONCE_BYTES {
        return Err(OpenError);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| OpenError)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(key: &str) -> Vault {
        let encoded = base64::engine::general_purpose::STANDARD.encode(key.as_bytes());
        Vault::new(&SecretString::from(encoded)).expect("vault")
    }

    #[test]
    fn documents_round_trip_and_ciphertext_hides_them() {
        let vault = vault("0123456789abcdef0123456789abcdef");
        let document = b"\x89PNG KTP 3171015708450001 SITI".to_vec();
        let sealed = vault.seal("kyc/a/ktp", &document).expect("seal");
        assert!(
            !sealed
                .ciphertext
                .windows(16)
                .any(|w| w == b"3171015708450001")
        );
        assert_eq!(vault.open("kyc/a/ktp", &sealed).expect("open"), document);
    }

    #[test]
    fn wrong_keys_moved_objects_and_altered_bytes_are_refused() {
        let vault_a = vault("0123456789abcdef0123456789abcdef");
        let vault_b = vault("fedcba9876543210fedcba9876543210");
        let sealed = vault_a.seal("kyc/a/ktp", b"document").expect("seal");
        assert!(vault_b.open("kyc/a/ktp", &sealed).is_err(), "another key");
        assert!(
            vault_a.open("kyc/b/ktp", &sealed).is_err(),
            "another object"
        );
        let mut altered = sealed.clone();
        let last = altered.ciphertext.len() - 1;
        altered.ciphertext[last] ^= 1;
        assert!(
            vault_a.open("kyc/a/ktp", &altered).is_err(),
            "altered bytes"
        );
    }

    #[test]
    fn nik_hashes_are_stable_per_key() {
        let a = vault("0123456789abcdef0123456789abcdef");
        let b = vault("fedcba9876543210fedcba9876543210");
        assert_eq!(
            a.nik_hash("3171015708450001"),
            a.nik_hash("3171015708450001")
        );
        assert_ne!(
            a.nik_hash("3171015708450001"),
            a.nik_hash("3171015708450002")
        );
        assert_ne!(
            a.nik_hash("3171015708450001"),
            b.nik_hash("3171015708450001")
        );
    }
}
