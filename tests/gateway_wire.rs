//! The running `siaga` binary on real loopback sockets: the RFC 4475 torture suite over UDP,
//! TCP framing and keep-alive, IPv6, and garbage that must not take the gateway down.

mod common;

use common::{free_port, options_request, Gateway};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

/// Final status expected from the running gateway for each torture message: a number is
/// that exact status; "real" is any final answer other than 400 (a valid request: it is
/// served, e.g. 401 for a REGISTER, 480/404 for an INVITE); "none" is silence (responses,
/// and requests too broken to address).
const SUITE: &[(&str, &str)] = &[
    ("wsinv", "real"),
    ("intmeth", "501"),
    ("esc01", "real"),
    ("escnull", "real"),
    ("esc02", "501"),
    ("lwsdisp", "real"),
    ("longreq", "real"),
    ("dblreq", "real"),
    ("semiuri", "real"),
    ("transports", "real"),
    ("mpart01", "405"),
    ("unreason", "none"),
    ("noreason", "none"),
    ("inv2543", "real"),
    ("badinv01", "400"),
    ("clerr", "400"),
    ("ncl", "400"),
    ("scalar02", "400"),
    ("scalarlg", "none"),
    ("quotbal", "400"),
    ("ltgtruri", "400"),
    ("lwsruri", "400"),
    ("lwsstart", "400"),
    ("trws", "400"),
    ("escruri", "400"),
    ("baddate", "400"),
    ("regbadct", "400"),
    ("badaspec", "400"),
    ("baddn", "400"),
    ("badvers", "505"),
    ("mismatch01", "400"),
    ("mismatch02", "400"),
    ("bigcode", "none"),
    ("badbranch", "real"),
    ("insuf", "400"),
    ("unkscm", "416"),
    ("novelsc", "416"),
    ("unksm2", "400"),
    ("bext01", "420"),
    ("invut", "415"),
    ("regaut01", "real"),
    ("multi01", "400"),
    ("mcl01", "400"),
    ("bcast", "none"),
    ("zeromf", "200"),
    ("cparam01", "real"),
    ("cparam02", "real"),
    ("regescrt", "real"),
    ("sdp01", "406"),
];

/// Sends `bytes` from a fresh socket and collects every status line for `window`.
fn exchange(gw: SocketAddr, bytes: &[u8], window: Duration) -> Vec<(u16, String)> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    sock.send_to(bytes, gw).unwrap();
    let deadline = Instant::now() + window;
    let mut statuses = Vec::new();
    let mut buf = vec![0u8; 65535];
    while Instant::now() < deadline {
        if let Ok((len, from)) = sock.recv_from(&mut buf) {
            assert_eq!(from, gw, "answer from an unexpected address");
            let text = String::from_utf8_lossy(&buf[..len]);
            let line = text.lines().next().unwrap_or_default().to_string();
            let status = line
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            statuses.push((status, line));
        }
    }
    statuses
}

#[test]
fn rfc4475_suite_over_udp() {
    let gw = Gateway::start(&[]);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sip/rfc4475");
    let mut wrong = Vec::new();
    for (name, expected) in SUITE {
        let bytes = std::fs::read(dir.join(format!("{name}.sip"))).unwrap();
        let answers = exchange(gw.sip, &bytes, Duration::from_millis(300));
        let finals: Vec<&(u16, String)> = answers.iter().filter(|(s, _)| *s >= 200).collect();
        let ok = match *expected {
            "none" => answers.is_empty(),
            "real" => finals.len() == 1 && finals[0].0 != 400,
            code => finals.len() == 1 && finals[0].0.to_string() == code,
        };
        if !ok {
            wrong.push(format!("{name}: expected {expected}, got {answers:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}\n{}", wrong.join("\n"), gw.log());
    // Still alive and answering after the whole suite.
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    let answers = exchange(
        gw.sip,
        options_request(gw.sip, probe.local_addr().unwrap(), 99).as_bytes(),
        Duration::from_millis(300),
    );
    assert!(answers.iter().any(|(s, _)| *s == 200), "{answers:?}");
    gw.stop();
}

#[test]
fn garbage_never_takes_the_gateway_down() {
    let gw = Gateway::start(&[]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut seed = 0x2545F4914F6CDD1Du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let invite = std::fs::read("fixtures/sip/probes/p01_baseline_invite.sip").unwrap();
    for round in 0..2000 {
        let mut bytes = invite.clone();
        for _ in 0..(next() % 16) {
            let at = (next() as usize) % bytes.len();
            bytes[at] = next() as u8;
        }
        bytes.truncate(1 + (next() as usize) % bytes.len());
        if round % 100 == 0 {
            bytes = vec![next() as u8; 60_000];
        }
        sock.send_to(&bytes, gw.sip).unwrap();
    }
    // The flood overfills the kernel's receive buffer (dropped datagrams are fine): probe
    // until the backlog is worked off, up to 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut answered = false;
    for n in 0.. {
        let probe = options_request(gw.sip, sock.local_addr().unwrap(), 1000 + n);
        let answers = exchange(gw.sip, probe.as_bytes(), Duration::from_millis(500));
        answered = answers.iter().any(|(s, _)| *s == 200);
        if answered || Instant::now() > deadline {
            break;
        }
    }
    assert!(answered, "no answer after the flood\n{}", gw.log());
    gw.stop();
}

fn read_until(stream: &mut TcpStream, needle: &str, limit: Duration) -> String {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && !String::from_utf8_lossy(&got).contains(needle) {
        if let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn tcp_keepalive_framing_and_options() {
    let gw = Gateway::start(&[]);
    let mut stream = TcpStream::connect(gw.sip).unwrap();
    // RFC 5626 §3.5.1: CRLFCRLF ping → CRLF pong.
    stream.write_all(b"\r\n\r\n").unwrap();
    assert_eq!(
        read_until(&mut stream, "\r\n", Duration::from_secs(2)),
        "\r\n"
    );
    // One OPTIONS written in three pieces is one message.
    let local = stream.local_addr().unwrap();
    let options = options_request(gw.sip, local, 1).replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    let (a, b) = options.as_bytes().split_at(40);
    stream.write_all(a).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    stream.write_all(&b[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    stream.write_all(&b[10..]).unwrap();
    let answer = read_until(&mut stream, "\r\n\r\n", Duration::from_secs(2));
    assert!(answer.starts_with("SIP/2.0 200"), "{answer:?}");
    // A TCP message without Content-Length cannot be framed (RFC 3261 §18.3): connection closed.
    let broken = options_request(gw.sip, local, 2).replace("Content-Length: 0\r\n", "");
    stream.write_all(broken.as_bytes()).unwrap();
    let rest = read_until(&mut stream, "never", Duration::from_secs(2));
    assert!(!rest.contains("SIP/2.0 200"), "{rest:?}");
    gw.stop();
}

#[test]
fn ipv6_loopback_is_served() {
    let port = free_port();
    let v6 = format!("[::1]:{port}");
    let gw = Gateway::start(&[("SIAGA__SIP__ALSO_LISTEN", v6.as_str())]);
    let target: SocketAddr = v6.parse().unwrap();
    let sock = UdpSocket::bind("[::1]:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let request = options_request(target, sock.local_addr().unwrap(), 1)
        .replace("sip:probe@127.0.0.1", "sip:probe@[::1]");
    let mut answer = String::new();
    for _ in 0..6 {
        sock.send_to(request.as_bytes(), target).unwrap();
        let mut buf = [0u8; 4096];
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            answer = String::from_utf8_lossy(&buf[..n]).into_owned();
            break;
        }
    }
    assert!(
        answer.starts_with("SIP/2.0 200"),
        "{answer:?}\n{}",
        gw.log()
    );
    assert!(
        answer.contains("received=::1") || answer.contains("rport="),
        "{answer}"
    );
    gw.stop();
}
