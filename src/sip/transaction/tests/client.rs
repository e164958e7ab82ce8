//! Client transactions: Figures 5 and 6, RFC 6026 Accepted.

use super::*;

const US: &str = "203.0.113.5:5060";

fn start(transport: Transport, method: Method) -> (TransactionLayer, Instant, TxKey, Request) {
    let mut layer = TransactionLayer::new(Timers::default());
    let t0 = Instant::now();
    let req = request(method, "z9hG4bKc1", US);
    let key = layer
        .send_request(t0, peer(SEAT, transport), req.clone())
        .unwrap();
    let first = transmits(&mut layer);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].to, peer(SEAT, transport));
    (layer, t0, key, req)
}

fn receive(layer: &mut TransactionLayer, now: Instant, resp: Response) {
    layer.handle_message(now, peer(SEAT, Transport::Udp), Message::Response(resp));
}

#[test]
fn invite_over_udp_retransmits_with_timer_a_then_times_out_with_timer_b() {
    let (mut layer, t0, key, _) = start(Transport::Udp, Method::Invite);
    let sent = run_until(&mut layer, t0, t0 + ms(31_999));
    // Intervals 0.5, 1, 2, 4, 8, 16 s; Timer B fires at 64*T1 = 32 s.
    assert_eq!(offsets_ms(&sent), [500, 1500, 3500, 7500, 15500, 31500]);
    assert!(events(&mut layer).is_empty());
    assert_eq!(layer.poll_timeout(), Some(t0 + Duration::from_secs(32)));
    assert!(run_until(&mut layer, t0, t0 + Duration::from_secs(60)).is_empty());
    assert!(sent
        .iter()
        .all(|(_, t)| method_of(t) == Some(&Method::Invite)));
    assert_eq!(
        events(&mut layer),
        [
            TxEvent::Timeout { key: key.clone() },
            TxEvent::Terminated { key }
        ]
    );
    assert_eq!(layer.len(), 0);
}

#[test]
fn invite_over_tcp_is_sent_once() {
    let (mut layer, t0, key, _) = start(Transport::Tcp, Method::Invite);
    let sent = run_until(&mut layer, t0, t0 + Duration::from_secs(60));
    assert!(sent.is_empty());
    assert_eq!(events(&mut layer)[0], TxEvent::Timeout { key });
    assert!(layer.is_empty());
}

#[test]
fn provisional_stops_timer_a_and_timer_b() {
    let (mut layer, t0, key, req) = start(Transport::Udp, Method::Invite);
    receive(&mut layer, t0 + ms(200), answer(&req, 180));
    assert!(
        matches!(&events(&mut layer)[..], [TxEvent::Response { response, .. }] if response.status == 180)
    );
    assert_eq!(layer.state_of(&key).as_deref(), Some("Proceeding"));
    assert_eq!(layer.poll_timeout(), None);
}

#[test]
fn non_2xx_final_is_acked_by_the_layer() {
    let (mut layer, t0, key, req) = start(Transport::Udp, Method::Invite);
    receive(&mut layer, t0 + ms(100), answer(&req, 486));
    let sent = transmits(&mut layer);
    let [ack] = &sent[..] else {
        panic!("one ACK expected: {sent:?}")
    };
    let Message::Request(ack) = &ack.message else {
        panic!("ACK is a request")
    };
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, req.uri);
    assert_eq!(
        ack.headers.get_all("Via").collect::<Vec<_>>(),
        [req.headers.get("Via").unwrap()]
    );
    assert_eq!(ack.headers.get("CSeq"), Some("1 ACK"));
    assert_eq!(
        ack.headers.get("To"),
        Some("<sip:112@siaga.example>;tag=totag")
    );
    assert_eq!(ack.headers.get("From"), req.headers.get("From"));
    assert_eq!(ack.headers.get("Call-ID"), req.headers.get("Call-ID"));
    assert_eq!(ack.headers.get("Route"), Some("<sip:proxy.example;lr>"));
    assert_eq!(events(&mut layer).len(), 1);
    assert_eq!(layer.state_of(&key).as_deref(), Some("Completed"));

    // A retransmitted 486 re-triggers the ACK but is not passed up again.
    receive(&mut layer, t0 + ms(600), answer(&req, 486));
    assert_eq!(transmits(&mut layer).len(), 1);
    assert!(events(&mut layer).is_empty());

    // Timer D: 32 s over UDP, then the key is gone.
    assert_eq!(
        layer.poll_timeout(),
        Some(t0 + ms(100) + Duration::from_secs(32))
    );
    run_until(&mut layer, t0, t0 + Duration::from_secs(40));
    assert_eq!(events(&mut layer), [TxEvent::Terminated { key }]);
    assert!(layer.is_empty());
}

#[test]
fn non_2xx_final_over_tcp_terminates_at_once() {
    let (mut layer, t0, key, req) = start(Transport::Tcp, Method::Invite);
    receive(&mut layer, t0 + ms(100), answer(&req, 503));
    assert_eq!(transmits(&mut layer).len(), 1);
    let evs = events(&mut layer);
    assert_eq!(evs.last(), Some(&TxEvent::Terminated { key }));
    assert!(layer.is_empty());
}

#[test]
fn two_xx_enters_accepted_and_passes_retransmissions_up() {
    let (mut layer, t0, key, req) = start(Transport::Udp, Method::Invite);
    receive(&mut layer, t0 + ms(100), answer(&req, 200));
    receive(&mut layer, t0 + ms(600), answer(&req, 200));
    // The ACK for a 2xx is the TU's job (§13.2.2.4): the layer sends nothing.
    assert!(transmits(&mut layer).is_empty());
    let evs = events(&mut layer);
    assert_eq!(evs.len(), 2);
    assert!(evs
        .iter()
        .all(|e| matches!(e, TxEvent::Response { response, .. } if response.status == 200)));
    assert_eq!(layer.state_of(&key).as_deref(), Some("Accepted"));
    // Timer M ends it quietly.
    run_until(&mut layer, t0, t0 + Duration::from_secs(33));
    assert_eq!(events(&mut layer), [TxEvent::Terminated { key }]);
}

#[test]
fn non_invite_timer_e_caps_at_t2_and_timer_f_times_out() {
    let (mut layer, t0, key, _) = start(Transport::Udp, Method::Options);
    let sent = run_until(&mut layer, t0, t0 + Duration::from_secs(60));
    assert_eq!(
        offsets_ms(&sent),
        [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
    );
    assert_eq!(events(&mut layer)[0], TxEvent::Timeout { key });
    assert!(layer.is_empty());
}

#[test]
fn non_invite_in_proceeding_retransmits_every_t2() {
    let (mut layer, t0, key, req) = start(Transport::Udp, Method::Bye);
    receive(&mut layer, t0 + ms(100), answer(&req, 100));
    let sent = run_until(&mut layer, t0, t0 + Duration::from_secs(10));
    assert_eq!(offsets_ms(&sent), [500, 4500, 8500]);
    assert_eq!(layer.state_of(&key).as_deref(), Some("Proceeding"));
}

#[test]
fn non_invite_final_waits_timer_k_and_absorbs_retransmissions() {
    let (mut layer, t0, key, req) = start(Transport::Udp, Method::Options);
    receive(&mut layer, t0 + ms(100), answer(&req, 200));
    receive(&mut layer, t0 + ms(700), answer(&req, 200));
    assert_eq!(events(&mut layer).len(), 1);
    assert_eq!(layer.poll_timeout(), Some(t0 + ms(5100)));
    assert!(run_until(&mut layer, t0, t0 + Duration::from_secs(6)).is_empty());
    assert_eq!(events(&mut layer), [TxEvent::Terminated { key }]);

    let (mut tcp, t0, key, req) = start(Transport::Tcp, Method::Options);
    receive(&mut tcp, t0, answer(&req, 200));
    assert_eq!(events(&mut tcp).last(), Some(&TxEvent::Terminated { key }));
    assert!(tcp.is_empty());
}

#[test]
fn unmatched_response_is_stray() {
    let mut layer = TransactionLayer::new(Timers::default());
    let req = request(Method::Options, "z9hG4bKnone", US);
    receive(&mut layer, Instant::now(), answer(&req, 200));
    assert!(
        matches!(&events(&mut layer)[..], [TxEvent::StrayResponse { response, .. }] if response.status == 200)
    );
}

#[test]
fn send_request_refuses_ack_duplicates_and_legacy_branches() {
    let (mut layer, t0, _, req) = start(Transport::Udp, Method::Invite);
    let to = peer(SEAT, Transport::Udp);
    let dup = layer.send_request(t0, to, req.clone());
    assert!(matches!(dup, Err(TransactionError::Duplicate { .. })));
    let ack = request(Method::Ack, "z9hG4bKa", US);
    assert_eq!(
        layer.send_request(t0, to, ack),
        Err(TransactionError::AckNotTransaction)
    );
    let legacy = request(Method::Options, "1234", US);
    assert_eq!(
        layer.send_request(t0, to, legacy),
        Err(TransactionError::NoRfc3261Branch)
    );
    let mut no_via = req;
    no_via.headers.remove("Via");
    assert_eq!(
        layer.send_request(t0, to, no_via),
        Err(TransactionError::MissingHeader { header: "Via" })
    );
}
