use super::*;

const A: &str = "0123456789abcdef0123456789abcdef";
const B: &str = "fedcba9876543210fedcba9876543210";
const NIK_SECRET: &str = "nik-hash-secret-0123456789abcdef";
const BINDING: &str = "doc|v1|kyc|case-1|customer-1|ktp";

fn b64(key: &str) -> SecretString {
    SecretString::from(base64::engine::general_purpose::STANDARD.encode(key.as_bytes()))
}

fn vault(current: (&str, &str), retired: &[(&str, &str)]) -> Vault {
    Vault::new(&VaultKeys {
        current_id: current.0.to_owned(),
        current: b64(current.1),
        retired: retired
            .iter()
            .map(|(id, key)| ((*id).to_owned(), b64(key)))
            .collect(),
        nik_hash_key: Some(b64(NIK_SECRET)),
    })
    .expect("vault")
}

fn wrapped(sealed: &Sealed) -> Wrapped<'_> {
    Wrapped {
        wrapped_key: &sealed.wrapped_key,
        key_id: &sealed.key_id,
        format: sealed.format,
    }
}

#[test]
fn documents_round_trip_and_ciphertext_hides_them() {
    let vault = vault(("k1", A), &[]);
    let document = b"\x89PNG KTP 3171015708450001 SITI".to_vec();
    let sealed = vault.seal(BINDING, &document).expect("seal");
    assert_eq!((sealed.key_id.as_str(), sealed.format), ("k1", 1));
    assert!(
        !sealed
            .ciphertext
            .windows(16)
            .any(|w| w == b"3171015708450001")
    );
    let opened = vault
        .open(BINDING, wrapped(&sealed), &sealed.ciphertext)
        .expect("open");
    assert_eq!(opened.as_slice(), document.as_slice());
}

#[test]
fn wrong_keys_other_rows_and_altered_bytes_are_refused() {
    let a = vault(("k1", A), &[]);
    let sealed = a.seal(BINDING, b"document").expect("seal");
    let other_key = vault(("k1", B), &[]);
    assert!(
        other_key
            .open(BINDING, wrapped(&sealed), &sealed.ciphertext)
            .is_err(),
        "another key"
    );
    for swapped in [
        "doc|v1|kyc|case-1|customer-1|selfie",
        "doc|v1|kyc|case-1|customer-2|ktp",
        "doc|v1|kyc|case-2|customer-1|ktp",
    ] {
        assert!(
            a.open(swapped, wrapped(&sealed), &sealed.ciphertext)
                .is_err(),
            "a row swapped to {swapped}"
        );
    }
    // The key id is bound in: the same key under another id does not open it.
    let renamed = vault(("k9", A), &[]);
    let relabelled = Wrapped {
        key_id: "k9",
        ..wrapped(&sealed)
    };
    assert!(
        renamed
            .open(BINDING, relabelled, &sealed.ciphertext)
            .is_err(),
        "a relabelled key id"
    );
    let mut altered = sealed.ciphertext.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    assert!(
        a.open(BINDING, wrapped(&sealed), &altered).is_err(),
        "altered bytes"
    );
    let unknown = Wrapped {
        key_id: "k7",
        ..wrapped(&sealed)
    };
    assert!(a.open(BINDING, unknown, &sealed.ciphertext).is_err());
}

#[test]
fn a_rotated_key_reads_old_documents_and_a_rewrap_frees_the_old_key() {
    let before = vault(("k1", A), &[]);
    let sealed = before.seal(BINDING, b"selfie").expect("seal");
    let during = vault(("k2", B), &[("k1", A)]);
    assert_eq!(
        during
            .open(BINDING, wrapped(&sealed), &sealed.ciphertext)
            .expect("the retired key still reads")
            .as_slice(),
        b"selfie"
    );
    let rewrapped = during.rewrap(BINDING, wrapped(&sealed)).expect("rewrap");
    assert_eq!(rewrapped.key_id, "k2");
    let after = vault(("k2", B), &[]);
    assert_eq!(
        after
            .open(BINDING, wrapped(&rewrapped), &sealed.ciphertext)
            .expect("the new key alone reads it")
            .as_slice(),
        b"selfie"
    );
    assert!(
        after
            .open(BINDING, wrapped(&sealed), &sealed.ciphertext)
            .is_err(),
        "the old wrapping needs the dropped key"
    );
}

#[test]
fn format_zero_documents_are_read_and_rewrapped_to_format_one() {
    // Sealed as before the keyring: the raw key, the binding alone as associated data.
    let master: [u8; 32] = A.as_bytes().try_into().expect("32 bytes");
    let data_key = [7u8; 32];
    let ciphertext = encrypt(&data_key, BINDING.as_bytes(), b"ktp").expect("encrypt");
    let legacy = encrypt(&master, BINDING.as_bytes(), &data_key).expect("wrap");
    let old = Wrapped {
        wrapped_key: &legacy,
        key_id: LEGACY_KEY_ID,
        format: 0,
    };
    let vault = vault(("k2", B), &[("k1", A)]);
    assert_eq!(
        vault
            .open(BINDING, old, &ciphertext)
            .expect("format 0")
            .as_slice(),
        b"ktp"
    );
    let rewrapped = vault.rewrap(BINDING, old).expect("rewrap");
    assert_eq!((rewrapped.key_id.as_str(), rewrapped.format), ("k2", 1));
    assert_eq!(
        vault
            .open(BINDING, wrapped(&rewrapped), &ciphertext)
            .expect("format 1")
            .as_slice(),
        b"ktp"
    );
}

#[test]
fn nik_hashes_have_their_own_secret() {
    let a = vault(("k1", A), &[]);
    let rotated = vault(("k2", B), &[]);
    assert_eq!(
        a.nik_hash("3171015708450001"),
        rotated.nik_hash("3171015708450001"),
        "rotating the data key keeps the hashes"
    );
    assert_ne!(
        a.nik_hash("3171015708450001"),
        a.nik_hash("3171015708450002")
    );
    let other_secret = Vault::new(&VaultKeys {
        current_id: "k1".to_owned(),
        current: b64(A),
        retired: Vec::new(),
        nik_hash_key: Some(b64(B)),
    })
    .expect("vault");
    assert_ne!(
        a.nik_hash("3171015708450001"),
        other_secret.nik_hash("3171015708450001")
    );
}

#[test]
fn debug_names_key_ids_never_keys() {
    let text = format!("{:?}", vault(("k2", B), &[("k1", A)]));
    assert!(text.contains("k1") && text.contains("k2"), "{text}");
    assert!(
        !text.contains("fedcba") && !text.contains("0123456789"),
        "{text}"
    );
}
