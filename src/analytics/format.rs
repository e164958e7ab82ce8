//! A report table as CSV (RFC 4180) or as aligned plain text.
use super::{Dim, Row};

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Header `dim1,dim2,calls`, one line per row, CRLF line ends (RFC 4180).
pub fn to_csv(dims: &[Dim], rows: &[Row]) -> String {
    let mut out = String::new();
    let header: Vec<&str> = dims.iter().map(|d| d.name()).chain(["calls"]).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for row in rows {
        let mut fields: Vec<String> = row.key.iter().map(|k| csv_field(k)).collect();
        fields.push(row.calls.to_string());
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Columns padded to their widest cell, counts right-aligned, a total line at the end.
pub fn to_text(dims: &[Dim], rows: &[Row]) -> String {
    let mut header: Vec<String> = dims.iter().map(|d| d.name().to_owned()).collect();
    header.push("calls".to_owned());
    let total: u64 = rows.iter().map(|r| r.calls).sum();
    let mut lines: Vec<Vec<String>> = vec![header];
    for row in rows {
        let mut cells = row.key.clone();
        cells.push(row.calls.to_string());
        lines.push(cells);
    }
    let mut footer = vec![String::new(); dims.len()];
    if let Some(first) = footer.first_mut() {
        *first = "total".to_owned();
    }
    footer.push(total.to_string());
    lines.push(footer);
    let width = |i: usize| {
        lines
            .iter()
            .map(|l| l[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..=dims.len()).map(width).collect();
    let mut out = String::new();
    for line in &lines {
        let (last, keys) = line.split_last().expect("a count column");
        for (cell, w) in keys.iter().zip(&widths) {
            out.push_str(&format!("{cell:<w$}  "));
        }
        out.push_str(&format!("{last:>w$}\n", w = widths[dims.len()]));
    }
    out
}
