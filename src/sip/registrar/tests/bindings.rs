//! Binding updates (RFC 3261 §10.3 steps 6-8), memory bounds and qualify state.

use super::*;

/// Logs in with SHA-256 and the given request (fresh challenge each time).
fn ok(reg: &mut Registrar, now: Instant, req: &Request) -> Response {
    login(reg, now, req, "s3cret-01", Algorithm::Sha256)
}

#[test]
fn two_contacts_then_expires_zero_on_one_then_wildcard() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let a = "<sip:seat01@192.0.2.10:5060>;q=0.5";
    let b = "<sip:seat01@192.0.2.10:5062;transport=tcp>;expires=600";
    let resp = ok(&mut reg, t0, &register("seat01", "c1", 1, &[a, b]));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers.count("Contact"), 2);
    let bound = reg.contacts_for(t0, "seat01");
    assert_eq!(bound[0].contact, "sip:seat01@192.0.2.10:5062;transport=tcp");
    assert_eq!(bound[1].q, Some(0.5));

    let gone = "<sip:seat01@192.0.2.10:5060>;expires=0";
    let resp = ok(
        &mut reg,
        t0 + secs(5),
        &register("seat01", "c1", 2, &[gone]),
    );
    let contacts: Vec<&str> = resp.headers.get_all("Contact").collect();
    assert_eq!(
        contacts,
        ["<sip:seat01@192.0.2.10:5062;transport=tcp>;expires=595"]
    );

    let mut bad = register("seat01", "c1", 3, &["*"]);
    assert_eq!(
        ok(&mut reg, t0 + secs(6), &bad).status,
        400,
        "* needs Expires: 0"
    );
    bad.headers.push("Expires", "0");
    bad.headers.push("Contact", "<sip:seat01@192.0.2.10>");
    assert_eq!(
        ok(&mut reg, t0 + secs(6), &bad).status,
        400,
        "* must be alone"
    );
    let mut all = register("seat01", "c1", 4, &["*"]);
    all.headers.push("Expires", "0");
    let resp = ok(&mut reg, t0 + secs(7), &all);
    assert_eq!((resp.status, resp.headers.count("Contact")), (200, 0));
    assert!(reg.contacts_for(t0 + secs(7), "seat01").is_empty());
}

#[test]
fn interval_too_brief_and_clamp() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let mut req = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    req.headers.push("Expires", "30");
    let resp = ok(&mut reg, t0, &req);
    assert_eq!(resp.status, 423);
    assert_eq!(resp.headers.get("Min-Expires"), Some("60"));
    assert!(reg.contacts_for(t0, "seat01").is_empty());
    req.headers.set("Expires", "100000");
    req.headers.set("CSeq", "2 REGISTER");
    let resp = ok(&mut reg, t0, &req);
    assert_eq!(
        resp.headers.get("Contact"),
        Some("<sip:seat01@192.0.2.10>;expires=7200")
    );
}

#[test]
fn out_of_order_cseq_is_refused() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let contact = ["<sip:seat01@192.0.2.10>"];
    assert_eq!(
        ok(&mut reg, t0, &register("seat01", "c1", 5, &contact)).status,
        200
    );
    assert_eq!(
        ok(&mut reg, t0, &register("seat01", "c1", 4, &contact)).status,
        500
    );
    assert_eq!(
        ok(&mut reg, t0, &register("seat01", "c1", 5, &contact)).status,
        500
    );
    // A new Call-ID (rebooted phone) may start low again.
    assert_eq!(
        ok(&mut reg, t0, &register("seat01", "c2", 1, &contact)).status,
        200
    );
    assert_eq!(reg.contacts_for(t0, "seat01")[0].call_id, "c2");
}

#[test]
fn flood_of_failing_sources_stays_bounded() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    for n in 0..12_000u32 {
        let source = SocketAddr::from(([10, (n >> 16) as u8, (n >> 8) as u8, n as u8], 5060));
        let mut req = register(&format!("user{}", n % 7), "c1", 1, &[]);
        let nonce = challenges(&answer(&mut reg, t0, source, &req))[0].1.clone();
        let user = format!("user{}", n % 7);
        authorize(&mut req, &user, "wrong", Algorithm::Md5, &nonce, Some(1));
        assert_eq!(answer(&mut reg, t0, source, &req).status, 403);
    }
    let (pairs, accounts) = reg.guard.sizes();
    assert!(pairs <= 10_000 && accounts <= 10_000, "{pairs} {accounts}");
    assert!(reg.nonces.len() <= NONCE_CAP);
}

#[test]
fn qualify_misses_make_a_seat_unreachable_until_it_answers() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    ok(
        &mut reg,
        t0,
        &register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]),
    );
    let state = |reg: &Registrar, now| reg.seats(now)[0].state;
    assert_eq!(state(&reg, t0), SeatState::Registered);
    assert_eq!(reg.seats(t0)[1].state, SeatState::Offline);
    assert!(reg.qualify_due(t0).is_empty());
    let probes = reg.qualify_due(t0 + secs(30));
    assert_eq!(probes.len(), 1);
    assert_eq!(
        (probes[0].to, probes[0].contact.as_str()),
        (src(), "sip:seat01@192.0.2.10")
    );
    reg.on_qualify_result("seat01", "sip:seat01@192.0.2.10", t0 + secs(62), false);
    assert!(reg.is_reachable(t0 + secs(62), "seat01"));
    reg.on_qualify_result("seat01", "sip:seat01@192.0.2.10", t0 + secs(92), false);
    assert!(!reg.is_reachable(t0 + secs(92), "seat01"));
    assert_eq!(state(&reg, t0 + secs(92)), SeatState::Unreachable);
    reg.on_qualify_result("seat01", "sip:seat01@192.0.2.10", t0 + secs(122), true);
    assert_eq!(state(&reg, t0 + secs(122)), SeatState::Registered);
    // The binding lapses after the default 3600 s.
    assert!(reg.poll_timeout().is_some());
    reg.expire(t0 + secs(3600));
    assert_eq!(state(&reg, t0 + secs(3600)), SeatState::Offline);
    assert!(reg.qualify_due(t0 + secs(4000)).is_empty());
}

#[test]
fn register_without_contact_is_a_query() {
    // RFC 3261 §10.3 step 8: 200 lists the current bindings; nothing changes.
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    ok(
        &mut reg,
        t0,
        &register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]),
    );
    let resp = ok(&mut reg, t0 + secs(100), &register("seat01", "c9", 1, &[]));
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.headers.get("Contact"),
        Some("<sip:seat01@192.0.2.10>;expires=3500")
    );
    assert_eq!(reg.contacts_for(t0 + secs(100), "seat01")[0].call_id, "c1");
}
