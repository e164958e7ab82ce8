//! Call records and dispositions over HTTP JSON.
//!
//! - `GET /api/calls?since&until&category&kecamatan&caller&seat&limit`
//! - `GET /api/calls/{id}`: the record and its disposition history
//! - `POST /api/calls/{id}/disposition` `{"category", "kecamatan"?, "kelurahan"?, "notes"?}`:
//!   a seat disposes only calls its seat rang or answered; a supervisor corrects any; every
//!   disposition is kept as the call's history.
//!
//! A seat account reads only its own calls (rung or answered by its seat) and the calls
//! waiting in the queue now (it may be the one to take them), and cannot search by caller
//! number: a cracked seat password must not hand over the whole call history.
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{body, ApiError, ApiState, Principal};
use crate::analytics::Analytics;
use crate::config::{Category, CategoryKind, CountsAs};
use crate::location::OUTSIDE;
use crate::store::{CallRecord, Disposition, HistoryMark, ListFilter, Role, Timestamp};

/// Longest `notes` accepted.
const MAX_NOTES: usize = 4000;

/// `since`/`until`: RFC 3339, or a date `YYYY-MM-DD` meaning local midnight.
pub(super) fn time_param(
    v: Option<&str>,
    field: &str,
    analytics: &Analytics,
) -> Result<Option<Timestamp>, ApiError> {
    let Some(v) = v else {
        return Ok(None);
    };
    if let Some(t) = Timestamp::parse_rfc3339(v) {
        return Ok(Some(t));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(|d| Some(analytics.local_midnight(d)))
        .map_err(|_| ApiError::field(field, "expected YYYY-MM-DD or an RFC 3339 time"))
}

/// `GET /api/calls` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    since: Option<String>,
    until: Option<String>,
    category: Option<String>,
    kecamatan: Option<String>,
    caller: Option<String>,
    seat: Option<String>,
    limit: Option<String>,
}

/// The seat a seat principal is restricted to (`None` for other roles).
fn own_seat(who: &Principal) -> Result<Option<&str>, ApiError> {
    match who.role {
        Role::Seat => who
            .seat
            .as_deref()
            .map(Some)
            .ok_or(ApiError::Forbidden("a seat account without a seat")),
        Role::Supervisor | Role::Analyst | Role::Admin => Ok(None),
    }
}

/// The ids of calls waiting in the queue now; none when the gateway does not answer (a seat
/// then sees only its own calls: fail closed for callers' numbers).
async fn queued_ids(state: &ApiState) -> Vec<String> {
    state
        .routing
        .queue()
        .await
        .map(|q| q.into_iter().map(|q| q.call).collect())
        .unwrap_or_default()
}

pub(super) async fn list(
    State(state): State<ApiState>,
    who: Principal,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let limit = match q.limit.as_deref() {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::field("limit", "expected 1 to 1000"))?,
    };
    let own = own_seat(&who)?;
    if own.is_some() && q.caller.is_some() {
        return Err(ApiError::Forbidden("seats cannot search by caller number"));
    }
    if let (Some(own), Some(seat)) = (own, q.seat.as_deref()) {
        if own != seat {
            return Err(ApiError::Forbidden("a seat reads only its own calls"));
        }
    }
    let filter = ListFilter {
        since: time_param(q.since.as_deref(), "since", &state.analytics)?,
        until: time_param(q.until.as_deref(), "until", &state.analytics)?,
        category: q.category,
        kecamatan: q.kecamatan,
        caller: q.caller,
        seat: own.map(str::to_owned).or(q.seat),
        limit,
    };
    let mut calls = state.store.list(filter.clone()).await?;
    if own.is_some() {
        // Add the waiting calls (not rung at this seat yet), newest first like the rest.
        for id in queued_ids(&state).await {
            if calls.iter().any(|c| c.id == id) {
                continue;
            }
            if let Some(r) = state.store.get(id).await? {
                if in_filter(&r, &filter) {
                    calls.push(r);
                }
            }
        }
        calls.sort_by_key(|c| std::cmp::Reverse(c.received_at));
    }
    Ok(Json(json!({ "calls": calls })))
}

/// Whether a queued call passes the time and field filters (its seat aside).
fn in_filter(r: &CallRecord, f: &ListFilter) -> bool {
    f.since.is_none_or(|t| r.received_at >= t)
        && f.until.is_none_or(|t| r.received_at < t)
        && f.kecamatan
            .as_ref()
            .is_none_or(|k| r.kecamatan.as_ref() == Some(k))
        && (f.category.as_ref())
            .is_none_or(|c| r.disposition.as_ref().is_some_and(|d| &d.category == c))
}

pub(super) async fn one(
    State(state): State<ApiState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id?;
    let record = state
        .store
        .get(id.clone())
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(own) = own_seat(&who)? {
        if record.seat.as_deref() != Some(own) && !queued_ids(&state).await.contains(&id) {
            return Err(ApiError::Forbidden(
                "a seat reads only its own and queued calls",
            ));
        }
    }
    let history = state.store.dispositions(id).await?;
    Ok(Json(json!({
        "call": record,
        "queue_wait_ms": record.queue_wait_ms(),
        "talk_ms": record.talk_ms(),
        "dispositions": history,
    })))
}

/// The call's screening audio as WAV (issue 8); supervisors only, by the route table: it is
/// a caller's voice. 404 when the call or its clip (retention, screening off) is missing.
pub(super) async fn screening_audio(
    State(state): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let Path(id) = id?;
    state
        .store
        .get(id.clone())
        .await?
        .ok_or(ApiError::NotFound)?;
    let audio = state.screening_audio.clone();
    let clip = tokio::task::spawn_blocking(move || audio.load(&id))
        .await
        .map_err(|e| ApiError::from(crate::store::StoreError::Backend(e.to_string())))?
        .map_err(|e| ApiError::from(crate::store::StoreError::Backend(e.to_string())))?
        .ok_or(ApiError::NotFound)?;
    let wav = crate::screening::audio::to_wav(&clip);
    Ok(([(axum::http::header::CONTENT_TYPE, "audio/wav")], wav).into_response())
}

fn mark_of(c: &Category) -> HistoryMark {
    match (c.kind, c.counts_as) {
        (_, Some(CountsAs::Prank)) => HistoryMark::Prank,
        (_, Some(CountsAs::Ghost)) => HistoryMark::Ghost,
        (CategoryKind::NotAReport, None) => HistoryMark::Neutral,
        (CategoryKind::Emergency | CategoryKind::Service, None) => HistoryMark::Genuine,
    }
}

/// `POST /api/calls/{id}/disposition` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DispositionBody {
    category: String,
    #[serde(default)]
    kecamatan: Option<String>,
    #[serde(default)]
    kelurahan: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

/// Checks a disposition body against the taxonomy and the places; names the bad field.
fn parse_disposition(
    state: &ApiState,
    body: DispositionBody,
    by: &str,
) -> Result<Disposition, ApiError> {
    let id = body.category;
    let category = state
        .categories
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::field("category", format!("unknown category {id:?}")))?;
    let kecamatan = body.kecamatan;
    if let Some(k) = &kecamatan {
        if k != OUTSIDE && !state.places.kecamatan().any(|p| p == k) {
            return Err(ApiError::field(
                "kecamatan",
                format!("unknown kecamatan {k:?}"),
            ));
        }
    }
    let kelurahan = body.kelurahan;
    if let Some(l) = &kelurahan {
        let kec = (kecamatan.as_deref())
            .ok_or_else(|| ApiError::field("kecamatan", "required with kelurahan"))?;
        if !state.places.kelurahan_of(kec).any(|p| p == l) {
            return Err(ApiError::field(
                "kelurahan",
                format!("{l:?} is not in {kec:?}"),
            ));
        }
    }
    let notes = body.notes.unwrap_or_default();
    if notes.chars().count() > MAX_NOTES {
        return Err(ApiError::field(
            "notes",
            format!("longer than {MAX_NOTES} characters"),
        ));
    }
    Ok(Disposition {
        category: category.id.clone(),
        mark: mark_of(category),
        kecamatan,
        kelurahan,
        notes,
        by: by.to_owned(),
        at: (state.clock)(),
    })
}

pub(super) async fn dispose(
    State(state): State<ApiState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id?;
    let record = state
        .store
        .get(id.clone())
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(own) = own_seat(&who)? {
        if record.seat.as_deref() != Some(own) {
            return Err(ApiError::Forbidden("a seat disposes only its own calls"));
        }
    }
    let d = parse_disposition(&state, body(&bytes?)?, &who.name)?;
    let record = state.store.dispose(id.clone(), d).await?;
    let history = state.store.dispositions(id).await?;
    Ok(Json(json!({ "call": record, "dispositions": history })))
}
