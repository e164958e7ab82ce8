//! `siaga score FILE`: recordings in, timeline / class / reasons out; bad files fail clearly.
use std::process::Command;

fn siaga(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_siaga"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run siaga");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

#[test]
fn scores_pcap_ul_and_json() {
    let (code, out, _) = siaga(&["score", "fixtures/audio/dtmf-55-rfc4733.pcap"]);
    assert_eq!(code, 0);
    assert!(out.contains("key 5 (rfc4733)"), "{out}");
    assert!(out.contains("class:    silent_needs_help"), "{out}");
    let (code, out, _) = siaga(&["score", "fixtures/audio/speech-id.ul"]);
    assert_eq!(code, 0);
    assert!(out.contains("class:    speaking"), "{out}");
    let (code, out, _) = siaga(&["score", "--format", "json", "fixtures/audio/silence.pcap"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["outcome"]["outcome"], "ghost");
    assert_eq!(v["score"]["class"], serde_json::Value::Null);
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let wav = dir.path().join("bad.wav");
    std::fs::write(&wav, b"RIFF\0\0\0\0WAVEjunk").expect("write");
    let (code, _, err) = siaga(&["score", wav.to_str().expect("utf8")]);
    assert_eq!(code, 1);
    assert!(err.contains("WAV"), "{err}");
    let (code, _, err) = siaga(&["score", "Cargo.toml"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown file type"), "{err}");
}

#[test]
fn labelled_sets_of_both_layouts_and_a_bad_row_named() {
    let (code, out, err) = siaga(&["score", "fixtures/screening-real"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Genuine classed ghost: 0 of 33."), "{out}");
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::copy("fixtures/audio/silence.ul", dir.path().join("a.ul")).expect("copy");
    // A description column too many for the header: the row is named, nothing is scored.
    std::fs::write(
        dir.path().join("labels.tsv"),
        "file\tlabel\tkind\tonset_s\na.ul\tghost\tsilence\tquiet room\t-\n",
    )
    .expect("write");
    let (code, out, err) = siaga(&["score", dir.path().to_str().expect("utf8")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("labels.tsv line 2: 5 columns where the header has 4"),
        "{err}"
    );
}
