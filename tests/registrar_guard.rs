//! Issue 10 on the wire: the real `siaga` binary, REGISTERs over real UDP sockets from several
//! loopback source addresses (127.0.0.0/8), digests computed here (RFC 7616 §3.4.1, MD5,
//! qop=auth) with the hash crate directly, not with the registrar's code.
//!
//! - forged nonce: five blind REGISTERs with a made-up nonce do not lock the source out;
//! - NAT: wrong passwords for seat4 silence seat4 for that address, the other seats on the
//!   same address still register;
//! - distributed: many sources guessing, then the right password from a NEW source is
//!   refused while the seat's own source still registers; the alarm is logged;
//! - untrusted INVITE: one 403, no retransmission.

mod common;

use common::Gateway;
use md5::Digest as _;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// A SIP client on one loopback source address.
struct Client {
    sock: UdpSocket,
    gw: SocketAddr,
    n: u32,
}

impl Client {
    fn on(ip: &str, gw: SocketAddr) -> Client {
        let sock = UdpSocket::bind((ip, 0)).expect("bind a loopback source");
        Client { sock, gw, n: 0 }
    }

    fn local(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// Sends one REGISTER for `seat` (with `auth` when given) and waits up to `wait` for a
    /// final response; returns its status and the raw text.
    fn register(
        &mut self,
        seat: &str,
        auth: Option<String>,
        wait: Duration,
    ) -> Option<(u16, String)> {
        self.n += 1;
        let (local, n) = (self.local(), self.n);
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let msg = format!(
            "REGISTER sip:siaga.local SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK{n}x{seat};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{seat}@siaga.local>;tag=t{n}\r\nTo: <sip:{seat}@siaga.local>\r\n\
             Call-ID: {seat}-{local}\r\nCSeq: {n} REGISTER\r\nContact: <sip:{seat}@{local}>\r\nExpires: 300\r\n\
             {auth}Content-Length: 0\r\n\r\n"
        );
        self.sock.send_to(msg.as_bytes(), self.gw).unwrap();
        self.final_response(wait)
    }

    fn final_response(&self, wait: Duration) -> Option<(u16, String)> {
        let end = Instant::now() + wait;
        let mut buf = [0u8; 8192];
        while Instant::now() < end {
            self.sock
                .set_read_timeout(Some((end - Instant::now()).max(Duration::from_millis(1))))
                .unwrap();
            let Ok((len, _)) = self.sock.recv_from(&mut buf) else {
                break;
            };
            let text = String::from_utf8_lossy(&buf[..len]).to_string();
            let status: u16 = text.get(8..11).and_then(|s| s.parse().ok()).unwrap_or(0);
            if status >= 200 {
                return Some((status, text));
            }
        }
        None
    }

    /// 401 first, then the digest answer with `password`.
    fn login(&mut self, seat: &str, password: &str, wait: Duration) -> Option<u16> {
        let (status, text) = self.register(seat, None, Duration::from_secs(5))?;
        assert_eq!(status, 401, "{text}");
        let nonce = param(&text, "nonce");
        let auth = digest(seat, password, &nonce);
        self.register(seat, Some(auth), wait).map(|(s, _)| s)
    }
}

fn param(text: &str, name: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.starts_with("WWW-Authenticate"))
        .expect("a challenge");
    let start = line.find(&format!("{name}=\"")).expect("param") + name.len() + 2;
    line[start..line[start..].find('"').unwrap() + start].to_string()
}

fn md5(s: &str) -> String {
    format!("{:x}", md5::Md5::digest(s.as_bytes()))
}

fn digest(user: &str, password: &str, nonce: &str) -> String {
    let uri = "sip:siaga.local";
    let ha1 = md5(&format!("{user}:siaga:{password}"));
    let ha2 = md5(&format!("REGISTER:{uri}"));
    let response = md5(&format!("{ha1}:{nonce}:00000001:cafe:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"siaga\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"cafe\""
    )
}

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn forged_nonces_do_not_lock_the_source_out() {
    let gw = Gateway::start(&[("SIAGA__REGISTRAR__LOCKOUT_FAILURES", "2")]);
    let mut c = Client::on("127.0.0.1", gw.sip);
    for _ in 0..5 {
        let blind = digest("seat1", "guess", "0123456789abcdef0123456789abcdef");
        let (status, text) = c.register("seat1", Some(blind), WAIT).expect("an answer");
        assert_eq!(status, 401, "{text}");
        assert!(!text.contains("stale=true"), "{text}");
    }
    assert_eq!(
        c.login("seat1", "siaga-seat1", WAIT),
        Some(200),
        "{}",
        gw.log()
    );
    gw.stop();
}

#[test]
fn nat_wrong_password_for_one_seat_leaves_the_others_registering() {
    let gw = Gateway::start(&[
        ("SIAGA__REGISTRAR__LOCKOUT_FAILURES", "2"),
        ("SIAGA__REGISTRAR__BACKOFF_MAX_S", "1"),
        ("SIAGA__REGISTRAR__LOCKOUT_S", "60"),
    ]);
    let mut nat = Client::on("127.0.0.1", gw.sip);
    // 2 × lockout_failures wrong passwords for seat4: slowed (1 s), then silence.
    for _ in 0..4 {
        assert_eq!(nat.login("seat4", "wrong", WAIT), Some(403), "{}", gw.log());
    }
    let started = Instant::now();
    assert_eq!(
        nat.login("seat4", "siaga-seat4", Duration::from_secs(3)),
        None,
        "silenced"
    );
    assert!(started.elapsed() >= Duration::from_secs(3));
    // Every other seat behind the same address registers at once.
    for seat in ["seat1", "seat2", "seat3"] {
        let t = Instant::now();
        assert_eq!(
            nat.login(seat, &format!("siaga-{seat}"), WAIT),
            Some(200),
            "{seat}"
        );
        assert!(t.elapsed() < Duration::from_secs(1), "{seat} not slowed");
    }
    gw.stop();
}

#[test]
fn distributed_guessing_then_the_right_password_from_a_new_source() {
    let gw = Gateway::start(&[
        ("SIAGA__REGISTRAR__ACCOUNT_FAILURES", "10"),
        ("SIAGA__REGISTRAR__ALARM_SOURCES", "5"),
    ]);
    // The call taker's phone registers seat2 from its own address.
    let mut own = Client::on("127.0.0.2", gw.sip);
    assert_eq!(own.login("seat2", "siaga-seat2", WAIT), Some(200));
    // 12 sources × 2 guesses each (below the per-source threshold of 5).
    let started = Instant::now();
    let mut guesses = 0;
    for n in 1..=12 {
        let mut c = Client::on(&format!("127.0.1.{n}"), gw.sip);
        for _ in 0..2 {
            assert_eq!(
                c.login("seat2", &format!("guess{guesses}"), WAIT),
                Some(403)
            );
            guesses += 1;
        }
    }
    eprintln!(
        "{guesses} distributed guesses answered in {:?}",
        started.elapsed()
    );
    // The right password from a new source is not accepted...
    let mut new = Client::on("127.0.2.1", gw.sip);
    assert_eq!(
        new.login("seat2", "siaga-seat2", Duration::from_secs(20)),
        Some(403)
    );
    // ...while the seat's own source still registers.
    assert_eq!(own.login("seat2", "siaga-seat2", WAIT), Some(200));
    let log = gw.log();
    assert!(log.contains("ALARM: password guessing"), "{log}");
    // ...and the alarm reaches monitoring too.
    let page = common::http_get(gw.api, "/metrics");
    let alarms = page
        .lines()
        .find_map(|l| l.strip_prefix("siaga_registrar_distributed_alarms_total "))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(alarms.is_some_and(|n| n >= 1), "{page}");
    gw.stop();
}

#[test]
fn untrusted_invite_gets_one_403_and_no_retransmission() {
    // Only 127.0.0.1 is the trunk: 127.0.0.9 is untrusted.
    let gw = Gateway::start(&[("SIAGA__TRUNK__ALLOW", "127.0.0.1/32")]);
    let c = Client::on("127.0.0.9", gw.sip);
    let local = c.local();
    let invite = format!(
        "INVITE sip:112@siaga.local SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKinv1;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:attacker@{local}>;tag=a1\r\nTo: <sip:112@siaga.local>\r\n\
         Call-ID: amp-{local}\r\nCSeq: 1 INVITE\r\nContact: <sip:attacker@{local}>\r\nContent-Length: 0\r\n\r\n"
    );
    c.sock.send_to(invite.as_bytes(), gw.sip).unwrap();
    // Count everything that comes back within 6 s (Timer G would resend at 0.5, 1.5, 3.5 s).
    let end = Instant::now() + Duration::from_secs(6);
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    while Instant::now() < end {
        c.sock
            .set_read_timeout(Some((end - Instant::now()).max(Duration::from_millis(1))))
            .unwrap();
        if let Ok((len, _)) = c.sock.recv_from(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..len]).to_string());
        }
    }
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("SIP/2.0 403"), "{}", got[0]);
    assert!(got[0].contains("\r\nServer: PSAP\r\n"), "{}", got[0]);
    assert!(
        !got[0].to_ascii_lowercase().contains("siaga/"),
        "{}",
        got[0]
    );
    gw.stop();
}

#[test]
fn repeated_refusals_are_logged_on_a_budget_and_the_server_text_is_configured() {
    let gw = Gateway::start(&[("SIAGA__SIP__USER_AGENT", "Kota-Cirebon-PSAP")]);
    // 10 sources × 20 wrong logins for unknown users: 200 refusals (403).
    let mut refused = 0;
    for n in 1..=10 {
        let mut c = Client::on(&format!("127.0.4.{n}"), gw.sip);
        for i in 0..20 {
            if c.login(&format!("nobody{i}"), "guess", WAIT) == Some(403) {
                refused += 1;
            }
        }
    }
    assert_eq!(refused, 200);
    let mut c = Client::on("127.0.4.99", gw.sip);
    let (status, text) = c.register("seat1", None, WAIT).unwrap();
    assert_eq!(status, 401);
    assert!(text.contains("\r\nServer: Kota-Cirebon-PSAP\r\n"), "{text}");
    // The whole log file (Gateway::log shows only its tail).
    let log = std::fs::read_to_string(gw.dir().join("siaga.log")).unwrap();
    let lines = log.matches("REGISTER refused").count();
    eprintln!("{refused} refusals, {lines} log lines");
    assert!(
        (1..=30).contains(&lines),
        "{lines} lines for {refused} refusals"
    );
    gw.stop();
}
