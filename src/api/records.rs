//! Call records and dispositions over HTTP JSON.
//!
//! - `GET /api/calls?since&until&category&kecamatan&caller&seat&limit`
//! - `GET /api/calls/{id}`: the record and its disposition history
//! - `GET /api/calls/{id}/screening-audio`: what screening heard, as WAV (supervisors)
//! - `POST /api/calls/{id}/disposition` `{"category", "kecamatan"?, "kelurahan"?, "notes"?}`:
//!   a seat disposes only calls its seat rang or answered; a supervisor corrects any; every
//!   disposition is kept as the call's history.
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde_json::{json, Value};

use super::accounts::{login, Clock, Session, Sessions};
use super::RecordsError;
use crate::analytics::Analytics;
use crate::config::{Category, CategoryKind, CountsAs};
use crate::location::{Places, OUTSIDE};
use crate::store::{
    Disposition, HistoryMark, ListFilter, Role, StoreError, StoreHandle, Timestamp,
};

/// Longest `notes` accepted.
const MAX_NOTES: usize = 4000;

/// What the records API needs.
#[derive(Clone)]
pub struct RecordsApiState {
    /// The call store.
    pub store: StoreHandle,
    /// Live login tokens.
    pub sessions: Arc<Sessions>,
    /// Kecamatan and kelurahan (for validation).
    pub places: Arc<Places>,
    /// The disposition taxonomy.
    pub categories: Arc<Vec<Category>>,
    /// Report settings.
    pub analytics: Arc<Analytics>,
    /// The clock (tests inject one).
    pub clock: Clock,
    /// The kept screening audio (issue 8).
    pub screening_audio: crate::screening::audio::AudioStore,
}

/// The records, dispositions, analytics and login routes.
pub fn routes(state: RecordsApiState) -> Router {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/calls", get(list))
        .route("/api/calls/{id}", get(one))
        .route("/api/calls/{id}/disposition", post(dispose))
        .route("/api/calls/{id}/screening-audio", get(screening_audio))
        .merge(super::analytics::routes())
        .with_state(state)
}

/// Parses a JSON object body; anything else is a 400 on `body`.
pub(super) fn json_body(bytes: &[u8]) -> Result<Value, RecordsError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(RecordsError::field("body", "expected a JSON object")),
        Err(e) => Err(RecordsError::field("body", format!("invalid JSON: {e}"))),
    }
}

/// `since`/`until`: RFC 3339, or a date `YYYY-MM-DD` meaning local midnight.
pub(super) fn time_param(
    q: &HashMap<String, String>,
    field: &str,
    analytics: &Analytics,
) -> Result<Option<Timestamp>, RecordsError> {
    let Some(v) = q.get(field) else {
        return Ok(None);
    };
    if let Some(t) = Timestamp::parse_rfc3339(v) {
        return Ok(Some(t));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(|d| Some(analytics.local_midnight(d)))
        .map_err(|_| RecordsError::field(field, "expected YYYY-MM-DD or an RFC 3339 time"))
}

async fn list(
    State(state): State<RecordsApiState>,
    _who: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, RecordsError> {
    let known = [
        "since",
        "until",
        "category",
        "kecamatan",
        "caller",
        "seat",
        "limit",
    ];
    if let Some(k) = q.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(RecordsError::field(k, "unknown query parameter"));
    }
    let limit = match q.get("limit") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| RecordsError::field("limit", "expected 1 to 1000"))?,
    };
    let filter = ListFilter {
        since: time_param(&q, "since", &state.analytics)?,
        until: time_param(&q, "until", &state.analytics)?,
        category: q.get("category").cloned(),
        kecamatan: q.get("kecamatan").cloned(),
        caller: q.get("caller").cloned(),
        seat: q.get("seat").cloned(),
        limit,
    };
    let calls = state.store.list(filter).await?;
    Ok(Json(json!({ "calls": calls })))
}

async fn one(
    State(state): State<RecordsApiState>,
    _who: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, RecordsError> {
    let record = state
        .store
        .get(id.clone())
        .await?
        .ok_or(RecordsError::NotFound)?;
    let history = state.store.dispositions(id).await?;
    Ok(Json(json!({
        "call": record,
        "queue_wait_ms": record.queue_wait_ms(),
        "talk_ms": record.talk_ms(),
        "dispositions": history,
    })))
}

/// The call's screening audio as WAV; supervisors only (it is a caller's voice).
async fn screening_audio(
    State(state): State<RecordsApiState>,
    who: Session,
    Path(id): Path<String>,
) -> Result<axum::response::Response, RecordsError> {
    use axum::response::IntoResponse;
    if who.role != Role::Supervisor {
        return Err(RecordsError::Forbidden(
            "screening audio is for supervisors",
        ));
    }
    state
        .store
        .get(id.clone())
        .await?
        .ok_or(RecordsError::NotFound)?;
    let audio = state.screening_audio.clone();
    let clip = tokio::task::spawn_blocking(move || audio.load(&id))
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?
        .map_err(|e| StoreError::Backend(e.to_string()))?
        .ok_or(RecordsError::NotFound)?;
    let wav = crate::screening::audio::to_wav(&clip);
    Ok(([(axum::http::header::CONTENT_TYPE, "audio/wav")], wav).into_response())
}

fn opt_str<'a>(body: &'a Value, field: &str) -> Result<Option<&'a str>, RecordsError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(RecordsError::field(field, "expected a string")),
    }
}

fn mark_of(c: &Category) -> HistoryMark {
    match (c.kind, c.counts_as) {
        (_, Some(CountsAs::Prank)) => HistoryMark::Prank,
        (_, Some(CountsAs::Ghost)) => HistoryMark::Ghost,
        (CategoryKind::NotAReport, None) => HistoryMark::Neutral,
        (CategoryKind::Emergency | CategoryKind::Service, None) => HistoryMark::Genuine,
    }
}

/// Checks a disposition body against the taxonomy and the places; names the bad field.
fn parse_disposition(
    state: &RecordsApiState,
    body: &Value,
    by: &str,
) -> Result<Disposition, RecordsError> {
    let allowed = ["category", "kecamatan", "kelurahan", "notes"];
    if let Some(k) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| !allowed.contains(&k.as_str())))
    {
        return Err(RecordsError::field(k, "unknown field"));
    }
    let id =
        opt_str(body, "category")?.ok_or_else(|| RecordsError::field("category", "required"))?;
    let category = state
        .categories
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| RecordsError::field("category", format!("unknown category {id:?}")))?;
    let kecamatan = opt_str(body, "kecamatan")?;
    if let Some(k) = kecamatan {
        if k != OUTSIDE && !state.places.kecamatan().any(|p| p == k) {
            return Err(RecordsError::field(
                "kecamatan",
                format!("unknown kecamatan {k:?}"),
            ));
        }
    }
    let kelurahan = opt_str(body, "kelurahan")?;
    if let Some(l) = kelurahan {
        let kec =
            kecamatan.ok_or_else(|| RecordsError::field("kecamatan", "required with kelurahan"))?;
        if !state.places.kelurahan_of(kec).any(|p| p == l) {
            return Err(RecordsError::field(
                "kelurahan",
                format!("{l:?} is not in {kec:?}"),
            ));
        }
    }
    let notes = opt_str(body, "notes")?.unwrap_or_default();
    if notes.chars().count() > MAX_NOTES {
        return Err(RecordsError::field(
            "notes",
            format!("longer than {MAX_NOTES} characters"),
        ));
    }
    Ok(Disposition {
        category: category.id.clone(),
        mark: mark_of(category),
        kecamatan: kecamatan.map(str::to_owned),
        kelurahan: kelurahan.map(str::to_owned),
        notes: notes.to_owned(),
        by: by.to_owned(),
        at: (state.clock)(),
    })
}

async fn dispose(
    State(state): State<RecordsApiState>,
    who: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, RecordsError> {
    let record = state
        .store
        .get(id.clone())
        .await?
        .ok_or(RecordsError::NotFound)?;
    match who.role {
        Role::Supervisor => {}
        Role::Seat if who.seat.is_some() && record.seat == who.seat => {}
        Role::Seat => {
            return Err(RecordsError::Forbidden(
                "a seat disposes only its own calls",
            ))
        }
        Role::Analyst => return Err(RecordsError::Forbidden("analysts cannot dispose calls")),
    }
    let d = parse_disposition(&state, &json_body(&body)?, &who.name)?;
    let record = state.store.dispose(id.clone(), d).await?;
    let history = state.store.dispositions(id).await?;
    Ok(Json(json!({ "call": record, "dispositions": history })))
}
