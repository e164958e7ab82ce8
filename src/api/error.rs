//! `ApiError`: every failure of the HTTP API, mapped to a status and a JSON body
//! `{"error": "...", "field": "..."}` in one place.
use std::time::Duration;

use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::routing::{AcdError, TransitionError};
use crate::store::StoreError;

/// An API failure. `field` is sent only when one input field is at fault; internals (store
/// errors, lock poisoning, channel errors) are logged, never sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 401: no bearer token, an unknown, expired or revoked one, or a failed login.
    #[error("unauthorized")]
    Unauthorized,
    /// 403: the caller's role (or seat) does not allow this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404: no seat of that name.
    #[error("no seat named {seat:?}")]
    UnknownSeat {
        /// The name in the path.
        seat: String,
    },
    /// 404: no such route or record.
    #[error("not found")]
    NotFound,
    /// 409: the seat's state does not allow the command (e.g. resuming a seat not paused).
    #[error(transparent)]
    Conflict(TransitionError),
    /// 421: the `Host` header names a host this API does not serve (DNS rebinding).
    #[error("misdirected request: host not served here")]
    MisdirectedHost,
    /// 429: too many failed logins from this address or for this account; retry later.
    #[error("too many failed logins; retry in {} s", retry_after.as_secs().max(1))]
    TooManyAttempts {
        /// When the next attempt will be checked.
        retry_after: Duration,
    },
    /// 400 (or the extractor's own 4xx, e.g. 413 for a body too large): the request is wrong.
    #[error("{reason}")]
    BadRequest {
        /// What is wrong, for the client.
        reason: String,
        /// The input field at fault.
        field: Option<String>,
        /// The status to answer with.
        status: StatusCode,
    },
    /// 503: the routing owner is not running, or the login queue is full.
    #[error("service unavailable")]
    Unavailable,
    /// 500: the store failed (logged; the client sees no internals).
    #[error("internal error")]
    Store(#[from] StoreError),
    /// 500: a bug; details are in the log only.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// A 400 about one input field.
    pub fn field(field: &str, reason: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            reason: format!("{field}: {}", reason.into()),
            field: Some(field.to_owned()),
            status: StatusCode::BAD_REQUEST,
        }
    }

    /// A 400 from a serde error of a typed body or query: `path` is where serde failed
    /// (`.` for the top level), `whole` the field to blame when nothing narrower is known.
    pub fn serde(text: &str, path: &str, whole: &str) -> ApiError {
        // serde names the field of these two in backticks: "unknown field `x`, expected ...".
        let named = (text.contains("unknown field") || text.contains("missing field"))
            .then(|| text.split('`').nth(1))
            .flatten();
        let field = match path {
            // `?`: a syntax error; `[0]`: the body is an array, not an object.
            p if p == "." || p == "?" || p.is_empty() || p.starts_with('[') => {
                named.unwrap_or(whole)
            }
            p => p,
        };
        ApiError::BadRequest {
            reason: format!("{field}: {text}"),
            field: Some(field.to_owned()),
            status: StatusCode::BAD_REQUEST,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::UnknownSeat { .. } | ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::MisdirectedHost => StatusCode::MISDIRECTED_REQUEST,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BadRequest { status, .. } => *status,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) | ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<AcdError> for ApiError {
    fn from(err: AcdError) -> ApiError {
        match err {
            AcdError::UnknownSeat { seat } => ApiError::UnknownSeat { seat },
            AcdError::Transition(t) => ApiError::Conflict(t),
            AcdError::Unavailable => ApiError::Unavailable,
        }
    }
}

/// Extractor rejections keep their status (400, 413, 415, ...) and their text, which names
/// the problem in the request (never server internals).
fn rejected(status: StatusCode, text: String, field: Option<&str>) -> ApiError {
    ApiError::BadRequest {
        reason: text,
        field: field.map(str::to_owned),
        status,
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> ApiError {
        rejected(r.status(), r.body_text(), None)
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        rejected(r.status(), r.body_text(), Some("path"))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::serde(&r.body_text(), ".", "query")
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Store(e) = &self {
            tracing::error!(error = %e, "HTTP API: store failed");
        }
        let field = match &self {
            ApiError::BadRequest { field, .. } => field.as_deref(),
            _ => None,
        };
        let message = self.to_string();
        let body = ErrorBody {
            error: &message,
            field,
        };
        let mut response = (self.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            // RFC 6750 §3: a 401 names the scheme the client must use.
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            // RFC 6585 §4: Retry-After on 429.
            ApiError::TooManyAttempts { retry_after } => {
                let secs = retry_after.as_secs().max(1).to_string();
                if let Ok(v) = HeaderValue::from_str(&secs) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        response
    }
}
