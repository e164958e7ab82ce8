//! A seeded month of records; every expected figure is computed here from the seed list with
//! plain integer arithmetic, not with the analytics code.
use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::*;
use crate::config::default_categories;
use crate::store::{CallUpdate, Disposition, HistoryMark, Location, MemoryStore, Timestamp};

const DAY_MS: i64 = 86_400_000;
/// 2026-11-01T00:00:00+07:00.
const NOV_START: i64 = 1_793_491_200_000 - 7 * HOUR_MS;
const KEC: [&str; 7] = [
    "Kejaksan",
    "Lemahwungkuk",
    "Harjamukti",
    "Pekalipan",
    "Kesambi",
    crate::location::OUTSIDE,
    "",
];

struct Seed {
    id: String,
    at: i64,
    caller: Option<String>,
    kecamatan: String,
    category: String,
}

/// A small deterministic generator (64-bit LCG, top 48 bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 16) % n
    }
}

fn seeds() -> Vec<Seed> {
    let cats = default_categories();
    let mut rng = Lcg(112);
    let mut out = Vec::new();
    // 2,000 calls in November, plus two just outside it
    for i in 0..2000 {
        let at = NOV_START + rng.next(30 * DAY_MS as u64) as i64;
        let caller = (rng.next(10) > 0).then(|| format!("0812{:04}", rng.next(60)));
        let kecamatan = KEC[rng.next(7) as usize].to_owned();
        let category = match rng.next(5) {
            0 => String::new(),
            _ => cats[rng.next(cats.len() as u64) as usize].id.clone(),
        };
        out.push(Seed {
            id: format!("n{i}"),
            at,
            caller,
            kecamatan,
            category,
        });
    }
    for (id, at) in [
        ("oct", NOV_START - 60_000),
        ("dec", NOV_START + 30 * DAY_MS),
    ] {
        let (caller, kecamatan, category) = (Some("0812x".into()), "Kesambi".into(), "pln".into());
        out.push(Seed {
            id: id.into(),
            at,
            caller,
            kecamatan,
            category,
        });
    }
    out
}

fn load(store: &dyn CallStore, seeds: &[Seed]) {
    let cats = default_categories();
    for s in seeds {
        let received = CallUpdate::Received {
            at: Timestamp::from_ms(s.at),
            caller: s.caller.clone(),
            display_name: None,
            trunk: "t".into(),
            sip_call_id: s.id.clone(),
        };
        store.record_event(&s.id, received).unwrap();
        if s.category.is_empty() {
            if !s.kecamatan.is_empty() {
                let location = Location {
                    lat: 0.0,
                    lon: 0.0,
                    accuracy_m: None,
                    source: "aml".into(),
                };
                let kecamatan = Some(s.kecamatan.clone());
                let located = CallUpdate::Located {
                    location,
                    kecamatan,
                    kelurahan: None,
                };
                store.record_event(&s.id, located).unwrap();
            }
            continue;
        }
        // first a wrong disposition, then the correction that the report must count
        let d = |category: &str| {
            let c = cats.iter().find(|c| c.id == category).unwrap();
            let mark = match (c.kind, c.counts_as) {
                (_, Some(CountsAs::Prank)) => HistoryMark::Prank,
                (_, Some(CountsAs::Ghost)) => HistoryMark::Ghost,
                (CategoryKind::NotAReport, None) => HistoryMark::Neutral,
                _ => HistoryMark::Genuine,
            };
            let kecamatan = (!s.kecamatan.is_empty()).then(|| s.kecamatan.clone());
            let (by, at) = ("seat1".into(), Timestamp::from_ms(s.at + 60_000));
            Disposition {
                category: category.into(),
                mark,
                kecamatan,
                kelurahan: None,
                notes: String::new(),
                by,
                at,
            }
        };
        store.dispose(&s.id, d("test")).unwrap();
        store.dispose(&s.id, d(&s.category)).unwrap();
    }
}

fn analytics() -> Analytics {
    Analytics::new(7, default_categories(), 5)
}

fn in_november(s: &Seed) -> bool {
    (NOV_START..NOV_START + 30 * DAY_MS).contains(&s.at)
}

fn label(s: &str, none: &str) -> String {
    if s.is_empty() {
        none.to_owned()
    } else {
        s.to_owned()
    }
}

fn check_month(store: &dyn CallStore) {
    let seeds = seeds();
    load(store, &seeds);
    let a = analytics();
    let since = a.local_midnight(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    let until = a.local_midnight(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    assert_eq!(
        (since.as_ms(), until.as_ms()),
        (NOV_START, NOV_START + 30 * DAY_MS)
    );
    let by = parse_dims("month,kecamatan,category").unwrap();
    let summary = a.summary(store, since, until, &by).unwrap();

    let mut want: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for s in seeds.iter().filter(|s| in_november(s)) {
        let key = vec![
            "2026-11".to_owned(),
            label(&s.kecamatan, NO_KECAMATAN),
            label(&s.category, NO_CATEGORY),
        ];
        *want.entry(key).or_default() += 1;
    }
    let want: Vec<Row> = want
        .into_iter()
        .map(|(key, calls)| Row { key, calls })
        .collect();
    assert_eq!(summary.total, 2000);
    assert_eq!(summary.table, want);

    // prank and ghost share per local day
    let mut days: BTreeMap<i64, (u64, u64, u64)> = BTreeMap::new();
    for s in seeds.iter().filter(|s| in_november(s)) {
        let d = days.entry((s.at - NOV_START) / DAY_MS + 1).or_default();
        d.0 += 1;
        d.1 += u64::from(s.category == "prank");
        d.2 += u64::from(s.category == "ghost");
    }
    let got: Vec<(String, u64, u64, u64)> = summary
        .prank_ghost_per_day
        .iter()
        .map(|d| (d.day.clone(), d.calls, d.prank, d.ghost))
        .collect();
    let want: Vec<(String, u64, u64, u64)> = days
        .into_iter()
        .map(|(d, (n, p, g))| (format!("2026-11-{d:02}"), n, p, g))
        .collect();
    assert_eq!(got, want);

    // busiest hours: local hour = (utc ms + 7 h) / 1 h mod 24
    let mut hours = [0u64; 24];
    for s in seeds.iter().filter(|s| in_november(s)) {
        hours[((s.at + 7 * HOUR_MS) / HOUR_MS % 24) as usize] += 1;
    }
    let top = &summary.busiest_hours[0];
    assert_eq!(top.calls, *hours.iter().max().unwrap());
    assert_eq!(
        summary.busiest_hours.iter().map(|h| h.calls).sum::<u64>(),
        2000
    );
    for h in &summary.busiest_hours {
        assert_eq!(h.calls, hours[usize::from(h.hour)], "hour {}", h.hour);
    }

    // top repeat callers
    let mut callers: BTreeMap<&str, u64> = BTreeMap::new();
    for s in seeds.iter().filter(|s| in_november(s)) {
        if let Some(c) = s.caller.as_deref() {
            *callers.entry(c).or_default() += 1;
        }
    }
    let mut ranked: Vec<(&str, u64)> = callers.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let got: Vec<(&str, u64)> = summary
        .top_callers
        .iter()
        .map(|c| (c.caller.as_str(), c.calls))
        .collect();
    assert_eq!(got, ranked[..5]);

    // weeks and kinds add up to the same total; the day dimension has 30 days
    let weeks = a.table(
        &store.hourly_counts(since.hour(), until.hour()).unwrap(),
        &[Dim::Week],
    );
    assert_eq!(weeks.first().map(|r| r.key[0].as_str()), Some("2026-W44"));
    assert_eq!(weeks.iter().map(|r| r.calls).sum::<u64>(), 2000);
    let s = a.summary(store, since, until, &[Dim::Day]).unwrap();
    assert_eq!(s.table.len(), 30);
}

#[test]
fn seeded_month_memory() {
    check_month(&MemoryStore::new());
}

#[test]
fn seeded_month_sqlite() {
    let (store, _dir) = crate::store::temp_sqlite_for_tests();
    check_month(&store);
}

#[test]
fn dims_parse_and_formats() {
    assert_eq!(
        parse_dims("kecamatan, category,kecamatan").unwrap(),
        [Dim::Kecamatan, Dim::Category]
    );
    assert_eq!(parse_dims("").unwrap(), []);
    assert_eq!(
        parse_dims("kecamatan,colour").unwrap_err(),
        DimError("colour".into())
    );
    let dims = [Dim::Kecamatan, Dim::Category];
    let rows = vec![
        Row {
            key: vec!["Kesambi".into(), "pln".into()],
            calls: 12,
        },
        Row {
            key: vec!["outside, far".into(), "a\"b".into()],
            calls: 3,
        },
    ];
    assert_eq!(
        to_csv(&dims, &rows),
        "kecamatan,category,calls\r\nKesambi,pln,12\r\n\"outside, far\",\"a\"\"b\",3\r\n"
    );
    let text = to_text(&dims, &rows);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "kecamatan     category  calls");
    assert_eq!(lines[1], "Kesambi       pln          12");
    assert_eq!(lines[3], "total                      15");
}
