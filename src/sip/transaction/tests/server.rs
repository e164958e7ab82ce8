//! Server transactions: Figures 7 and 8, RFC 6026 Accepted.

use super::*;

fn caller(transport: Transport) -> Peer {
    peer(CALLER, transport)
}

/// A layer that received `req`; returns the new key (the auto 100 Trying is drained).
fn receive_new(transport: Transport, req: &Request) -> (TransactionLayer, Instant, TxKey) {
    let mut layer = TransactionLayer::new(Timers::default());
    let t0 = Instant::now();
    layer.handle_message(t0, caller(transport), Message::Request(req.clone()));
    let key = match &events(&mut layer)[..] {
        [TxEvent::Request { key, request, from }] => {
            assert_eq!((request, *from), (req, caller(transport)));
            key.clone()
        }
        other => panic!("expected one Request event, got {other:?}"),
    };
    transmits(&mut layer);
    (layer, t0, key)
}

fn send(layer: &mut TransactionLayer, now: Instant, req: &Request) {
    layer.handle_message(now, caller(Transport::Udp), Message::Request(req.clone()));
}

/// The ACK a UAC sends for a 2xx: a new branch, the To tag of the 2xx (§13.2.2.4).
fn ack_for_2xx(invite: &Request) -> Request {
    let mut ack = request(Method::Ack, "z9hG4bKack2xx", CALLER);
    ack.headers.set("To", "<sip:112@siaga.example>;tag=totag");
    ack.headers
        .set("Call-ID", invite.headers.get("Call-ID").unwrap());
    ack
}

#[test]
fn invite_gets_100_and_retransmission_in_proceeding_resends_180() {
    let invite = request(Method::Invite, "z9hG4bKs1", CALLER);
    let mut layer = TransactionLayer::new(Timers::default());
    let t0 = Instant::now();
    send(&mut layer, t0, &invite);
    let sent = transmits(&mut layer);
    assert_eq!(sent.iter().map(status_of).collect::<Vec<_>>(), [Some(100)]);
    assert_eq!(sent[0].to, caller(Transport::Udp));
    let key = match &events(&mut layer)[..] {
        [TxEvent::Request { key, .. }] => key.clone(),
        other => panic!("{other:?}"),
    };
    layer
        .respond(t0 + ms(50), &key, answer(&invite, 180))
        .unwrap();
    assert_eq!(status_of(&transmits(&mut layer)[0]), Some(180));

    send(&mut layer, t0 + ms(500), &invite);
    let resent = transmits(&mut layer);
    assert_eq!(
        resent.iter().map(status_of).collect::<Vec<_>>(),
        [Some(180)]
    );
    assert!(events(&mut layer).is_empty(), "retransmission is absorbed");
    assert_eq!(layer.len(), 1);
}

#[test]
fn two_xx_is_retransmitted_until_the_ack_then_silence() {
    let invite = request(Method::Invite, "z9hG4bKs2", CALLER);
    let (mut layer, t0, key) = receive_new(Transport::Udp, &invite);
    let t1 = t0 + Duration::from_secs(1);
    layer.respond(t1, &key, answer(&invite, 200)).unwrap();
    assert_eq!(transmits(&mut layer).len(), 1);
    let sent = run_until(&mut layer, t1, t1 + ms(5000));
    assert_eq!(offsets_ms(&sent), [500, 1500, 3500]);
    assert!(sent.iter().all(|(_, t)| status_of(t) == Some(200)));

    // A retransmitted INVITE in Accepted is absorbed (RFC 6026 §7.1).
    send(&mut layer, t1 + ms(5000), &invite);
    assert!(transmits(&mut layer).is_empty());

    let ack = ack_for_2xx(&invite);
    send(&mut layer, t1 + ms(5000), &ack);
    assert_eq!(
        events(&mut layer),
        [TxEvent::Ack {
            from: caller(Transport::Udp),
            request: ack
        }]
    );
    assert!(run_until(&mut layer, t1, t1 + Duration::from_secs(60)).is_empty());
    // Timer L ends it without a Timeout: the ACK came.
    assert_eq!(events(&mut layer), [TxEvent::Terminated { key }]);
    assert!(layer.is_empty());
}

#[test]
fn two_xx_without_ack_times_out_with_timer_l() {
    let invite = request(Method::Invite, "z9hG4bKs3", CALLER);
    let (mut layer, t0, key) = receive_new(Transport::Udp, &invite);
    layer.respond(t0, &key, answer(&invite, 200)).unwrap();
    transmits(&mut layer);
    let sent = run_until(&mut layer, t0, t0 + Duration::from_secs(60));
    assert_eq!(
        offsets_ms(&sent),
        [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
    );
    assert_eq!(
        events(&mut layer),
        [
            TxEvent::Timeout { key: key.clone() },
            TxEvent::Terminated { key }
        ]
    );
}

#[test]
fn ack_for_487_is_absorbed_in_confirmed() {
    let invite = request(Method::Invite, "z9hG4bKs4", CALLER);
    let (mut layer, t0, key) = receive_new(Transport::Udp, &invite);
    layer.respond(t0, &key, answer(&invite, 487)).unwrap();
    transmits(&mut layer);
    // Timer G retransmits the 487 until the ACK.
    let sent = run_until(&mut layer, t0, t0 + ms(2000));
    assert_eq!(offsets_ms(&sent), [500, 1500]);
    let mut ack = request(Method::Ack, "z9hG4bKs4", CALLER);
    ack.headers.set("To", "<sip:112@siaga.example>;tag=totag");
    send(&mut layer, t0 + ms(2000), &ack);
    assert!(
        events(&mut layer).is_empty(),
        "ACK for a non-2xx is not passed up"
    );
    assert_eq!(layer.state_of(&key).as_deref(), Some("Confirmed"));
    // Retransmitted ACK and INVITE are absorbed; Timer I (T4) ends it.
    send(&mut layer, t0 + ms(2100), &ack);
    send(&mut layer, t0 + ms(2100), &invite);
    assert!(transmits(&mut layer).is_empty());
    assert_eq!(layer.poll_timeout(), Some(t0 + ms(7000)));
    assert!(run_until(&mut layer, t0, t0 + ms(7000)).is_empty());
    assert_eq!(events(&mut layer), [TxEvent::Terminated { key }]);
}

#[test]
fn non_2xx_without_ack_times_out_with_timer_h() {
    let invite = request(Method::Invite, "z9hG4bKs5", CALLER);
    let (mut layer, t0, key) = receive_new(Transport::Tcp, &invite);
    layer.respond(t0, &key, answer(&invite, 486)).unwrap();
    transmits(&mut layer);
    // No Timer G over TCP; Timer H still waits 64*T1 for the ACK.
    assert!(run_until(&mut layer, t0, t0 + ms(31_999)).is_empty());
    assert!(events(&mut layer).is_empty());
    run_until(&mut layer, t0, t0 + Duration::from_secs(32));
    assert_eq!(events(&mut layer)[0], TxEvent::Timeout { key });
}

#[test]
fn rfc2543_request_without_cookie_matches_its_retransmission() {
    let invite = request(Method::Invite, "1234", CALLER);
    let (mut layer, t0, key) = receive_new(Transport::Udp, &invite);
    assert_eq!(key.branch(), None);
    send(&mut layer, t0 + ms(500), &invite);
    assert!(events(&mut layer).is_empty());
    assert_eq!(
        transmits(&mut layer)
            .iter()
            .map(status_of)
            .collect::<Vec<_>>(),
        [Some(100)]
    );
    // Its ACK (same key fields, To tag added) matches too.
    layer
        .respond(t0 + ms(600), &key, answer(&invite, 404))
        .unwrap();
    let mut ack = invite.clone();
    ack.method = Method::Ack;
    ack.headers.set("To", "<sip:112@siaga.example>;tag=totag");
    ack.headers.set("CSeq", "1 ACK");
    send(&mut layer, t0 + ms(700), &ack);
    assert_eq!(layer.state_of(&key).as_deref(), Some("Confirmed"));
    assert_eq!(layer.len(), 1);
}

#[test]
fn cancel_is_its_own_transaction_and_finds_the_invite() {
    let invite = request(Method::Invite, "z9hG4bKs6", CALLER);
    let (mut layer, t0, invite_key) = receive_new(Transport::Udp, &invite);
    let cancel = request(Method::Cancel, "z9hG4bKs6", CALLER);
    send(&mut layer, t0 + ms(300), &cancel);
    let cancel_key = match &events(&mut layer)[..] {
        [TxEvent::Request { key, request, .. }] if request.method == Method::Cancel => key.clone(),
        other => panic!("{other:?}"),
    };
    assert_ne!(cancel_key, invite_key);
    assert_eq!(
        layer.find_invite_for_cancel(&cancel),
        Some(invite_key.clone())
    );
    let other = request(Method::Cancel, "z9hG4bKother", CALLER);
    assert_eq!(layer.find_invite_for_cancel(&other), None);

    layer
        .respond(t0 + ms(310), &cancel_key, answer(&cancel, 200))
        .unwrap();
    layer
        .respond(t0 + ms(310), &invite_key, answer(&invite, 487))
        .unwrap();
    let statuses: Vec<_> = transmits(&mut layer).iter().map(status_of).collect();
    assert_eq!(statuses, [Some(200), Some(487)]);
    assert_eq!(layer.len(), 2);
}

#[test]
fn non_invite_server_resends_its_last_response_until_timer_j() {
    let bye = request(Method::Bye, "z9hG4bKs7", CALLER);
    let (mut layer, t0, key) = receive_new(Transport::Udp, &bye);
    // Nothing to re-send in Trying: the retransmission is absorbed.
    send(&mut layer, t0 + ms(500), &bye);
    assert!(transmits(&mut layer).is_empty());
    layer
        .respond(t0 + ms(600), &key, answer(&bye, 200))
        .unwrap();
    assert_eq!(transmits(&mut layer).len(), 1);
    send(&mut layer, t0 + ms(1500), &bye);
    assert_eq!(
        transmits(&mut layer)
            .iter()
            .map(status_of)
            .collect::<Vec<_>>(),
        [Some(200)]
    );
    assert!(events(&mut layer).is_empty());
    assert_eq!(layer.poll_timeout(), Some(t0 + ms(32_600)));
    run_until(&mut layer, t0, t0 + Duration::from_secs(40));
    assert_eq!(events(&mut layer), [TxEvent::Terminated { key }]);

    let (mut tcp, t0, key) = receive_new(Transport::Tcp, &bye);
    tcp.respond(t0, &key, answer(&bye, 200)).unwrap();
    assert_eq!(events(&mut tcp), [TxEvent::Terminated { key }]);
    assert!(tcp.is_empty());
}

#[test]
fn respond_errors_are_typed() {
    let invite = request(Method::Invite, "z9hG4bKs8", CALLER);
    let (mut layer, t0, key) = receive_new(Transport::Udp, &invite);
    let bad = layer.respond(t0, &key, Response::new(99));
    assert_eq!(bad, Err(TransactionError::InvalidStatus { status: 99 }));
    layer.respond(t0, &key, answer(&invite, 486)).unwrap();
    let late = layer.respond(t0, &key, answer(&invite, 200));
    assert_eq!(
        late,
        Err(TransactionError::AlreadyFinal {
            status: 486,
            attempted: 200
        })
    );
    let client_key = layer
        .send_request(
            t0,
            peer(SEAT, Transport::Udp),
            request(Method::Options, "z9hG4bKc", "203.0.113.5"),
        )
        .unwrap();
    assert_eq!(
        layer.respond(t0, &client_key, answer(&invite, 200)),
        Err(TransactionError::NotServer)
    );
    let gone = TransactionLayer::new(Timers::default()).respond(t0, &key, answer(&invite, 200));
    assert!(matches!(gone, Err(TransactionError::Unknown { .. })));
}

#[test]
fn ack_matching_nothing_goes_to_the_dialog_layer() {
    let mut layer = TransactionLayer::new(Timers::default());
    let ack = ack_for_2xx(&request(Method::Invite, "z9hG4bKgone", CALLER));
    send(&mut layer, Instant::now(), &ack);
    assert!(matches!(&events(&mut layer)[..], [TxEvent::Ack { .. }]));
    assert!(layer.is_empty());
}

#[test]
fn table_empties_after_all_timers() {
    let mut layer = TransactionLayer::new(Timers::default());
    let t0 = Instant::now();
    for i in 0..20 {
        let invite = request(Method::Invite, &format!("z9hG4bKinv{i}"), CALLER);
        send(&mut layer, t0, &invite);
        let key = TxKey::server(&invite).unwrap();
        let status = [180, 200, 486, 503][i % 4];
        layer.respond(t0, &key, answer(&invite, status)).unwrap();
        let opts = request(Method::Options, &format!("z9hG4bKout{i}"), "203.0.113.5");
        layer
            .send_request(t0, peer(SEAT, Transport::Udp), opts)
            .unwrap();
    }
    assert_eq!(layer.len(), 40);
    // INVITEs answered 180 stay in Proceeding until the TU answers them finally.
    for i in (0..20).step_by(4) {
        let invite = request(Method::Invite, &format!("z9hG4bKinv{i}"), CALLER);
        let key = TxKey::server(&invite).unwrap();
        layer
            .respond(t0 + ms(100), &key, answer(&invite, 487))
            .unwrap();
    }
    run_until(&mut layer, t0, t0 + Duration::from_secs(120));
    assert_eq!(layer.len(), 0);
    assert_eq!(layer.poll_timeout(), None);
    assert_eq!(layer.ack_matchers(), 0);
}

#[test]
fn ack_for_2xx_reusing_the_invite_branch_still_stops_retransmission() {
    let invite = request(Method::Invite, "z9hG4bKs9", CALLER);
    let (mut layer, t0, key) = receive_new(Transport::Udp, &invite);
    layer.respond(t0, &key, answer(&invite, 200)).unwrap();
    let mut ack = request(Method::Ack, "z9hG4bKs9", CALLER);
    ack.headers.set("To", "<sip:112@siaga.example>;tag=totag");
    send(&mut layer, t0 + ms(100), &ack);
    assert!(matches!(&events(&mut layer)[..], [TxEvent::Ack { .. }]));
    transmits(&mut layer);
    assert!(run_until(&mut layer, t0, t0 + Duration::from_secs(40)).is_empty());
    assert_eq!(events(&mut layer), [TxEvent::Terminated { key }]);
}

#[test]
fn same_branch_from_another_sent_by_is_another_transaction() {
    let invite = request(Method::Invite, "z9hG4bKs10", CALLER);
    let (mut layer, t0, _) = receive_new(Transport::Udp, &invite);
    let other = request(Method::Invite, "z9hG4bKs10", "192.0.2.99:5060");
    send(&mut layer, t0, &other);
    assert!(matches!(&events(&mut layer)[..], [TxEvent::Request { .. }]));
    assert_eq!(layer.len(), 2);
}
