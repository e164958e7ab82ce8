//! `/health` and `/ready` of the real binary on loopback: ready with a writable store, 503
//! naming the store while the store's directory is replaced by a plain file, ready again
//! when it is back.
//!
//! Why a swapped directory and not `chmod`: the tests run as root, which file modes do
//! not stop. A path that no longer leads to a writable database (a removed or unmounted
//! state directory) fails for root too, and it is a real fault: the live connection would
//! keep writing into a file nobody reads.
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::Gateway;

/// `GET path` over plain HTTP: status code and JSON body.
fn get_json(api: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect_timeout(&api, Duration::from_secs(3)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        api.port()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    let code = answer.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (
        code,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// `/ready` until it answers `want` (at most 5 s); the last answer.
fn poll_ready(api: SocketAddr, want: u16) -> (u16, serde_json::Value) {
    let t0 = std::time::Instant::now();
    loop {
        let (code, body) = get_json(api, "/ready");
        if code == want || t0.elapsed() > Duration::from_secs(5) {
            return (code, body);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn ready_fails_naming_the_store_while_its_directory_is_gone() {
    let state = tempfile::tempdir().expect("tempdir");
    let dir = state.path().join("state");
    let db = dir.join("siaga.sqlite");
    let gw = Gateway::start(&[("SIAGA__STORE__PATH", db.to_str().expect("utf-8"))]);
    // Gateway::start waits for SIP; the API binds just after.
    let t0 = std::time::Instant::now();
    while TcpStream::connect(gw.api).is_err() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }

    let (code, _) = get_json(gw.api, "/health");
    assert_eq!(code, 200);
    let (code, body) = get_json(gw.api, "/ready");
    assert_eq!(code, 200, "{body}\n{}", gw.log());
    assert_eq!(body["ready"], true);
    assert_eq!(body["checks"]["store"], "ok");
    assert_eq!(body["checks"]["sip"], "ok");
    assert!(
        body["seats_ready"].is_u64() && body["seats"].is_u64(),
        "{body}"
    );

    // The state directory goes away and a plain file takes its path.
    let moved = state.path().join("state.moved");
    std::fs::rename(&dir, &moved).expect("move the state directory");
    std::fs::write(&dir, "not a directory\n").expect("file in its place");
    // A probe result is reused for 1 s: the next probe sees it.
    let (code, body) = poll_ready(gw.api, 503);
    assert_eq!(code, 503, "{body}\n{}", gw.log());
    assert_eq!(body["ready"], false);
    assert_eq!(body["failing"], serde_json::json!(["store"]), "{body}");
    assert!(
        body["checks"]["store"]
            .as_str()
            .is_some_and(|s| s.contains("cannot open")),
        "{body}"
    );
    // Alive all the same.
    assert_eq!(get_json(gw.api, "/health").0, 200);

    std::fs::remove_file(&dir).expect("remove the file");
    std::fs::rename(&moved, &dir).expect("put the directory back");
    let (code, body) = poll_ready(gw.api, 200);
    assert_eq!(code, 200, "{body}\n{}", gw.log());
    gw.stop();
}
