//! RFC 6442 / RFC 4119 / RFC 5491 fixtures (`fixtures/geoloc/`, see its SOURCE.md) read
//! end to end, and the pass-on printer read back by the parser.
use super::*;
use crate::location::fix::{Channel, Location, Method};
use crate::location::Places;
use crate::store::Timestamp;

const RFC6442: &[u8] = include_bytes!("../../../fixtures/geoloc/rfc6442-5.1.body");
const CIRCLE_BODY: &[u8] = include_bytes!("../../../fixtures/geoloc/circle-kejaksan.body");
const CIRCLE: &[u8] = include_bytes!("../../../fixtures/geoloc/circle-kejaksan.xml");
const ELLIPSOID: &[u8] = include_bytes!("../../../fixtures/geoloc/ellipsoid-pekalipan.xml");
const POLYGON: &[u8] = include_bytes!("../../../fixtures/geoloc/polygon-pekalipan.xml");
const CIVIC: &[u8] = include_bytes!("../../../fixtures/geoloc/civic-only.xml");

fn kecamatan(loc: &Location) -> String {
    let places = Places::cirebon().expect("built-in boundaries");
    places.resolve(loc.lat, loc.lon).names().0
}

#[test]
fn rfc6442_example_by_value_as_published() {
    let g = from_invite(
        &["<cid:target123@atlanta.example.com>"],
        Some("no"),
        Some("multipart/mixed; boundary=boundary1"),
        RFC6442,
    );
    assert_eq!(g.problem, None);
    assert_eq!(g.routing, Some(Routing::NotAllowed));
    let p = g.by_value.expect("the point of the example");
    assert_eq!(p.shape, Shape::Point);
    assert_eq!((p.location.lat, p.location.lon), (32.86726, -97.16054));
    assert_eq!(p.location.accuracy_m, None);
    assert_eq!(p.location.method, Method::Wifi, "802.11");
    assert_eq!(p.location.channel, Channel::PidfLo);
    assert_eq!(
        p.location.fixed_at,
        Timestamp::parse_rfc3339("2010-11-04T20:57:29Z")
    );
    assert_eq!(p.entity.as_deref(), Some("pres:alice@atlanta.example.com"));
    assert_eq!(kecamatan(&p.location), crate::location::OUTSIDE);
}

#[test]
fn circle_in_kejaksan_from_a_trunk_invite() {
    let g = from_invite(
        &["<cid:loc-1@trunk.example>"],
        None,
        Some("multipart/mixed; boundary=siaga1"),
        CIRCLE_BODY,
    );
    let p = g.by_value.expect("circle");
    assert_eq!(p.shape, Shape::Circle);
    assert_eq!((p.location.lat, p.location.lon), (-6.71251, 108.55822));
    assert_eq!(p.location.accuracy_m, Some(25.5));
    assert_eq!(p.location.confidence_pct, Some(68));
    assert_eq!(p.location.method, Method::Gnss, "A-GPS");
    assert_eq!(kecamatan(&p.location), "Kejaksan");
}

#[test]
fn ellipsoid_and_polygon_in_pekalipan() {
    let e = parse_pidf(ELLIPSOID).expect("ellipsoid");
    assert_eq!(e.shape, Shape::Ellipse);
    assert_eq!(
        e.location.accuracy_m,
        Some(120.5),
        "semi-major axis bounds it"
    );
    assert_eq!(e.location.confidence_pct, Some(95), "RFC 5491 default");
    assert_eq!(e.location.method, Method::Cell);
    assert_eq!(kecamatan(&e.location), "Pekalipan");

    let p = parse_pidf(POLYGON).expect("polygon");
    assert_eq!(p.shape, Shape::Polygon);
    assert!(
        (p.location.lat - -6.7225).abs() < 1e-9,
        "{}",
        p.location.lat
    );
    assert!(
        (p.location.lon - 108.5640).abs() < 1e-9,
        "{}",
        p.location.lon
    );
    // Half the diagonal of a 0.001° square at 6.7° S: about 78 m.
    let r = p.location.accuracy_m.expect("radius");
    assert!((70.0..90.0).contains(&r), "{r}");
    assert_eq!(kecamatan(&p.location), "Pekalipan");
}

#[test]
fn civic_only_and_by_reference_give_no_position() {
    assert_eq!(parse_pidf(CIVIC), Err(PidfError::NoShape));
    let g = from_invite(
        &["<https://lis.example/loc/abc>"],
        Some("yes"),
        Some("application/sdp"),
        b"v=0\r\n",
    );
    assert_eq!(g.by_value, None);
    assert_eq!(g.by_reference, ["https://lis.example/loc/abc"]);
    assert_eq!(g.routing, Some(Routing::Allowed));
    assert_eq!(g.problem, None);
}

#[test]
fn bad_inputs_are_problems_not_failures() {
    let missing = from_invite(
        &["<cid:other@x>"],
        None,
        Some("multipart/mixed; boundary=siaga1"),
        CIRCLE_BODY,
    );
    assert!(matches!(
        missing.problem,
        Some(GeolocError::MissingPart { .. })
    ));
    let not_multi = from_invite(&["<cid:a@b>"], None, Some("application/sdp"), b"v=0");
    assert!(matches!(not_multi.problem, Some(GeolocError::Multipart(_))));
    let bad_header = from_invite(&["cid:a@b"], None, None, b"");
    assert!(matches!(bad_header.problem, Some(GeolocError::Header(_))));
    let none = from_invite(&[], None, Some("application/sdp"), b"v=0");
    assert_eq!(none, InviteGeolocation::default());
}

#[test]
fn malformed_pidf() {
    assert!(matches!(
        parse_pidf(b"<presence"),
        Err(PidfError::Xml { .. })
    ));
    assert!(matches!(
        parse_pidf(&[0xff, 0xfe]),
        Err(PidfError::Xml { .. })
    ));
    assert_eq!(parse_pidf(b"<other xmlns=\"x\"/>"), Err(PidfError::NotPidf));
    let dtd = b"<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY a \"aaaa\">]><presence xmlns=\"urn:ietf:params:xml:ns:pidf\">&a;</presence>";
    assert!(
        matches!(parse_pidf(dtd), Err(PidfError::Xml { .. })),
        "DTDs are refused"
    );
    let wrong_crs = String::from_utf8_lossy(CIRCLE).replace("EPSG::4326", "EPSG::3857");
    assert!(matches!(
        parse_pidf(wrong_crs.as_bytes()),
        Err(PidfError::BadShape {
            shape: "Circle",
            ..
        })
    ));
    let feet = String::from_utf8_lossy(CIRCLE).replace("EPSG::9001", "EPSG::9002");
    assert!(matches!(
        parse_pidf(feet.as_bytes()),
        Err(PidfError::BadShape { .. })
    ));
    let off = String::from_utf8_lossy(CIRCLE).replace("-6.71251 108.55822", "-96.7 108.5");
    assert!(matches!(
        parse_pidf(off.as_bytes()),
        Err(PidfError::BadShape { .. })
    ));
    let big = vec![b' '; pidf::MAX_PIDF_BYTES + 1];
    assert!(matches!(parse_pidf(&big), Err(PidfError::TooLarge { .. })));
}

#[test]
fn pass_on_reads_back_with_the_same_position() {
    let mut loc =
        Location::new(-6.72239, 108.56389, Method::Gnss, Channel::AmlHttps).expect("valid point");
    loc.accuracy_m = Some(12.0);
    loc.fixed_at = Timestamp::parse_rfc3339("2026-12-04T10:15:00Z");
    let sdp = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
    let out = pass_on(
        sdp,
        &loc,
        "pres:+6281234567890@siaga",
        "loc-7@siaga.invalid",
    );
    assert_eq!(out.geolocation, "<cid:loc-7@siaga.invalid>");
    assert_eq!(out.routing, "no");
    let parts = multipart::split(
        &out.body,
        &multipart::boundary(&out.content_type).expect("boundary"),
    )
    .expect("our body splits");
    assert_eq!(parts[0].content_type.as_deref(), Some("application/sdp"));
    assert_eq!(parts[0].body, sdp, "SDP passed byte for byte");
    let g = from_invite(
        &[&out.geolocation],
        Some(out.routing),
        Some(&out.content_type),
        &out.body,
    );
    let p = g.by_value.expect("reads back");
    assert_eq!(p.shape, Shape::Circle);
    assert_eq!((p.location.lat, p.location.lon), (-6.72239, 108.56389));
    assert_eq!(p.location.accuracy_m, Some(12.0));
    assert_eq!(p.location.method, Method::Gnss);
    assert_eq!(p.location.fixed_at, loc.fixed_at);
    assert_eq!(p.entity.as_deref(), Some("pres:+6281234567890@siaga"));
}

#[test]
fn pass_on_point_escapes_and_avoids_boundary_in_sdp() {
    let loc = Location::new(-6.7, 108.55, Method::Unknown, Channel::Panic).expect("point");
    let sdp = b"v=0\r\ns=siaga-loc-boundary\r\n";
    let out = pass_on(sdp, &loc, "pres:\"<&>\"@x", "a b<c>@d");
    assert!(out.content_type.ends_with("siaga-loc-boundaryx"));
    assert_eq!(out.geolocation, "<cid:abc@d>");
    let g = from_invite(
        &[&out.geolocation],
        None,
        Some(&out.content_type),
        &out.body,
    );
    let p = g.by_value.expect("reads back");
    assert_eq!(p.shape, Shape::Point);
    assert_eq!(p.entity.as_deref(), Some("pres:\"<&>\"@x"));
}

#[test]
fn pass_on_clamps_radii_and_null_island_margin() {
    let mut loc = Location::new(10.0, 20.0, Method::Cell, Channel::AmlSms).expect("point");
    loc.accuracy_m = Some(1e300);
    let out = pass_on(b"v=0\r\n", &loc, "pres:x@y", "l@x");
    let back = from_invite(
        &[&out.geolocation],
        None,
        Some(&out.content_type),
        &out.body,
    );
    assert_eq!(
        back.by_value.and_then(|p| p.location.accuracy_m),
        Some(20_000_000.0)
    );
    assert!(Location::new(0.00009, -0.00009, Method::Gnss, Channel::AmlSms).is_none());
    assert!(Location::new(0.0001, 0.0, Method::Gnss, Channel::AmlSms).is_some());
}

#[test]
fn from_the_headers_of_a_parsed_invite() {
    use crate::sip::message::{Header, Headers};
    let h = |name: &str, value: &str| Header {
        name: name.into(),
        value: value.into(),
    };
    let headers = Headers(vec![
        h("Geolocation", "<https://lis.example/x>"),
        h("geolocation", "<cid:loc-1@trunk.example>"),
        h("Geolocation-Routing", "no"),
        h("Content-Type", "multipart/mixed; boundary=siaga1"),
    ]);
    let g = from_headers(&headers, CIRCLE_BODY);
    assert_eq!(g.by_reference, ["https://lis.example/x"]);
    assert_eq!(
        g.by_value.map(|p| kecamatan(&p.location)),
        Some("Kejaksan".into())
    );
    assert_eq!(g.routing, Some(Routing::NotAllowed));
}
