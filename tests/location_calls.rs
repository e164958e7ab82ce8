//! Where the caller is (issue 13), end to end with real peers on loopback: SIPp as the trunk
//! and as a static seat, the siaga binary between them, AML posted to its HTTP API. The
//! seat scenario `seat_located.xml` fails unless the seat's INVITE carries
//! `X-Siaga-Location` with the expected kecamatan; the call record is read from SQLite.

mod common;

use common::{crate_dir, free_port, Gateway, Sipp};
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

const AML_KEY: &str = "aml-test-key-0123456789abcdef";
/// A point inside Kejaksan (its kelurahan's centroid, `src/location/places_tests.rs`).
const KEJAKSAN: &str = "-6.71251 108.55822";
const CALLER: &str = "081234567890";

/// The SIPp roles these tests start (the process itself is `common::Sipp`).
impl Sipp {
    fn seat(scenario: &str, port: u16, keys: &[(&str, &str)]) -> Sipp {
        let mut args: Vec<String> = format!(
            "-sf fixtures/sipp/{scenario} -i 127.0.0.1 -p {port} -mi 127.0.0.1 -mp {} -rtp_echo -m 1 -timeout 60s",
            free_port()
        )
        .split(' ')
        .map(String::from)
        .collect();
        push_keys(&mut args, keys);
        Sipp::spawn(&args)
    }

    fn trunk(scenario: &str, gateway: SocketAddr, keys: &[(&str, &str)]) -> Sipp {
        let mut args: Vec<String> = format!(
            "{gateway} -sf fixtures/sipp/{scenario} -s 112 -i 127.0.0.1 -p {} -mi 127.0.0.1 -mp {} -m 1 -l 1 -timeout 60s -timeout_error -recv_timeout 30000",
            free_port(),
            free_port()
        )
        .split(' ')
        .map(String::from)
        .collect();
        push_keys(&mut args, keys);
        Sipp::spawn(&args)
    }
}

fn push_keys(args: &mut Vec<String>, keys: &[(&str, &str)]) {
    for (k, v) in keys {
        args.extend(["-key".to_string(), k.to_string(), v.to_string()]);
    }
}

/// config/siaga.toml with one static seat on `port`, no screening, AML intake on.
fn gateway(dir: &Path, port: u16) -> Gateway {
    let shipped = fs::read_to_string(crate_dir().join("config/siaga.toml")).unwrap();
    let start = shipped.find("\n[[seats]]").unwrap() + 1;
    let end = shipped.find("\n[routing]").unwrap() + 1;
    let seat = format!(
        "[[seats]]\nname = \"seat1\"\npassword = \"siaga-seat1\"\ncontact = \"sip:seat1@127.0.0.1:{port}\"\n\n"
    );
    let prompt = crate_dir().join("config/prompts/queue.ul");
    let text = format!("{}{}{}", &shipped[..start], seat, &shipped[end..]).replace(
        "queue_prompt = \"config/prompts/queue.ul\"",
        &format!("queue_prompt = \"{}\"", prompt.display()),
    );
    let path = dir.join("siaga.toml");
    fs::write(&path, text).unwrap();
    Gateway::start_config(
        &path,
        &[
            ("SIAGA__SCREENING__ENABLED", "false"),
            ("SIAGA__LOCATION__AML_ENABLED", "true"),
            ("SIAGA__LOCATION__AML_API_KEY", AML_KEY),
        ],
    )
}

/// `POST /aml` with an ELS HTTPS form for a point inside Kejaksan from [`CALLER`].
fn post_els(api: SocketAddr) -> u16 {
    let body = format!(
        "v=3&emergency_number=112&source=Android&location_latitude=-6.71251&location_longitude=108.55822&location_accuracy=12.5&location_source=GPS&device_number={CALLER}"
    );
    // The API may start listening a moment after SIP answers.
    let t0 = Instant::now();
    let mut s = loop {
        match TcpStream::connect_timeout(&api, Duration::from_secs(3)) {
            Ok(s) => break s,
            Err(e) if t0.elapsed() > Duration::from_secs(10) => panic!("API at {api}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!(
        "POST /aml HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nX-Siaga-Aml-Key: {AML_KEY}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        api.port(),
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// (seat, state, kecamatan, location_source) of a call.
type Row = (Option<String>, String, Option<String>, Option<String>);

/// Every call's [`Row`], oldest first.
fn located(gw: &Gateway) -> Vec<Row> {
    let db = rusqlite::Connection::open(gw.dir().join("siaga.sqlite")).unwrap();
    let mut stmt = db
        .prepare("SELECT seat, state, kecamatan, location_source FROM calls ORDER BY received_at")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The records once `n` calls have ended (the writer commits shortly after the BYE).
fn ended(gw: &Gateway, n: usize) -> Vec<Row> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = located(gw);
        if rows.iter().filter(|r| r.1 == "ended").count() >= n || Instant::now() > deadline {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn els_post_before_the_call_is_on_the_seat_invite_and_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    let seat_port = free_port();
    let gw = gateway(tmp.path(), seat_port);
    let seat = Sipp::seat("seat_located.xml", seat_port, &[]);
    // The handset sends AML as the call is dialled: here it reaches siaga first.
    assert_eq!(post_els(gw.api), 200);
    std::thread::sleep(Duration::from_millis(300));
    let (code, out) = Sipp::trunk("trunk_call.xml", gw.sip, &[]).wait(Duration::from_secs(40));
    assert_eq!(code, Some(0), "trunk\n{out}\n{}", gw.log());
    let (seat_code, seat_out) = seat.wait(Duration::from_secs(10));
    assert_eq!(
        seat_code,
        Some(0),
        "seat INVITE without X-Siaga-Location kecamatan=Kejaksan\n{seat_out}\n{}",
        gw.log()
    );
    let rows = ended(&gw, 1);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0.as_deref(), Some("seat1"));
    assert_eq!(rows[0].2.as_deref(), Some("Kejaksan"), "{rows:?}");
    assert_eq!(rows[0].3.as_deref(), Some("aml_https/gnss"), "{rows:?}");
    gw.stop();
}

#[test]
fn els_post_during_a_call_puts_kejaksan_on_its_record() {
    let tmp = tempfile::tempdir().unwrap();
    let seat_port = free_port();
    let gw = gateway(tmp.path(), seat_port);
    let seat = Sipp::seat("seat_answer.xml", seat_port, &[]);
    std::thread::sleep(Duration::from_millis(300));
    let trunk = Sipp::trunk("trunk_call.xml", gw.sip, &[]);
    // The call is answered by the seat and talking (6.5 s) when the AML arrives.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !located(&gw).iter().any(|r| r.1 == "answered") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        located(&gw).iter().any(|r| r.1 == "answered"),
        "{}",
        gw.log()
    );
    assert_eq!(post_els(gw.api), 200);
    let (code, out) = trunk.wait(Duration::from_secs(40));
    assert_eq!(code, Some(0), "trunk\n{out}\n{}", gw.log());
    drop(seat);
    let rows = ended(&gw, 1);
    assert_eq!(
        rows[0].2.as_deref(),
        Some("Kejaksan"),
        "{rows:?}\n{}",
        gw.log()
    );
    gw.stop();
}

#[test]
fn pidf_lo_circle_on_the_trunk_invite_reaches_the_seat_with_its_kecamatan() {
    let tmp = tempfile::tempdir().unwrap();
    let seat_port = free_port();
    let gw = gateway(tmp.path(), seat_port);
    let seat = Sipp::seat("seat_located.xml", seat_port, &[]);
    std::thread::sleep(Duration::from_millis(300));
    let (code, out) =
        Sipp::trunk("trunk_geoloc.xml", gw.sip, &[("pos", KEJAKSAN)]).wait(Duration::from_secs(40));
    assert_eq!(code, Some(0), "trunk\n{out}\n{}", gw.log());
    let (seat_code, seat_out) = seat.wait(Duration::from_secs(10));
    assert_eq!(seat_code, Some(0), "seat\n{seat_out}\n{}", gw.log());
    let rows = ended(&gw, 1);
    assert_eq!(rows[0].2.as_deref(), Some("Kejaksan"), "{rows:?}");
    assert_eq!(rows[0].3.as_deref(), Some("pidf_lo/gnss"), "{rows:?}");
    gw.stop();
}

#[test]
fn a_malformed_pidf_lo_still_reaches_a_seat() {
    let tmp = tempfile::tempdir().unwrap();
    let seat_port = free_port();
    let gw = gateway(tmp.path(), seat_port);
    let seat = Sipp::seat("seat_answer.xml", seat_port, &[]);
    std::thread::sleep(Duration::from_millis(300));
    let (code, out) = Sipp::trunk("trunk_geoloc.xml", gw.sip, &[("pos", "not a position")])
        .wait(Duration::from_secs(40));
    assert_eq!(code, Some(0), "trunk\n{out}\n{}", gw.log());
    let (seat_code, seat_out) = seat.wait(Duration::from_secs(10));
    assert_eq!(seat_code, Some(0), "seat\n{seat_out}");
    let rows = ended(&gw, 1);
    assert_eq!(
        (rows[0].0.as_deref(), rows[0].2.as_deref()),
        (Some("seat1"), None),
        "{rows:?}"
    );
    assert!(
        gw.log().contains("not usable"),
        "the malformed PIDF-LO is logged\n{}",
        gw.log()
    );
    gw.stop();
}
