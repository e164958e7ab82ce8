//! Errors of the records API and their HTTP form: `{"error": "...", "field": "..."}`.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::store::StoreError;

/// What a records API request can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordsError {
    /// 400: a field of the query or body is missing or wrong.
    #[error("{field}: {reason}")]
    BadField {
        /// The query parameter or body field, e.g. `category`, `since`, `body`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// 401: no token, an unknown or expired one, or a failed login.
    #[error("unauthorized")]
    Unauthorized,
    /// 403: the account's role or seat does not allow this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404: no such call.
    #[error("not found")]
    NotFound,
    /// 500: the store failed (logged; the client sees no internals).
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl RecordsError {
    /// A 400 naming `field`.
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        RecordsError::BadField {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

impl IntoResponse for RecordsError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            RecordsError::BadField { field, reason } => (
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "error": format!("{field}: {reason}"), "field": field }),
            ),
            RecordsError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                serde_json::json!({ "error": "unauthorized" }),
            ),
            RecordsError::Forbidden(why) => (
                StatusCode::FORBIDDEN,
                serde_json::json!({ "error": format!("forbidden: {why}") }),
            ),
            RecordsError::NotFound => (
                StatusCode::NOT_FOUND,
                serde_json::json!({ "error": "not found" }),
            ),
            RecordsError::Store(e) => {
                tracing::error!(error = %e, "records API: store failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    serde_json::json!({ "error": "internal error" }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}
