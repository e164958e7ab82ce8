//! Store benchmark (not CI): `cargo bench --bench store [-- RECORDS]`.
//!
//! 1. Durable writes: call state changes through `record_event`, one `synchronous=FULL`
//!    commit each, on a file under `target/` (not /tmp, which may be tmpfs and never syncs).
//! 2. Reports over RECORDS (default 1,000,000) seeded calls spread over one month: the
//!    month × kecamatan × category table from the hourly pre-aggregates, the full summary
//!    (with top callers, which scans the month's calls), and for comparison the same table
//!    as a GROUP BY over the raw `calls` rows.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use siaga::analytics::{parse_dims, Analytics};
use siaga::config::default_categories;
use siaga::store::{
    CallRecord, CallStore, CallUpdate, Disposition, EndReason, HistoryMark, Party, SqliteStore,
    Timestamp,
};

const KEC: [&str; 6] = [
    "Kejaksan",
    "Lemahwungkuk",
    "Harjamukti",
    "Pekalipan",
    "Kesambi",
    "",
];

fn dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-store");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

fn durable_writes(dir: &std::path::Path) {
    let store = SqliteStore::open(&dir.join("durable.sqlite"), Duration::from_secs(5)).unwrap();
    let calls = 300;
    let start = Instant::now();
    for i in 0..calls {
        let id = format!("d{i}");
        let t = Timestamp::now();
        let updates = [
            CallUpdate::Received {
                at: t,
                caller: Some("0812".into()),
                display_name: None,
                trunk: "t".into(),
                sip_call_id: id.clone(),
            },
            CallUpdate::Queued { at: t },
            CallUpdate::Ringing {
                at: t,
                seat: "seat1".into(),
            },
            CallUpdate::Answered {
                at: t,
                seat: "seat1".into(),
            },
            CallUpdate::Ended {
                at: t,
                reason: EndReason::Normal,
                by: Party::Caller,
            },
        ];
        for u in updates {
            store.record_event(&id, u).unwrap();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let events = f64::from(calls * 5);
    println!("durable record_event: {events} commits in {secs:.2} s = {:.0} commits/s = {:.0} calls/s (5 state changes each)", events / secs, f64::from(calls) / secs);
}

fn seed(store: &SqliteStore, n: usize, since: i64, span: i64) {
    let cats = default_categories();
    let mut x: u64 = 112;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 16) % m
    };
    let start = Instant::now();
    let mut batch = Vec::with_capacity(50_000);
    for i in 0..n {
        let at = Timestamp::from_ms(since + next(span as u64) as i64);
        let caller = format!("0812{:05}", next(20_000));
        let received = CallUpdate::Received {
            at,
            caller: Some(caller),
            display_name: None,
            trunk: "t".into(),
            sip_call_id: i.to_string(),
        };
        let mut r = CallRecord::new(&format!("c{i}"), received).unwrap();
        r.apply(CallUpdate::Ended {
            at: at.plus_ms(60_000),
            reason: EndReason::Normal,
            by: Party::Caller,
        })
        .unwrap();
        let kec = KEC[next(6) as usize];
        let cat = &cats[next(cats.len() as u64) as usize];
        if next(10) > 0 {
            r.set_disposition(Disposition {
                category: cat.id.clone(),
                mark: HistoryMark::Genuine,
                kecamatan: (!kec.is_empty()).then(|| kec.to_owned()),
                kelurahan: None,
                notes: String::new(),
                by: "seat1".into(),
                at,
            });
        }
        batch.push(r);
        if batch.len() == batch.capacity() {
            store.import(&batch).unwrap();
            batch.clear();
        }
    }
    store.import(&batch).unwrap();
    println!(
        "seeded {n} records in {:.1} s (import, one transaction per 50,000)",
        start.elapsed().as_secs_f64()
    );
}

fn median<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    // `cargo test --all-targets` runs bench targets too, without `--bench`: the load is for
    // `cargo bench` only, so a test run just checks that the target builds.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "benchmark: run with `cargo bench --bench {}`",
            env!("CARGO_CRATE_NAME")
        );
        return;
    }
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = dir();
    durable_writes(&dir);
    let path = dir.join("month.sqlite");
    let store = SqliteStore::open(&path, Duration::from_secs(5)).unwrap();
    let a = Analytics::new(7, default_categories(), 10);
    let since = a.local_midnight(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    let until = a.local_midnight(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    seed(&store, n, since.as_ms(), until.as_ms() - since.as_ms());
    let by = parse_dims("month,kecamatan,category").unwrap();
    let mut rows = 0;
    let table = median(7, || {
        let counts = store.hourly_counts(since.hour(), until.hour()).unwrap();
        rows = a.table(&counts, &by).len();
    });
    println!(
        "report month x kecamatan x category over {n} records: {:.1} ms (median of 7, {rows} rows)",
        table.as_secs_f64() * 1e3
    );
    let full = median(3, || {
        a.summary(&store, since, until, &by).unwrap();
    });
    println!(
        "full summary (table + share per day + busiest hours + top callers): {:.1} ms",
        full.as_secs_f64() * 1e3
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let raw = median(3, || {
        let mut stmt = conn.prepare_cached("SELECT coalesce(kecamatan, ''), coalesce(category, ''), count(*) FROM calls WHERE received_at >= ?1 AND received_at < ?2 GROUP BY 1, 2").unwrap();
        let k = stmt
            .query_map([since.as_ms(), until.as_ms()], |r| r.get::<_, i64>(2))
            .unwrap()
            .count();
        assert!(k > 0);
    });
    println!(
        "same table as GROUP BY over raw calls (no pre-aggregation): {:.1} ms",
        raw.as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&dir);
}
