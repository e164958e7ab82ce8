//! `siaga calls [--since DATE] [--until DATE] [--format table|json]`: call records one per
//! call, oldest first, read from the configured store directly (no running gateway, no API)
//! for operators and scripts. `json` is JSON Lines: one object per line.
use anyhow::{bail, Context};
use chrono::{FixedOffset, NaiveDate};
use serde::Serialize;

use siaga::analytics::Analytics;
use siaga::config::Config;
use siaga::store::{CallRecord, CallStore, ListFilter, Timestamp, LIST_LIMIT};

/// Output of `siaga calls`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum CallsFormat {
    /// Aligned columns, local times.
    Table,
    /// JSON Lines, RFC 3339 UTC times.
    Json,
}

/// One line of output.
#[derive(Debug, Serialize)]
struct Line {
    id: String,
    received_at: Timestamp,
    answered_at: Option<Timestamp>,
    ended_at: Option<Timestamp>,
    caller: Option<String>,
    class: Option<String>,
    outcome: String,
    hung_up_by: Option<String>,
    seat: Option<String>,
    disposition: Option<String>,
    kecamatan: Option<String>,
}

/// The snake_case name serde gives an enum value.
fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

impl From<CallRecord> for Line {
    fn from(r: CallRecord) -> Line {
        // How it ended, or where it is now when it has not ended.
        let outcome = r.end_reason.as_ref().map_or_else(|| name(&r.state), name);
        Line {
            id: r.id,
            received_at: r.received_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            caller: r.caller,
            class: r.class.as_ref().map(name),
            outcome,
            hung_up_by: r.ended_by.as_ref().map(name),
            seat: r.seat,
            disposition: r.disposition.map(|d| d.category),
            kecamatan: r.kecamatan,
        }
    }
}

/// `--since`/`--until`: a local date (midnight at `analytics.utc_offset_hours`) or RFC 3339.
fn bound(flag: &str, s: &str, a: &Analytics) -> anyhow::Result<Timestamp> {
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Ok(t);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("{flag} {s:?}: expected YYYY-MM-DD or an RFC 3339 time"))?;
    Ok(a.local_midnight(d))
}

/// Every record received in `[since, until)`, oldest first (the store answers newest first,
/// at most [`LIST_LIMIT`] at a time, so this pages backwards through `until`).
fn all_calls(
    store: &dyn CallStore,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> anyhow::Result<Vec<CallRecord>> {
    let mut out: Vec<CallRecord> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut until = until;
    loop {
        let filter = ListFilter {
            since,
            until,
            limit: LIST_LIMIT,
            ..ListFilter::default()
        };
        let page = store.list(&filter)?;
        let full = page.len() == LIST_LIMIT;
        let oldest = page.iter().map(|r| r.received_at).min();
        let before = out.len();
        out.extend(page.into_iter().filter(|r| seen.insert(r.id.clone())));
        match oldest {
            // Same-millisecond records at the page edge come again next page (deduplicated).
            Some(t) if full && out.len() > before => until = Some(t.plus_ms(1)),
            _ => break,
        }
    }
    out.sort_by(|a, b| {
        a.received_at
            .cmp(&b.received_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

fn local(t: Option<Timestamp>, offset: FixedOffset) -> String {
    t.and_then(Timestamp::to_utc).map_or_else(
        || "-".to_owned(),
        |t| {
            t.with_timezone(&offset)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        },
    )
}

fn table(lines: &[Line], offset: FixedOffset) -> String {
    let head = [
        "id",
        "received",
        "answered",
        "ended",
        "caller",
        "class",
        "outcome",
        "hung_up_by",
        "seat",
        "disposition",
        "kecamatan",
    ];
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.id.clone(),
                local(Some(l.received_at), offset),
                local(l.answered_at, offset),
                local(l.ended_at, offset),
                l.caller.clone().unwrap_or_else(|| "(withheld)".to_owned()),
                dash(&l.class),
                l.outcome.clone(),
                dash(&l.hung_up_by),
                dash(&l.seat),
                dash(&l.disposition),
                dash(&l.kecamatan),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut push = |cells: Vec<String>| {
        let line: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    };
    push(head.iter().map(|h| (*h).to_owned()).collect());
    for r in rows {
        push(r);
    }
    out
}

/// The output of `siaga calls`.
pub(crate) fn calls(
    config: &Config,
    since: Option<&str>,
    until: Option<&str>,
    format: CallsFormat,
) -> anyhow::Result<String> {
    let a = Analytics::new(
        config.analytics.utc_offset_hours,
        config.categories.clone(),
        config.analytics.top_callers,
    );
    let since = since.map(|s| bound("--since", s, &a)).transpose()?;
    let until = until.map(|s| bound("--until", s, &a)).transpose()?;
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            bail!("--since {s} must be before --until {u}");
        }
    }
    let store = crate::cli_report::open_existing(config)?;
    let lines: Vec<Line> = all_calls(store.as_ref(), since, until)?
        .into_iter()
        .map(Line::from)
        .collect();
    let offset = FixedOffset::east_opt(i32::from(config.analytics.utc_offset_hours) * 3600)
        .context("analytics.utc_offset_hours")?;
    Ok(match format {
        CallsFormat::Table => table(&lines, offset),
        CallsFormat::Json => {
            let mut out = String::new();
            for l in &lines {
                out.push_str(&serde_json::to_string(l)?);
                out.push('\n');
            }
            out
        }
    })
}
