//! `siaga calls` on a real SQLite file: one line per call, the range flags, both formats,
//! paging past the store's 1000-record page, and clear errors.
use std::process::Command;
use std::time::Duration;

use siaga::store::{
    AudioStats, CallStore, CallUpdate, Disposition, EndReason, HistoryMark, Party, ScreeningClass,
    SqliteStore, Timestamp,
};

/// 2026-11-01 00:00 WIB (UTC+7).
const NOV1_WIB: i64 = 1_793_491_200_000 - 7 * 3_600_000;

fn siaga(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_siaga"))
        .args(args)
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

fn at(min: i64) -> Timestamp {
    Timestamp::from_ms(NOV1_WIB + min * 60_000)
}

fn received(id: &str, min: i64, caller: Option<&str>) -> CallUpdate {
    CallUpdate::Received {
        at: at(min),
        caller: caller.map(str::to_owned),
        display_name: None,
        trunk: "t".into(),
        sip_call_id: format!("sip-{id}"),
    }
}

/// A store with an answered and disposed call, a ghost, a call in progress and one the
/// evening before; the config file beside it.
fn fixture() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("siaga.sqlite");
    let config = dir.path().join("siaga.toml");
    std::fs::write(
        &config,
        format!("[store]\npath = {:?}\n", db.display().to_string()),
    )
    .unwrap();
    let store = SqliteStore::open(&db, Duration::from_secs(5)).unwrap();
    let screened = |min, class| CallUpdate::Screened {
        at: at(min),
        class,
        score: 10,
        reasons: vec![],
        audio: AudioStats::default(),
    };
    store
        .record_event("a", received("a", 10, Some("081234")))
        .unwrap();
    store
        .record_event("a", screened(10, ScreeningClass::Speaking))
        .unwrap();
    store
        .record_event(
            "a",
            CallUpdate::Answered {
                at: at(11),
                seat: "seat2".into(),
            },
        )
        .unwrap();
    let ended = |min, reason, by| CallUpdate::Ended {
        at: at(min),
        reason,
        by,
    };
    store
        .record_event("a", ended(15, EndReason::Normal, Party::Caller))
        .unwrap();
    let d = Disposition {
        category: "kebakaran".into(),
        mark: HistoryMark::Genuine,
        kecamatan: Some("Kesambi".into()),
        kelurahan: None,
        notes: String::new(),
        by: "budi".into(),
        at: at(16),
    };
    store.dispose("a", d).unwrap();
    store.record_event("g", received("g", 20, None)).unwrap();
    store
        .record_event("g", screened(20, ScreeningClass::Ghost))
        .unwrap();
    store
        .record_event("g", ended(21, EndReason::Ghost, Party::Gateway))
        .unwrap();
    store
        .record_event("live", received("live", 30, Some("0899")))
        .unwrap();
    store
        .record_event("old", received("old", -10, Some("0811")))
        .unwrap();
    (dir, config.display().to_string())
}

#[test]
fn json_lines_one_per_call_with_every_column() {
    let (_dir, config) = fixture();
    let (code, out, err) = siaga(&[
        "calls",
        "-c",
        &config,
        "--since",
        "2026-11-01",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["a", "g", "live"],
        "oldest first, the evening before left out"
    );
    let a = &lines[0];
    assert_eq!(a["received_at"], "2026-10-31T17:10:00.000Z");
    assert_eq!(a["answered_at"], "2026-10-31T17:11:00.000Z");
    assert_eq!(a["ended_at"], "2026-10-31T17:15:00.000Z");
    assert_eq!(
        (&a["caller"], &a["class"], &a["outcome"], &a["hung_up_by"]),
        (
            &"081234".into(),
            &"speaking".into(),
            &"normal".into(),
            &"caller".into()
        )
    );
    assert_eq!(
        (&a["seat"], &a["disposition"], &a["kecamatan"]),
        (&"seat2".into(), &"kebakaran".into(), &"Kesambi".into())
    );
    assert_eq!(
        (&lines[1]["outcome"], &lines[1]["hung_up_by"]),
        (&"ghost".into(), &"gateway".into())
    );
    assert_eq!(lines[1]["caller"], serde_json::Value::Null);
    assert_eq!(lines[2]["outcome"], "received", "in progress: its state");
    let (_, out, _) = siaga(&[
        "calls",
        "-c",
        &config,
        "--until",
        "2026-11-01T00:15:00+07:00",
        "--format",
        "json",
    ]);
    assert_eq!(out.lines().count(), 2, "old and a: {out}");
}

#[test]
fn table_in_local_time() {
    let (_dir, config) = fixture();
    let (code, out, err) = siaga(&["calls", "-c", &config]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 5, "{out}");
    assert!(
        rows[0].starts_with("id ")
            && rows[0].contains("hung_up_by")
            && rows[0].ends_with("kecamatan"),
        "{out}"
    );
    assert!(
        rows[1].starts_with("old ") && rows[1].contains("2026-10-31 23:50:00"),
        "{out}"
    );
    let a = rows[2];
    for cell in [
        "2026-11-01 00:10:00",
        "2026-11-01 00:15:00",
        "081234",
        "speaking",
        "normal",
        "caller",
        "seat2",
        "kebakaran",
        "Kesambi",
    ] {
        assert!(a.contains(cell), "{cell} in {a}");
    }
    assert!(
        rows[3].contains("(withheld)") && rows[3].contains("ghost"),
        "{out}"
    );
}

#[test]
fn pages_past_a_thousand_calls() {
    let (dir, config) = fixture();
    let store =
        SqliteStore::open(&dir.path().join("siaga.sqlite"), Duration::from_secs(5)).unwrap();
    let batch: Vec<(String, CallUpdate)> = (0..1500)
        .map(|i| {
            // Pairs share a millisecond, so page edges fall inside a tie.
            let id = format!("bulk{i:04}");
            let up = CallUpdate::Received {
                at: Timestamp::from_ms(NOV1_WIB + 86_400_000 + (i / 2) * 1000),
                caller: Some("0812".into()),
                display_name: None,
                trunk: "t".into(),
                sip_call_id: id.clone(),
            };
            (id, up)
        })
        .collect();
    for (id, up) in batch {
        store.record_event(&id, up).unwrap();
    }
    let (code, out, err) = siaga(&[
        "calls",
        "-c",
        &config,
        "--since",
        "2026-11-02",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let ids: std::collections::HashSet<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!((out.lines().count(), ids.len()), (1500, 1500));
}

#[test]
fn bad_flags_and_missing_store_are_clear_errors() {
    let (dir, config) = fixture();
    let (code, _, err) = siaga(&["calls", "-c", &config, "--since", "yesterday"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("--since \"yesterday\": expected YYYY-MM-DD or an RFC 3339 time"),
        "{err}"
    );
    let (code, _, err) = siaga(&[
        "calls",
        "-c",
        &config,
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-01",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("must be before"), "{err}");
    std::fs::remove_file(dir.path().join("siaga.sqlite")).unwrap();
    let (code, _, err) = siaga(&["calls", "-c", &config]);
    assert_eq!(code, 1);
    assert!(err.contains("no such file"), "{err}");
}
