//! `ApiError`: every failure of the HTTP API, mapped to a status and a JSON body in one place.
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::routing::{AcdError, TransitionError};

/// An API failure. The response is `{"error": "...", "field": "..."}` (`field` only when one
/// input field is at fault); internals (lock poisoning, channel errors) are logged, never sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 401: no `Authorization: Bearer` token, or the wrong one.
    #[error("missing or wrong bearer token")]
    Unauthorized,
    /// 404: no seat of that name.
    #[error("no seat named {seat:?}")]
    UnknownSeat {
        /// The name in the path.
        seat: String,
    },
    /// 404: no such route.
    #[error("not found")]
    NotFound,
    /// 409: the seat's state does not allow the command (e.g. resuming a seat not paused).
    #[error(transparent)]
    Conflict(TransitionError),
    /// 400 (or the extractor's own 4xx, e.g. 413 for a body too large): the request is wrong.
    #[error("{reason}")]
    BadRequest {
        /// What is wrong, for the client.
        reason: String,
        /// The input field at fault.
        field: Option<&'static str>,
        /// The status to answer with.
        status: StatusCode,
    },
    /// 503: the routing owner is not running.
    #[error("routing is not running")]
    Unavailable,
    /// 500: a bug; details are in the log only.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// A 400 about one input field.
    pub fn field(field: &'static str, reason: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            reason: reason.into(),
            field: Some(field),
            status: StatusCode::BAD_REQUEST,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::UnknownSeat { .. } | ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::BadRequest { status, .. } => *status,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
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
fn rejected(status: StatusCode, text: String, field: Option<&'static str>) -> ApiError {
    ApiError::BadRequest {
        reason: text,
        field,
        status,
    }
}

impl From<JsonRejection> for ApiError {
    /// Syntax errors and wrong shapes alike are 400 (axum says 422 for the latter).
    fn from(r: JsonRejection) -> ApiError {
        rejected(StatusCode::BAD_REQUEST, r.body_text(), None)
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

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let field = match &self {
            ApiError::BadRequest { field, .. } => *field,
            _ => None,
        };
        let message = self.to_string();
        let body = ErrorBody {
            error: &message,
            field,
        };
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized) {
            // RFC 6750 §3: a 401 names the scheme the client must use.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
