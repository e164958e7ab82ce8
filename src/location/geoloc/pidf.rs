//! PIDF-LO (RFC 4119) location by value, with the geodetic shapes of RFC 5491 §5.2.
//!
//! Read: `gml:Point`, `gs:Circle`, `gs:Sphere`, `gs:Ellipse`, `gs:Ellipsoid` and
//! `gml:Polygon` (its vertex centroid, with the farthest vertex as radius) in
//! `urn:ogc:def:crs:EPSG::4326` / `::4979` (latitude first, RFC 5491 §5.2.1). Distances
//! must be metres (`urn:ogc:def:uom:EPSG::9001`, RFC 5491 §5.2.2). Civic addresses
//! (RFC 5139) and other shapes are [`PidfError::NoShape`]: the call goes on without them.
//!
//! The first `location-info` with a readable shape wins (RFC 5491 §3.4: the first tuple
//! is the most relevant). DTDs are refused, so entity expansion cannot be abused.
use roxmltree::{Document, Node, ParsingOptions};

use crate::location::fix::{parse_decimal, valid_point, Channel, Location, Method};
use crate::store::Timestamp;

/// RFC 4119 PIDF namespace.
pub const NS_PIDF: &str = "urn:ietf:params:xml:ns:pidf";
/// RFC 4119 GEOPRIV namespace.
pub const NS_GP: &str = "urn:ietf:params:xml:ns:pidf:geopriv10";
/// GML 3.1.1.
pub const NS_GML: &str = "http://www.opengis.net/gml";
/// RFC 5491 geoshape namespace.
pub const NS_GS: &str = "http://www.opengis.net/pidflo/1.0";
/// RFC 4479 data model (device/person tuples, timestamp).
pub const NS_DM: &str = "urn:ietf:params:xml:ns:pidf:data-model";
/// RFC 7459 confidence.
pub const NS_CON: &str = "urn:ietf:params:xml:ns:geopriv:conf";

/// Bodies larger than this are refused (a PIDF-LO is a few KiB; SIP caps messages at 64 KiB).
pub const MAX_PIDF_BYTES: usize = 64 * 1024;
/// Elements parsed at most.
const MAX_NODES: u32 = 4096;
/// Polygon vertices read at most.
const MAX_VERTICES: usize = 256;
/// RFC 5491 §5.2.2: uncertainty areas are 95 % confidence unless said otherwise (RFC 7459).
const DEFAULT_CONFIDENCE: u8 = 95;

/// Which shape the location was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// `gml:Point`.
    Point,
    /// `gs:Circle` or `gs:Sphere`.
    Circle,
    /// `gs:Ellipse` or `gs:Ellipsoid` (semi-major axis kept as radius).
    Ellipse,
    /// `gml:Polygon` (centroid and farthest vertex).
    Polygon,
}

/// A PIDF-LO read.
#[derive(Debug, Clone, PartialEq)]
pub struct PidfLocation {
    /// The position (channel [`Channel::PidfLo`]).
    pub location: Location,
    /// The shape it came from.
    pub shape: Shape,
    /// The presentity (`entity` attribute), e.g. `pres:+6281...@example` or `sip:...`.
    pub entity: Option<String>,
}

/// Why a PIDF-LO gives no location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PidfError {
    /// Over [`MAX_PIDF_BYTES`].
    #[error("PIDF-LO of {bytes} bytes is too large")]
    TooLarge {
        /// Bytes.
        bytes: usize,
    },
    /// Not UTF-8 or not well-formed XML (or has a DTD).
    #[error("not well-formed XML: {reason}")]
    Xml {
        /// The XML parser's message.
        reason: String,
    },
    /// The root is not a PIDF `presence`.
    #[error("root element is not PIDF presence")]
    NotPidf,
    /// No geodetic shape we read (civic only, or another shape).
    #[error("no point, circle, ellipse or polygon in the PIDF-LO")]
    NoShape,
    /// A shape whose numbers, CRS or units are unusable.
    #[error("{shape}: {reason}")]
    BadShape {
        /// Element name.
        shape: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Parses a PIDF-LO document.
pub fn parse_pidf(body: &[u8]) -> Result<PidfLocation, PidfError> {
    if body.len() > MAX_PIDF_BYTES {
        return Err(PidfError::TooLarge { bytes: body.len() });
    }
    let text = std::str::from_utf8(body).map_err(|e| PidfError::Xml {
        reason: e.to_string(),
    })?;
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| PidfError::Xml {
        reason: e.to_string(),
    })?;
    let root = doc.root_element();
    if !is(root, NS_PIDF, "presence") {
        return Err(PidfError::NotPidf);
    }
    let entity = root
        .attribute("entity")
        .map(|e| e.chars().take(256).collect());
    let mut first_error = None;
    for info in root
        .descendants()
        .filter(|n| is(*n, NS_GP, "location-info"))
    {
        match read_location_info(info) {
            Ok(Some((mut location, shape))) => {
                let geopriv = info.parent_element();
                location.method = geopriv.map_or(Method::Unknown, method_of);
                location.fixed_at = tuple_timestamp(info);
                return Ok(PidfLocation {
                    location,
                    shape,
                    entity,
                });
            }
            Ok(None) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(PidfError::NoShape))
}

fn is(n: Node<'_, '_>, ns: &str, name: &str) -> bool {
    n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
}

fn child<'a, 'i>(n: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| is(*c, ns, name))
}

/// The first shape in one `location-info`, with its confidence.
fn read_location_info(info: Node<'_, '_>) -> Result<Option<(Location, Shape)>, PidfError> {
    // RFC 4119's and RFC 6442's examples wrap the shape in `gml:location`; RFC 5491 puts it
    // directly in `location-info`. Both are read.
    let wrapped = info
        .children()
        .filter(|c| is(*c, NS_GML, "location"))
        .flat_map(|l| l.children());
    for shape in info.children().chain(wrapped).filter(Node::is_element) {
        let tag = shape.tag_name();
        let found = match (tag.namespace(), tag.name()) {
            (Some(NS_GML), "Point") => Some(point(shape)?),
            (Some(NS_GS), "Circle") => Some(circle(shape, "Circle")?),
            (Some(NS_GS), "Sphere") => Some(circle(shape, "Sphere")?),
            (Some(NS_GS), "Ellipse") => Some(ellipse(shape, "Ellipse")?),
            (Some(NS_GS), "Ellipsoid") => Some(ellipse(shape, "Ellipsoid")?),
            (Some(NS_GML), "Polygon") => Some(polygon(shape)?),
            _ => None,
        };
        if let Some((mut loc, kind)) = found {
            loc.confidence_pct = Some(confidence(info).unwrap_or(DEFAULT_CONFIDENCE));
            return Ok(Some((loc, kind)));
        }
    }
    Ok(None)
}

fn bad(shape: &'static str, reason: &'static str) -> PidfError {
    PidfError::BadShape { shape, reason }
}

/// RFC 5491 §5.2.1: only WGS84 geographic CRSs (2D 4326, 3D 4979); absent means 4326
/// inherited from an enclosing element, which RFC 5491 does not allow but senders do.
fn check_crs(shape: Node<'_, '_>, name: &'static str) -> Result<(), PidfError> {
    match shape.attribute("srsName") {
        None => Ok(()),
        Some(s) if s.ends_with("EPSG::4326") || s.ends_with("EPSG::4979") => Ok(()),
        Some(_) => Err(bad(name, "srsName is not EPSG::4326 or EPSG::4979")),
    }
}

/// `lat lon [alt]` of a `gml:pos`.
fn pos(node: Node<'_, '_>, name: &'static str) -> Result<(f64, f64), PidfError> {
    let text = node.text().unwrap_or("");
    let mut nums = text.split_whitespace().map(parse_decimal);
    let (Some(Some(lat)), Some(Some(lon))) = (nums.next(), nums.next()) else {
        return Err(bad(name, "gml:pos is not two numbers"));
    };
    if !valid_point(lat, lon) {
        return Err(bad(name, "position is off the globe"));
    }
    Ok((lat, lon))
}

fn located(lat: f64, lon: f64, accuracy_m: Option<f64>) -> Location {
    Location {
        lat,
        lon,
        accuracy_m,
        method: Method::Unknown,
        channel: Channel::PidfLo,
        fixed_at: None,
        confidence_pct: None,
        caller: None,
        imei: None,
    }
}

fn point(shape: Node<'_, '_>) -> Result<(Location, Shape), PidfError> {
    check_crs(shape, "Point")?;
    let p = child(shape, NS_GML, "pos").ok_or(bad("Point", "no gml:pos"))?;
    let (lat, lon) = pos(p, "Point")?;
    Ok((located(lat, lon, None), Shape::Point))
}

/// A length in metres (`uom` EPSG::9001, RFC 5491 §5.2.2).
fn metres(shape: Node<'_, '_>, child_name: &str, name: &'static str) -> Result<f64, PidfError> {
    let n =
        child(shape, NS_GS, child_name).ok_or(bad(name, "a required axis or radius is missing"))?;
    if let Some(uom) = n.attribute("uom") {
        if !uom.ends_with("EPSG::9001") {
            return Err(bad(name, "distance is not in metres (EPSG::9001)"));
        }
    }
    n.text()
        .and_then(parse_decimal)
        .filter(|m| *m >= 0.0)
        .ok_or(bad(name, "distance is not a non-negative number"))
}

fn circle(shape: Node<'_, '_>, name: &'static str) -> Result<(Location, Shape), PidfError> {
    check_crs(shape, name)?;
    let p = child(shape, NS_GML, "pos").ok_or(bad(name, "no gml:pos"))?;
    let (lat, lon) = pos(p, name)?;
    let r = metres(shape, "radius", name)?;
    Ok((located(lat, lon, Some(r)), Shape::Circle))
}

/// The semi-major axis bounds the ellipse: a circle of that radius contains it.
fn ellipse(shape: Node<'_, '_>, name: &'static str) -> Result<(Location, Shape), PidfError> {
    check_crs(shape, name)?;
    let p = child(shape, NS_GML, "pos").ok_or(bad(name, "no gml:pos"))?;
    let (lat, lon) = pos(p, name)?;
    let major = metres(shape, "semiMajorAxis", name)?;
    let minor = metres(shape, "semiMinorAxis", name)?;
    Ok((located(lat, lon, Some(major.max(minor))), Shape::Ellipse))
}

/// Vertex centroid of the exterior ring (`gml:posList` or `gml:pos` list), radius to the
/// farthest vertex. Good enough at city scale: the ring is a few hundred metres.
fn polygon(shape: Node<'_, '_>) -> Result<(Location, Shape), PidfError> {
    check_crs(shape, "Polygon")?;
    let ring = child(shape, NS_GML, "exterior")
        .and_then(|e| child(e, NS_GML, "LinearRing"))
        .ok_or(bad("Polygon", "no gml:exterior/gml:LinearRing"))?;
    let mut vertices = Vec::new();
    if let Some(list) = child(ring, NS_GML, "posList") {
        let nums: Vec<Option<f64>> = list
            .text()
            .unwrap_or("")
            .split_whitespace()
            .take(MAX_VERTICES * 2)
            .map(parse_decimal)
            .collect();
        for pair in nums.chunks_exact(2) {
            match (pair[0], pair[1]) {
                (Some(lat), Some(lon)) if valid_point(lat, lon) => vertices.push((lat, lon)),
                _ => return Err(bad("Polygon", "gml:posList is not pairs of numbers")),
            }
        }
    } else {
        for p in ring
            .children()
            .filter(|c| is(*c, NS_GML, "pos"))
            .take(MAX_VERTICES)
        {
            vertices.push(pos(p, "Polygon")?);
        }
    }
    // A closed ring repeats its first vertex last (GML LinearRing); count it once.
    if vertices.len() > 1 && vertices.first() == vertices.last() {
        vertices.pop();
    }
    if vertices.len() < 3 {
        return Err(bad("Polygon", "fewer than three vertices"));
    }
    let n = vertices.len() as f64;
    let lat = vertices.iter().map(|v| v.0).sum::<f64>() / n;
    let lon = vertices.iter().map(|v| v.1).sum::<f64>() / n;
    let radius = vertices
        .iter()
        .map(|v| distance_m((lat, lon), *v))
        .fold(0.0, f64::max);
    Ok((located(lat, lon, Some(radius)), Shape::Polygon))
}

/// Great-circle distance in metres (haversine, mean Earth radius).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6_371_008.8;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// RFC 7459 `con:confidence` (percent) in the location-info.
fn confidence(info: Node<'_, '_>) -> Option<u8> {
    let c = child(info, NS_CON, "confidence")?;
    c.text()?
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|c| (1..=100).contains(c))
}

/// RFC 4119 §2.2.3 `gp:method` text to our method.
fn method_of(geopriv: Node<'_, '_>) -> Method {
    let Some(text) = child(geopriv, NS_GP, "method").and_then(|m| m.text()) else {
        return Method::Unknown;
    };
    let t = text.trim().to_ascii_lowercase();
    // RFC 4119 / IANA "Method Tokens" (RFC 4119 §9.2): GPS, A-GPS, Cell, DHCP, Manual, ...
    match t.as_str() {
        "gps" | "a-gps" | "gnss" | "a-gnss" => Method::Gnss,
        "cell" | "e-otd" | "u-tdoa" | "ota" | "aoa" => Method::Cell,
        "wifi" | "wlan" | "802.11" => Method::Wifi,
        "manual" => Method::Manual,
        "hybrid" => Method::Fused,
        _ => Method::Unknown,
    }
}

/// The `timestamp` of the tuple/device/person holding this location-info (RFC 3863 §4.1.7,
/// RFC 4479 §6.1.5).
fn tuple_timestamp(info: Node<'_, '_>) -> Option<Timestamp> {
    let holder = info
        .ancestors()
        .find(|a| is(*a, NS_PIDF, "tuple") || is(*a, NS_DM, "device") || is(*a, NS_DM, "person"))?;
    let ts = holder
        .children()
        .find(|c| is(*c, NS_PIDF, "timestamp") || is(*c, NS_DM, "timestamp"))?;
    Timestamp::parse_rfc3339(ts.text()?.trim())
}
