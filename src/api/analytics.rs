//! Analytics over HTTP: `GET /api/analytics/summary?since&until&by` (JSON),
//! `GET /api/analytics/summary.csv` (the table as CSV), `GET /api/categories`.
//! Roles are in [`super::auth::ROUTES`].
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::records::time_param;
use super::{ApiError, ApiState};
use crate::analytics::{parse_dims, to_csv, Summary};
use crate::store::Timestamp;

/// The default range: the last 30 days.
const DEFAULT_DAYS: i64 = 30;

/// Summary query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SummaryQuery {
    since: Option<String>,
    until: Option<String>,
    by: Option<String>,
}

async fn summary(state: &ApiState, q: SummaryQuery) -> Result<Summary, ApiError> {
    let until = time_param(q.until.as_deref(), "until", &state.analytics)?
        .unwrap_or_else(|| (state.clock)());
    let since = time_param(q.since.as_deref(), "since", &state.analytics)?
        .unwrap_or_else(|| until.plus_ms(-DEFAULT_DAYS * 86_400_000));
    if since >= until {
        return Err(ApiError::field("since", "must be before until"));
    }
    let by = q.by.as_deref().unwrap_or("kecamatan,category");
    let by = parse_dims(by).map_err(|e| ApiError::field("by", e.to_string()))?;
    let analytics = state.analytics.clone();
    let s = state
        .store
        .run(move |store| analytics.summary(store, since, until, &by))
        .await?;
    Ok(s)
}

pub(super) async fn summary_json(
    State(state): State<ApiState>,
    q: Result<Query<SummaryQuery>, QueryRejection>,
) -> Result<Json<Summary>, ApiError> {
    summary(&state, q?.0).await.map(Json)
}

pub(super) async fn summary_csv(
    State(state): State<ApiState>,
    q: Result<Query<SummaryQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let s = summary(&state, q?.0).await?;
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

pub(super) async fn categories(State(state): State<ApiState>) -> Json<Value> {
    Json(json!({ "categories": *state.categories }))
}
