//! Envelope encryption of identity documents and signatures, and the keyed NIK hash.
//!
//! Every document gets its own random AES-256-GCM data key. The document is encrypted with it,
//! the caller's *binding* (what the document is: `doc|v1|kyc|<case>|<customer>|<kind>`) as
//! associated data, so a ciphertext moved to another row does not decrypt. The data key is
//! wrapped under a key-encryption key derived with HKDF from a master key of the keyring, with
//! `wrap|v1|<key id>|<binding>` as associated data: the key id is bound in, and a wrapped key
//! copied onto another row fails too. Object storage only ever holds ciphertext; Postgres holds the
//! wrapped key and its key id.
//!
//! The keyring has one current master key (new documents) and retired ones (reading only), each
//! by id, so a leaked key can be rotated: `sentra-server rotate-data-key` re-wraps every data key
//! under the current one, after which a retired key can be dropped.
//!
//! Format 0 is how documents were sealed before the keyring: the raw master key `k1` as the
//! key-encryption key and the binding alone as the wrap's associated data. It is read, and
//! rotated to format 1.
//!
//! NIKs are stored as HMAC-SHA256 under their own secret (`SENTRA_NIK_HASH_KEY`, through HKDF):
//! equal NIKs give equal hashes (one KTP verifies one account), the 16-digit space cannot be
//! searched without the key, and rotating the data key leaves the hashes as they are.
//!
//! Keys and plain documents are zeroized when dropped.

use std::collections::BTreeMap;

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use base64::Engine as _;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The id a single configured key had before the keyring (format 0 rows carry it).
pub const LEGACY_KEY_ID: &str = "k1";
/// The current sealing format.
pub const FORMAT: i16 = 1;

const NONCE_BYTES: usize = 12;
const WRAP_INFO: &[u8] = b"sentra/v1/kyc-wrap-key";
const NIK_INFO: &[u8] = b"sentra/v1/nik-hash-key";

type Key = Zeroizing<[u8; 32]>;

/// The configured keys, as the configuration read them (base64 of 32 bytes each).
#[derive(Debug, Clone)]
pub struct VaultKeys {
    /// Id of the master key new documents are sealed with.
    pub current_id: String,
    pub current: SecretString,
    /// Retired master keys by id: read, never used to seal.
    pub retired: Vec<(String, SecretString)>,
    /// The NIK hash's own secret; without it, the hash key is derived from the current master
    /// key as before the keyring (kept only so existing hashes still match).
    pub nik_hash_key: Option<SecretString>,
}

/// The keyring and the NIK hash key.
#[derive(Clone)]
pub struct Vault {
    current_id: String,
    masters: BTreeMap<String, Key>,
    nik_key: Key,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("current_id", &self.current_id)
            .field("key_ids", &self.masters.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A document sealed for storage.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// Nonce followed by the AES-GCM ciphertext of the document (goes to object storage).
    pub ciphertext: Vec<u8>,
    /// Nonce followed by the encrypted data key (goes to Postgres).
    pub wrapped_key: Vec<u8>,
    /// Id of the master key it was wrapped under.
    pub key_id: String,
    /// The sealing format (see the module docs).
    pub format: i16,
}

/// A stored wrapped data key.
#[derive(Debug, Clone, Copy)]
pub struct Wrapped<'a> {
    pub wrapped_key: &'a [u8],
    pub key_id: &'a str,
    pub format: i16,
}

/// Decryption failed: unknown or wrong key, another row's data, or altered bytes.
#[derive(Debug, thiserror::Error)]
#[error("the document could not be decrypted (unknown key, wrong row or altered data)")]
pub struct OpenError;

fn decode_key(what: &str, secret: &SecretString) -> anyhow::Result<Key> {
    let bytes = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(secret.expose_secret().trim())
            .map_err(|_| anyhow::anyhow!("{what} is not base64"))?,
    );
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("{what} must be 32 bytes"))?;
    Ok(Zeroizing::new(key))
}

fn hkdf(master: &[u8; 32], info: &[u8]) -> Key {
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, master)
        .expand(info, out.as_mut())
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 length"));
    out
}

impl Vault {
    /// Builds the keyring (keys checked by the configuration).
    pub fn new(keys: &VaultKeys) -> anyhow::Result<Self> {
        let current = decode_key("SENTRA_DATA_KEY", &keys.current)?;
        let nik_key = if let Some(secret) = &keys.nik_hash_key {
            hkdf(&*decode_key("SENTRA_NIK_HASH_KEY", secret)?, NIK_INFO)
        } else {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(current.as_slice())?;
            mac.update(b"sentra nik lookup v1");
            Zeroizing::new(mac.finalize().into_bytes().into())
        };
        let mut masters = BTreeMap::new();
        for (id, secret) in &keys.retired {
            masters.insert(
                id.clone(),
                decode_key(&format!("SENTRA_DATA_KEYS_RETIRED ({id})"), secret)?,
            );
        }
        masters.insert(keys.current_id.clone(), current);
        Ok(Self {
            current_id: keys.current_id.clone(),
            masters,
            nik_key,
        })
    }

    /// Id of the master key new documents are sealed with.
    pub fn current_key_id(&self) -> &str {
        &self.current_id
    }

    /// Encrypts `document`, bound to `binding`, under the current key.
    pub fn seal(&self, binding: &str, document: &[u8]) -> anyhow::Result<Sealed> {
        let data_key = Zeroizing::new(rand::rng().random::<[u8; 32]>());
        let ciphertext = encrypt(&data_key, binding.as_bytes(), document)?;
        let wrapped_key = self.wrap(binding, &data_key)?;
        Ok(Sealed {
            ciphertext,
            wrapped_key,
            key_id: self.current_id.clone(),
            format: FORMAT,
        })
    }

    /// Decrypts a document sealed under `binding`.
    pub fn open(
        &self,
        binding: &str,
        wrapped: Wrapped<'_>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let data_key = self.unwrap(binding, wrapped)?;
        decrypt(&data_key, binding.as_bytes(), ciphertext)
    }

    /// The same data key wrapped again under the current key, in the current format (the
    /// document itself stays as it is).
    pub fn rewrap(&self, binding: &str, wrapped: Wrapped<'_>) -> Result<Sealed, OpenError> {
        let data_key = self.unwrap(binding, wrapped)?;
        Ok(Sealed {
            ciphertext: Vec::new(),
            wrapped_key: self.wrap(binding, &data_key).map_err(|_| OpenError)?,
            key_id: self.current_id.clone(),
            format: FORMAT,
        })
    }

    /// The lookup hash of a NIK.
    pub fn nik_hash(&self, nik: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.nik_key.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(nik.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn wrap(&self, binding: &str, data_key: &[u8; 32]) -> anyhow::Result<Vec<u8>> {
        let master = self
            .masters
            .get(&self.current_id)
            .ok_or_else(|| anyhow::anyhow!("the current data key is missing"))?;
        let kek = hkdf(master, WRAP_INFO);
        encrypt(
            &kek,
            wrap_aad(&self.current_id, binding).as_bytes(),
            data_key,
        )
    }

    fn unwrap(&self, binding: &str, wrapped: Wrapped<'_>) -> Result<Key, OpenError> {
        let master = self.masters.get(wrapped.key_id).ok_or(OpenError)?;
        let plain = match wrapped.format {
            0 => decrypt(master, binding.as_bytes(), wrapped.wrapped_key)?,
            1 => decrypt(
                &hkdf(master, WRAP_INFO),
                wrap_aad(wrapped.key_id, binding).as_bytes(),
                wrapped.wrapped_key,
            )?,
            _ => return Err(OpenError),
        };
        let key: [u8; 32] = plain.as_slice().try_into().map_err(|_| OpenError)?;
        Ok(Zeroizing::new(key))
    }
}

fn wrap_aad(key_id: &str, binding: &str) -> String {
    format!("wrap|v1|{key_id}|{binding}")
}

fn encrypt(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
    let cipher = Aes256Gcm::new(key.into());
    let nonce: [u8; NONCE_BYTES] = rand::rng().random();
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

fn decrypt(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
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
        .map(Zeroizing::new)
        .map_err(|_| OpenError)
}

#[cfg(test)]
#[path = "vault/tests.rs"]
mod tests;
