//! ELS HTTPS form vectors: the example column of Google's ELS HTTPS field table, a Cirebon
//! report, and malformed input that must never fail.
use super::els::*;
use crate::location::fix::{Channel, Method};
use crate::store::Timestamp;

/// The specification's example values, URL-encoded as a handset posts them.
const SPEC_EXAMPLE: &[u8] = b"v=1&emergency_number=911&source=CALL&thunderbird_version=2800&time=1438101600123&location_latitude=37.4217845&location_longitude=-122.0847413&location_time=1438102600123&location_altitude=4&location_floor=2&location_source=gps&location_accuracy=20&location_vertical_accuracy=2.5&location_confidence=0.6827&location_bearing=156.7&location_speed=1.2&device_number=%2B1438101600&device_model=Motorola+Nexus+6&device_imsi=310260579377451&device_imei=355458061005220&device_iccid=89148000001466362977";

#[test]
fn specification_example() {
    let r = ElsReport::parse(SPEC_EXAMPLE);
    assert_eq!(r.version.as_deref(), Some("1"));
    assert_eq!(r.emergency_number.as_deref(), Some("911"));
    assert_eq!(r.source.as_deref(), Some("call"));
    assert_eq!(r.call_at, Some(Timestamp::from_ms(1_438_101_600_123)));
    assert_eq!(r.fixed_at, Some(Timestamp::from_ms(1_438_102_600_123)));
    assert_eq!((r.lat, r.lon), (Some(37.4217845), Some(-122.0847413)));
    assert_eq!(r.accuracy_m, Some(20.0));
    assert_eq!(r.altitude_m, Some(4.0));
    assert_eq!(r.method, Method::Gnss);
    assert_eq!(r.confidence_pct, Some(68));
    assert_eq!(r.device_number.as_deref(), Some("+1438101600"));
    assert_eq!(r.device_model.as_deref(), Some("Motorola Nexus 6"));
    assert_eq!(r.imei.as_deref(), Some("355458061005220"));
    assert_eq!(r.imsi.as_deref(), Some("310260579377451"));
    assert!(r
        .other
        .iter()
        .any(|(k, v)| k == "location_floor" && v == "2"));
    let loc = r.location().expect("a fix");
    assert_eq!(loc.channel, Channel::AmlHttps);
    assert_eq!(loc.caller.as_deref(), Some("+1438101600"));
    assert_eq!(loc.source_label(), "aml_https/gnss");
}

#[test]
fn cirebon_report_with_national_number() {
    let body = b"v=3&emergency_number=112&source=call&time=1764800000000&location_latitude=-6.71251&location_longitude=108.55822&location_time=1764800001000&location_accuracy=12.5&location_source=wifi&location_confidence=68&device_number=081234567890&device_imei=356938035643809";
    let loc = ElsReport::parse(body).location().expect("fix");
    assert_eq!(
        (loc.lat, loc.lon, loc.accuracy_m),
        (-6.71251, 108.55822, Some(12.5))
    );
    assert_eq!(loc.method, Method::Wifi);
    assert_eq!(loc.confidence_pct, Some(68), "a percentage is taken as one");
    assert_eq!(loc.caller.as_deref(), Some("081234567890"));
}

#[test]
fn every_field_is_optional_and_malformed_ones_are_dropped() {
    assert_eq!(ElsReport::parse(b""), ElsReport::default());
    let junk = ElsReport::parse(b"&&&==&");
    assert_eq!((junk.version.as_deref(), junk.location()), (None, None));
    assert_eq!(
        junk.other,
        [(String::new(), "=".to_owned())],
        "kept for the log"
    );
    let r = ElsReport::parse(b"location_latitude=abc&location_longitude=108.5&time=-5&location_accuracy=-3&device_imei=12ab&location_confidence=7");
    assert_eq!(r.lat, None);
    assert_eq!(r.lon, Some(108.5));
    assert_eq!(r.call_at, None);
    assert_eq!(r.accuracy_m, None);
    assert_eq!(r.imei, None);
    assert_eq!(r.confidence_pct, Some(7));
    assert_eq!(r.location(), None, "one coordinate is no position");
    let r = ElsReport::parse(b"location_latitude=%FF%FE&location_longitude=inf&v=%00");
    assert_eq!((r.lat, r.lon, r.version), (None, None, None));
    let r = ElsReport::parse(b"location_latitude=0&location_longitude=0");
    assert_eq!(r.location(), None, "null island is the no-fix value");
}

#[test]
fn unknown_fields_are_bounded() {
    let mut body = Vec::new();
    for i in 0..1000 {
        body.extend_from_slice(format!("x{i}={}&", "y".repeat(100)).as_bytes());
    }
    let r = ElsReport::parse(&body);
    assert_eq!(r.other.len(), 32);
    assert!(r.other.iter().all(|(_, v)| v.len() == 64));
}
