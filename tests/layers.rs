//! The layering of `src/lib.rs` holds: the SIP protocol layer imports nothing from the domain
//! above it. A grep over the sources, so a stray `use crate::routing::…` fails CI.

use std::path::{Path, PathBuf};

/// Modules `src/sip/` must not use.
const ABOVE_SIP: &[&str] = &[
    "routing",
    "screening",
    "store",
    "media",
    "api",
    "gateway",
    "app",
    "demo",
    "analytics",
    "location",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::X` or `siaga::X` path in `text` whose first segment is in `banned`, with its
/// line number. `crate::{a, b}` groups are looked into.
fn forbidden_paths(text: &str, banned: &[&str]) -> Vec<(usize, String)> {
    let mut hits = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for root in ["crate::", "siaga::"] {
            let mut rest = code;
            while let Some(at) = rest.find(root) {
                rest = &rest[at + root.len()..];
                let segment: String = rest
                    .trim_start_matches('{')
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let group: Vec<&str> = if let Some(inner) = rest.strip_prefix('{') {
                    inner
                        .split('}')
                        .next()
                        .unwrap_or("")
                        .split(',')
                        .map(|s| s.trim().split("::").next().unwrap_or(""))
                        .collect()
                } else {
                    vec![segment.as_str()]
                };
                for name in group {
                    if banned.contains(&name) {
                        hits.push((n + 1, line.trim().to_string()));
                    }
                }
            }
        }
        // Climbing out of `sip` with super:: is the same import by another spelling.
        if code.contains("super::super::super::") {
            hits.push((n + 1, line.trim().to_string()));
        }
    }
    hits
}

#[test]
fn sip_imports_nothing_from_the_layers_above() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sip");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 10, "src/sip/ not found at {}", root.display());
    let mut offences = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for (line, code) in forbidden_paths(&text, ABOVE_SIP) {
            offences.push(format!("{}:{line}: {code}", file.display()));
        }
    }
    assert!(
        offences.is_empty(),
        "src/sip/ must not import from the layers above it:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_grep_finds_what_it_must() {
    let banned = ABOVE_SIP;
    assert_eq!(forbidden_paths("use crate::routing::Acd;", banned).len(), 1);
    assert_eq!(
        forbidden_paths("use crate::{media::Leg, sip::x};", banned).len(),
        1
    );
    assert_eq!(
        forbidden_paths("let s: crate::store::Timestamp;", banned).len(),
        1
    );
    assert!(forbidden_paths("use crate::sip::message::Request;", banned).is_empty());
    assert!(forbidden_paths("// crate::routing in a comment", banned).is_empty());
    assert_eq!(
        forbidden_paths("use super::super::super::api;", banned).len(),
        1
    );
}
