//! Whole calls through the gateway's endpoint with simulated time and no sockets: the trunk
//! and the seats are byte strings, the media engine is played by the test (it answers
//! `Open` with addresses). Covers RFC 3261 call flows end to end: answer, BYE from each
//! side, busy → next seat, ring timeout → next seat, CANCEL before and after the seat
//! answers (the §9.2 race), 3 calls on 2 seats.

use siaga::gateway::b2bua::{
    CallSettings, CallState, MediaCommand, MediaEvent, Prompt, ScreeningSetup,
};
use siaga::gateway::endpoint::{Endpoint, EndpointSettings, StaticSeat};
use siaga::media::Leg;
use siaga::routing::AcdSettings;
use siaga::sip::message::{Message, Request, Response};
use siaga::sip::parse::{parse, Framing};
use siaga::sip::registrar::{Registrar, RegistrarSettings};
use siaga::sip::reply::response_to;
use siaga::sip::transaction::{Peer, Timers, TransactionLayer, Transport};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const GATEWAY: &str = "127.0.0.1:5060";
const TRUNK: &str = "127.0.0.1:5070";
const SEAT1: &str = "127.0.0.1:5071";
const SEAT2: &str = "127.0.0.1:5072";

fn peer(addr: &str) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: addr.parse().unwrap(),
    }
}

fn static_seat(name: &str, addr: &str) -> StaticSeat {
    StaticSeat {
        name: name.into(),
        target: Some((format!("sip:{name}@{addr}"), peer(addr))),
    }
}

struct Sim {
    ep: Endpoint,
    now: Instant,
    /// Everything sent so far and not yet looked at: (to, message).
    wire: Vec<(SocketAddr, Message)>,
    media: Vec<MediaCommand>,
    calls: u32,
    /// What the "store" answers to caller-history reads (the driver's part).
    history: siaga::store::CallerHistory,
}

impl Sim {
    fn new(seats: Vec<StaticSeat>) -> Sim {
        Sim::with_overflow(seats, None)
    }

    fn with_overflow(seats: Vec<StaticSeat>, overflow: Option<&str>) -> Sim {
        Sim::build(seats, overflow, None)
    }

    fn build(
        seats: Vec<StaticSeat>,
        overflow: Option<&str>,
        screening: Option<ScreeningSetup>,
    ) -> Sim {
        let now = Instant::now();
        let settings = EndpointSettings {
            local: vec![GATEWAY.parse().unwrap()],
            user_agent: "siaga".into(),
            trusted: Box::new(|ip| ip.is_loopback()),
            rate_limit_per_s: 100,
            rate_limit_burst: 100,
            calls: CallSettings {
                emergency_numbers: vec!["112".into()],
                local: GATEWAY.parse().unwrap(),
                user_agent: "siaga".into(),
                domain: "siaga.local".into(),
                overflow: overflow.map(|addr| (format!("sip:112@{addr}"), peer(addr))),
                screening: screening.clone(),
                location: siaga::config::LocationConfig::default().window(),
            },
            acd: AcdSettings {
                ring_timeout: Duration::from_secs(15),
                wrap_up: Duration::from_secs(10),
                max_wait: Duration::from_secs(120),
                ageing: Duration::from_secs(30),
                no_answer_pause: 2,
                overflow_enabled: overflow.is_some(),
            },
            seats,
        };
        let registrar = Registrar::new(RegistrarSettings::default());
        let ep = Endpoint::new(
            now,
            settings,
            TransactionLayer::new(Timers::default()),
            registrar,
        );
        Sim {
            ep,
            now,
            wire: Vec::new(),
            media: Vec::new(),
            calls: 0,
            history: Default::default(),
        }
    }

    /// Moves the endpoint's output into `wire` and `media`; answers `Open` like the engine.
    fn pump(&mut self) {
        loop {
            while let Some(read) = self.ep.poll_history() {
                self.ep.handle_history(&read.call, self.history);
            }
            while let Some((to, bytes)) = self.ep.poll_transmit() {
                let message =
                    parse(&bytes, Framing::Datagram).expect("gateway sent unparseable bytes");
                self.wire.push((to.addr, message));
            }
            let Some(command) = self.ep.poll_media() else {
                break;
            };
            if let MediaCommand::Open { call } = &command {
                self.calls += 1;
                let base = 30000 + 4 * self.calls as u16;
                let event = MediaEvent::Opened {
                    call: call.clone(),
                    caller: format!("127.0.0.1:{base}").parse().unwrap(),
                    seat: format!("127.0.0.1:{}", base + 2).parse().unwrap(),
                };
                self.media.push(command);
                self.ep.handle_media_event(self.now, event);
            } else {
                self.media.push(command);
            }
        }
    }

    fn send(&mut self, from: &str, bytes: Vec<u8>) {
        self.ep.handle_bytes(self.now, peer(from), &bytes);
        self.pump();
    }

    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while self.now < end {
            self.now = (self.now + Duration::from_millis(100)).min(end);
            self.ep.handle_timeout(self.now);
            self.pump();
        }
    }

    /// Takes the first message sent to `to` that matches `pred`.
    fn take(&mut self, to: &str, what: &str, pred: impl Fn(&Message) -> bool) -> Message {
        let to: SocketAddr = to.parse().unwrap();
        let at = self
            .wire
            .iter()
            .position(|(addr, m)| *addr == to && pred(m))
            .unwrap_or_else(|| panic!("no {what} sent to {to}; wire: {:#?}", summary(&self.wire)));
        self.wire.remove(at).1
    }

    fn take_request(&mut self, to: &str, method: &str) -> Request {
        match self.take(
            to,
            method,
            |m| matches!(m, Message::Request(r) if r.method.as_str() == method),
        ) {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    fn take_response(&mut self, to: &str, status: u16, method: &str) -> Response {
        let what = format!("{status} for {method}");
        let found = self.take(to, &what, |m| match m {
            Message::Response(r) => {
                r.status == status && r.headers.get("CSeq").is_some_and(|c| c.ends_with(method))
            }
            Message::Request(_) => false,
        });
        match found {
            Message::Response(r) => r,
            Message::Request(_) => unreachable!(),
        }
    }

    fn take_response_opt(&mut self, to: &str, status: u16) -> Option<Message> {
        let to: SocketAddr = to.parse().unwrap();
        let at = self.wire.iter().position(|(addr, m)| {
            *addr == to && matches!(m, Message::Response(r) if r.status == status)
        })?;
        Some(self.wire.remove(at).1)
    }

    fn nothing_to(&self, to: &str, method: &str) -> bool {
        let to: SocketAddr = to.parse().unwrap();
        !self.wire.iter().any(|(addr, m)| {
            *addr == to && matches!(m, Message::Request(r) if r.method.as_str() == method)
        })
    }
}

fn summary(wire: &[(SocketAddr, Message)]) -> Vec<String> {
    wire.iter()
        .map(|(to, m)| match m {
            Message::Request(r) => format!("{to} {} {}", r.method, r.uri),
            Message::Response(r) => format!("{to} {} {:?}", r.status, r.headers.get("CSeq")),
        })
        .collect()
}

const OFFER: &str = "v=0\r\no=trunk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
const SEAT_ANSWER: &str =
    "v=0\r\no=seat 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 41000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

fn trunk_invite(n: u32) -> Vec<u8> {
    format!(
        "INVITE sip:112@{GATEWAY} SIP/2.0\r\nVia: SIP/2.0/UDP {TRUNK};branch=z9hG4bKinv{n}\r\n\
         Max-Forwards: 70\r\nFrom: \"Warga\" <sip:08123456789{n}@{TRUNK}>;tag=t{n}\r\nTo: <sip:112@{GATEWAY}>\r\n\
         Call-ID: trunk-{n}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@{TRUNK}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{OFFER}",
        OFFER.len()
    )
    .into_bytes()
}

fn trunk_cancel(n: u32) -> Vec<u8> {
    format!(
        "CANCEL sip:112@{GATEWAY} SIP/2.0\r\nVia: SIP/2.0/UDP {TRUNK};branch=z9hG4bKinv{n}\r\n\
         Max-Forwards: 70\r\nFrom: \"Warga\" <sip:08123456789{n}@{TRUNK}>;tag=t{n}\r\nTo: <sip:112@{GATEWAY}>\r\n\
         Call-ID: trunk-{n}\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// A request inside the trunk dialog (ACK for the 200, BYE), To tag from the gateway's 200.
fn trunk_in_dialog(n: u32, method: &str, cseq: u32, to: &str) -> Vec<u8> {
    format!(
        "{method} sip:siaga@{GATEWAY} SIP/2.0\r\nVia: SIP/2.0/UDP {TRUNK};branch=z9hG4bK{method}{n}\r\n\
         Max-Forwards: 70\r\nFrom: \"Warga\" <sip:08123456789{n}@{TRUNK}>;tag=t{n}\r\nTo: {to}\r\n\
         Call-ID: trunk-{n}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The seat's answer to the gateway's INVITE.
fn seat_reply(invite: &Request, status: u16, sdp: bool) -> Vec<u8> {
    let mut response = response_to(invite, status, Some("seattag"));
    if status != 100 {
        response
            .headers
            .push("Contact", "<sip:seat@127.0.0.1:5071>");
    }
    if sdp {
        response.headers.push("Content-Type", "application/sdp");
        response.body = SEAT_ANSWER.as_bytes().to_vec();
    }
    response.to_bytes()
}

fn bridged(sim: &Sim) -> bool {
    sim.media
        .iter()
        .any(|c| matches!(c, MediaCommand::Bridge { .. }))
}

/// Trunk INVITE up to the seat ringing; returns the seat's INVITE.
fn call_rings(sim: &mut Sim, n: u32, seat: &str) -> Request {
    sim.send(TRUNK, trunk_invite(n));
    sim.take_response(TRUNK, 100, "INVITE");
    let early = sim.take_response(TRUNK, 183, "INVITE");
    assert!(
        String::from_utf8_lossy(&early.body).contains("m=audio 3"),
        "183 carries our SDP"
    );
    let invite = sim.take_request(seat, "INVITE");
    assert!(
        invite
            .headers
            .get("From")
            .unwrap()
            .contains(&format!("08123456789{n}")),
        "caller shown to the seat"
    );
    assert!(invite.headers.get("X-Siaga-Call").is_some());
    sim.send(seat, seat_reply(&invite, 180, false));
    invite
}

#[test]
fn call_connects_and_caller_hangs_up() {
    let mut sim = Sim::new(vec![static_seat("seat1", SEAT1)]);
    let invite = call_rings(&mut sim, 1, SEAT1);
    sim.send(SEAT1, seat_reply(&invite, 200, true));
    sim.take_request(SEAT1, "ACK");
    let ok = sim.take_response(TRUNK, 200, "INVITE");
    assert!(String::from_utf8_lossy(&ok.body).contains("m=audio 3"));
    assert!(bridged(&sim));
    assert!(sim
        .media
        .iter()
        .any(|c| matches!(c, MediaCommand::SetRemote { leg: Leg::Seat, .. })));
    let to = ok.headers.get("To").unwrap().to_string();
    sim.send(TRUNK, trunk_in_dialog(1, "ACK", 1, &to));
    sim.send(TRUNK, trunk_in_dialog(1, "BYE", 2, &to));
    sim.take_response(TRUNK, 200, "BYE");
    let bye = sim.take_request(SEAT1, "BYE");
    assert_eq!(bye.headers.get("Call-ID"), invite.headers.get("Call-ID"));
    assert!(sim
        .media
        .iter()
        .any(|c| matches!(c, MediaCommand::Close { .. })));
    assert!(sim.ep.calls().is_empty());
}

#[test]
fn seat_hangs_up_and_caller_gets_bye() {
    let mut sim = Sim::new(vec![static_seat("seat1", SEAT1)]);
    let invite = call_rings(&mut sim, 2, SEAT1);
    sim.send(SEAT1, seat_reply(&invite, 200, true));
    let ok = sim.take_response(TRUNK, 200, "INVITE");
    let ack = sim.take_request(SEAT1, "ACK");
    let _ = (ok, ack);
    // The seat's BYE: To is the gateway's From (tag), From is the seat with its tag.
    let bye = format!(
        "BYE sip:siaga@{GATEWAY} SIP/2.0\r\nVia: SIP/2.0/UDP {SEAT1};branch=z9hG4bKseatbye\r\n\
         Max-Forwards: 70\r\nFrom: {};tag=seattag\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n",
        invite.headers.get("To").unwrap(),
        invite.headers.get("From").unwrap(),
        invite.headers.get("Call-ID").unwrap()
    );
    sim.send(SEAT1, bye.into_bytes());
    sim.take_response(SEAT1, 200, "BYE");
    let trunk_bye = sim.take_request(TRUNK, "BYE");
    assert_eq!(trunk_bye.headers.get("Call-ID"), Some("trunk-2"));
    assert!(sim.ep.calls().is_empty());
}

#[test]
fn busy_seat_then_next_seat_rings() {
    let mut sim = Sim::new(vec![
        static_seat("seat1", SEAT1),
        static_seat("seat2", SEAT2),
    ]);
    sim.send(TRUNK, trunk_invite(3));
    let (first, second) = if sim.nothing_to(SEAT1, "INVITE") {
        (SEAT2, SEAT1)
    } else {
        (SEAT1, SEAT2)
    };
    let invite = sim.take_request(first, "INVITE");
    sim.send(first, seat_reply(&invite, 486, false));
    sim.take_request(first, "ACK");
    let next = sim.take_request(second, "INVITE");
    sim.send(second, seat_reply(&next, 200, true));
    sim.take_response(TRUNK, 200, "INVITE");
    let call = next.headers.get("X-Siaga-Call").unwrap();
    assert_eq!(sim.ep.calls().state(call), Some(CallState::Connected));
}

#[test]
fn ring_timeout_cancels_and_rings_the_next_seat() {
    let mut sim = Sim::new(vec![
        static_seat("seat1", SEAT1),
        static_seat("seat2", SEAT2),
    ]);
    sim.send(TRUNK, trunk_invite(4));
    let (first, second) = if sim.nothing_to(SEAT1, "INVITE") {
        (SEAT2, SEAT1)
    } else {
        (SEAT1, SEAT2)
    };
    let invite = sim.take_request(first, "INVITE");
    sim.send(first, seat_reply(&invite, 180, false));
    sim.advance(Duration::from_secs(16));
    let cancel = sim.take_request(first, "CANCEL");
    assert_eq!(
        cancel.headers.get("Via"),
        invite.headers.get("Via"),
        "CANCEL matches the INVITE (§9.1)"
    );
    assert!(sim
        .take_request(second, "INVITE")
        .headers
        .get("X-Siaga-Call")
        .is_some());
}

#[test]
fn trunk_cancel_while_ringing_leaves_no_leg() {
    let mut sim = Sim::new(vec![static_seat("seat1", SEAT1)]);
    let invite = call_rings(&mut sim, 5, SEAT1);
    sim.send(TRUNK, trunk_cancel(5));
    sim.take_response(TRUNK, 200, "CANCEL");
    sim.take_response(TRUNK, 487, "INVITE");
    let cancel = sim.take_request(SEAT1, "CANCEL");
    sim.send(SEAT1, response_to(&cancel, 200, None).to_bytes());
    sim.send(SEAT1, seat_reply(&invite, 487, false));
    sim.take_request(SEAT1, "ACK");
    assert!(sim.ep.calls().is_empty());
    assert!(sim
        .media
        .iter()
        .any(|c| matches!(c, MediaCommand::Close { .. })));
}

#[test]
fn seat_answers_after_cancel_gets_ack_and_bye() {
    let mut sim = Sim::new(vec![static_seat("seat1", SEAT1)]);
    let invite = call_rings(&mut sim, 6, SEAT1);
    sim.send(TRUNK, trunk_cancel(6));
    sim.take_request(SEAT1, "CANCEL");
    // The 200 crossed our CANCEL on the wire (RFC 3261 §9.2): ACK it, then BYE.
    sim.send(SEAT1, seat_reply(&invite, 200, true));
    sim.take_request(SEAT1, "ACK");
    sim.take_request(SEAT1, "BYE");
    assert!(sim.nothing_to(TRUNK, "BYE"), "the caller already got 487");
}

#[test]
fn cancel_after_answer_changes_nothing() {
    let mut sim = Sim::new(vec![static_seat("seat1", SEAT1)]);
    let invite = call_rings(&mut sim, 7, SEAT1);
    sim.send(SEAT1, seat_reply(&invite, 200, true));
    sim.take_response(TRUNK, 200, "INVITE");
    sim.send(TRUNK, trunk_cancel(7));
    sim.take_response(TRUNK, 200, "CANCEL");
    assert!(sim.nothing_to(SEAT1, "CANCEL") && sim.nothing_to(SEAT1, "BYE"));
    assert_eq!(sim.ep.calls().len(), 1);
}

#[test]
fn three_calls_two_seats_third_waits_for_wrap_up() {
    let mut sim = Sim::new(vec![
        static_seat("seat1", SEAT1),
        static_seat("seat2", SEAT2),
    ]);
    let mut answered = Vec::new();
    for n in 10..12 {
        sim.send(TRUNK, trunk_invite(n));
        let seat = if sim.nothing_to(SEAT1, "INVITE") {
            SEAT2
        } else {
            SEAT1
        };
        let invite = sim.take_request(seat, "INVITE");
        sim.send(seat, seat_reply(&invite, 200, true));
        let ok = sim.take_response(TRUNK, 200, "INVITE");
        answered.push((n, seat, ok.headers.get("To").unwrap().to_string()));
    }
    sim.send(TRUNK, trunk_invite(12));
    assert!(
        sim.nothing_to(SEAT1, "INVITE") && sim.nothing_to(SEAT2, "INVITE"),
        "third call waits"
    );
    let (n, seat, to) = answered.remove(0);
    sim.send(TRUNK, trunk_in_dialog(n, "BYE", 2, &to));
    sim.take_request(seat, "BYE");
    sim.advance(Duration::from_secs(5));
    assert!(sim.nothing_to(seat, "INVITE"), "still in wrap-up");
    sim.advance(Duration::from_secs(6));
    let invite = sim.take_request(seat, "INVITE");
    assert!(invite.headers.get("From").unwrap().contains("081234567891"));
}

#[test]
fn non_emergency_numbers_get_404() {
    let mut sim = Sim::new(vec![static_seat("seat1", SEAT1)]);
    let bytes = String::from_utf8(trunk_invite(20))
        .unwrap()
        .replace("INVITE sip:112@", "INVITE sip:0231555@");
    sim.send(TRUNK, bytes.into_bytes());
    sim.take_response(TRUNK, 404, "INVITE");
    assert!(sim.ep.calls().is_empty());
}

#[test]
fn overflow_after_max_wait_when_no_seat_is_free() {
    const PSAP: &str = "127.0.0.1:5090";
    // The only seat registers and never did: nobody can take the call here.
    let seats = vec![StaticSeat {
        name: "seat1".into(),
        target: None,
    }];
    let mut sim = Sim::with_overflow(seats, Some(PSAP));
    sim.send(TRUNK, trunk_invite(30));
    sim.take_response(TRUNK, 183, "INVITE");
    sim.advance(Duration::from_secs(100));
    assert!(sim.nothing_to(PSAP, "INVITE"), "not before max_wait");
    sim.advance(Duration::from_secs(25));
    let invite = sim.take_request(PSAP, "INVITE");
    assert_eq!(invite.uri, format!("sip:112@{PSAP}"));
    assert!(invite
        .headers
        .get("From")
        .unwrap()
        .contains("0812345678930"));
    sim.send(PSAP, seat_reply(&invite, 200, true));
    sim.take_request(PSAP, "ACK");
    sim.take_response(TRUNK, 200, "INVITE");
}

#[test]
fn seat_hold_is_relayed_to_the_caller() {
    let mut sim = Sim::new(vec![static_seat("seat1", SEAT1)]);
    let invite = call_rings(&mut sim, 40, SEAT1);
    sim.send(SEAT1, seat_reply(&invite, 200, true));
    sim.take_request(SEAT1, "ACK");
    sim.take_response(TRUNK, 200, "INVITE");
    // The call taker puts the caller on hold (RFC 3264 §8.4: sendonly).
    let hold_sdp = SEAT_ANSWER.replace("o=seat 1 1", "o=seat 1 2") + "a=sendonly\r\n";
    let reinvite = format!(
        "INVITE sip:siaga@{GATEWAY} SIP/2.0\r\nVia: SIP/2.0/UDP {SEAT1};branch=z9hG4bKhold\r\n\
         Max-Forwards: 70\r\nFrom: {};tag=seattag\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 2 INVITE\r\n\
         Contact: <sip:seat@{SEAT1}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{hold_sdp}",
        invite.headers.get("To").unwrap(),
        invite.headers.get("From").unwrap(),
        invite.headers.get("Call-ID").unwrap(),
        hold_sdp.len()
    );
    sim.send(SEAT1, reinvite.into_bytes());
    let ok = sim.take_response(SEAT1, 200, "INVITE");
    assert!(
        String::from_utf8_lossy(&ok.body).contains("a=recvonly"),
        "we answer recvonly"
    );
    let relayed = sim.take_request(TRUNK, "INVITE");
    assert_eq!(relayed.headers.get("Call-ID"), Some("trunk-40"));
    assert!(
        String::from_utf8_lossy(&relayed.body).contains("a=sendonly"),
        "caller told of the hold"
    );
    let mut answer = response_to(&relayed, 200, None);
    answer.headers.push("Content-Type", "application/sdp");
    answer.body = (OFFER.replace("o=trunk 1 1", "o=trunk 1 2") + "a=recvonly\r\n").into_bytes();
    sim.send(TRUNK, answer.to_bytes());
    let ack = sim.take_request(TRUNK, "ACK");
    assert_eq!(
        ack.headers
            .get("CSeq")
            .map(|c| c.split(' ').next().unwrap().to_string()),
        relayed
            .headers
            .get("CSeq")
            .map(|c| c.split(' ').next().unwrap().to_string())
    );
}

#[test]
fn session_timer_ends_a_call_the_trunk_stops_refreshing() {
    let mut sim = Sim::new(vec![static_seat("seat1", SEAT1)]);
    let bytes = String::from_utf8(trunk_invite(50)).unwrap().replace(
        "Content-Type: application/sdp\r\n",
        "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\nContent-Type: application/sdp\r\n",
    );
    sim.send(TRUNK, bytes.into_bytes());
    let invite = sim.take_request(SEAT1, "INVITE");
    sim.send(SEAT1, seat_reply(&invite, 200, true));
    let ok = sim.take_response(TRUNK, 200, "INVITE");
    assert_eq!(ok.headers.get("Session-Expires"), Some("90;refresher=uac"));
    sim.advance(Duration::from_secs(89));
    assert!(sim.nothing_to(TRUNK, "BYE"));
    sim.advance(Duration::from_secs(2));
    sim.take_request(TRUNK, "BYE");
    sim.take_request(SEAT1, "BYE");
    assert!(sim.ep.calls().is_empty());
}

#[test]
fn too_short_session_interval_gets_422() {
    let mut sim = Sim::new(vec![static_seat("seat1", SEAT1)]);
    let bytes = String::from_utf8(trunk_invite(51)).unwrap().replace(
        "Content-Type: application/sdp\r\n",
        "Supported: timer\r\nSession-Expires: 30\r\nContent-Type: application/sdp\r\n",
    );
    sim.send(TRUNK, bytes.into_bytes());
    let refusal = sim.take_response(TRUNK, 422, "INVITE");
    assert_eq!(refusal.headers.get("Min-SE"), Some("90"));
}

#[test]
fn bye_before_answer_ends_the_call_and_its_invite_transaction() {
    let mut sim = Sim::new(vec![StaticSeat {
        name: "seat1".into(),
        target: None,
    }]);
    sim.send(TRUNK, trunk_invite(60));
    let early = sim.take_response(TRUNK, 183, "INVITE");
    let to = early.headers.get("To").unwrap().to_string();
    sim.send(TRUNK, trunk_in_dialog(60, "BYE", 2, &to));
    sim.take_response(TRUNK, 200, "BYE");
    sim.take_response(TRUNK, 487, "INVITE");
    assert!(sim.ep.calls().is_empty());
    // Every transaction ends: nothing is left in the table after the timers.
    sim.send(TRUNK, trunk_in_dialog(60, "ACK", 1, &to));
    sim.advance(Duration::from_secs(40));
    assert_eq!(sim.ep.transactions(), 0);
}

// --- Screening (issue 4): the trunk leg is answered at once and the caller listened to.

use siaga::gateway::verdict_tap::VerdictTap;
use siaga::media::rtp::RtpHeaderInfo;
use siaga::media::CallerAudioTap;
use siaga::screening::{RepeatCallers, ScreeningTap};
use std::sync::Arc;

fn screening_sim() -> (Sim, Arc<ScreeningTap>) {
    screening_sim_with(siaga::store::CallerHistory::default())
}

fn screening_sim_with(history: siaga::store::CallerHistory) -> (Sim, Arc<ScreeningTap>) {
    let tap = Arc::new(ScreeningTap::new(Duration::from_millis(160)));
    let setup = ScreeningSetup {
        // Screening audio is not kept in the simulation (it would land in the working
        // directory); tests/calls_peers.rs checks the kept file end to end.
        settings: siaga::config::ScreeningConfig {
            audio_retention_days: 0,
            ..siaga::config::Config::default().screening
        },
        tap: tap.clone(),
        repeat: Arc::new(RepeatCallers::new()),
    };
    let mut sim = Sim::build(vec![static_seat("seat1", SEAT1)], None, Some(setup));
    sim.history = history;
    (sim, tap)
}

/// The call id the gateway gave the call (from the media `Open`).
fn call_id(sim: &Sim) -> String {
    sim.media
        .iter()
        .find_map(|c| match c {
            MediaCommand::Open { call } => Some(call.clone()),
            _ => None,
        })
        .unwrap()
}

/// Plays `audio` (µ-law, 160 bytes a packet) into the tap as the caller, 20 ms apart,
/// advancing the gateway's clock with it. The packets go through the [`VerdictTap`] as in the
/// driver, and its "ready" news reaches the endpoint at once, as the driver delivers it.
fn caller_speaks(sim: &mut Sim, tap: &Arc<ScreeningTap>, call: &str, audio: &[u8]) {
    let (verdicts, mut ready) = VerdictTap::new(tap.clone());
    for (n, frame) in audio.chunks(160).enumerate() {
        let mut packet = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        packet[2..4].copy_from_slice(&(n as u16).to_be_bytes());
        packet[4..8].copy_from_slice(&((n as u32) * 160).to_be_bytes());
        packet.extend_from_slice(frame);
        send_through(sim, &verdicts, &mut ready, call, &packet);
        sim.advance(Duration::from_millis(20));
    }
}

/// One caller RTP packet, through the [`VerdictTap`] as in the driver.
fn caller_packet(sim: &mut Sim, tap: &Arc<ScreeningTap>, call: &str, packet: &[u8]) {
    let (verdicts, mut ready) = VerdictTap::new(tap.clone());
    send_through(sim, &verdicts, &mut ready, call, packet);
}

fn send_through(
    sim: &mut Sim,
    verdicts: &VerdictTap,
    ready: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    call: &str,
    packet: &[u8],
) {
    let header = RtpHeaderInfo::parse(packet).unwrap();
    verdicts.on_caller_rtp(call, sim.now, &header, header.payload(packet));
    while let Ok(call) = ready.try_recv() {
        sim.ep.handle_screening_ready(sim.now, &call);
        sim.pump();
    }
}

#[test]
fn screened_speaking_caller_reaches_a_seat_with_the_verdict() {
    let (mut sim, tap) = screening_sim();
    sim.send(TRUNK, trunk_invite(70));
    // Answered at once by the gateway, greeting played, nothing rings yet.
    let ok = sim.take_response(TRUNK, 200, "INVITE");
    let to = ok.headers.get("To").unwrap().to_string();
    sim.send(TRUNK, trunk_in_dialog(70, "ACK", 1, &to));
    assert!(sim.media.iter().any(|c| matches!(
        c,
        MediaCommand::Play {
            prompt: Prompt::Greeting,
            ..
        }
    )));
    assert!(sim.nothing_to(SEAT1, "INVITE"));
    let call = call_id(&sim);
    let speech = std::fs::read("fixtures/audio/speech.ul").unwrap();
    caller_speaks(&mut sim, &tap, &call, &speech[..8000 * 2]);
    let invite = sim.take_request(SEAT1, "INVITE");
    assert_eq!(invite.headers.get("X-Siaga-Class"), Some("speaking"));
    assert!(invite.headers.get("X-Siaga-Risk").is_some());
    sim.send(SEAT1, seat_reply(&invite, 200, true));
    sim.take_request(SEAT1, "ACK");
    // The trunk was answered once, by the gateway; no second 200.
    assert!(sim.take_response_opt(TRUNK, 200).is_none());
    assert_eq!(sim.ep.calls().state(&call), Some(CallState::Connected));
}

#[test]
fn silent_caller_gets_press5_then_is_ended_as_ghost_without_ringing() {
    let (mut sim, tap) = screening_sim();
    sim.send(TRUNK, trunk_invite(71));
    sim.take_response(TRUNK, 200, "INVITE");
    let call = call_id(&sim);
    let silence = vec![0xFFu8; 8000 * 13];
    caller_speaks(&mut sim, &tap, &call, &silence);
    assert!(sim.media.iter().any(|c| matches!(
        c,
        MediaCommand::Play {
            prompt: Prompt::Press5,
            ..
        }
    )));
    sim.take_request(TRUNK, "BYE");
    assert!(sim.nothing_to(SEAT1, "INVITE"), "no seat rings for a ghost");
    assert!(sim.ep.calls().is_empty());
}

#[test]
fn silent_caller_pressing_5_is_queued_first_as_needing_help() {
    let (mut sim, tap) = screening_sim();
    sim.send(TRUNK, trunk_invite(72));
    sim.take_response(TRUNK, 200, "INVITE");
    let call = call_id(&sim);
    caller_speaks(&mut sim, &tap, &call, &vec![0xFFu8; 8000 * 5]);
    // RFC 4733 event "5": start, updates, three end packets (same timestamp).
    for (n, end) in [(0u16, false), (1, false), (2, true), (3, true), (4, true)] {
        let mut packet = vec![0x80, 101, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 1];
        packet[2..4].copy_from_slice(&(500 + n).to_be_bytes());
        let duration: u16 = 160 * (n + 1);
        packet.extend_from_slice(&[5, if end { 0x80 | 10 } else { 10 }]);
        packet.extend_from_slice(&duration.to_be_bytes());
        caller_packet(&mut sim, &tap, &call, &packet);
        sim.advance(Duration::from_millis(20));
    }
    sim.advance(Duration::from_millis(500));
    let invite = sim.take_request(SEAT1, "INVITE");
    assert_eq!(
        invite.headers.get("X-Siaga-Class"),
        Some("silent_needs_help")
    );
}

#[test]
fn repeat_prank_caller_is_flagged_and_lowered_never_refused() {
    let history = siaga::store::CallerHistory {
        prank: 3,
        ..Default::default()
    };
    let (mut sim, tap) = screening_sim_with(history);
    sim.send(TRUNK, trunk_invite(73));
    sim.take_response(TRUNK, 200, "INVITE");
    let call = call_id(&sim);
    let speech = std::fs::read("fixtures/audio/speech.ul").unwrap();
    caller_speaks(&mut sim, &tap, &call, &speech[..8000 * 2]);
    // Still rung (never refused), but flagged with its reasons.
    let invite = sim.take_request(SEAT1, "INVITE");
    assert_eq!(invite.headers.get("X-Siaga-Class"), Some("repeat_prank"));
    assert!(invite
        .headers
        .get("X-Siaga-Reasons")
        .unwrap()
        .contains("past_prank"));
}

// --- The gateway's event surface (issue 9): a call's events come out in the order it lived.

use siaga::gateway::commands::AcdWatch;
use siaga::gateway::Event;

/// Every event the endpoint has produced since the last call: call-record events from the
/// B2BUA, then seat and queue changes, as the driver publishes them.
fn events(sim: &mut Sim, watch: &mut AcdWatch) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some((call, record)) = sim.ep.poll_record() {
        out.push(Event::of_record(&call, &record));
    }
    out.extend(watch.changes(sim.ep.acd(), sim.now));
    out
}

/// The short name of an event, for order assertions.
fn kind(event: &Event) -> String {
    match event {
        Event::CallReceived { .. } => "received".into(),
        Event::CallScreened { class, .. } => format!("screened:{class:?}"),
        Event::CallQueued { .. } => "queued".into(),
        Event::SeatRinging { seat, .. } => format!("ringing:{seat}"),
        Event::CallAnswered { seat, .. } => format!("answered:{seat}"),
        Event::CallEnded { reason, by, .. } => format!("ended:{reason:?}:{by:?}"),
        Event::SeatChanged { seat } => format!("seat:{}:{:?}", seat.name, seat.state),
        Event::QueueChanged { queue } => format!("queue:{}", queue.len()),
        other => format!("{other:?}"),
    }
}

#[test]
fn a_screened_call_produces_its_events_in_order() {
    let (mut sim, tap) = screening_sim();
    let mut watch = AcdWatch::default();
    assert_eq!(
        events(&mut sim, &mut watch)
            .iter()
            .map(kind)
            .collect::<Vec<_>>(),
        ["seat:seat1:Available"],
        "the first look shows every seat (an empty queue is no change)"
    );
    let mut seen = Vec::new();
    sim.send(TRUNK, trunk_invite(90));
    let ok = sim.take_response(TRUNK, 200, "INVITE");
    let to = ok.headers.get("To").unwrap().to_string();
    sim.send(TRUNK, trunk_in_dialog(90, "ACK", 1, &to));
    seen.extend(events(&mut sim, &mut watch));
    let call = call_id(&sim);
    let speech = std::fs::read("fixtures/audio/speech.ul").unwrap();
    caller_speaks(&mut sim, &tap, &call, &speech[..8000 * 2]);
    seen.extend(events(&mut sim, &mut watch));
    let invite = sim.take_request(SEAT1, "INVITE");
    sim.send(SEAT1, seat_reply(&invite, 200, true));
    sim.take_request(SEAT1, "ACK");
    seen.extend(events(&mut sim, &mut watch));
    sim.send(TRUNK, trunk_in_dialog(90, "BYE", 2, &to));
    sim.take_response(TRUNK, 200, "BYE");
    seen.extend(events(&mut sim, &mut watch));
    let calls: Vec<String> = seen
        .iter()
        .filter(|e| !matches!(e, Event::SeatChanged { .. } | Event::QueueChanged { .. }))
        .map(kind)
        .collect();
    assert_eq!(
        calls,
        [
            "received",
            "screened:Speaking",
            "queued",
            "ringing:seat1",
            "answered:seat1",
            "ended:Normal:Caller"
        ]
    );
    // Every call event names this call.
    assert!(seen.iter().all(|e| match e {
        Event::CallReceived { call: c, .. }
        | Event::CallScreened { call: c, .. }
        | Event::CallQueued { call: c }
        | Event::SeatRinging { call: c, .. }
        | Event::CallAnswered { call: c, .. }
        | Event::CallEnded { call: c, .. } => *c == call,
        _ => true,
    }));
    // The seat went ringing → on call → wrap-up, as changes (not every tick).
    let seats: Vec<String> = seen
        .iter()
        .filter(|e| matches!(e, Event::SeatChanged { .. }))
        .map(kind)
        .collect();
    assert_eq!(
        seats,
        [
            "seat:seat1:Ringing",
            "seat:seat1:OnCall",
            "seat:seat1:WrapUp"
        ]
    );
}
