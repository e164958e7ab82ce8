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

#[test]
fn export_labelled_writes_what_people_disposed_and_reads_back() {
    use siaga::store::{CallStore, CallUpdate, Disposition, HistoryMark, SqliteStore, Timestamp};
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("siaga.sqlite");
    let kept = dir.path().join("kept");
    let config = dir.path().join("siaga.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = {:?}\n[screening]\naudio_dir = {:?}\n",
            db.display().to_string(),
            kept.display().to_string()
        ),
    )
    .expect("config");
    let store = SqliteStore::open(&db, std::time::Duration::from_secs(5)).expect("store");
    let received = CallUpdate::Received {
        at: Timestamp::from_ms(1_000),
        caller: Some("0811".into()),
        display_name: None,
        trunk: "t".into(),
        sip_call_id: "x".into(),
    };
    store.record_event("k1", received).expect("record");
    let d = Disposition {
        category: "ghost".into(),
        mark: HistoryMark::Ghost,
        kecamatan: None,
        kelurahan: None,
        notes: String::new(),
        by: "sup".into(),
        at: Timestamp::from_ms(20_000),
    };
    store.dispose("k1", d).expect("dispose");
    drop(store);
    let clip = std::fs::read("fixtures/screening-real/r-x-wind.ul").expect("clip");
    siaga::screening::audio::AudioStore::new(&kept, 30)
        .save("k1", &clip)
        .expect("save");
    let out = dir.path().join("set");
    let (code, text, err) = siaga(&[
        "score",
        "--export-labelled",
        out.to_str().expect("utf8"),
        "--config",
        config.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("1 labelled clips written"), "{text}");
    let (code, table, err) = siaga(&["score", out.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{err}");
    assert!(table.contains("Ghost classed ghost: 1 of 1"), "{table}");
    // Without --config there is no store to read.
    let (code, _, err) = siaga(&["score", "--export-labelled", "x"]);
    assert_eq!(code, 2, "{err}");
}
