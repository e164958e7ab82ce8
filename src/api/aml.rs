//! `POST /aml` (Android ELS HTTPS form) and `POST /aml/sms` (the raw text of an AML SMS, as
//! an SMS gateway received it; the originating number in [`SMS_SENDER_HEADER`]).
//!
//! Public in the role table: these carry their own authentication (`[location] aml_auth`:
//! an API key in `X-Siaga-Aml-Key`, or an HMAC-SHA256 of the body in `X-Siaga-Signature`),
//! because the sender is a carrier's or Google's system, not one of our accounts.
//!
//! Always 2xx, even when discarding (the ELS HTTPS specification asks for it: a sender must
//! not retry a message we will never take); why a message was discarded is logged and
//! counted. `aml_enabled = false`: 404, as if the route did not exist.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tracing::{info, warn};

use super::{ApiError, ApiState};
use crate::config::LocationConfig;
use crate::location::intake::{self, IntakeError, RateLimit, API_KEY_HEADER, SIGNATURE_HEADER};
use crate::location::Location;

/// Header with the SMS originator's number for `POST /aml/sms`.
pub const SMS_SENDER_HEADER: &str = "X-Siaga-Sms-From";

/// AML intake: configuration, the shared rate limit, counters.
#[derive(Debug)]
pub struct AmlIntake {
    cfg: LocationConfig,
    limit: Mutex<RateLimit>,
    /// Locations handed to the gateway.
    pub accepted: AtomicU64,
    /// Messages discarded (any reason; the log says which).
    pub discarded: AtomicU64,
}

impl AmlIntake {
    /// Intake for `[location]`.
    pub fn new(cfg: &LocationConfig) -> AmlIntake {
        AmlIntake {
            limit: Mutex::new(RateLimit::new(cfg.aml_rate_per_minute)),
            cfg: cfg.clone(),
            accepted: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
        }
    }
}

/// `POST /aml`.
pub async fn els(State(state): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    take(&state, &headers, &body, "els", intake::els_location).await
}

/// `POST /aml/sms`.
pub async fn sms(State(state): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    let sender = header(&headers, SMS_SENDER_HEADER).map(str::to_string);
    take(&state, &headers, &body, "sms", move |b| {
        let text = String::from_utf8_lossy(b);
        intake::sms_location(text.trim(), sender.as_deref())
    })
    .await
}

async fn take(
    state: &ApiState,
    headers: &HeaderMap,
    body: &[u8],
    kind: &'static str,
    parse: impl FnOnce(&[u8]) -> Result<Location, IntakeError>,
) -> Response {
    let aml = &state.aml;
    if !aml.cfg.aml_enabled {
        return ApiError::NotFound.into_response();
    }
    let now = (state.clock)();
    let checked = intake::authenticate(
        &aml.cfg,
        header(headers, API_KEY_HEADER),
        header(headers, SIGNATURE_HEADER),
        body,
    )
    .and_then(|()| {
        aml.limit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(now)
    })
    .and_then(|()| parse(body));
    let location = match checked {
        Ok(l) => l,
        Err(why) => {
            aml.discarded.fetch_add(1, Ordering::Relaxed);
            warn!(%kind, %why, bytes = body.len(), "AML message discarded");
            return accepted();
        }
    };
    let Some(gateway) = state.gateway.as_ref() else {
        aml.discarded.fetch_add(1, Ordering::Relaxed);
        warn!(%kind, "AML message discarded: no gateway to match it to calls");
        return accepted();
    };
    match gateway.locate(location).await {
        Ok(()) => {
            aml.accepted.fetch_add(1, Ordering::Relaxed);
            info!(%kind, "AML location taken");
        }
        Err(err) => {
            aml.discarded.fetch_add(1, Ordering::Relaxed);
            warn!(%kind, %err, "AML location not taken by the gateway");
        }
    }
    accepted()
}

fn accepted() -> Response {
    (StatusCode::OK, "ok").into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
