//! `siaga report` and `siaga account add` on a real store file.
use std::process::Command;
use std::time::Duration;

use siaga::store::{CallStore, CallUpdate, Disposition, HistoryMark, Role, SqliteStore, Timestamp};

const NOV1_WIB: i64 = 1_793_491_200_000 - 7 * 3_600_000;

fn siaga(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_siaga"))
        .args(args)
        .env("SIAGA_PASSWORD", "long-enough-pw")
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

#[test]
fn report_and_account_add() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("siaga.sqlite");
    let config = dir.path().join("siaga.toml");
    std::fs::write(
        &config,
        format!("[store]\npath = {:?}\n", db.display().to_string()),
    )
    .unwrap();
    let store = SqliteStore::open(&db, Duration::from_secs(5)).unwrap();
    // three calls on 1 November (local), one the evening before (local 31 October)
    for (id, offset_min, cat) in [
        ("a", 10, "pln"),
        ("b", 20, "pln"),
        ("c", 30, ""),
        ("old", -10, "pln"),
    ] {
        let at = Timestamp::from_ms(NOV1_WIB + offset_min * 60_000);
        let received = CallUpdate::Received {
            at,
            caller: None,
            display_name: None,
            trunk: "t".into(),
            sip_call_id: id.into(),
        };
        store.record_event(id, received).unwrap();
        if !cat.is_empty() {
            let d = Disposition {
                category: cat.into(),
                mark: HistoryMark::Genuine,
                kecamatan: Some("Kesambi".into()),
                kelurahan: None,
                notes: String::new(),
                by: "s".into(),
                at,
            };
            store.dispose(id, d).unwrap();
        }
    }
    drop(store);
    let cfg = config.to_str().unwrap();
    let base = [
        "report",
        "--config",
        cfg,
        "--since",
        "2026-11-01",
        "--until",
        "2026-12-01",
    ];
    let (code, out, err) = siaga(&[&base[..], &["--format", "csv"]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "kecamatan,category,calls\r\n(unknown),(undisposed),1\r\nKesambi,pln,2\r\n"
    );
    let (code, out, _) = siaga(&[&base[..], &["--by", "day,kind", "--format", "table"]].concat());
    assert_eq!(code, 0);
    assert!(
        out.contains("2026-11-01  service") && out.contains("total"),
        "{out}"
    );
    let (code, out, _) = siaga(&[&base[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((code, v["total"].as_u64()), (0, Some(3)));
    let (code, _, err) = siaga(&[&base[..], &["--by", "colour"]].concat());
    assert!(code == 1 && err.contains("colour"), "{err}");
    let (code, _, err) = siaga(&[
        "report",
        "--config",
        cfg,
        "--since",
        "1 Nov",
        "--until",
        "2026-12-01",
    ]);
    assert!(code == 1 && err.contains("--since"), "{err}");

    let (code, _, err) = siaga(&[
        "account", "add", "--config", cfg, "budi", "--role", "seat", "--seat", "seat1",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = siaga(&["account", "add", "--config", cfg, "x", "--role", "seat"]);
    assert!(code == 1 && err.contains("--seat"), "{err}");
    let store = SqliteStore::open(&db, Duration::from_secs(5)).unwrap();
    let a = store.account("budi").unwrap().unwrap();
    assert_eq!((a.role, a.seat.as_deref()), (Role::Seat, Some("seat1")));
    assert!(siaga::api::accounts::verify_password(
        "long-enough-pw",
        &a.password_hash
    ));
    assert!(a.password_hash.starts_with("$argon2id$"));
}
