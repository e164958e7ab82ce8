//! Login tokens: 32 random bytes (hex) held only in memory, keyed by their SHA-256: a
//! restart logs everybody out (call takers log in again at the start of a shift), and no
//! bearer secret is ever written to disk.
//!
//! A token remembers a fingerprint of the account it was issued for (role, seat, password
//! hash). Every request compares it with the account as stored now, so a password or role
//! change — through the API or `siaga account add` in another process — revokes the
//! account's tokens at their next use; logout revokes one token at once.
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};

use crate::store::{Account, Role, Timestamp};

/// Who a login token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Account name.
    pub name: String,
    /// Role when the token was issued.
    pub role: Role,
    /// Seat (seat role).
    pub seat: Option<String>,
    /// When the token stops working.
    pub expires_at: Timestamp,
    fingerprint: [u8; 32],
}

impl Session {
    /// Whether `account` (as stored now) is still the one this token was issued for.
    pub fn matches(&self, account: &Account) -> bool {
        self.fingerprint == fingerprint(account)
    }
}

/// What a password or role change alters.
fn fingerprint(a: &Account) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(serde_json::to_string(&a.role).unwrap_or_default());
    h.update([0]);
    h.update(a.seat.as_deref().unwrap_or(""));
    h.update([0]);
    h.update(&a.password_hash);
    h.finalize().into()
}

pub(crate) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Live tokens.
#[derive(Debug)]
pub struct Sessions {
    ttl_ms: i64,
    tokens: Mutex<HashMap<[u8; 32], Session>>,
}

impl Sessions {
    /// Tokens valid for `ttl_s` seconds.
    pub fn new(ttl_s: u64) -> Self {
        Sessions {
            ttl_ms: i64::try_from(ttl_s).unwrap_or(i64::MAX / 2_000) * 1000,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Issues a token for `account` at `now`.
    pub fn issue(&self, account: &Account, now: Timestamp) -> (String, Session) {
        let bytes: [u8; 32] = rand::random();
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let session = Session {
            name: account.name.clone(),
            role: account.role,
            seat: account.seat.clone(),
            expires_at: now.plus_ms(self.ttl_ms),
            fingerprint: fingerprint(account),
        };
        let mut tokens = self.tokens();
        tokens.retain(|_, s| s.expires_at > now);
        tokens.insert(digest(&token), session.clone());
        (token, session)
    }

    /// The session of `token` if it has not expired at `now` (the caller still checks it
    /// against the stored account with [`Session::matches`]).
    pub fn check(&self, token: &str, now: Timestamp) -> Option<Session> {
        self.tokens()
            .get(&digest(token))
            .filter(|s| s.expires_at > now)
            .cloned()
    }

    /// Ends one token (logout, or a token found stale).
    pub fn revoke(&self, token: &str) -> bool {
        self.tokens().remove(&digest(token)).is_some()
    }

    /// Ends every token of `account`; returns how many.
    pub fn revoke_account(&self, account: &str) -> usize {
        let mut tokens = self.tokens();
        let before = tokens.len();
        tokens.retain(|_, s| s.name != account);
        before - tokens.len()
    }
}
