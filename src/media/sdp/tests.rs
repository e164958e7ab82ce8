use std::net::SocketAddr;

use super::*;

const PORT: u16 = 40_000;

fn local_v4() -> SocketAddr {
    SocketAddr::from(([203, 0, 113, 5], PORT))
}

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../fixtures/sdp/", $name))
    };
}

fn check(offer: &[u8], expected: &[u8], local: SocketAddr) -> Negotiated {
    let sd = SessionDescription::parse(offer).expect("offer parses");
    let mut origin = SdpOrigin::new(1000);
    let (body, negotiated) = answer(&sd, local, &mut origin).expect("answer");
    let expected = std::str::from_utf8(expected).expect("utf8");
    let expected = expected.replace("PORT", &PORT.to_string());
    assert_eq!(std::str::from_utf8(&body).expect("utf8"), expected);
    // Our own answer must parse back with the same stream.
    let back = SessionDescription::parse(&body).expect("answer parses");
    assert_eq!(back.audio().map(|(_, m)| m.port), Some(PORT));
    negotiated
}

#[test]
fn pcmu_pcma_dtmf_picks_pcmu_and_keeps_event_number() {
    let n = check(
        fixture!("pcmu_pcma_dtmf.offer.sdp"),
        fixture!("pcmu_pcma_dtmf.expected.sdp"),
        local_v4(),
    );
    assert_eq!((n.codec, n.payload_type), (Codec::Pcmu, 0));
    assert_eq!(n.dtmf_payload_type, Some(101));
    assert_eq!(n.remote_rtp, Some("192.0.2.10:49170".parse().unwrap()));
    assert_eq!(n.direction, Direction::SendRecv);
}

#[test]
fn pcma_only_with_bare_lf_and_media_level_connection() {
    let n = check(
        fixture!("pcma_only.offer.sdp"),
        fixture!("pcma_only.expected.sdp"),
        local_v4(),
    );
    assert_eq!((n.codec, n.dtmf_payload_type), (Codec::Pcma, None));
    assert_eq!(n.remote_rtp, Some("198.51.100.20:5004".parse().unwrap()));
}

#[test]
fn video_is_rejected_with_port_zero_and_order_kept() {
    let n = check(
        fixture!("video_audio.offer.sdp"),
        fixture!("video_audio.expected.sdp"),
        local_v4(),
    );
    assert_eq!((n.codec, n.payload_type), (Codec::Pcma, 8));
    assert_eq!(n.dtmf_payload_type, Some(96));
}

#[test]
fn hold_sendonly_is_answered_recvonly() {
    let n = check(
        fixture!("hold_sendonly.offer.sdp"),
        fixture!("hold_sendonly.expected.sdp"),
        local_v4(),
    );
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(n.remote_rtp.is_some());
}

#[test]
fn hold_with_zero_address_has_no_remote() {
    let n = check(
        fixture!("hold_zero.offer.sdp"),
        fixture!("hold_zero.expected.sdp"),
        local_v4(),
    );
    assert_eq!(n.direction, Direction::RecvOnly);
    assert_eq!(n.remote_rtp, None);
}

#[test]
fn no_g711_is_not_acceptable() {
    let sd = SessionDescription::parse(fixture!("no_g711.offer.sdp")).unwrap();
    let err = answer(&sd, local_v4(), &mut SdpOrigin::new(1)).unwrap_err();
    assert_eq!(err, SdpError::NoCommonCodec);
}

#[test]
fn ipv6_offer_and_local() {
    let local: SocketAddr = format!("[2001:db8::5]:{PORT}").parse().unwrap();
    let n = check(
        fixture!("ipv6.offer.sdp"),
        fixture!("ipv6.expected.sdp"),
        local,
    );
    assert_eq!(n.codec, Codec::Pcma);
    assert_eq!(n.remote_rtp, Some("[2001:db8::10]:40000".parse().unwrap()));
}

#[test]
fn origin_version_goes_up_on_each_new_sdp() {
    let sd = SessionDescription::parse(fixture!("pcmu_pcma_dtmf.offer.sdp")).unwrap();
    let mut origin = SdpOrigin::new(1000);
    let _ = answer(&sd, local_v4(), &mut origin).unwrap();
    let second = offer(local_v4(), &[Codec::Pcmu], None, &mut origin);
    let parsed = SessionDescription::parse(&second).unwrap();
    assert_eq!(parsed.origin.session_id, "1000");
    assert_eq!(parsed.origin.session_version, "1001");
    assert_eq!(origin.version(), 1001);
}

#[test]
fn our_offer_and_a_seat_answer() {
    let mut origin = SdpOrigin::new(5);
    let body = offer(
        local_v4(),
        &[Codec::Pcma, Codec::Pcmu],
        Some(101),
        &mut origin,
    );
    let ours = SessionDescription::parse(&body).unwrap();
    let (_, audio) = ours.audio().unwrap();
    assert_eq!(audio.formats, ["8", "0", "101"]);
    let seat = b"v=0\r\no=seat 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\n\
t=0 0\r\nm=audio 7078 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
    let sd = SessionDescription::parse(seat).unwrap();
    let n = parse_answer(&sd, &[Codec::Pcma, Codec::Pcmu], Some(101)).unwrap();
    assert_eq!((n.codec, n.dtmf_payload_type), (Codec::Pcmu, Some(101)));
    assert_eq!(n.remote_rtp, Some("198.51.100.7:7078".parse().unwrap()));
    let n = parse_answer(&sd, &[Codec::Pcma], Some(101));
    assert_eq!(n.unwrap_err(), SdpError::NoCommonCodec);
}

#[test]
fn malformed_lines_are_named() {
    let cases: [(&[u8], usize); 6] = [
        (b"v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 nope\r\n", 3),
        (
            b"v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\nm=audio 99999 RTP/AVP 0\r\n",
            3,
        ),
        (b"v=0\r\no=x one 1 IN IP4 192.0.2.1\r\n", 2),
        (b"v=0\r\nno equals sign\r\n", 2),
        (b"v=1\r\n", 1),
        (
            b"v=0\no=x 1 1 IN IP4 192.0.2.1\nm=audio 1 RTP/AVP 0\na=rtpmap:0\n",
            4,
        ),
    ];
    for (body, line) in cases {
        match SessionDescription::parse(body) {
            Err(SdpError::Malformed { line: l, .. }) => assert_eq!(l, line),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
        }
    }
    assert_eq!(SessionDescription::parse(b""), Err(SdpError::Missing('v')));
    assert_eq!(
        SessionDescription::parse(b"v=0\r\n"),
        Err(SdpError::Missing('o'))
    );
    assert_eq!(
        SessionDescription::parse(&[0xff, 0xfe]),
        Err(SdpError::NotUtf8)
    );
}

#[test]
fn family_must_match_the_address() {
    let body = b"v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 2001:db8::1\r\n";
    assert!(matches!(
        SessionDescription::parse(body),
        Err(SdpError::Malformed { line: 3, .. })
    ));
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic fuzz: every prefix and single-byte corruption of a fixture.
    let base = fixture!("video_audio.offer.sdp");
    for cut in 0..base.len() {
        let _ = SessionDescription::parse(&base[..cut]);
        let mut bytes = base.to_vec();
        bytes[cut] ^= 0x5a;
        if let Ok(sd) = SessionDescription::parse(&bytes) {
            let _ = answer(&sd, local_v4(), &mut SdpOrigin::new(1));
        }
    }
}
