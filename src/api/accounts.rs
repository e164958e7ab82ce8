//! Account passwords: Argon2id PHC strings in the store (default parameters, random salt).
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

use crate::store::{Account, Role, StoreError};

/// Hashes `password` with Argon2id (default parameters, random salt) into a PHC string.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Backend(format!("argon2: {e}")))
}

/// Whether `password` matches the PHC `hash` (a malformed hash never matches).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new account with its password hashed (`seat` is required for, and only for, seats).
pub fn new_account(
    name: &str,
    role: Role,
    seat: Option<&str>,
    password: &str,
) -> Result<Account, StoreError> {
    Ok(Account {
        name: name.to_owned(),
        role,
        seat: seat.map(str::to_owned),
        password_hash: hash_password(password)?,
    })
}
