//! `POST /api/login`, `POST /api/logout`, `GET /api/me`, `PUT /api/accounts/{name}`.
//!
//! A login is checked in this order, cheapest first: back-off of the source address and of
//! the account name (429 with Retry-After, no Argon2 run), then the password on the bounded
//! Argon2 pool ([`super::hasher`]; 503 when its queue is full). Unknown names cost the
//! same Argon2 run as known ones and count against their name like any other.
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::accounts::hash_password;
use super::auth::{bearer, Principal, Via};
use super::backoff::Backoff;
use super::hasher::Verifier;
use super::{body, ApiError, ApiState};
use crate::config::AccountsConfig;
use crate::store::{Account, Role, Timestamp};

/// How many more failures an address gets than an account name: call takers behind one
/// NAT share an address, and one of them mistyping must not slow the others much.
const IP_FREE_FACTOR: u32 = 4;

/// Longest name and password accepted (the password is Argon2 input).
const MAX_NAME: usize = 64;
const MAX_PASSWORD: usize = 256;

/// Login throttling and the Argon2 pool.
#[derive(Debug)]
pub(crate) struct Logins {
    verifier: Verifier,
    by_ip: Mutex<Backoff<IpAddr>>,
    by_account: Mutex<Backoff<String>>,
}

impl Logins {
    pub(crate) fn new(c: &AccountsConfig) -> Logins {
        let max = Duration::from_secs(c.backoff_max_s);
        Logins {
            verifier: Verifier::new(c.login_workers, c.login_queue),
            by_ip: Mutex::new(Backoff::new(
                c.backoff_after.saturating_mul(IP_FREE_FACTOR),
                max,
            )),
            by_account: Mutex::new(Backoff::new(c.backoff_after, max)),
        }
    }

    fn check(&self, ip: IpAddr, name: &str, now: Instant) -> Result<(), ApiError> {
        let ip_wait = self
            .by_ip
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .check(&ip, now);
        let name_wait = (self
            .by_account
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
        .check(&name.to_owned(), now);
        match (ip_wait, name_wait) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(a), Err(b)) => Err(ApiError::TooManyAttempts {
                retry_after: a.max(b),
            }),
            (Err(w), _) | (_, Err(w)) => Err(ApiError::TooManyAttempts { retry_after: w }),
        }
    }

    fn failed(&self, ip: IpAddr, name: &str, now: Instant) {
        let ip_wait = self
            .by_ip
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failed(&ip, now);
        let name_wait = (self
            .by_account
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
        .failed(&name.to_owned(), now);
        if !ip_wait.is_zero() || !name_wait.is_zero() {
            tracing::warn!(%ip, account = name, ?ip_wait, ?name_wait, "failed logins: backing off");
        }
    }

    fn succeeded(&self, name: &str) {
        (self
            .by_account
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
        .succeeded(&name.to_owned());
    }
}

/// The peer address the listener put on the request (unspecified without one, in tests).
pub(super) struct PeerIp(IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(PeerIp(info.map_or(
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            |ConnectInfo(a)| a.ip(),
        )))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    name: String,
    password: String,
}

#[derive(Debug, Serialize)]
pub(super) struct LoginReply {
    token: String,
    name: String,
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    seat: Option<String>,
    expires_at: Timestamp,
}

pub(super) async fn login(
    State(state): State<ApiState>,
    PeerIp(ip): PeerIp,
    bytes: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<LoginReply>, ApiError> {
    let LoginBody { name, password } = body(&bytes?)?;
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::field(
            "name",
            format!("1 to {MAX_NAME} characters"),
        ));
    }
    if password.is_empty() || password.chars().count() > MAX_PASSWORD {
        return Err(ApiError::field(
            "password",
            format!("1 to {MAX_PASSWORD} characters"),
        ));
    }
    state.logins.check(ip, &name, Instant::now())?;
    let store = std::sync::Arc::clone(state.store.blocking());
    let lookup_name = name.clone();
    let checked = (state.logins.verifier)
        .check(password, Box::new(move || store.account(&lookup_name)))
        .await
        .map_err(|_| ApiError::Unavailable)??;
    let account = match checked {
        Some(a) => a,
        None => {
            state.logins.failed(ip, &name, Instant::now());
            return Err(ApiError::Unauthorized);
        }
    };
    state.logins.succeeded(&name);
    let (token, session) = state.sessions.issue(&account, (state.clock)());
    Ok(Json(LoginReply {
        token,
        name: session.name,
        role: session.role,
        seat: session.seat,
        expires_at: session.expires_at,
    }))
}

/// Ends the presented login token; an API key cannot be logged out (400).
pub(super) async fn logout(
    State(state): State<ApiState>,
    who: Principal,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, ApiError> {
    if who.via == Via::Key {
        return Err(ApiError::field(
            "authorization",
            "an API key cannot log out",
        ));
    }
    if let Some(token) = bearer(&headers) {
        state.sessions.revoke(token);
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn me(who: Principal) -> Json<Principal> {
    Json(who)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountBody {
    role: Role,
    #[serde(default)]
    seat: Option<String>,
    /// New password; absent keeps the current one (a role change).
    #[serde(default)]
    password: Option<String>,
}

/// Creates or changes an account (admin). Any change revokes the account's tokens.
pub(super) async fn put_account(
    State(state): State<ApiState>,
    name: Result<Path<String>, axum::extract::rejection::PathRejection>,
    bytes: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Path(name) = name?;
    let b: AccountBody = body(&bytes?)?;
    let valid = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(valid) {
        return Err(ApiError::field("name", "1 to 64 of A-Z a-z 0-9 - _ ."));
    }
    match (b.role, &b.seat) {
        (Role::Seat, None) => return Err(ApiError::field("seat", "required for a seat account")),
        (Role::Seat, Some(_)) => {}
        (_, Some(_)) => return Err(ApiError::field("seat", "only for seat accounts")),
        (_, None) => {}
    }
    let existing = state.store.account(name.clone()).await?;
    let password_hash = match (b.password, existing) {
        (Some(p), _) if p.chars().count() < 8 || p.chars().count() > MAX_PASSWORD => {
            return Err(ApiError::field(
                "password",
                format!("8 to {MAX_PASSWORD} characters"),
            ))
        }
        (Some(p), _) => tokio::task::spawn_blocking(move || hash_password(&p))
            .await
            .map_err(|_| ApiError::Internal)??,
        (None, Some(a)) => a.password_hash,
        (None, None) => return Err(ApiError::field("password", "required for a new account")),
    };
    let account = Account {
        name: name.clone(),
        role: b.role,
        seat: b.seat,
        password_hash,
    };
    state.store.put_account(account).await?;
    let revoked = state.sessions.revoke_account(&name);
    tracing::info!(account = %name, revoked, "account changed; its tokens are revoked");
    Ok(Json(
        serde_json::json!({ "name": name, "revoked_tokens": revoked }),
    ))
}
