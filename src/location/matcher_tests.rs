//! The matcher on simulated time: before, during and after a call; by number and by IMEI;
//! the call taker's location is never overwritten.
use super::fix::{Channel, Location, Method};
use super::matcher::*;
use super::places::{Place, Places};
use crate::store::Timestamp;

const WINDOW: MatchWindow = MatchWindow {
    before_ms: 300_000,
    after_ms: 120_000,
};

fn t(s: i64) -> Timestamp {
    Timestamp::from_ms(1_764_800_000_000 + s * 1000)
}

fn matcher() -> Matcher {
    Matcher::new(WINDOW, Places::cirebon().expect("boundaries"))
}

/// Kejaksan kelurahan centroid, from `number`, `accuracy` metres, fixed at `fixed`.
fn kejaksan(number: Option<&str>, accuracy: f64, fixed: i64) -> Location {
    let mut l = Location::new(-6.71251, 108.55822, Method::Gnss, Channel::AmlHttps).expect("point");
    l.caller = number.map(str::to_owned);
    l.accuracy_m = Some(accuracy);
    l.fixed_at = Some(t(fixed));
    l
}

fn attached(o: Outcome) -> Attach {
    match o {
        Outcome::Attached(a) => a,
        other => panic!("not attached: {other:?}"),
    }
}

#[test]
fn during_a_call_by_national_and_international_forms() {
    let mut m = matcher();
    assert!(m
        .call_started(t(0), "call-1", Some("sip:+6281234567890@trunk"), None)
        .is_empty());
    let a = attached(m.location(t(5), kejaksan(Some("081234567890"), 10.0, 4)));
    assert_eq!(a.call, "call-1");
    assert!(a.primary && !a.after_end);
    assert_eq!(
        a.resolved.place,
        Place::Inside {
            kecamatan: "Kejaksan".into(),
            kelurahan: Some("Kejaksan".into())
        }
    );
    assert_eq!(a.resolved.age_s(t(10)), 6);
    assert_eq!(m.primary("call-1"), Some(&a.resolved));
}

#[test]
fn before_the_call_is_kept_and_attached_at_start() {
    let mut m = matcher();
    assert_eq!(
        m.location(t(0), kejaksan(Some("+6281234567890"), 10.0, 0)),
        Outcome::Pending
    );
    assert_eq!(m.pending_len(), 1);
    assert_eq!(m.poll_timeout(), Some(t(300)));
    let got = m.call_started(t(20), "c", Some("6281234567890"), None);
    assert_eq!(got.len(), 1);
    assert!(got[0].primary);
    assert_eq!(m.pending_len(), 0);
}

#[test]
fn before_the_window_is_forgotten() {
    let mut m = matcher();
    assert_eq!(
        m.location(t(0), kejaksan(Some("+6281234567890"), 10.0, 0)),
        Outcome::Pending
    );
    m.handle_timeout(t(301));
    assert_eq!(m.pending_len(), 0);
    assert!(m
        .call_started(t(302), "c", Some("081234567890"), None)
        .is_empty());
}

#[test]
fn after_the_call_within_and_past_the_window() {
    let mut m = matcher();
    m.call_started(t(0), "c", Some("081234567890"), None);
    m.call_ended(t(30), "c");
    let a = attached(m.location(t(100), kejaksan(Some("081234567890"), 10.0, 95)));
    assert!(a.after_end && a.primary);
    assert_eq!(m.poll_timeout(), Some(t(150)));
    m.handle_timeout(t(151));
    assert_eq!(
        m.location(t(152), kejaksan(Some("081234567890"), 10.0, 150)),
        Outcome::Pending
    );
}

#[test]
fn by_imei_and_unmatchable() {
    let mut m = matcher();
    m.call_started(t(0), "c", Some("anonymous"), Some("356938035643809"));
    let mut l = kejaksan(None, 10.0, 1);
    l.imei = Some("356938035643809".into());
    assert_eq!(attached(m.location(t(2), l)).call, "c");
    assert_eq!(
        m.location(t(3), kejaksan(None, 10.0, 1)),
        Outcome::Unmatchable
    );
    let mut junk = kejaksan(Some("112"), 10.0, 1);
    junk.imei = Some("12".into());
    assert_eq!(m.location(t(3), junk), Outcome::Unmatchable);
}

#[test]
fn live_call_wins_over_an_ended_one_of_the_same_number() {
    let mut m = matcher();
    m.call_started(t(0), "first", Some("081234567890"), None);
    m.call_ended(t(10), "first");
    m.call_started(t(20), "second", Some("081234567890"), None);
    assert_eq!(
        attached(m.location(t(25), kejaksan(Some("+6281234567890"), 9.0, 24))).call,
        "second"
    );
}

#[test]
fn primary_rule_precision_freshness_and_call_taker() {
    let mut m = matcher();
    m.call_started(t(0), "c", Some("081234567890"), None);
    assert!(attached(m.location(t(1), kejaksan(Some("081234567890"), 50.0, 1))).primary);
    assert!(
        attached(m.location(t(2), kejaksan(Some("081234567890"), 10.0, 2))).primary,
        "more precise"
    );
    assert!(
        !attached(m.location(t(3), kejaksan(Some("081234567890"), 40.0, 3))).primary,
        "less precise, not fresher"
    );
    assert!(
        attached(m.location(t(90), kejaksan(Some("081234567890"), 40.0, 90))).primary,
        "over a minute newer"
    );
    assert!(
        !attached(m.location(t(91), kejaksan(Some("081234567890"), 40.0, 30))).primary,
        "an older fix"
    );

    let hand =
        Location::new(-6.72239, 108.56389, Method::Manual, Channel::CallTaker).expect("point");
    let a = m
        .entered_by_call_taker(t(100), "c", hand)
        .expect("known call");
    assert!(a.primary);
    assert_eq!(a.resolved.place.names().0, "Pekalipan");
    let later = attached(m.location(t(500), kejaksan(Some("081234567890"), 1.0, 500)));
    assert!(!later.primary, "never overwrites the call taker's");
    assert_eq!(
        m.primary("c").map(|r| r.place.names().0),
        Some("Pekalipan".into())
    );
    assert!(m
        .entered_by_call_taker(t(1), "unknown", kejaksan(None, 1.0, 1))
        .is_none());
}

#[test]
fn pending_is_bounded() {
    let mut m = matcher();
    for i in 0..(MAX_PENDING + 10) {
        let n = format!("08123456{:04}", i);
        assert_eq!(
            m.location(t(0), kejaksan(Some(&n), 10.0, 0)),
            Outcome::Pending
        );
    }
    assert_eq!(m.pending_len(), MAX_PENDING);
}

#[test]
fn els_post_during_a_call_gives_kejaksan_for_record_and_seat_invite() {
    // The chain the gateway wires: form body -> Location -> matcher -> record + header.
    let mut m = matcher();
    m.call_started(
        t(0),
        "call-7",
        Some("<sip:081234567890@10.0.0.1;user=phone>"),
        None,
    );
    let body = b"v=3&emergency_number=112&source=call&location_latitude=-6.71251&location_longitude=108.55822&location_time=1764800003000&location_accuracy=9.5&location_source=gps&device_number=%2B6281234567890";
    let loc = super::intake::els_location(body).expect("a fix");
    let a = attached(m.location(t(4), loc));
    assert_eq!(a.call, "call-7");
    assert!(a.primary);
    match a.resolved.record_update() {
        crate::store::CallUpdate::Located {
            kecamatan,
            kelurahan,
            location,
        } => {
            assert_eq!(kecamatan.as_deref(), Some("Kejaksan"));
            assert_eq!(kelurahan.as_deref(), Some("Kejaksan"));
            assert_eq!(location.source, "aml_https/gnss");
        }
        other => panic!("not a location update: {other:?}"),
    }
    let header = m.primary("call-7").expect("primary").header_value(t(6));
    assert_eq!(
        header,
        "-6.71251,108.55822;r=10;kecamatan=Kejaksan;kelurahan=Kejaksan;src=aml_https/gnss;age=3"
    );
}
