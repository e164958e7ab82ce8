//! Layer tests in simulated time: one `Instant::now()`, then durations added to it.

mod client;
mod server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::sip::message::{Method, Request, Response};
use crate::sip::reply::response_to;

const CALLER: &str = "192.0.2.10:5060";
const SEAT: &str = "198.51.100.20:5060";

fn peer(addr: &str, transport: Transport) -> Peer {
    Peer {
        transport,
        addr: addr.parse::<SocketAddr>().unwrap(),
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A request as a caller at `via_host` would send it.
fn request(method: Method, branch: &str, via_host: &str) -> Request {
    let mut r = Request::new(method.clone(), "sip:112@siaga.example");
    r.headers
        .push("Via", format!("SIP/2.0/UDP {via_host};branch={branch}"));
    r.headers.push("Max-Forwards", "70");
    r.headers.push("Route", "<sip:proxy.example;lr>");
    r.headers
        .push("From", "\"Caller\" <sip:caller@example.net>;tag=from1");
    r.headers.push("To", "<sip:112@siaga.example>");
    r.headers.push("Call-ID", "call-1@example.net");
    r.headers.push("CSeq", format!("1 {method}"));
    r
}

/// The response a UAS would send to `req`, with To tag `totag`.
fn answer(req: &Request, status: u16) -> Response {
    response_to(req, status, Some("totag"))
}

fn transmits(layer: &mut TransactionLayer) -> Vec<Transmit> {
    std::iter::from_fn(|| layer.poll_transmit()).collect()
}

fn events(layer: &mut TransactionLayer) -> Vec<TxEvent> {
    std::iter::from_fn(|| layer.poll_event()).collect()
}

/// Fires every timer up to `end`; returns the offset from `t0` of each transmit.
fn run_until(layer: &mut TransactionLayer, t0: Instant, end: Instant) -> Vec<(Duration, Transmit)> {
    let mut sent = Vec::new();
    while let Some(at) = layer.poll_timeout().filter(|at| *at <= end) {
        layer.handle_timeout(at);
        assert!(layer.deadlines_consistent(), "deadline index out of step");
        sent.extend(transmits(layer).into_iter().map(|t| (at - t0, t)));
    }
    sent
}

fn offsets_ms(sent: &[(Duration, Transmit)]) -> Vec<u128> {
    sent.iter().map(|(d, _)| d.as_millis()).collect()
}

fn status_of(t: &Transmit) -> Option<u16> {
    match &t.message {
        Message::Response(r) => Some(r.status),
        Message::Request(_) => None,
    }
}

fn method_of(t: &Transmit) -> Option<&Method> {
    match &t.message {
        Message::Request(r) => Some(&r.method),
        Message::Response(_) => None,
    }
}

/// Many transactions of every kind, answered and left to time out at staggered times: the
/// deadline index always names the earliest machine timer, fires in time order and ends empty.
#[test]
fn deadline_index_follows_every_machine() {
    let mut layer = TransactionLayer::new(Timers::default());
    let t0 = Instant::now();
    let udp = Transport::Udp;
    for i in 0..60u64 {
        let at = t0 + ms(i * 37);
        let method = if i % 2 == 0 {
            Method::Invite
        } else {
            Method::Bye
        };
        // Client side: a request to the seat, answered for two in three.
        let out = request(method.clone(), &format!("z9hG4bKc{i}"), SEAT);
        layer
            .send_request(at, peer(SEAT, udp), out.clone())
            .unwrap();
        if i % 3 != 0 {
            let status = if i % 4 == 0 { 486 } else { 200 };
            layer.handle_message(
                at + ms(20),
                peer(SEAT, udp),
                Message::Response(answer(&out, status)),
            );
        }
        // Server side: a request from the caller, answered for one in two.
        let inc = request(method, &format!("z9hG4bKs{i}"), CALLER);
        layer.handle_message(at, peer(CALLER, udp), Message::Request(inc.clone()));
        if i % 2 == 1 {
            let status = if i % 5 == 0 { 404 } else { 200 };
            let server = TxKey::server(&inc).unwrap();
            layer
                .respond(at + ms(5), &server, answer(&inc, status))
                .unwrap();
        }
        assert!(layer.deadlines_consistent());
    }
    events(&mut layer);
    let mut last = t0;
    let mut fired = 0;
    while let Some(at) = layer.poll_timeout() {
        assert_eq!(Some(at), layer.scan_next_timeout());
        assert!(at >= last, "timers fire in time order");
        last = at;
        layer.handle_timeout(at);
        assert!(layer.deadlines_consistent());
        transmits(&mut layer);
        events(&mut layer);
        fired += 1;
        assert!(fired < 100_000, "timers keep re-arming");
    }
    assert!(fired > 100);
    // Server INVITE transactions left unanswered wait for the TU: no timer, still alive.
    assert_eq!(layer.scan_next_timeout(), None);
}
