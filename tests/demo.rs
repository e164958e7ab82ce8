//! `siaga demo` end to end: the table must show each simulated caller's fate, run from a
//! folder that is not the source tree (an installed binary).

use std::process::Command;

#[test]
fn demo_shows_each_outcome() {
    // From a folder with no source tree: the demo's audio and prompts are built in.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_siaga"))
        .arg("demo")
        .current_dir(elsewhere.path())
        .output()
        .expect("run siaga demo");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = |what: &str| {
        text.lines()
            .find(|l| l.starts_with(what))
            .unwrap_or_else(|| panic!("no row for {what}\n{text}"))
            .to_string()
    };
    assert!(row("speaking caller").contains("Speaking"), "{text}");
    assert!(row("speaking caller").contains("seat"), "{text}");
    for ghost in ["silent caller (ghost)", "pocket call (noise)"] {
        let line = row(ghost);
        assert!(line.contains("Ghost") && line.contains(" - "), "{line}");
    }
    assert!(
        row("cannot speak, presses 5").contains("SilentNeedsHelp"),
        "{text}"
    );
    assert!(
        row("repeat caller, 2nd call").contains("repeat_1h"),
        "{text}"
    );
}
