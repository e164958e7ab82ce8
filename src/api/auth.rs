//! Who a request is from, and whether its route lets them in.
//!
//! One bearer scheme (RFC 6750 §2.1) for two kinds of principal: a person's login token
//! (issued by `POST /api/login`, checked against the stored account at each request) and a
//! machine's named API key from `[[api.keys]]`. Every route declares the roles it admits in
//! [`ROUTES`]; [`authorize`] enforces the table, so a route cannot be added without one.
use std::collections::{HashMap, HashSet};

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::request::Parts;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use super::error::ApiError;
use super::sessions::digest;
use super::ApiState;
use crate::config::ApiKey;
use crate::store::Role;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, no token.
    Public,
    /// A login or key with one of these roles.
    Roles(&'static [Role]),
}

const ANY: &[Role] = &[Role::Seat, Role::Supervisor, Role::Analyst, Role::Admin];
const SUPERVISE: &[Role] = &[Role::Supervisor, Role::Admin];
const DISPOSE: &[Role] = &[Role::Seat, Role::Supervisor, Role::Admin];
const ANALYSE: &[Role] = &[Role::Supervisor, Role::Analyst, Role::Admin];
const ADMIN: &[Role] = &[Role::Admin];

/// Every route of the API: method, path (axum syntax), who may use it. The module docs of
/// [`super`] show the same table; `routes_table_covers_the_router` keeps them honest.
pub const ROUTES: &[(Method, &str, Access)] = &[
    (Method::GET, "/health", Access::Public),
    // counts only, no caller data: a Prometheus scraper needs no secret
    (Method::GET, "/metrics", Access::Public),
    (Method::GET, "/ready", Access::Public),
    (Method::POST, "/api/login", Access::Public),
    // AML senders are carriers' and Google's systems: their own key or HMAC (`[location]`)
    (Method::POST, "/aml", Access::Public),
    (Method::POST, "/aml/sms", Access::Public),
    (Method::POST, "/api/logout", Access::Roles(ANY)),
    (Method::GET, "/api/me", Access::Roles(ANY)),
    (Method::GET, "/api/seats", Access::Roles(ANY)),
    (Method::GET, "/api/queue", Access::Roles(ANY)),
    (
        Method::POST,
        "/api/seats/{name}/pause",
        Access::Roles(SUPERVISE),
    ),
    (
        Method::POST,
        "/api/seats/{name}/resume",
        Access::Roles(SUPERVISE),
    ),
    (Method::GET, "/api/calls", Access::Roles(ANY)),
    (Method::GET, "/api/calls/{id}", Access::Roles(ANY)),
    (
        Method::POST,
        "/api/calls/{id}/disposition",
        Access::Roles(DISPOSE),
    ),
    // a caller's voice: supervisors review ghost verdicts
    (
        Method::GET,
        "/api/calls/{id}/screening-audio",
        Access::Roles(SUPERVISE),
    ),
    (
        Method::GET,
        "/api/analytics/summary",
        Access::Roles(ANALYSE),
    ),
    (
        Method::GET,
        "/api/analytics/summary.csv",
        Access::Roles(ANALYSE),
    ),
    (Method::GET, "/api/categories", Access::Roles(ANY)),
    (Method::PUT, "/api/accounts/{name}", Access::Roles(ADMIN)),
];

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// A login token.
    Login,
    /// A configured API key.
    Key,
}

/// Who a request is from (inserted by [`authorize`], extracted by handlers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// Account or key name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The seat of a seat account.
    pub seat: Option<String>,
    /// Login or key.
    pub via: Via,
}

/// The configured API keys by the SHA-256 of their secret (the secrets themselves are not
/// kept; hashing first also makes the lookup independent of where a wrong key differs).
#[derive(Debug, Default)]
pub(crate) struct Keys(HashMap<[u8; 32], (String, Role)>);

impl Keys {
    pub(crate) fn new<'a>(keys: impl IntoIterator<Item = &'a ApiKey>) -> Keys {
        Keys(
            keys.into_iter()
                .map(|k| (digest(k.key.expose()), (k.name.clone(), k.role)))
                .collect(),
        )
    }

    fn get(&self, token: &str) -> Option<Principal> {
        self.0.get(&digest(token)).map(|(name, role)| Principal {
            name: name.clone(),
            role: *role,
            seat: None,
            via: Via::Key,
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub(crate) fn bearer(parts: &axum::http::HeaderMap) -> Option<&str> {
    let value = parts.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case("Bearer ")
        .then_some(token.trim())
}

impl ApiState {
    /// The principal of a bearer token: a key, or a live login whose account is unchanged.
    async fn identify(&self, token: &str) -> Result<Principal, ApiError> {
        if let Some(p) = self.keys.get(token) {
            return Ok(p);
        }
        let session = (self.sessions)
            .check(token, (self.clock)())
            .ok_or(ApiError::Unauthorized)?;
        let account = self.store.account(session.name.clone()).await?;
        match account {
            Some(a) if session.matches(&a) => Ok(Principal {
                name: a.name,
                role: a.role,
                seat: a.seat,
                via: Via::Login,
            }),
            // Password, role or seat changed, or the account is gone: the token is dead.
            _ => {
                self.sessions.revoke(token);
                Err(ApiError::Unauthorized)
            }
        }
    }
}

fn access_of(method: &Method, path: &str) -> Option<Access> {
    let mut same_path = ROUTES.iter().filter(|(_, p, _)| *p == path).peekable();
    same_path.peek()?;
    let found = same_path.find(|(m, _, _)| m == method).map(|(_, _, a)| *a);
    // The path exists with other methods: let the router answer 405.
    Some(found.unwrap_or(Access::Public))
}

/// Middleware: enforces [`ROUTES`] for the matched route; inserts the [`Principal`].
pub(crate) async fn authorize(
    State(state): State<ApiState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Only the fallback (404) has no matched path.
    let Some(path) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
    else {
        return Ok(next.run(req).await);
    };
    let access = match access_of(req.method(), &path) {
        Some(a) => a,
        None => {
            tracing::error!(%path, "route without a declared role; refused");
            return Err(ApiError::Forbidden("route has no declared role"));
        }
    };
    if let Access::Roles(roles) = access {
        let token = bearer(req.headers()).ok_or(ApiError::Unauthorized)?;
        let who = state.identify(token).await?;
        if !roles.contains(&who.role) {
            return Err(ApiError::Forbidden("your role may not use this route"));
        }
        req.extensions_mut().insert(who);
    }
    Ok(next.run(req).await)
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// Middleware: the `Host` header must name this API ([`crate::config::ApiConfig::allowed_hosts`]).
/// A browser tricked by DNS rebinding sends the attacker's name: 421 (RFC 9110 §15.5.20);
/// no `Host` at all is a malformed HTTP/1.1 request: 400 (RFC 9112 §3.2).
pub(crate) async fn check_host(
    State(hosts): State<std::sync::Arc<HashSet<String>>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    let Some(host) = host else {
        return Err(ApiError::field("host", "a Host header is required"));
    };
    if hosts.contains(&host.trim().to_ascii_lowercase()) {
        Ok(next.run(req).await)
    } else {
        Err(ApiError::MisdirectedHost)
    }
}
