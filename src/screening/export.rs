//! `siaga score --export-labelled DIR` (issue 8 item 5): the city's own calls become the next
//! development set. Every call whose screening audio was kept and that a person (a call
//! taker or a supervisor correcting a verdict, not `screening` itself) disposed is written as
//! a clip with a `labels.tsv` in the layout of `fixtures/screening-real` (name, label, kind,
//! description, onset), so `siaga score DIR` reads it back.
//!
//! Label: `ghost` when the person's disposition counts as ghost, otherwise `genuine` (a
//! prank or a wrong number is still a person on the line; for screening that is a caller).
use std::path::Path;

use super::audio::{file_name, AudioError, AudioStore};
use crate::store::{CallStore, HistoryMark, ListFilter, StoreError};

/// Why the export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The store could not be read.
    #[error("call store: {0}")]
    Store(#[from] StoreError),
    /// A clip could not be read.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The output folder could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The account name of screening's own dispositions.
const SCREENING: &str = "screening";
/// Calls read (newest first).
const MAX_CALLS: usize = 1_000_000;

fn clean(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

/// Writes the labelled clips into `out`; returns how many.
pub fn export_labelled(
    store: &dyn CallStore,
    audio: &AudioStore,
    out: &Path,
) -> Result<usize, ExportError> {
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes).map_err(|source| ExportError::Write {
            path: path.display().to_string(),
            source,
        })
    };
    std::fs::create_dir_all(out).map_err(|source| ExportError::Write {
        path: out.display().to_string(),
        source,
    })?;
    let calls = store.list(&ListFilter {
        limit: MAX_CALLS,
        ..ListFilter::default()
    })?;
    let mut rows = String::from("name\tlabel\tkind\tdescription\tonset\n");
    let mut n = 0;
    for call in calls {
        let Some(d) = call.disposition.as_ref().filter(|d| d.by != SCREENING) else {
            continue;
        };
        let Some(clip) = audio.load(&call.id)? else {
            continue;
        };
        let name = file_name(&call.id);
        write(&out.join(&name), &clip)?;
        let label = if d.mark == HistoryMark::Ghost {
            "ghost"
        } else {
            "genuine"
        };
        let class = call
            .class
            .map_or("unscreened".to_owned(), |c| format!("{c:?}").to_lowercase());
        rows.push_str(&format!(
            "{name}\t{label}\t{}\tcall {}, screening class {class}, disposed {} by {}\t-\n",
            clean(&d.category),
            clean(&call.id),
            clean(&d.category),
            clean(&d.by),
        ));
        n += 1;
    }
    write(&out.join("labels.tsv"), rows.as_bytes())?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CallUpdate, Disposition, EndReason, MemoryStore, Party, Timestamp};

    fn call(store: &MemoryStore, id: &str, ghost_end: bool) {
        store
            .record_event(
                id,
                CallUpdate::Received {
                    at: Timestamp::from_ms(1000),
                    caller: Some("0811".into()),
                    display_name: None,
                    trunk: "t".into(),
                    sip_call_id: id.into(),
                },
            )
            .unwrap();
        if ghost_end {
            store
                .record_event(
                    id,
                    CallUpdate::Ended {
                        at: Timestamp::from_ms(13_000),
                        reason: EndReason::Ghost,
                        by: Party::Gateway,
                    },
                )
                .unwrap();
        }
    }

    fn by(who: &str, category: &str, mark: HistoryMark) -> Disposition {
        Disposition {
            category: category.into(),
            mark,
            kecamatan: None,
            kelurahan: None,
            notes: String::new(),
            by: who.into(),
            at: Timestamp::from_ms(20_000),
        }
    }

    #[test]
    fn only_clips_a_person_disposed_are_exported_and_read_back() {
        let store = MemoryStore::new();
        let tmp = tempfile::tempdir().unwrap();
        let audio = AudioStore::new(tmp.path().join("kept"), 30);
        let speech = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/screening-real/r-g-voice-british.ul"),
        )
        .unwrap();
        // c1: ended ghost by screening, never looked at: not an example.
        call(&store, "c1", true);
        audio.save("c1", &[0xFF; 8000]).unwrap();
        // c2: ended ghost, a supervisor heard a caller and corrected it: genuine.
        call(&store, "c2", true);
        audio.save("c2", &speech).unwrap();
        store
            .dispose("c2", by("sup", "medical", HistoryMark::Genuine))
            .unwrap();
        // c3: disposed ghost by a call taker: a ghost example.
        call(&store, "c3/x", false);
        audio.save("c3/x", &[0xFF; 8000]).unwrap();
        store
            .dispose("c3/x", by("budi", "ghost", HistoryMark::Ghost))
            .unwrap();
        // c4: disposed, but no audio kept.
        call(&store, "c4", false);
        store
            .dispose("c4", by("budi", "prank", HistoryMark::Prank))
            .unwrap();
        let out = tmp.path().join("set");
        assert_eq!(export_labelled(&store, &audio, &out).unwrap(), 2);
        let results =
            super::super::evaluate::evaluate_set(&out, &crate::config::ScreeningConfig::default())
                .expect("siaga score reads the export");
        let mut got: Vec<(String, bool)> = results
            .iter()
            .map(|r| (r.file.clone(), r.genuine))
            .collect();
        got.sort();
        assert_eq!(got, [("c2.ul".into(), true), ("c3%2Fx.ul".into(), false)]);
        let c2 = results.iter().find(|r| r.file == "c2.ul").unwrap();
        assert!(
            !c2.is_ghost(),
            "the corrected call is speech to the model too"
        );
    }
}
