//! Accounts and logins: Argon2id password hashes in the store, bearer tokens with expiry.
//!
//! Tokens are 32 random bytes (hex) held only in memory, keyed by their SHA-256: a restart
//! logs everybody out (call takers log in again at the start of a shift), and no bearer
//! secret is ever written to disk. A multi-node site would move them to the shared store.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::records::RecordsApiState;
use super::RecordsError;
use crate::store::{Account, Role, StoreError, Timestamp};

/// A clock the API reads (injected so tests can expire tokens).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

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

/// Who a request is from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// Account name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Seat (seat role).
    pub seat: Option<String>,
    /// When the token stops working.
    pub expires_at: Timestamp,
}

/// Live tokens.
pub struct Sessions {
    ttl_ms: i64,
    tokens: Mutex<HashMap<[u8; 32], Session>>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    /// Tokens valid for `ttl_s` seconds.
    pub fn new(ttl_s: u64) -> Self {
        Sessions {
            ttl_ms: i64::try_from(ttl_s).unwrap_or(i64::MAX / 2_000) * 1000,
            tokens: Mutex::new(HashMap::new()),
        }
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
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.retain(|_, s| s.expires_at > now);
        tokens.insert(digest(&token), session.clone());
        (token, session)
    }

    /// The session of `token` if it has not expired at `now`.
    pub fn check(&self, token: &str, now: Timestamp) -> Option<Session> {
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens
            .get(&digest(token))
            .filter(|s| s.expires_at > now)
            .cloned()
    }
}

impl FromRequestParts<RecordsApiState> for Session {
    type Rejection = RecordsError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RecordsApiState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION);
        let token = header
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(RecordsError::Unauthorized)?;
        state
            .sessions
            .check(token.trim(), (state.clock)())
            .ok_or(RecordsError::Unauthorized)
    }
}

/// Answer to a login.
#[derive(Debug, Serialize)]
struct LoginReply {
    token: String,
    #[serde(flatten)]
    session: Session,
}

fn str_field<'a>(body: &'a serde_json::Value, field: &str) -> Result<&'a str, RecordsError> {
    body.get(field)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| RecordsError::field(field, "a non-empty string is required"))
}

/// `POST /api/login` with `{"name": "...", "password": "..."}`.
pub(super) async fn login(
    State(state): State<RecordsApiState>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, RecordsError> {
    let body = super::records::json_body(&body)?;
    let name = str_field(&body, "name")?.to_owned();
    let password = str_field(&body, "password")?.to_owned();
    let account = state.store.account(name).await?;
    // Verify even for an unknown name, so timing does not tell which names exist.
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || {
        let dummy = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3Vh0+3Wdbh0oVLyOfSp5q7bFH2hb5Go8ak5kY5b0Y7s";
        verify_password(&password, hash.as_deref().unwrap_or(dummy)) && hash.is_some()
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?;
    let account = account.filter(|_| ok).ok_or(RecordsError::Unauthorized)?;
    let (token, session) = state.sessions.issue(&account, (state.clock)());
    let reply = LoginReply { token, session };
    Ok(Json(serde_json::to_value(reply).unwrap_or_default()))
}
