//! Accuracy on a labelled set (`fixtures/screening/labels.tsv`): per clip, the outcome and how
//! long after the labelled speech onset speech was decided; per kind, a table for BENCHMARKS.md.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use super::input::{read_file, InputError};
use super::offline::{run, OfflineReport};
use super::session::Outcome;
use crate::config::ScreeningConfig;

/// One clip's result.
#[derive(Debug, Clone)]
pub struct ClipResult {
    /// File name.
    pub file: String,
    /// The label says genuine (speech or a key) rather than ghost.
    pub genuine: bool,
    /// The kind column (`voice`, `snr_5db`, `hiss`, ...).
    pub kind: String,
    /// Labelled speech onset, ms.
    pub onset_ms: Option<u64>,
    /// What screening made of it.
    pub report: OfflineReport,
}

impl ClipResult {
    /// Classed ghost.
    pub fn is_ghost(&self) -> bool {
        self.report.outcome == Outcome::Ghost
    }

    /// Milliseconds from the labelled onset to the speech decision (or to the outcome).
    pub fn latency_ms(&self) -> Option<u64> {
        let onset = self.onset_ms?;
        let decided = self
            .report
            .speech_decided_ms
            .unwrap_or(self.report.finished_ms);
        Some(decided.saturating_sub(onset))
    }
}

/// Runs every clip listed in `dir/labels.tsv`.
pub fn evaluate_set(dir: &Path, settings: &ScreeningConfig) -> Result<Vec<ClipResult>, InputError> {
    let labels_path = dir.join("labels.tsv");
    let labels = std::fs::read_to_string(&labels_path).map_err(|source| InputError::Io {
        path: labels_path.display().to_string(),
        source,
    })?;
    let start = Instant::now();
    let mut out = Vec::new();
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, label, kind, onset] = cols[..] else {
            continue;
        };
        let packets = read_file(&dir.join(file))?;
        out.push(ClipResult {
            file: file.to_owned(),
            genuine: label == "genuine",
            kind: kind.to_owned(),
            onset_ms: onset
                .parse::<f64>()
                .ok()
                .map(|s| (s * 1000.0).round() as u64),
            report: run(&packets, settings, start),
        });
    }
    Ok(out)
}

/// Median of a list (upper median), if any.
pub fn median(mut v: Vec<u64>) -> Option<u64> {
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

/// A Markdown table per kind, then totals.
pub fn accuracy_table(results: &[ClipResult]) -> String {
    let mut kinds: BTreeMap<(bool, &str), Vec<&ClipResult>> = BTreeMap::new();
    for r in results {
        kinds
            .entry((!r.genuine, r.kind.as_str()))
            .or_default()
            .push(r);
    }
    let mut s = String::from(
        "| label | kind | clips | classed ghost | outcomes | decision after onset, median / max |\n|---|---|---|---|---|---|\n",
    );
    for ((ghost, kind), rs) in &kinds {
        let ghosts = rs.iter().filter(|r| r.is_ghost()).count();
        let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
        for r in rs {
            *outcomes.entry(r.report.outcome.as_str()).or_default() += 1;
        }
        let outcomes: Vec<String> = outcomes.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let lat: Vec<u64> = rs.iter().filter_map(|r| r.latency_ms()).collect();
        let lat = match (median(lat.clone()), lat.iter().max()) {
            (Some(m), Some(x)) => format!("{m} / {x} ms"),
            _ => "–".to_owned(),
        };
        let label = if *ghost { "ghost" } else { "genuine" };
        let _ = writeln!(
            s,
            "| {label} | {kind} | {} | {ghosts} | {} | {lat} |",
            rs.len(),
            outcomes.join(", ")
        );
    }
    let genuine: Vec<&ClipResult> = results.iter().filter(|r| r.genuine).collect();
    let ghost: Vec<&ClipResult> = results.iter().filter(|r| !r.genuine).collect();
    let lat: Vec<u64> = genuine.iter().filter_map(|r| r.latency_ms()).collect();
    let _ = writeln!(
        s,
        "\nGenuine classed ghost: {} of {}. Ghost classed ghost: {} of {} ({:.1} %). \
         Speech decided after onset: median {} ms, max {} ms ({} clips with an onset).",
        genuine.iter().filter(|r| r.is_ghost()).count(),
        genuine.len(),
        ghost.iter().filter(|r| r.is_ghost()).count(),
        ghost.len(),
        100.0 * ghost.iter().filter(|r| r.is_ghost()).count() as f64 / ghost.len().max(1) as f64,
        median(lat.clone()).unwrap_or(0),
        lat.iter().max().copied().unwrap_or(0),
        lat.len()
    );
    s
}
