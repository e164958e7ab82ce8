use super::*;

/// Area centroids (shoelace formula over the exterior ring), computed independently in
/// Python from `fixtures/geo/*.geojson`; a separate Python ray cast confirmed each lies inside
/// its own polygon:
///
/// ```python
/// def centroid(ring):
///     a = cx = cy = 0
///     for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
///         c = x0 * y1 - x1 * y0; a += c; cx += (x0 + x1) * c; cy += (y0 + y1) * c
///     a /= 2; return cx / (6 * a), cy / (6 * a)
/// ```
const KELURAHAN_CENTROIDS: &[(&str, &str, f64, f64)] = &[
    ("Kejaksan", "Kejaksan", 108.55822, -6.71251),
    ("Kejaksan", "Sukapura", 108.54959, -6.70504),
    ("Kejaksan", "Kesenden", 108.55890, -6.69898),
    ("Kejaksan", "Kebonbaru", 108.56145, -6.70633),
    ("Lemahwungkuk", "Pegambiran", 108.57856, -6.73929),
    ("Lemahwungkuk", "Lemahwungkuk", 108.57227, -6.72139),
    ("Lemahwungkuk", "Kesepuhan", 108.57451, -6.72702),
    ("Lemahwungkuk", "Panjunan", 108.56803, -6.71296),
    ("Harjamukti", "Kalijaga", 108.54811, -6.75722),
    ("Harjamukti", "Harjamukti", 108.53809, -6.74902),
    ("Harjamukti", "Kecapi", 108.55739, -6.74553),
    ("Harjamukti", "Larangan", 108.56623, -6.74708),
    ("Harjamukti", "Argasunya", 108.54351, -6.77732),
    ("Pekalipan", "Jagasatru", 108.56578, -6.72932),
    ("Pekalipan", "Pekalipan", 108.56389, -6.72239),
    ("Pekalipan", "Pulasaren", 108.56429, -6.72624),
    ("Pekalipan", "Pekalangan", 108.56118, -6.71804),
    ("Kesambi", "Pekiringan", 108.55244, -6.72026),
    ("Kesambi", "Sunyaragi", 108.54148, -6.73195),
    ("Kesambi", "Kesambi", 108.55485, -6.72880),
    ("Kesambi", "Drajat", 108.55738, -6.73391),
    ("Kesambi", "Karyamulya", 108.53090, -6.74039),
];

/// Kecamatan centroids, same method.
const KECAMATAN_CENTROIDS: &[(&str, f64, f64)] = &[
    ("Kejaksan", 108.55606, -6.70436),
    ("Lemahwungkuk", 108.57581, -6.73202),
    ("Harjamukti", 108.54826, -6.76143),
    ("Pekalipan", 108.56355, -6.72334),
    ("Kesambi", 108.54219, -6.73318),
];

fn places() -> Places {
    Places::cirebon().expect("shipped boundaries load")
}

#[test]
fn every_kelurahan_centroid_resolves_to_its_kelurahan() {
    let p = places();
    for &(kec, kel, lon, lat) in KELURAHAN_CENTROIDS {
        let want = Place::Inside {
            kecamatan: kec.into(),
            kelurahan: Some(kel.into()),
        };
        assert_eq!(p.resolve(lat, lon), want, "{kel} at ({lat}, {lon})");
    }
}

#[test]
fn every_kecamatan_centroid_resolves_to_its_kecamatan() {
    let p = places();
    for &(kec, lon, lat) in KECAMATAN_CENTROIDS {
        match p.resolve(lat, lon) {
            Place::Inside {
                kecamatan,
                kelurahan,
            } => {
                assert_eq!(kecamatan, kec);
                let kel = kelurahan.expect("some kelurahan");
                assert!(p.kelurahan_of(kec).any(|k| k == kel), "{kel} not in {kec}");
            }
            Place::Outside => panic!("{kec} centroid outside"),
        }
    }
}

#[test]
fn landmarks_from_source_md() {
    let p = places();
    let station = p.resolve(-6.7053, 108.5547);
    assert_eq!(
        station.names(),
        ("Kejaksan".into(), Some("Sukapura".into()))
    );
    let keraton = p.resolve(-6.7262, 108.5700);
    assert_eq!(
        keraton.names(),
        ("Lemahwungkuk".into(), Some("Kesepuhan".into()))
    );
}

#[test]
fn points_outside_resolve_to_outside_never_a_guess() {
    let p = places();
    let outside = [
        (-6.72, 108.62),     // Java Sea, east of the port
        (-6.7583, 108.4825), // Sumber, Kabupaten Cirebon
        (-6.70, 108.52),     // inside the city's bounding box, Kabupaten side
        (-6.70, 108.59),     // bounding box, sea side
        (0.0, 0.0),
        (6.7053, 108.5547), // the station with the sign of the latitude flipped
    ];
    for (lat, lon) in outside {
        assert_eq!(p.resolve(lat, lon), Place::Outside, "({lat}, {lon})");
    }
    assert_eq!(Place::Outside.names(), (OUTSIDE.to_owned(), None));
}

#[test]
fn names_and_counts() {
    let p = places();
    let kec: Vec<&str> = p.kecamatan().collect();
    assert_eq!(
        kec,
        [
            "Kejaksan",
            "Lemahwungkuk",
            "Harjamukti",
            "Pekalipan",
            "Kesambi"
        ]
    );
    let per: Vec<usize> = kec.iter().map(|k| p.kelurahan_of(k).count()).collect();
    assert_eq!(per, [4, 4, 5, 4, 5]);
}

#[test]
fn loads_from_a_directory_and_reports_bad_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/geo");
    assert_eq!(Places::load(&dir).unwrap().kecamatan().count(), 5);
    let err = Places::from_geojson("{}", "{}").unwrap_err();
    assert!(err.to_string().contains("features"), "{err}");
    let bad = r#"{"features":[{"properties":{},"geometry":{"type":"Point"}}]}"#;
    let err = Places::from_geojson(bad, bad).unwrap_err().to_string();
    assert!(
        err.contains("feature 0") && err.contains("kecamatan"),
        "{err}"
    );
}

#[test]
fn lookup_is_fast() {
    let p = places();
    let start = std::time::Instant::now();
    let mut inside = 0;
    for i in 0..10_000 {
        let (lat, lon) = (
            -6.69 - 0.00001 * f64::from(i),
            108.52 + 0.000007 * f64::from(i),
        );
        inside += usize::from(p.resolve(lat, lon) != Place::Outside);
    }
    assert!(inside > 1000);
    // debug build; a release lookup is about 1 µs
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}
