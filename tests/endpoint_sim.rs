//! The SIP endpoint driven with bytes and simulated time: no sockets, no sleeping.
//! A caller, a seat and a stranger exchange real messages with the gateway's endpoint.

use md5::{Digest, Md5};
use siaga::gateway::b2bua::CallSettings;
use siaga::gateway::endpoint::{Endpoint, EndpointSettings, StaticSeat};
use siaga::routing::AcdSettings;
use siaga::sip::message::Message;
use siaga::sip::parse::{parse, Framing};
use siaga::sip::registrar::{Registrar, RegistrarSettings, SeatCredential, SeatState};
use siaga::sip::transaction::{Peer, Timers, TransactionLayer, Transport};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const GATEWAY: &str = "127.0.0.1:5060";

fn endpoint() -> Endpoint {
    let settings = EndpointSettings {
        local: vec![GATEWAY.parse().unwrap()],
        user_agent: "siaga".into(),
        trusted: Box::new(|ip| ip.is_loopback()),
        rate_limit_per_s: 5,
        rate_limit_burst: 10,
        calls: call_settings(),
        acd: acd_settings(),
        seats: vec![StaticSeat {
            name: "seat1".into(),
            target: None,
        }],
    };
    let registrar = Registrar::new(RegistrarSettings {
        seats: vec![SeatCredential {
            name: "seat1".into(),
            password: "siaga-seat1".into(),
            allow_from: Vec::new(),
        }],
        qualify_interval: Duration::from_secs(30),
        qualify_misses: 2,
        ..RegistrarSettings::default()
    });
    Endpoint::new(
        Instant::now(),
        settings,
        TransactionLayer::new(Timers::default()),
        registrar,
    )
}

pub fn call_settings() -> CallSettings {
    CallSettings {
        emergency_numbers: vec!["112".into()],
        local: GATEWAY.parse().unwrap(),
        user_agent: "siaga".into(),
        domain: "siaga.local".into(),
        overflow: None,
        screening: None,
        location: siaga::config::LocationConfig::default().window(),
    }
}

pub fn acd_settings() -> AcdSettings {
    AcdSettings {
        ring_timeout: Duration::from_secs(15),
        wrap_up: Duration::from_secs(10),
        max_wait: Duration::from_secs(120),
        ageing: Duration::from_secs(30),
        no_answer_pause: 2,
        overflow_enabled: false,
    }
}

fn udp(addr: &str) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: addr.parse().unwrap(),
    }
}

/// Every response sent back, as (destination, status, message).
fn drain(ep: &mut Endpoint) -> Vec<(SocketAddr, Message)> {
    let mut out = Vec::new();
    while let Some((to, bytes)) = ep.poll_transmit() {
        out.push((
            to.addr,
            parse(&bytes, Framing::Datagram).expect("gateway sent unparseable bytes"),
        ));
    }
    out
}

fn status(m: &Message) -> u16 {
    match m {
        Message::Response(r) => r.status,
        Message::Request(_) => 0,
    }
}

fn options(from: &str, branch: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:{GATEWAY} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5999;branch=z9hG4bK{branch};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@{from}>;tag=a1\r\nTo: <sip:{GATEWAY}>\r\n\
         Call-ID: {branch}@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

#[test]
fn options_answered_to_the_source_with_rport_and_received() {
    let mut ep = endpoint();
    ep.handle_bytes(
        Instant::now(),
        udp("127.0.0.1:40000"),
        &options("127.0.0.1", "o1"),
    );
    let out = drain(&mut ep);
    assert_eq!(out.len(), 1);
    let (to, msg) = &out[0];
    assert_eq!(
        to.to_string(),
        "127.0.0.1:40000",
        "never the Via host 192.0.2.9"
    );
    assert_eq!(status(msg), 200);
    let via = msg.headers().get("Via").unwrap();
    assert!(
        via.contains("rport=40000") && via.contains("received=127.0.0.1"),
        "{via}"
    );
    assert!(msg.headers().get_all("Allow").any(|m| m == "REGISTER"));
}

fn register(cseq: u32, authorization: Option<String>) -> Vec<u8> {
    let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    format!(
        "REGISTER sip:siaga.local SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:41000;branch=z9hG4bKr{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:seat1@siaga.local>;tag=s1\r\nTo: <sip:seat1@siaga.local>\r\n\
         Call-ID: reg-seat1\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:seat1@127.0.0.1:41000>\r\n\
         Expires: 600\r\n{auth}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn hex_md5(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn param<'a>(challenge: &'a str, name: &str) -> &'a str {
    let start = challenge.find(&format!("{name}=")).unwrap() + name.len() + 1;
    let rest = challenge[start..].trim_start_matches('"');
    &rest[..rest.find(['"', ',']).unwrap_or(rest.len())]
}

/// Registers seat1 with MD5 digest (RFC 7616 §3.4.1 formulas, computed here).
fn register_seat(ep: &mut Endpoint, now: Instant, password: &str) -> u16 {
    let seat = udp("127.0.0.1:41000");
    ep.handle_bytes(now, seat, &register(1, None));
    let out = drain(ep);
    assert_eq!(status(&out[0].1), 401);
    let challenges: Vec<&str> = out[0].1.headers().get_all("WWW-Authenticate").collect();
    assert!(
        challenges[0].contains("algorithm=MD5") && challenges[1].contains("algorithm=SHA-256"),
        "MD5 offered first, then SHA-256 (RFC 8760 §2.4: clients take the first they support)"
    );
    let md5 = challenges
        .iter()
        .find(|c| c.contains("algorithm=MD5"))
        .unwrap();
    let nonce = param(md5, "nonce");
    let ha1 = hex_md5(&format!("seat1:siaga:{password}"));
    let ha2 = hex_md5("REGISTER:sip:siaga.local");
    let response = hex_md5(&format!("{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}"));
    let auth = format!(
        "Digest username=\"seat1\", realm=\"siaga\", nonce=\"{nonce}\", uri=\"sip:siaga.local\", \
         response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\""
    );
    ep.handle_bytes(now, seat, &register(2, Some(auth)));
    let out = drain(ep);
    status(&out[0].1)
}

#[test]
fn seat_registers_with_digest_and_is_qualified() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    assert_eq!(register_seat(&mut ep, t0, "siaga-seat1"), 200);
    let seats = ep.registrar().seats(t0);
    assert_eq!(seats[0].state, SeatState::Registered);

    // After the qualify interval the gateway sends OPTIONS to where the seat registered from.
    let mut now = t0;
    let mut probes = Vec::new();
    while probes.is_empty() && now < t0 + Duration::from_secs(40) {
        now += Duration::from_secs(1);
        ep.handle_timeout(now);
        probes = drain(&mut ep);
    }
    let (to, probe) = &probes[0];
    assert_eq!(to.to_string(), "127.0.0.1:41000");
    assert!(matches!(probe, Message::Request(r) if r.method.as_str() == "OPTIONS"));

    // The seat never answers: after two missed probes it is unreachable.
    let limit = now + Duration::from_secs(200);
    while ep.registrar().seats(now)[0].state != SeatState::Unreachable && now < limit {
        now += Duration::from_secs(1);
        ep.handle_timeout(now);
        drain(&mut ep);
    }
    assert_eq!(ep.registrar().seats(now)[0].state, SeatState::Unreachable);
}

#[test]
fn wrong_password_is_refused() {
    let mut ep = endpoint();
    assert_eq!(register_seat(&mut ep, Instant::now(), "guess"), 403);
}

#[test]
fn torture_messages_get_their_answers_and_stranger_invites_403() {
    let mut ep = endpoint();
    let now = Instant::now();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sip/rfc4475");
    for (name, expected) in [
        ("intmeth", 501),
        ("badvers", 505),
        ("unkscm", 416),
        ("bext01", 420),
    ] {
        let bytes = std::fs::read(dir.join(format!("{name}.sip"))).unwrap();
        ep.handle_bytes(now, udp("127.0.0.1:42000"), &bytes);
        let out = drain(&mut ep);
        assert_eq!(out.len(), 1, "{name}");
        assert_eq!(out[0].0.to_string(), "127.0.0.1:42000", "{name}");
        assert_eq!(status(&out[0].1), expected, "{name}");
    }
    let invite = std::fs::read("fixtures/sip/probes/p01_baseline_invite.sip").unwrap();
    ep.handle_bytes(now, udp("198.51.100.20:5060"), &invite);
    let statuses: Vec<u16> = drain(&mut ep).iter().map(|(_, m)| status(m)).collect();
    assert_eq!(statuses.last(), Some(&403), "{statuses:?}");
    assert_eq!(ep.stats().untrusted_invites, 1);
}

#[test]
fn untrusted_flood_is_rate_limited_but_the_trunk_is_not() {
    let mut ep = endpoint();
    let now = Instant::now();
    for i in 0..100 {
        ep.handle_bytes(
            now,
            udp("198.51.100.7:5060"),
            &options("198.51.100.7", &format!("f{i}")),
        );
        ep.handle_bytes(
            now,
            udp("127.0.0.1:5070"),
            &options("127.0.0.1", &format!("t{i}")),
        );
    }
    let out = drain(&mut ep);
    let stranger = out
        .iter()
        .filter(|(to, _)| to.ip().to_string() == "198.51.100.7")
        .count();
    let trunk = out
        .iter()
        .filter(|(to, _)| to.ip().to_string() == "127.0.0.1")
        .count();
    assert_eq!(stranger, 10, "burst of 10 answered, the rest dropped");
    assert_eq!(trunk, 100);
    assert_eq!(ep.stats().rate_limited, 90);
}

/// One challenge/answer round with a wrong password; returns what came back at once for the
/// answer (the challenge is checked).
fn wrong_round(ep: &mut Endpoint, now: Instant, cseq: u32) -> Vec<u16> {
    let seat = udp("127.0.0.1:41000");
    ep.handle_bytes(now, seat, &register(cseq, None));
    let out = drain(ep);
    assert_eq!(status(&out[0].1), 401);
    let md5 = out[0]
        .1
        .headers()
        .get_all("WWW-Authenticate")
        .find(|c| c.contains("algorithm=MD5"))
        .unwrap()
        .to_string();
    let nonce = param(&md5, "nonce");
    let auth = format!(
        "Digest username=\"seat1\", realm=\"siaga\", nonce=\"{nonce}\", uri=\"sip:siaga.local\", \
         response=\"00000000000000000000000000000000\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c\""
    );
    ep.handle_bytes(now, seat, &register(cseq + 1, Some(auth)));
    drain(ep).iter().map(|(_, m)| status(m)).collect()
}

#[test]
fn slowed_register_answers_are_held_then_sent() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    // Defaults: 5 failures per (seat, source) before answers slow down.
    for i in 0..4 {
        assert_eq!(wrong_round(&mut ep, t0, 10 + 2 * i), [403]);
    }
    assert_eq!(wrong_round(&mut ep, t0, 20), Vec::<u16>::new(), "held");
    // The driver is woken for the held answer.
    assert!(ep
        .poll_timeout()
        .is_some_and(|due| due <= t0 + Duration::from_secs(1)));
    ep.handle_timeout(t0 + Duration::from_millis(999));
    assert!(drain(&mut ep).is_empty());
    ep.handle_timeout(t0 + Duration::from_secs(1));
    let out: Vec<u16> = drain(&mut ep).iter().map(|(_, m)| status(m)).collect();
    assert_eq!(out, [403]);
}

#[test]
fn untrusted_invite_is_refused_without_a_transaction() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = std::fs::read("fixtures/sip/probes/p01_baseline_invite.sip").unwrap();
    let stranger = udp("198.51.100.20:5060");
    ep.handle_bytes(t0, stranger, &invite);
    let first: Vec<u16> = drain(&mut ep).iter().map(|(_, m)| status(m)).collect();
    assert_eq!(first, [403]);
    assert_eq!(ep.transactions(), 0, "no server transaction");
    // 32 s of timers: nothing is retransmitted (a transaction would resend 10 more times).
    let mut resent = 0;
    for ms in (0..32_000).step_by(100) {
        ep.handle_timeout(t0 + Duration::from_millis(ms));
        resent += drain(&mut ep).len();
    }
    assert_eq!(resent, 0);
    // A retransmitted INVITE gets one 403, never more than came in.
    ep.handle_bytes(t0 + Duration::from_secs(1), stranger, &invite);
    assert_eq!(drain(&mut ep).len(), 1);
}

#[test]
fn forged_reinvite_for_no_call_gets_one_481_and_no_transaction() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite =
        String::from_utf8(std::fs::read("fixtures/sip/probes/p01_baseline_invite.sip").unwrap())
            .unwrap();
    // The same INVITE as inside a dialog: a To tag, for a Call-ID no call has.
    let to = invite
        .lines()
        .find(|l| l.starts_with("To:"))
        .unwrap()
        .to_string();
    let forged = invite.replacen(&to, &format!("{to};tag=forged"), 1);
    ep.handle_bytes(t0, udp("198.51.100.20:5060"), forged.as_bytes());
    let out: Vec<u16> = drain(&mut ep).iter().map(|(_, m)| status(m)).collect();
    assert_eq!(out, [481]);
    assert_eq!(ep.transactions(), 0);
    let mut resent = 0;
    for ms in (0..32_000).step_by(500) {
        ep.handle_timeout(t0 + Duration::from_millis(ms));
        resent += drain(&mut ep).len();
    }
    assert_eq!(resent, 0);
}
