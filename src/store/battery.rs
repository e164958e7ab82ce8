//! One battery of tests, run against every backend (`battery!` at the bottom), plus the
//! SQLite-only tests that need a file: reopening, crash recovery.
use super::*;

pub(crate) const T0: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z

pub(crate) fn at(s: i64) -> Timestamp {
    Timestamp::from_ms(T0 + s * 1000)
}

pub(crate) fn received(s: i64, caller: Option<&str>) -> CallUpdate {
    CallUpdate::Received {
        at: at(s),
        caller: caller.map(str::to_owned),
        display_name: Some("Budi".into()),
        trunk: "telkom".into(),
        sip_call_id: format!("sip-{s}"),
    }
}

pub(crate) fn disposition(category: &str, mark: HistoryMark, kec: Option<&str>) -> Disposition {
    Disposition {
        category: category.into(),
        mark,
        kecamatan: kec.map(str::to_owned),
        kelurahan: None,
        notes: String::new(),
        by: "seat1".into(),
        at: at(10_000),
    }
}

fn ended(s: i64) -> CallUpdate {
    CallUpdate::Ended {
        at: at(s),
        reason: EndReason::Normal,
        by: Party::Caller,
    }
}

fn full_call(store: &dyn CallStore) {
    let screened = CallUpdate::Screened {
        at: at(3),
        class: ScreeningClass::Speaking,
        score: 12,
        reasons: vec!["speech heard".into(), "first call today".into()],
        audio: AudioStats {
            speech_ms: 1800,
            silence_ms: 700,
            mean_dbfs: Some(-31.5),
            peak_dbfs: Some(-6.25),
            dtmf: "5".into(),
        },
    };
    let located = CallUpdate::Located {
        location: Location {
            lat: -6.7053,
            lon: 108.5547,
            accuracy_m: Some(25.0),
            source: "aml".into(),
        },
        kecamatan: Some("Kejaksan".into()),
        kelurahan: Some("Sukapura".into()),
    };
    let updates = [
        received(0, Some("081234")),
        screened,
        CallUpdate::Queued { at: at(4) },
        CallUpdate::Ringing {
            at: at(5),
            seat: "seat1".into(),
        },
        CallUpdate::Ringing {
            at: at(20),
            seat: "seat2".into(),
        },
        CallUpdate::Answered {
            at: at(24),
            seat: "seat2".into(),
        },
        located,
        CallUpdate::Ended {
            at: at(100),
            reason: EndReason::Normal,
            by: Party::Seat,
        },
    ];
    for u in updates {
        store.record_event("c1", u).unwrap();
    }
}

pub(crate) fn lifecycle_fills_every_field(store: &dyn CallStore) {
    full_call(store);
    let r = store.get("c1").unwrap().expect("stored");
    assert_eq!(r.state, CallState::Ended);
    assert_eq!(
        (r.caller.as_deref(), r.trunk.as_str()),
        (Some("081234"), "telkom")
    );
    assert_eq!(r.display_name.as_deref(), Some("Budi"));
    assert_eq!(r.sip_call_id, "sip-0");
    assert_eq!(r.class, Some(ScreeningClass::Speaking));
    assert_eq!((r.score, r.reasons.len()), (Some(12), 2));
    let audio = r.audio.clone().unwrap();
    assert_eq!(
        (audio.speech_ms, audio.silence_ms, audio.dtmf.as_str()),
        (1800, 700, "5")
    );
    assert_eq!(
        (audio.mean_dbfs, audio.peak_dbfs),
        (Some(-31.5), Some(-6.25))
    );
    assert_eq!(r.seat.as_deref(), Some("seat2"));
    assert_eq!((r.ringing_at, r.answered_at), (Some(at(20)), Some(at(24))));
    assert_eq!(r.queue_wait_ms(), Some(20_000));
    assert_eq!(r.talk_ms(), Some(76_000));
    assert_eq!(
        (r.end_reason, r.ended_by),
        (Some(EndReason::Normal), Some(Party::Seat))
    );
    assert_eq!(r.location.as_ref().map(|l| l.source.as_str()), Some("aml"));
    assert_eq!(r.kecamatan.as_deref(), Some("Kejaksan"));
    assert_eq!(r.kelurahan.as_deref(), Some("Sukapura"));
    assert!(store.get("nope").unwrap().is_none());
}

pub(crate) fn illegal_updates_are_typed_errors(store: &dyn CallStore) {
    let err = store.record_event("x", CallUpdate::Queued { at: at(1) });
    assert!(
        matches!(err, Err(StoreError::UnknownCall { .. })),
        "{err:?}"
    );
    store.record_event("x", received(0, None)).unwrap();
    let err = store.record_event("x", received(1, None));
    assert!(matches!(err, Err(StoreError::Duplicate { .. })), "{err:?}");
    // fail open: screening reports after the call was queued; the state does not go back
    store
        .record_event("x", CallUpdate::Queued { at: at(2) })
        .unwrap();
    let screened = CallUpdate::Screened {
        at: at(3),
        class: ScreeningClass::Unscreened,
        score: 0,
        reasons: vec![],
        audio: AudioStats::default(),
    };
    store.record_event("x", screened).unwrap();
    assert_eq!(store.get("x").unwrap().unwrap().state, CallState::Queued);
    store.record_event("x", ended(9)).unwrap();
    let err = store.record_event(
        "x",
        CallUpdate::Answered {
            at: at(10),
            seat: "s".into(),
        },
    );
    assert!(
        matches!(
            err,
            Err(StoreError::Transition {
                from: CallState::Ended,
                ..
            })
        ),
        "{err:?}"
    );
    let err = store.dispose("nope", disposition("prank", HistoryMark::Prank, None));
    assert!(
        matches!(err, Err(StoreError::UnknownCall { .. })),
        "{err:?}"
    );
}

pub(crate) fn dispositions_keep_history_and_place(store: &dyn CallStore) {
    full_call(store);
    let first = disposition("kebakaran", HistoryMark::Genuine, Some("Kesambi"));
    let r = store.dispose("c1", first.clone()).unwrap();
    assert_eq!(r.category(), Some("kebakaran"));
    assert_eq!(
        r.kecamatan.as_deref(),
        Some("Kesambi"),
        "the call taker's place wins"
    );
    let mut fix = disposition("pohon_tumbang", HistoryMark::Genuine, None);
    fix.by = "sup".into();
    fix.notes = "tree on Jl. Kesambi".into();
    store.dispose("c1", fix.clone()).unwrap();
    let r = store.get("c1").unwrap().unwrap();
    assert_eq!(r.disposition.as_ref(), Some(&fix));
    assert_eq!(
        r.kecamatan.as_deref(),
        Some("Kesambi"),
        "a correction without place keeps it"
    );
    assert_eq!(store.dispositions("c1").unwrap(), vec![first, fix]);
    assert!(store.dispositions("nope").unwrap().is_empty());
}

pub(crate) fn interrupt_marks_only_unfinished(store: &dyn CallStore) {
    full_call(store);
    store.record_event("open1", received(1, Some("1"))).unwrap();
    store.record_event("open2", received(2, Some("2"))).unwrap();
    store
        .record_event(
            "open2",
            CallUpdate::Answered {
                at: at(3),
                seat: "seat1".into(),
            },
        )
        .unwrap();
    assert_eq!(store.interrupt_unfinished(at(50)).unwrap(), 2);
    for id in ["open1", "open2"] {
        let r = store.get(id).unwrap().unwrap();
        assert_eq!(
            (r.state, r.ended_at),
            (CallState::Interrupted, Some(at(50)))
        );
    }
    assert_eq!(store.get("c1").unwrap().unwrap().state, CallState::Ended);
    assert_eq!(store.get("c1").unwrap().unwrap().ended_at, Some(at(100)));
    assert_eq!(store.interrupt_unfinished(at(60)).unwrap(), 0);
}

fn seed_list(store: &dyn CallStore) {
    for i in 0..6 {
        let id = format!("l{i}");
        store
            .record_event(&id, received(i * 60, Some(&format!("08{}", i % 2))))
            .unwrap();
        store
            .record_event(
                &id,
                CallUpdate::Ringing {
                    at: at(i * 60 + 5),
                    seat: format!("seat{}", i % 3),
                },
            )
            .unwrap();
    }
    store
        .dispose(
            "l1",
            disposition("prank", HistoryMark::Prank, Some("Kejaksan")),
        )
        .unwrap();
    store
        .dispose(
            "l4",
            disposition("pln", HistoryMark::Genuine, Some("Kejaksan")),
        )
        .unwrap();
}

fn ids(v: Vec<CallRecord>) -> Vec<String> {
    v.into_iter().map(|r| r.id).collect()
}

pub(crate) fn list_filters(store: &dyn CallStore) {
    seed_list(store);
    let all = ListFilter::default();
    assert_eq!(
        ids(store.list(&all).unwrap()),
        ["l5", "l4", "l3", "l2", "l1", "l0"]
    );
    let range = ListFilter {
        since: Some(at(60)),
        until: Some(at(180)),
        ..all.clone()
    };
    assert_eq!(ids(store.list(&range).unwrap()), ["l2", "l1"]);
    let kec = ListFilter {
        kecamatan: Some("Kejaksan".into()),
        ..all.clone()
    };
    assert_eq!(ids(store.list(&kec).unwrap()), ["l4", "l1"]);
    let cat = ListFilter {
        category: Some("prank".into()),
        ..all.clone()
    };
    assert_eq!(ids(store.list(&cat).unwrap()), ["l1"]);
    let caller = ListFilter {
        caller: Some("081".into()),
        limit: 2,
        ..all.clone()
    };
    assert_eq!(ids(store.list(&caller).unwrap()), ["l5", "l3"]);
    let seat = ListFilter {
        seat: Some("seat0".into()),
        ..all
    };
    assert_eq!(ids(store.list(&seat).unwrap()), ["l3", "l0"]);
}

pub(crate) fn caller_history_windows(store: &dyn CallStore) {
    let now = at(48 * 3600);
    let calls = [
        (0, HistoryMark::Prank),
        (30 * 3600, HistoryMark::Ghost),
        (47 * 3600 + 60, HistoryMark::Genuine),
    ];
    for (i, (s, mark)) in calls.into_iter().enumerate() {
        let id = format!("h{i}");
        store.record_event(&id, received(s, Some("0899"))).unwrap();
        store.dispose(&id, disposition("x", mark, None)).unwrap();
    }
    store
        .record_event("h3", received(47 * 3600 + 120, Some("0899")))
        .unwrap();
    store
        .record_event("other", received(47 * 3600, Some("0800")))
        .unwrap();
    store
        .record_event("future", received(49 * 3600, Some("0899")))
        .unwrap();
    let h = store.caller_history("0899", now, at(0)).unwrap();
    let want = CallerHistory {
        calls_1h: 2,
        calls_24h: 3,
        prank: 1,
        ghost: 1,
        genuine: 1,
    };
    assert_eq!(h, want);
    let recent = store.caller_history("0899", now, at(3600)).unwrap();
    assert_eq!((recent.prank, recent.ghost, recent.calls_24h), (0, 1, 3));
    assert_eq!(
        store.caller_history("none", now, at(0)).unwrap(),
        CallerHistory::default()
    );
}

/// Issue 8: a call screening ends as ghost is disposed `ghost` by `screening`, so that the
/// caller's history and the category counts see it; a call taker's disposition stays.
pub(crate) fn screening_ghost_is_counted_as_ghost(store: &dyn CallStore) {
    let ghost_end = |s| CallUpdate::Ended {
        at: at(s),
        reason: EndReason::Ghost,
        by: Party::Gateway,
    };
    store.record_event("g1", received(0, Some("0811"))).unwrap();
    store.record_event("g1", ghost_end(12)).unwrap();
    let r = store.get("g1").unwrap().expect("record");
    let d = r.disposition.as_ref().expect("disposed by screening");
    assert_eq!(
        (d.category.as_str(), d.mark, d.by.as_str()),
        ("ghost", HistoryMark::Ghost, "screening")
    );
    assert_eq!(store.dispositions("g1").unwrap().len(), 1);
    let h = store.caller_history("0811", at(3600), at(0)).unwrap();
    assert_eq!(h.ghost, 1);
    // An ordinary end is not disposed.
    store.record_event("n1", received(0, Some("0811"))).unwrap();
    store.record_event("n1", ended(20)).unwrap();
    assert_eq!(store.get("n1").unwrap().expect("record").disposition, None);
}

pub(crate) fn hourly_counts_follow_every_change(store: &dyn CallStore) {
    seed_list(store); // six calls in hour 0
    store
        .record_event("late", received(3 * 3600 + 5, None))
        .unwrap();
    let h0 = at(0).hour();
    let counts = store.hourly_counts(h0, h0 + 24).unwrap();
    let row = |kec: &str, cat: &str, calls| HourCount {
        hour: h0,
        kecamatan: kec.into(),
        category: cat.into(),
        calls,
    };
    let late = HourCount {
        hour: h0 + 3,
        kecamatan: String::new(),
        category: String::new(),
        calls: 1,
    };
    let want = vec![
        row("", "", 4),
        row("Kejaksan", "pln", 1),
        row("Kejaksan", "prank", 1),
        late.clone(),
    ];
    assert_eq!(counts, want);
    // a supervisor's correction moves the call from one bucket to another
    store
        .dispose(
            "l1",
            disposition("ghost", HistoryMark::Ghost, Some("Kesambi")),
        )
        .unwrap();
    let counts = store.hourly_counts(h0, h0 + 24).unwrap();
    let want = vec![
        row("", "", 4),
        row("Kejaksan", "pln", 1),
        row("Kesambi", "ghost", 1),
        late,
    ];
    assert_eq!(counts, want);
    assert_eq!(store.hourly_counts(h0 + 1, h0 + 3).unwrap(), vec![]);
}

pub(crate) fn top_callers_ranked(store: &dyn CallStore) {
    seed_list(store); // 080 x3 (l0 l2 l4), 081 x3 (l1 l3 l5)
    store.record_event("w", received(7, None)).unwrap();
    store.record_event("z", received(8, Some("0777"))).unwrap();
    let top = store.top_callers(at(0), at(3600), 2).unwrap();
    let got: Vec<(&str, u64, u64)> = top
        .iter()
        .map(|c| (c.caller.as_str(), c.calls, c.prank))
        .collect();
    assert_eq!(got, [("080", 3, 0), ("081", 3, 1)]);
    let top = store.top_callers(at(100), at(3600), 10).unwrap();
    assert_eq!(
        top.len(),
        2,
        "0777 before the range, withheld never: {top:?}"
    );
}

pub(crate) fn accounts_round_trip(store: &dyn CallStore) {
    let mut a = Account {
        name: "budi".into(),
        role: Role::Seat,
        seat: Some("seat1".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
    };
    store.put_account(&a).unwrap();
    assert_eq!(store.account("budi").unwrap().as_ref(), Some(&a));
    a.role = Role::Supervisor;
    a.seat = None;
    store.put_account(&a).unwrap();
    assert_eq!(store.account("budi").unwrap(), Some(a));
    assert_eq!(store.account("nobody").unwrap(), None);
}

/// Runs every battery test against the backend made by `$make` (an expression giving a value
/// that derefs to a `CallStore`).
macro_rules! battery {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;
            battery!(@tests $make; lifecycle_fills_every_field, illegal_updates_are_typed_errors,
                dispositions_keep_history_and_place, interrupt_marks_only_unfinished,
                list_filters, caller_history_windows, hourly_counts_follow_every_change,
                top_callers_ranked, accounts_round_trip, screening_ghost_is_counted_as_ghost);
        }
    };
    (@tests $make:expr; $($name:ident),*) => {
        $(#[test] fn $name() { let (store, _guard) = $make; super::$name(&store); })*
    };
}

pub(crate) fn temp_sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        &dir.path().join("data/siaga.sqlite"),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    (store, dir)
}

battery!(memory, (MemoryStore::new(), ()));
battery!(sqlite, temp_sqlite());

#[test]
fn sqlite_survives_reopen_and_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("siaga.sqlite");
    let open = || SqliteStore::open(&path, std::time::Duration::from_secs(5)).unwrap();
    let store = open();
    full_call(&store); // finished
    store
        .record_event("ringing", received(1, Some("1")))
        .unwrap();
    store
        .record_event(
            "ringing",
            CallUpdate::Ringing {
                at: at(2),
                seat: "seat1".into(),
            },
        )
        .unwrap();
    store
        .record_event("talking", received(3, Some("2")))
        .unwrap();
    store
        .record_event(
            "talking",
            CallUpdate::Answered {
                at: at(4),
                seat: "seat2".into(),
            },
        )
        .unwrap();
    // No destructor runs, as with kill -9: only what was committed is on disk.
    std::mem::forget(store);
    let store = open();
    assert_eq!(store.interrupt_unfinished(at(500)).unwrap(), 2);
    let r = store.get("talking").unwrap().unwrap();
    assert_eq!(
        (r.state, r.seat.as_deref()),
        (CallState::Interrupted, Some("seat2"))
    );
    assert_eq!(
        store.get("ringing").unwrap().unwrap().state,
        CallState::Interrupted
    );
    let done = store.get("c1").unwrap().unwrap();
    assert_eq!(
        (done.state, done.talk_ms()),
        (CallState::Ended, Some(76_000))
    );
    drop(store);
    assert_eq!(open().interrupt_unfinished(at(600)).unwrap(), 0);
}

#[test]
fn sqlite_file_is_wal_and_full_sync() {
    let (store, _dir) = temp_sqlite();
    assert_eq!(store.pragma("journal_mode"), "wal");
    assert_eq!(store.pragma("synchronous"), "2", "2 = FULL");
}
