//! AML SMS vectors: the two published examples of Google's ELS SMS specification (ETSI
//! TS 103 625 v1 format), the ELS beta (v2) keys with the specification's example values,
//! and edge cases.
use super::sms::*;
use crate::location::fix::{Channel, Method};
use crate::store::Timestamp;

/// "Computed location" (ELS SMS specification, Examples). 127 characters; says `ml=126`.
const SPEC_COMPUTED: &str = "A\"ML=1;lt=+51.53321;lg=-0.12601;rd=14;top=20220131171748;lc=68;pm=W;si=234159000000000;ei=123456789012345;mcc=234;mnc=15;ml=126";
/// "No location" (same page). 127 characters, `ml=127`.
const SPEC_NO_LOCATION: &str = "A\"ML=1;lt=+00.00000;lg=+000.00000;rd=N;top=20220131173734;lc=0;pm=N;si=234159000000000;ei=123456789012345;mcc=234;mnc=15;ml=127";
/// ELS beta, built from the example column of the specification's v2 table.
const V2_TABLE: &str = "A\"ML=2;en=911;et=1593187189;lo=37.42175,-122.08461,20.1;lt=5;lc=68;lz=-10.1,10.1;ls=W;ei=355458061005220;nc=310260;hc=310260;lg=en-US";
/// A GNSS fix in Kejaksan, Kota Cirebon, from an Indonesian network (MCC 510), ml right.
const CIREBON: &str = "A\"ML=1;lt=-6.71251;lg=+108.55822;rd=8;top=20261204101500;lc=68;pm=G;si=510100000000000;ei=356938035643809;mcc=510;mnc=10;ml=127";

#[test]
fn published_computed_location() {
    let sms = AmlSms::parse(SPEC_COMPUTED).expect("published example parses");
    assert_eq!(sms.version, 1);
    assert_eq!(sms.lat, Some(51.53321));
    assert_eq!(sms.lon, Some(-0.12601));
    assert_eq!(sms.radius_m, Some(14.0));
    assert_eq!(sms.fixed_at, Some(Timestamp::from_ms(1_643_649_468_000)));
    assert_eq!(sms.confidence_pct, Some(68));
    assert_eq!(sms.method, Method::Wifi);
    assert_eq!(sms.imsi.as_deref(), Some("234159000000000"));
    assert_eq!(sms.imei.as_deref(), Some("123456789012345"));
    assert_eq!(sms.mcc.as_deref(), Some("234"));
    assert_eq!(sms.mnc.as_deref(), Some("15"));
    assert_eq!((sms.declared_length, sms.length), (Some(126), 127));
    let loc = sms.location(Some("+447700900123")).expect("a fix");
    assert_eq!(
        (loc.lat, loc.lon, loc.accuracy_m),
        (51.53321, -0.12601, Some(14.0))
    );
    assert_eq!(loc.channel, Channel::AmlSms);
    assert_eq!(loc.caller.as_deref(), Some("+447700900123"));
    assert_eq!(loc.imei.as_deref(), Some("123456789012345"));
    assert_eq!(loc.source_label(), "aml_sms/wifi");
}

#[test]
fn published_no_location() {
    let sms = AmlSms::parse(SPEC_NO_LOCATION).expect("published example parses");
    assert!(sms.no_fix);
    assert_eq!((sms.lat, sms.lon, sms.radius_m), (None, None, None));
    assert_eq!(sms.fixed_at, Some(Timestamp::from_ms(1_643_650_654_000)));
    assert_eq!(sms.confidence_pct, Some(0));
    assert_eq!(sms.method, Method::Unknown);
    assert_eq!((sms.declared_length, sms.length), (Some(127), 127));
    assert_eq!(sms.imei.as_deref(), Some("123456789012345"));
    assert_eq!(sms.location(None), None);
}

#[test]
fn cirebon_gnss_fix_with_exact_length() {
    assert_eq!(CIREBON.chars().count(), 127);
    let loc = AmlSms::parse(CIREBON)
        .expect("parses")
        .location(None)
        .expect("fix");
    assert_eq!((loc.lat, loc.lon), (-6.71251, 108.55822));
    assert_eq!(loc.method, Method::Gnss);
    assert_eq!(loc.accuracy_m, Some(8.0));
}

#[test]
fn version_2_keys() {
    let sms = AmlSms::parse(V2_TABLE).expect("v2 parses");
    assert_eq!(sms.version, 2);
    assert_eq!(sms.emergency_number.as_deref(), Some("911"));
    assert_eq!(sms.call_at, Some(Timestamp::from_ms(1_593_187_189_000)));
    assert_eq!(
        (sms.lat, sms.lon, sms.radius_m),
        (Some(37.42175), Some(-122.08461), Some(20.1))
    );
    assert_eq!(
        sms.fixed_at,
        Some(Timestamp::from_ms(1_593_187_194_000)),
        "et + lt"
    );
    assert_eq!(sms.altitude_m, Some(-10.1));
    assert_eq!(sms.method, Method::Wifi);
    assert_eq!(
        (sms.mcc.as_deref(), sms.mnc.as_deref()),
        (Some("310"), Some("260"))
    );
    assert_eq!(sms.declared_length, None, "ml is optional in v2");
    assert!(sms.location(None).is_some());
}

#[test]
fn version_2_unknown_radius_and_sentinel_time() {
    let sms = AmlSms::parse("A\"ML=2;et=1593187189;lo=-6.72239,108.56389,0;lt=-9999;ls=F;ml=64")
        .expect("parses");
    assert_eq!(sms.radius_m, None, "radius 0 means unknown");
    assert_eq!(sms.fixed_at, None, "lt=-9999 is no time");
    assert_eq!(sms.method, Method::Fused);
    assert!(matches!(
        AmlSms::parse("A\"ML=2;lo=-6.7,108.5;ml=99"),
        Err(AmlSmsError::LengthMismatch {
            declared: 99,
            actual: 26
        })
    ));
}

#[test]
fn rd_n_keeps_the_position_without_radius() {
    let text = "A\"ML=1;lt=-6.72239;lg=+108.56389;rd=N;top=20261204101500;lc=68;pm=C;ml=73";
    let sms = AmlSms::parse(text).expect("parses");
    assert_eq!(sms.length, 73);
    let loc = sms
        .location(None)
        .expect("a position without radius is still one");
    assert_eq!(loc.accuracy_m, None);
    assert_eq!(loc.method, Method::Cell);
}

#[test]
fn wrong_ml_is_refused() {
    // 127 characters, claims 140: a segment was lost.
    let text = SPEC_NO_LOCATION.replace("ml=127", "ml=140");
    assert_eq!(
        AmlSms::parse(&text),
        Err(AmlSmsError::LengthMismatch {
            declared: 140,
            actual: 127
        })
    );
    let text = SPEC_COMPUTED.replace("ml=126", "ml=12x");
    assert!(matches!(
        AmlSms::parse(&text),
        Err(AmlSmsError::BadValue { key: "ml", .. })
    ));
    // Cut before ml (the field that says how long it is): truncated.
    let cut = &CIREBON[..CIREBON.find(";ml=").expect("has ml")];
    assert_eq!(AmlSms::parse(cut), Err(AmlSmsError::MissingLength));
}

#[test]
fn gateway_forms_of_the_header_and_trailing_newline() {
    let no_quote = CIREBON.replacen("A\"ML", "AML", 1);
    assert!(
        AmlSms::parse(&no_quote).is_ok(),
        "quote dropped: still 127 as sent"
    );
    let curly = CIREBON.replacen('"', "\u{201d}", 1);
    assert!(AmlSms::parse(&curly).is_ok());
    assert!(AmlSms::parse(&format!("{CIREBON}\r\n")).is_ok());
}

#[test]
fn not_aml_and_bad_versions() {
    assert_eq!(AmlSms::parse(""), Err(AmlSmsError::NotAml));
    assert_eq!(AmlSms::parse("hello"), Err(AmlSmsError::NotAml));
    assert_eq!(AmlSms::parse("XML=1;lt=1"), Err(AmlSmsError::NotAml));
    assert!(matches!(
        AmlSms::parse("A\"ML=3;lt=1;ml=14"),
        Err(AmlSmsError::UnsupportedVersion { .. })
    ));
    assert!(matches!(
        AmlSms::parse(&"A\"ML=1;".repeat(500)),
        Err(AmlSmsError::TooLong { .. })
    ));
}

#[test]
fn malformed_position_is_an_error_other_fields_are_dropped() {
    let bad_lat = CIREBON.replace("lt=-6.71251", "lt=-6.7x251");
    assert!(matches!(
        AmlSms::parse(&bad_lat),
        Err(AmlSmsError::BadValue { key: "lt", .. })
    ));
    let nan = CIREBON.replace("lt=-6.71251", "lt=NaN0000");
    assert!(matches!(
        AmlSms::parse(&nan),
        Err(AmlSmsError::BadValue { key: "lt", .. })
    ));
    let bad_time = CIREBON.replace("top=20261204101500", "top=20261304101500");
    let sms = AmlSms::parse(&bad_time).expect("month 13 only loses the time");
    assert_eq!(sms.fixed_at, None);
    assert!(sms.location(None).is_some());
    let dup = "A\"ML=1;lt=-6.7;lt=-6.8;lg=108.5;ml=35";
    assert!(matches!(
        AmlSms::parse(dup),
        Err(AmlSmsError::Duplicate { .. })
    ));
}

#[test]
fn off_the_globe_is_no_location() {
    let text = "A\"ML=1;lt=+91.00000;lg=+108.55822;rd=8;pm=G;ml=49";
    let sms = AmlSms::parse(text).expect("parses");
    assert_eq!(sms.location(None), None);
}
