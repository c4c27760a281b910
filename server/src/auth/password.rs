//! Password hashing with Argon2id (the `argon2` crate's defaults: m = 19 MiB, t = 2, p = 1, per
//! the OWASP recommendation), PHC strings in the database.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};

/// Shortest password accepted when one is set.
pub const MIN_LENGTH: usize = 10;

/// Hashes a password into a PHC string.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| anyhow::anyhow!("making a password salt failed: {e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))?
        .to_string())
}

/// Whether `password` matches `phc`. A malformed stored hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("rahasia-sekali-123").expect("hash");
        let b = hash("rahasia-sekali-123").expect("hash");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify("rahasia-sekali-123", &a));
        assert!(!verify("rahasia-sekali-124", &a));
        assert!(!verify("anything", "not a phc string"));
    }
}
