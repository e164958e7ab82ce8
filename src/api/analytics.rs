//! Analytics over HTTP: `GET /api/analytics/summary?since&until&by` (JSON),
//! `GET /api/analytics/summary.csv` (the table as CSV), `GET /api/categories`.
//! Supervisors and analysts only (categories: any account).
use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::accounts::Session;
use super::records::{time_param, RecordsApiState};
use super::RecordsError;
use crate::analytics::{parse_dims, to_csv, Summary};
use crate::store::{Role, Timestamp};

/// The default range: the last 30 days.
const DEFAULT_DAYS: i64 = 30;

pub(super) fn routes() -> Router<RecordsApiState> {
    Router::new()
        .route("/api/analytics/summary", get(summary_json))
        .route("/api/analytics/summary.csv", get(summary_csv))
        .route("/api/categories", get(categories))
}

async fn summary(
    state: &RecordsApiState,
    who: &Session,
    q: &HashMap<String, String>,
) -> Result<Summary, RecordsError> {
    if who.role == Role::Seat {
        return Err(RecordsError::Forbidden(
            "analytics are for supervisors and analysts",
        ));
    }
    if let Some(k) = q
        .keys()
        .find(|k| !["since", "until", "by"].contains(&k.as_str()))
    {
        return Err(RecordsError::field(k, "unknown query parameter"));
    }
    let until = time_param(q, "until", &state.analytics)?.unwrap_or_else(|| (state.clock)());
    let since = time_param(q, "since", &state.analytics)?
        .unwrap_or_else(|| until.plus_ms(-DEFAULT_DAYS * 86_400_000));
    if since >= until {
        return Err(RecordsError::field("since", "must be before until"));
    }
    let by = q.get("by").map_or("kecamatan,category", String::as_str);
    let by = parse_dims(by).map_err(|e| RecordsError::field("by", e.to_string()))?;
    let analytics = state.analytics.clone();
    let s = state
        .store
        .run(move |store| analytics.summary(store, since, until, &by))
        .await?;
    Ok(s)
}

async fn summary_json(
    State(state): State<RecordsApiState>,
    who: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Summary>, RecordsError> {
    summary(&state, &who, &q).await.map(Json)
}

async fn summary_csv(
    State(state): State<RecordsApiState>,
    who: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<impl IntoResponse, RecordsError> {
    let s = summary(&state, &who, &q).await?;
    let name = format!("siaga-{}-{}.csv", day(s.since), day(s.until));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        to_csv(&s.by, &s.table),
    ))
}

fn day(t: Timestamp) -> String {
    t.to_string().chars().take(10).collect()
}

async fn categories(State(state): State<RecordsApiState>, _who: Session) -> Json<Value> {
    Json(json!({ "categories": *state.categories }))
}
