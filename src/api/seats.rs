//! Seat and queue handlers: thin, they read views and send commands through
//! [`RoutingControl`](super::RoutingControl).
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;

use super::{ApiError, ApiState};
use crate::routing::{QueuedView, SeatView};

/// Longest pause reason accepted (it is shown on every dashboard).
const MAX_REASON: usize = 200;

/// The reason given when the body has none.
const DEFAULT_REASON: &str = "paused by supervisor";

/// `POST /api/seats/{name}/pause` body; the whole body is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseBody {
    reason: Option<String>,
}

pub(super) async fn list(State(state): State<ApiState>) -> Result<Json<Vec<SeatView>>, ApiError> {
    Ok(Json(state.routing.seats().await?))
}

pub(super) async fn queue(
    State(state): State<ApiState>,
) -> Result<Json<Vec<QueuedView>>, ApiError> {
    Ok(Json(state.routing.queue().await?))
}

pub(super) async fn pause(
    State(state): State<ApiState>,
    name: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SeatView>, ApiError> {
    let Path(name) = name?;
    let reason = reason(&body?)?;
    // The answer is the seat after the pause (one look by the routing owner).
    Ok(Json(state.routing.pause(&name, &reason).await?))
}

pub(super) async fn resume(
    State(state): State<ApiState>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<SeatView>, ApiError> {
    let Path(name) = name?;
    Ok(Json(state.routing.resume(&name).await?))
}

/// The pause reason of a body: empty body or no `reason` → the default; otherwise trimmed,
/// non-empty, at most [`MAX_REASON`] characters, no control characters.
fn reason(body: &[u8]) -> Result<String, ApiError> {
    let parsed: PauseBody = super::body(body)?;
    let Some(reason) = parsed.reason else {
        return Ok(DEFAULT_REASON.to_owned());
    };
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "must not be blank"));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(ApiError::field(
            "reason",
            format!("longer than {MAX_REASON} characters"),
        ));
    }
    if reason.chars().any(char::is_control) {
        return Err(ApiError::field(
            "reason",
            "must not contain control characters",
        ));
    }
    Ok(reason.to_owned())
}
