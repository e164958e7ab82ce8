//! Issue 10: the guessing defence and allow lists, through the registrar, in simulated time.
use super::*;

fn at(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A REGISTER for `seat` with credentials built on `nonce` (made up or issued).
fn with_nonce(seat: &str, password: &str, nonce: &str) -> Request {
    let mut req = register(seat, "c1", 1, &[]);
    authorize(&mut req, seat, password, Algorithm::Sha256, nonce, Some(1));
    req
}

#[test]
fn forged_nonces_count_nothing_and_get_a_fresh_challenge() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    for _ in 0..5 {
        let resp = answer(
            &mut reg,
            t0,
            src(),
            &with_nonce("seat01", "guess", "deadbeef"),
        );
        assert_eq!(resp.status, 401);
        assert!(challenges(&resp).iter().all(|c| !c.2), "not stale");
    }
    assert_eq!(reg.stats().guard.failures, 0);
    assert_eq!(reg.stats().unknown_nonces, 5);
    // The seat on that address registers at once.
    let req = register("seat01", "c1", 2, &["<sip:seat01@192.0.2.10>"]);
    assert_eq!(
        login(&mut reg, t0, &req, "s3cret-01", Algorithm::Sha256).status,
        200
    );
}

#[test]
fn a_nonce_issued_to_another_source_is_unknown_here() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let req = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    let nonce = challenges(&answer(&mut reg, t0, at("198.51.100.1:5060"), &req))[0]
        .1
        .clone();
    // Even with the right password: the nonce was not issued to this source.
    let resp = answer(
        &mut reg,
        t0,
        src(),
        &with_nonce("seat01", "s3cret-01", &nonce),
    );
    assert_eq!(resp.status, 401);
    assert_eq!(reg.stats().guard.failures, 0);
}

#[test]
fn nat_wrong_password_for_one_seat_leaves_the_others() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let req2 = register("seat02", "c2", 1, &["<sip:seat02@192.0.2.10>"]);
    // Six wrong passwords for seat02 from the shared address: slowed, then silent.
    let mut t = t0;
    let mut delays = Vec::new();
    for _ in 0..6 {
        let first = answer(&mut reg, t, src(), &req2);
        let nonce = challenges(&first)[0].1.clone();
        let guess = with_nonce("seat02", "guess", &nonce);
        assert!(reg.admits(t, src(), &guess));
        let reply = reg.handle_register(t, src(), &guess);
        assert_eq!(reply.response.status, 403);
        delays.push(reply.delay.as_secs());
        t += reply.delay;
    }
    assert_eq!(delays, [0, 0, 1, 2, 4, 16]);
    let nonce = challenges(&answer(&mut reg, t, src(), &req2))[0].1.clone();
    assert!(
        !reg.admits(t, src(), &with_nonce("seat02", "pw-02", &nonce)),
        "silenced"
    );
    assert!(!reg.admits(t + secs(280), src(), &with_nonce("seat02", "pw-02", &nonce)));
    // seat01 behind the same address registers at once.
    let req1 = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    assert_eq!(
        login(&mut reg, t, &req1, "s3cret-01", Algorithm::Sha256).status,
        200
    );
}

#[test]
fn slowed_answers_refuse_even_the_right_password_until_due() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let req = register("seat02", "c2", 1, &["<sip:seat02@192.0.2.10>"]);
    let mut delays = Vec::new();
    for _ in 0..3 {
        let nonce = challenges(&answer(&mut reg, t0, src(), &req))[0].1.clone();
        let reply = reg.handle_register(t0, src(), &with_nonce("seat02", "guess", &nonce));
        delays.push(reply.delay);
    }
    assert_eq!(delays, [secs(0), secs(0), secs(1)]);
    let nonce = challenges(&answer(&mut reg, t0, src(), &req))[0].1.clone();
    let early = reg.handle_register(t0, src(), &with_nonce("seat02", "pw-02", &nonce));
    assert_eq!((early.response.status, early.delay), (403, secs(1)));
    let t1 = t0 + secs(1);
    assert_eq!(
        login(&mut reg, t1, &req, "pw-02", Algorithm::Sha256).status,
        200
    );
}

#[test]
fn distributed_guessing_then_the_right_password_from_a_new_source() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let own = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    assert_eq!(
        login(&mut reg, t0, &own, "s3cret-01", Algorithm::Sha256).status,
        200
    );
    // 12 sources × 2 guesses (each pair below the threshold of 3).
    for n in 1..=12u8 {
        let source = SocketAddr::from(([203, 0, 113, n], 5060));
        for _ in 0..2 {
            let resp = login_from(&mut reg, t0, source, &own, "guess", Algorithm::Sha256);
            assert_eq!(resp.status, 403);
        }
    }
    assert_eq!(reg.stats().guard.distributed_alarms, 1);
    assert!(reg.stats().guard.protections >= 1);
    // The right password from a new source is refused...
    let new = at("203.0.113.200:5060");
    let t1 = t0 + secs(5);
    let resp = login_from(&mut reg, t1, new, &own, "s3cret-01", Algorithm::Sha256);
    assert_eq!(resp.status, 403);
    assert!(reg
        .contacts_for(t1, "seat01")
        .iter()
        .all(|b| b.source != new));
    // ...while the seat's own source still registers.
    let mut again = own.clone();
    again.headers.set("CSeq", "2 REGISTER");
    assert_eq!(
        login(&mut reg, t1, &again, "s3cret-01", Algorithm::Sha256).status,
        200
    );
}

#[test]
fn allow_from_refuses_outsiders_alike_for_real_and_unknown_seats() {
    let t0 = Instant::now();
    let mut s = settings();
    s.allow_from = vec!["192.0.2.0/24".parse().unwrap()];
    s.seats[1].allow_from = vec!["192.0.2.11/32".parse().unwrap()];
    let mut reg = Registrar::new(s);
    let outsider = at("198.51.100.9:5060");
    let real = answer(&mut reg, t0, outsider, &register("seat01", "c1", 1, &[]));
    let unknown = answer(&mut reg, t0, outsider, &register("nobody", "c1", 1, &[]));
    assert_eq!((real.status, unknown.status), (403, 403));
    assert_eq!(real.headers.get("Warning"), unknown.headers.get("Warning"));
    // Inside the registrar list, seat01 registers; seat02 only from 192.0.2.11.
    let r1 = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    assert_eq!(
        login(&mut reg, t0, &r1, "s3cret-01", Algorithm::Sha256).status,
        200
    );
    let r2 = register("seat02", "c2", 1, &["<sip:seat02@192.0.2.10>"]);
    let refused = login(&mut reg, t0, &r2, "pw-02", Algorithm::Sha256);
    let no_seat = login(
        &mut reg,
        t0,
        &register("nobody", "c3", 1, &[]),
        "x",
        Algorithm::Sha256,
    );
    assert_eq!((refused.status, no_seat.status), (403, 403));
    assert_eq!(
        refused.headers.get("Warning"),
        no_seat.headers.get("Warning")
    );
    let ok = login_from(
        &mut reg,
        t0,
        at("192.0.2.11:5060"),
        &r2,
        "pw-02",
        Algorithm::Sha256,
    );
    assert_eq!(ok.status, 200);
}

#[test]
fn a_binding_moving_to_a_new_source_is_counted() {
    let t0 = Instant::now();
    let mut reg = Registrar::new(settings());
    let req = register("seat01", "c1", 1, &["<sip:seat01@192.0.2.10>"]);
    assert_eq!(
        login(&mut reg, t0, &req, "s3cret-01", Algorithm::Sha256).status,
        200
    );
    let mut again = req.clone();
    again.headers.set("CSeq", "2 REGISTER");
    assert_eq!(
        login(&mut reg, t0, &again, "s3cret-01", Algorithm::Sha256).status,
        200
    );
    assert_eq!(reg.stats().binding_moves, 0);
    let mut moved = register("seat01", "c9", 1, &["<sip:seat01@198.51.100.5>"]);
    moved.headers.set("CSeq", "1 REGISTER");
    let resp = login_from(
        &mut reg,
        t0,
        at("198.51.100.5:5060"),
        &moved,
        "s3cret-01",
        Algorithm::Sha256,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(reg.stats().binding_moves, 1);
}
