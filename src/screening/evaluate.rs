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

/// One row of a `labels.tsv`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRow {
    /// Clip file, relative to the set's folder.
    pub file: String,
    /// `genuine` rather than `ghost`.
    pub genuine: bool,
    /// The kind column.
    pub kind: String,
    /// Labelled speech onset, ms (`-` or empty: none).
    pub onset_ms: Option<u64>,
}

/// Parses a `labels.tsv`. Both layouts are read by their header: the synthetic set's
/// `file, label, kind, onset_s` and the real set's `name, label, kind, description, onset`
/// (any column order; extra columns are ignored). Every row that cannot be read is an error
/// naming its line: a set is never scored silently short.
pub fn parse_labels(path: &str, text: &str) -> Result<Vec<LabelRow>, InputError> {
    let err = |line: usize, reason: String| InputError::Labels {
        path: path.to_owned(),
        line,
        reason,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| err(1, "empty file, expected a header row".into()))?;
    let cols: Vec<&str> = header.split('\t').map(str::trim).collect();
    let find = |names: &[&str]| cols.iter().position(|c| names.contains(c));
    let (Some(fc), Some(lc), Some(kc), Some(oc)) = (
        find(&["name", "file"]),
        find(&["label"]),
        find(&["kind"]),
        find(&["onset", "onset_s"]),
    ) else {
        return Err(err(
            1,
            format!("header {header:?} lacks name (or file), label, kind and onset (or onset_s)"),
        ));
    };
    let mut rows = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != cols.len() {
            return Err(err(
                n,
                format!("{} columns where the header has {}", f.len(), cols.len()),
            ));
        }
        let genuine = match f[lc].trim() {
            "genuine" => true,
            "ghost" => false,
            other => {
                return Err(err(
                    n,
                    format!("label {other:?} is neither genuine nor ghost"),
                ))
            }
        };
        let onset_ms = match f[oc].trim() {
            "" | "-" => None,
            o => match o.parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.0 => Some((s * 1000.0).round() as u64),
                _ => return Err(err(n, format!("onset {o:?} is not a number of seconds"))),
            },
        };
        let file = f[fc].trim();
        if file.is_empty() {
            return Err(err(n, "empty clip name".into()));
        }
        rows.push(LabelRow {
            file: file.to_owned(),
            genuine,
            kind: f[kc].trim().to_owned(),
            onset_ms,
        });
    }
    if rows.is_empty() {
        return Err(err(1, "no clips listed".into()));
    }
    Ok(rows)
}

/// Runs every clip listed in `dir/labels.tsv`.
pub fn evaluate_set(dir: &Path, settings: &ScreeningConfig) -> Result<Vec<ClipResult>, InputError> {
    let labels_path = dir.join("labels.tsv");
    let shown = labels_path.display().to_string();
    let labels = std::fs::read_to_string(&labels_path).map_err(|source| InputError::Io {
        path: shown.clone(),
        source,
    })?;
    let start = Instant::now();
    let mut out = Vec::new();
    for row in parse_labels(&shown, &labels)? {
        let packets = read_file(&dir.join(&row.file))?;
        out.push(ClipResult {
            file: row.file,
            genuine: row.genuine,
            kind: row.kind,
            onset_ms: row.onset_ms,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_are_read_and_bad_rows_are_named() {
        let old = "file\tlabel\tkind\tonset_s\na.ul\tgenuine\tvoice\t0.30\nb.ul\tghost\thiss\t-\n";
        let rows = parse_labels("old", old).expect("old layout");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].onset_ms, Some(300));
        assert!(!rows[1].genuine);
        let new = "name\tlabel\tkind\tdescription\tonset\nc.ul\tgenuine\tvoice\tsome words\t1.5\n";
        let rows = parse_labels("new", new).expect("new layout");
        assert_eq!(
            (rows[0].file.as_str(), rows[0].onset_ms),
            ("c.ul", Some(1500))
        );
        for (bad, want) in [
            (
                "name\tlabel\tkind\tdescription\tonset\nc.ul\tgenuine\tvoice\t1.5\n",
                "line 2: 4 columns",
            ),
            (
                "name\tlabel\tkind\tonset\nc.ul\tmaybe\tvoice\t1\n",
                "line 2: label \"maybe\"",
            ),
            (
                "name\tlabel\tkind\tonset\nc.ul\tghost\tvoice\tsoon\n",
                "line 2: onset \"soon\"",
            ),
            ("clip\tlabel\n", "line 1: header"),
            ("name\tlabel\tkind\tonset\n", "no clips"),
        ] {
            let e = parse_labels("set/labels.tsv", bad)
                .expect_err(bad)
                .to_string();
            assert!(e.contains(want) && e.starts_with("set/labels.tsv"), "{e}");
        }
    }
}
