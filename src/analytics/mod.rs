//! Reports over the store's per-hour counts: calls per kecamatan × category × day/week/month,
//! prank and ghost share per day, busiest hours, top repeat callers.
//!
//! Everything here is computed from [`HourCount`] rows (hour × kecamatan × category), which
//! SQLite keeps pre-aggregated; a month of a busy city is a few thousand rows whatever the
//! number of calls, so a report costs the same for 1,000 or 1,000,000 records. Ranges are
//! therefore whole hours: `since` rounds down and `until` up to the hour.
//!
//! Days, weeks (ISO 8601), months and hours of the day are local time at the configured fixed
//! offset (`analytics.utc_offset_hours`, WIB = +7).
mod format;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Timelike};
use serde::Serialize;

use crate::config::{Category, CategoryKind, CountsAs};
use crate::store::{CallStore, CallerCount, HourCount, StoreError, Timestamp, HOUR_MS};

pub use format::{to_csv, to_text};

/// Label of calls with no kecamatan.
pub const NO_KECAMATAN: &str = "(unknown)";
/// Label of calls with no disposition.
pub const NO_CATEGORY: &str = "(undisposed)";

/// A dimension a report can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// Local date, `2026-11-01`.
    Day,
    /// ISO week, `2026-W45`.
    Week,
    /// Month, `2026-11`.
    Month,
    /// Local hour of the day, `00`..`23`.
    Hour,
    /// Kecamatan (or `outside Kota Cirebon`, `(unknown)`).
    Kecamatan,
    /// Category id (or `(undisposed)`).
    Category,
    /// Category kind: `emergency`, `service`, `not_a_report`.
    Kind,
}

impl Dim {
    /// The name used in `--by` and in CSV headers.
    pub fn name(self) -> &'static str {
        match self {
            Dim::Day => "day",
            Dim::Week => "week",
            Dim::Month => "month",
            Dim::Hour => "hour",
            Dim::Kecamatan => "kecamatan",
            Dim::Category => "category",
            Dim::Kind => "kind",
        }
    }
}

/// A `--by`/`by=` list that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dimension {0:?}: expected day, week, month, hour, kecamatan, category, kind")]
pub struct DimError(pub String);

/// Parses `kecamatan,category` (no repeats; empty gives no grouping, a grand total).
pub fn parse_dims(s: &str) -> Result<Vec<Dim>, DimError> {
    let all = [
        Dim::Day,
        Dim::Week,
        Dim::Month,
        Dim::Hour,
        Dim::Kecamatan,
        Dim::Category,
        Dim::Kind,
    ];
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let dim = all
            .into_iter()
            .find(|d| d.name() == part)
            .ok_or_else(|| DimError(part.to_owned()))?;
        if !out.contains(&dim) {
            out.push(dim);
        }
    }
    Ok(out)
}

/// One row of a grouped table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// One label per dimension.
    pub key: Vec<String>,
    /// Calls.
    pub calls: u64,
}

/// Calls and prank/ghost calls of one local day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayShare {
    /// Local date.
    pub day: String,
    /// All calls.
    pub calls: u64,
    /// Disposed as prank.
    pub prank: u64,
    /// Disposed as ghost (by a call taker or by screening).
    pub ghost: u64,
    /// (prank + ghost) / calls.
    pub share: f64,
}

/// Calls in one local hour of the day, over the whole range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HourOfDay {
    /// 0..=23.
    pub hour: u8,
    /// Calls.
    pub calls: u64,
}

/// The whole analytics answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Start (inclusive, rounded down to the hour).
    pub since: Timestamp,
    /// End (exclusive, rounded up to the hour).
    pub until: Timestamp,
    /// Calls in the range.
    pub total: u64,
    /// The grouping of `table`.
    pub by: Vec<Dim>,
    /// Calls per group, sorted by key.
    pub table: Vec<Row>,
    /// Prank and ghost share per local day, by day.
    pub prank_ghost_per_day: Vec<DayShare>,
    /// Hours of the day, busiest first.
    pub busiest_hours: Vec<HourOfDay>,
    /// Callers with most calls, most first.
    pub top_callers: Vec<CallerCount>,
}

/// What a report needs besides the store: the calendar and the taxonomy.
#[derive(Debug, Clone)]
pub struct Analytics {
    offset: FixedOffset,
    categories: Vec<Category>,
    top_callers: usize,
}

impl Analytics {
    /// From the `[analytics]` offset, the taxonomy and the top-caller count.
    pub fn new(utc_offset_hours: i8, categories: Vec<Category>, top_callers: usize) -> Self {
        let offset = FixedOffset::east_opt(i32::from(utc_offset_hours) * 3600)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
        Analytics {
            offset,
            categories,
            top_callers,
        }
    }

    /// Local midnight starting `date`, as a timestamp.
    pub fn local_midnight(&self, date: NaiveDate) -> Timestamp {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        match self.offset.from_local_datetime(&midnight).single() {
            Some(t) => Timestamp::from_ms(t.timestamp_millis()),
            None => Timestamp::from_ms(midnight.and_utc().timestamp_millis()),
        }
    }

    fn local(&self, hour: i64) -> DateTime<FixedOffset> {
        let utc = DateTime::from_timestamp(hour.saturating_mul(3600), 0).unwrap_or_default();
        utc.with_timezone(&self.offset)
    }

    fn label(&self, dim: Dim, c: &HourCount) -> String {
        let t = || self.local(c.hour);
        match dim {
            Dim::Day => t().format("%Y-%m-%d").to_string(),
            Dim::Week => {
                let w = t().iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Dim::Month => t().format("%Y-%m").to_string(),
            Dim::Hour => t().format("%H").to_string(),
            Dim::Kecamatan if c.kecamatan.is_empty() => NO_KECAMATAN.to_owned(),
            Dim::Kecamatan => c.kecamatan.clone(),
            Dim::Category if c.category.is_empty() => NO_CATEGORY.to_owned(),
            Dim::Category => c.category.clone(),
            Dim::Kind => self.kind_label(&c.category),
        }
    }

    fn kind_label(&self, category: &str) -> String {
        if category.is_empty() {
            return NO_CATEGORY.to_owned();
        }
        match self.categories.iter().find(|c| c.id == category) {
            Some(c) => match c.kind {
                CategoryKind::Emergency => "emergency",
                CategoryKind::Service => "service",
                CategoryKind::NotAReport => "not_a_report",
            }
            .to_owned(),
            None => "(unknown category)".to_owned(),
        }
    }

    fn counts_as(&self, category: &str) -> Option<CountsAs> {
        let c = self.categories.iter().find(|c| c.id == category)?;
        c.counts_as
    }

    /// Calls grouped by `dims`, sorted by key.
    pub fn table(&self, counts: &[HourCount], dims: &[Dim]) -> Vec<Row> {
        let mut groups: BTreeMap<Vec<String>, u64> = BTreeMap::new();
        for c in counts {
            let key = dims.iter().map(|&d| self.label(d, c)).collect();
            *groups.entry(key).or_default() += c.calls;
        }
        groups
            .into_iter()
            .map(|(key, calls)| Row { key, calls })
            .collect()
    }

    /// Prank and ghost share of each local day that had calls.
    pub fn prank_ghost_per_day(&self, counts: &[HourCount]) -> Vec<DayShare> {
        let mut days: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
        for c in counts {
            let day = days.entry(self.label(Dim::Day, c)).or_default();
            day.0 += c.calls;
            match self.counts_as(&c.category) {
                Some(CountsAs::Prank) => day.1 += c.calls,
                Some(CountsAs::Ghost) => day.2 += c.calls,
                None => {}
            }
        }
        days.into_iter()
            .map(|(day, (calls, prank, ghost))| DayShare {
                day,
                calls,
                prank,
                ghost,
                share: (prank + ghost) as f64 / calls.max(1) as f64,
            })
            .collect()
    }

    /// The 24 local hours of the day, busiest first (ties: earlier hour first).
    pub fn busiest_hours(&self, counts: &[HourCount]) -> Vec<HourOfDay> {
        let mut hours = [0u64; 24];
        for c in counts {
            hours[self.local(c.hour).hour() as usize] += c.calls;
        }
        let mut out: Vec<HourOfDay> = (0u8..24)
            .map(|h| HourOfDay {
                hour: h,
                calls: hours[usize::from(h)],
            })
            .collect();
        out.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.hour.cmp(&b.hour)));
        out
    }

    /// The full summary of `[since, until)` grouped by `by`.
    pub fn summary(
        &self,
        store: &dyn CallStore,
        since: Timestamp,
        until: Timestamp,
        by: &[Dim],
    ) -> Result<Summary, StoreError> {
        let (from_hour, to_hour) = (since.hour(), until.plus_ms(HOUR_MS - 1).hour());
        let counts = store.hourly_counts(from_hour, to_hour)?;
        let (since, until) = (
            Timestamp::from_ms(from_hour * HOUR_MS),
            Timestamp::from_ms(to_hour * HOUR_MS),
        );
        Ok(Summary {
            since,
            until,
            total: counts.iter().map(|c| c.calls).sum(),
            by: by.to_vec(),
            table: self.table(&counts, by),
            prank_ghost_per_day: self.prank_ghost_per_day(&counts),
            busiest_hours: self.busiest_hours(&counts),
            top_callers: store.top_callers(since, until, self.top_callers)?,
        })
    }
}
