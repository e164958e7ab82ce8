//! Any text as a labelled set's labels.tsv (`siaga score DIR`, issue 8): never a panic; a
//! parse either names a line or gives rows whose every field came from the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use siaga::screening::evaluate::parse_labels;
use siaga::screening::input::InputError;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_labels("labels.tsv", text) {
        Ok(rows) => {
            assert!(!rows.is_empty());
            for r in rows {
                assert!(!r.file.is_empty() && text.contains(r.file.as_str()));
            }
        }
        Err(InputError::Labels { line, .. }) => assert!(line >= 1),
        Err(e) => panic!("unexpected error kind: {e}"),
    }
});
