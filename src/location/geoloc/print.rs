//! The PIDF-LO siaga passes on to a seat's INVITE (RFC 6442 §3.1 by value, so that a
//! softphone that reads RFC 6442 shows it), as a `gs:Circle` when the radius is known and a
//! `gml:Point` when not (RFC 5491 §5.2).
use std::fmt::Write as _;

use crate::location::fix::{Location, Method};

use super::PIDF_TYPE;

/// What to put on the seat's INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassOn {
    /// The INVITE's `Content-Type` (`multipart/mixed; boundary=...`).
    pub content_type: String,
    /// The body: the SDP part then the PIDF-LO part.
    pub body: Vec<u8>,
    /// The `Geolocation` header value (`<cid:...>`).
    pub geolocation: String,
    /// The `Geolocation-Routing` value: `no`; the seat is the end of the route.
    pub routing: &'static str,
}

/// A PIDF-LO document for `location`. `entity` is the presentity URI (`pres:` or `sip:`;
/// RFC 4119 §2.2.1) and `tuple_id` an XML ID for the device element.
pub fn pidf_lo(location: &Location, entity: &str, tuple_id: &str) -> String {
    let mut x = String::with_capacity(1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n");
    let _ = write!(
        x,
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\" \
xmlns:gml=\"http://www.opengis.net/gml\" \
xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" \
xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" \
xmlns:con=\"urn:ietf:params:xml:ns:geopriv:conf\" entity=\"{}\">\r\n",
        escape(entity)
    );
    let _ = write!(
        x,
        "<dm:device id=\"{}\">\r\n<gp:geopriv>\r\n<gp:location-info>\r\n",
        xml_id(tuple_id)
    );
    let pos = format!("{:.6} {:.6}", location.lat, location.lon);
    // Half the Earth's circumference bounds any honest radius; it also keeps the printed
    // number short enough to read back.
    match location.accuracy_m.filter(|r| r.is_finite() && *r >= 0.0) {
        Some(r) => {
            let r = r.min(20_000_000.0);
            let _ = write!(
                x,
                "<gs:Circle srsName=\"urn:ogc:def:crs:EPSG::4326\">\r\n<gml:pos>{pos}</gml:pos>\r\n\
<gs:radius uom=\"urn:ogc:def:uom:EPSG::9001\">{r:.1}</gs:radius>\r\n</gs:Circle>\r\n"
            );
            let pct = location
                .confidence_pct
                .filter(|c| (1..=100).contains(c))
                .unwrap_or(95);
            let _ = write!(
                x,
                "<con:confidence pdf=\"normal\">{pct}</con:confidence>\r\n"
            );
        }
        None => {
            let _ = write!(
                x,
                "<gml:Point srsName=\"urn:ogc:def:crs:EPSG::4326\">\r\n<gml:pos>{pos}</gml:pos>\r\n</gml:Point>\r\n"
            );
        }
    }
    x.push_str("</gp:location-info>\r\n<gp:usage-rules/>\r\n");
    let _ = write!(
        x,
        "<gp:method>{}</gp:method>\r\n",
        method_token(location.method)
    );
    x.push_str("</gp:geopriv>\r\n");
    if let Some(t) = location.fixed_at {
        let _ = write!(x, "<dm:timestamp>{t}</dm:timestamp>\r\n");
    }
    x.push_str("</dm:device>\r\n</presence>\r\n");
    x
}

/// The seat INVITE body and headers: `sdp` first (the session is what the seat needs most),
/// then the PIDF-LO, named by `content_id` (`<local>@<host>`, no angle brackets).
pub fn pass_on(sdp: &[u8], location: &Location, entity: &str, content_id: &str) -> PassOn {
    let content_id = clean_content_id(content_id);
    // The boundary must not occur in either part (RFC 2046 §5.1.1); the PIDF is ours and
    // has no `siaga-` text, the SDP is checked and the boundary lengthened if needed.
    let mut boundary = String::from("siaga-loc-boundary");
    while contains(sdp, boundary.as_bytes()) {
        boundary.push('x');
    }
    let pidf = pidf_lo(location, entity, "siaga-location");
    let mut body = Vec::with_capacity(sdp.len() + pidf.len() + 256);
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/sdp\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(sdp);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Type: {PIDF_TYPE}\r\nContent-ID: <{content_id}>\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(pidf.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    PassOn {
        content_type: format!("multipart/mixed; boundary={boundary}"),
        body,
        geolocation: format!("<cid:{content_id}>"),
        routing: "no",
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// RFC 4119 method tokens (IANA registry).
fn method_token(m: Method) -> &'static str {
    match m {
        Method::Gnss => "GPS",
        Method::Wifi => "Wiremap",
        Method::Cell => "Cell",
        Method::Manual => "Manual",
        Method::Fused => "Hybrid",
        _ => "Unknown",
    }
}

/// XML text and attribute escaping.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// An XML ID: a letter then letters, digits, `-`, `_`, `.`.
fn xml_id(s: &str) -> String {
    let mut id: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        id.insert(0, 'd');
    }
    id
}

/// A Content-ID's characters: RFC 2392 addr-spec without `<>`, spaces or controls.
fn clean_content_id(s: &str) -> String {
    let id: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | '%'))
        .take(128)
        .collect();
    if id.is_empty() {
        "location@siaga".to_owned()
    } else {
        id
    }
}
