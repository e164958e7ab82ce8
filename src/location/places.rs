//! Kecamatan and kelurahan of a point: point-in-polygon over the city's GeoJSON boundaries.
//!
//! Written here rather than with the `geo`/`geojson` crates: the data is 27 simple polygons
//! (about 5,000 vertices), one even-odd ray cast per candidate after a bounding-box test is
//! all it takes (~1 µs per lookup, see the test), and serde_json already reads the file.
//!
//! A point outside every polygon is [`Place::Outside`], never the nearest guess.
use std::path::Path;

use serde_json::Value;

/// The kecamatan name recorded for a position outside every polygon.
pub const OUTSIDE: &str = "outside Kota Cirebon";

/// The boundaries shipped in `fixtures/geo/` (see its SOURCE.md), built into the binary.
const KECAMATAN_GEOJSON: &str = include_str!("../../fixtures/geo/cirebon-kecamatan.geojson");
const KELURAHAN_GEOJSON: &str = include_str!("../../fixtures/geo/cirebon-kelurahan.geojson");

/// Where a point is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Inside the city.
    Inside {
        /// Kecamatan name.
        kecamatan: String,
        /// Kelurahan name (`None` only on a boundary the two layers draw differently).
        kelurahan: Option<String>,
    },
    /// Outside every polygon (sea, Kabupaten Cirebon, anywhere else).
    Outside,
}

impl Place {
    /// `(kecamatan, kelurahan)` as recorded on a call: [`OUTSIDE`] for outside.
    pub fn names(&self) -> (String, Option<String>) {
        match self {
            Place::Inside {
                kecamatan,
                kelurahan,
            } => (kecamatan.clone(), kelurahan.clone()),
            Place::Outside => (OUTSIDE.to_owned(), None),
        }
    }
}

/// The GeoJSON could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlacesError {
    /// Not readable.
    #[error("{file}: {message}")]
    Read {
        /// File name.
        file: String,
        /// The I/O or JSON error.
        message: String,
    },
    /// A feature without the expected property or geometry.
    #[error("{file}: feature {index}: {message}")]
    Feature {
        /// File name.
        file: String,
        /// Index in `features`.
        index: usize,
        /// What is missing.
        message: String,
    },
}

/// One polygon (or multipolygon) area: its rings, tested even-odd.
#[derive(Debug, Clone)]
struct Area {
    name: String,
    /// For a kelurahan: its kecamatan.
    parent: String,
    /// (min lon, min lat, max lon, max lat).
    bbox: [f64; 4],
    rings: Vec<Vec<[f64; 2]>>,
}

impl Area {
    fn contains(&self, lon: f64, lat: f64) -> bool {
        let [x0, y0, x1, y1] = self.bbox;
        if lon < x0 || lon > x1 || lat < y0 || lat > y1 {
            return false;
        }
        self.rings
            .iter()
            .filter(|r| crosses_odd(r, lon, lat))
            .count()
            % 2
            == 1
    }
}

/// Even-odd ray cast towards +lon: does a horizontal ray from the point cross `ring` an odd
/// number of times?
fn crosses_odd(ring: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    for edge in ring.windows(2) {
        let ([xa, ya], [xb, yb]) = (edge[0], edge[1]);
        if (ya > y) != (yb > y) && x < xa + (y - ya) * (xb - xa) / (yb - ya) {
            inside = !inside;
        }
    }
    inside
}

/// Kecamatan and kelurahan polygons of one city.
#[derive(Debug, Clone)]
pub struct Places {
    kecamatan: Vec<Area>,
    kelurahan: Vec<Area>,
}

impl Places {
    /// Kota Cirebon, from the files built into the binary.
    pub fn cirebon() -> Result<Places, PlacesError> {
        Self::from_geojson(KECAMATAN_GEOJSON, KELURAHAN_GEOJSON)
    }

    /// Reads `cirebon-kecamatan.geojson` and `cirebon-kelurahan.geojson` from `dir`.
    pub fn load(dir: &Path) -> Result<Places, PlacesError> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| PlacesError::Read {
                file: name.to_owned(),
                message: e.to_string(),
            })
        };
        Self::from_geojson(
            &read("cirebon-kecamatan.geojson")?,
            &read("cirebon-kelurahan.geojson")?,
        )
    }

    /// From the two GeoJSON texts (properties `kecamatan`; `kelurahan` and `kecamatan`).
    pub fn from_geojson(kecamatan: &str, kelurahan: &str) -> Result<Places, PlacesError> {
        Ok(Places {
            kecamatan: areas("kecamatan", kecamatan, "kecamatan", None)?,
            kelurahan: areas("kelurahan", kelurahan, "kelurahan", Some("kecamatan"))?,
        })
    }

    /// The place of (`lat`, `lon`) in WGS84 degrees.
    pub fn resolve(&self, lat: f64, lon: f64) -> Place {
        let kel = self.kelurahan.iter().find(|a| a.contains(lon, lat));
        let kec = self.kecamatan.iter().find(|a| a.contains(lon, lat));
        match (kec, kel) {
            (Some(kec), kel) => Place::Inside {
                kecamatan: kec.name.clone(),
                kelurahan: kel.filter(|k| k.parent == kec.name).map(|k| k.name.clone()),
            },
            (None, Some(kel)) => Place::Inside {
                kecamatan: kel.parent.clone(),
                kelurahan: Some(kel.name.clone()),
            },
            (None, None) => Place::Outside,
        }
    }

    /// Kecamatan names, in file order.
    pub fn kecamatan(&self) -> impl Iterator<Item = &str> {
        self.kecamatan.iter().map(|a| a.name.as_str())
    }

    /// Kelurahan names of `kecamatan`, in file order.
    pub fn kelurahan_of<'a>(&'a self, kecamatan: &'a str) -> impl Iterator<Item = &'a str> {
        self.kelurahan
            .iter()
            .filter(move |a| a.parent == kecamatan)
            .map(|a| a.name.as_str())
    }
}

fn areas(
    file: &str,
    text: &str,
    name_key: &str,
    parent_key: Option<&str>,
) -> Result<Vec<Area>, PlacesError> {
    let json: Value = serde_json::from_str(text).map_err(|e| PlacesError::Read {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    let features = json["features"]
        .as_array()
        .ok_or_else(|| PlacesError::Read {
            file: file.to_owned(),
            message: "no `features` array".to_owned(),
        })?;
    features
        .iter()
        .enumerate()
        .map(|(index, f)| {
            area(f, name_key, parent_key).map_err(|message| PlacesError::Feature {
                file: file.to_owned(),
                index,
                message,
            })
        })
        .collect()
}

fn area(f: &Value, name_key: &str, parent_key: Option<&str>) -> Result<Area, String> {
    let prop = |k: &str| {
        f["properties"][k]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no string property `{k}`"))
    };
    let name = prop(name_key)?;
    let parent = parent_key.map(prop).transpose()?.unwrap_or_default();
    let coords = &f["geometry"]["coordinates"];
    let polygons: Vec<&Value> = match f["geometry"]["type"].as_str() {
        Some("Polygon") => vec![coords],
        Some("MultiPolygon") => coords
            .as_array()
            .map(|v| v.iter().collect())
            .unwrap_or_default(),
        other => return Err(format!("geometry type {other:?}, expected Polygon")),
    };
    let mut rings = Vec::new();
    for polygon in polygons {
        for ring in polygon.as_array().into_iter().flatten() {
            rings.push(ring_of(ring)?);
        }
    }
    let points = rings.iter().flatten();
    let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for &[x, y] in points {
        bbox = [
            bbox[0].min(x),
            bbox[1].min(y),
            bbox[2].max(x),
            bbox[3].max(y),
        ];
    }
    if rings.is_empty() {
        return Err("no rings".to_owned());
    }
    Ok(Area {
        name,
        parent,
        bbox,
        rings,
    })
}

fn ring_of(ring: &Value) -> Result<Vec<[f64; 2]>, String> {
    let positions = ring.as_array().ok_or("a ring is not an array")?;
    let out: Option<Vec<[f64; 2]>> = positions
        .iter()
        .map(|p| Some([p.get(0)?.as_f64()?, p.get(1)?.as_f64()?]))
        .collect();
    let out = out.ok_or("a position is not [lon, lat]")?;
    if out.len() < 4 || out.first() != out.last() {
        return Err("a ring must be closed with at least 4 positions".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
#[path = "places_tests.rs"]
mod tests;
